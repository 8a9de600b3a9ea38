"""Time to first posterior: ``bm.fit`` in fresh processes, with cold and warm caches.

``python -m benchmarks.latency`` fits each case in a fresh interpreter, first with empty caches
(PyTensor's ``base_compiledir``, hence numba's kernel cache, and bayesmixed's compiled-model
cache, all in a new temporary directory: "cold"), then ``--repeats`` times with the caches the
cold run filled ("warm"), and writes a markdown table (``benchmarks/out/LATENCY.md`` unless
``--out``) with the split of ``bm.fit``'s wall time: build, compile, sample, post-processing
and the rest (mostly imports of the modelling stack, which ``bm.fit`` does lazily), and the
CPU seconds of the main thread (everything but the sampler's threads; robust to other
processes' load, unlike wall time) and of the sampler's threads.

Cases: sleepstudy ``Reaction ~ Days + (Days | Subject)`` (4 chains) and VerbAgg
``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)`` (bernoulli, 2 chains), 1,000
draws after 1,000 tuning steps. Options: ``--cases``, ``--repeats``, ``--draws``, ``--out``,
``--modes``.

Modes (issue 18, point 3): ``lazy`` (the default of ``bm.fit``: the pointwise log-likelihood
is computed on first use; its seconds are measured after the fit, at the first ``fit.idata``
access, column *ll on use*) and ``eager`` (the behaviour before: ``log_likelihood=True``, and
xarray's dask lookup, which imports dask, done inside the timed fit as it was before
:func:`bayesmixed.sample.imports.defer_dask_check`). Both run in the same benchmark run, in
alternation, so their ratio is robust to the machine's load.
The machine's load (``os.getloadavg``) is recorded with every run: timings on a shared machine
are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {
    "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)", None, 4),
    "verbagg": ("VerbAgg", "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
                "bernoulli", 2),
}
PARTS = ("build", "compile", "sample", "postprocess")


def worker(case: str, draws: int, mode: str = "lazy") -> dict:
    """Fit ``case`` in this process (``mode`` ``"lazy"`` or ``"eager"``); returns the record."""
    t0 = time.perf_counter()
    import bayesmixed as bm

    name, formula, family, chains = CASES[case]
    data = bm.datasets.load(name)
    t1, cpu1, main1 = time.perf_counter(), time.process_time(), time.thread_time()
    if mode == "eager":  # as before issue 18's point 3: xarray imports dask during the fit
        from xarray.namedarray import pycompat

        pycompat.array_type("dask")
    fit = bm.fit(formula, data, family, chains=chains, draws=draws, tune=draws, seed=1,
                 progress=False, log_likelihood=True if mode == "eager" else None)
    t2, cpu2, main2 = time.perf_counter(), time.process_time(), time.thread_time()
    t3 = time.perf_counter()
    n_ll = fit.idata["log_likelihood"]["y"].size  # the first use (lazy mode computes it here)
    t = fit.timings
    rec = {"case": case, "chains": chains, "draws": draws, "import_and_data_s": t1 - t0,
           "fit_s": t2 - t1, "disk_cache": t.get("disk_cache", "?"), "mode": mode,
           "ll_on_use_s": time.perf_counter() - t3, "ll_values": n_ll,
           "dask_imported": "dask.array" in sys.modules}
    rec.update({f"{p}_s": float(t.get(p, 0.0)) for p in PARTS})
    rec["other_s"] = rec["fit_s"] - sum(rec[f"{p}_s"] for p in PARTS)
    # CPU seconds of the main thread: all of bm.fit but the sampler's threads, and hardly
    # affected by other processes competing for the cores (unlike wall time)
    rec["main_cpu_s"] = main2 - main1
    rec["sampler_cpu_s"] = (cpu2 - cpu1) - (main2 - main1)
    return rec


def run_fresh(case: str, draws: int, cache: Path, mode: str = "lazy") -> dict:
    """One fit in a fresh interpreter with its caches under ``cache``."""
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache / 'pytensor'}",
           "BAYESMIXED_CACHE_DIR": str(cache / "bayesmixed"), "PYTHONWARNINGS": "ignore"}
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "benchmarks.latency", "--worker", case,
                          "--draws", str(draws), "--mode", mode], cwd=HERE.parent, env=env,
                         capture_output=True, text=True)
    wall = time.perf_counter() - t0
    for line in res.stdout.splitlines():
        if line.startswith("LATENCY "):
            return {**json.loads(line[len("LATENCY "):]), "process_s": wall, "load": load}
    return {"case": case, "error": (res.stderr or res.stdout).strip()[-300:], "load": load}


def table(rows: list[dict]) -> str:
    """The markdown table of the runs."""
    head = ("| case | mode | caches | bm.fit s | build | compile | sample | post | other | "
            "main-thread CPU s | sampler CPU s | ll on use s | dask imported | process s | "
            "disk cache | load (1 min) |\n|" + "---|" * 16)
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['case']} | {r.get('mode', '')} | {r['state']} | error: "
                         f"{r['error']} |" + " |" * 12)
            continue
        lines.append(
            f"| {r['case']} ({r['chains']} ch) | {r['mode']} | {r['state']} | "
            f"**{r['fit_s']:.2f}** | "
            + " | ".join(f"{r[f'{p}_s']:.2f}" for p in (*PARTS, "other"))
            + f" | {r['main_cpu_s']:.2f} | {r['sampler_cpu_s']:.2f} | {r['ll_on_use_s']:.2f}"
            + f" | {'yes' if r['dask_imported'] else 'no'}"
            + f" | {r['process_s']:.2f} | {r['disk_cache']} | {r['load']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--worker``, one fit) and write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=sorted(CASES))
    ap.add_argument("--cases", nargs="+", default=sorted(CASES), choices=sorted(CASES))
    ap.add_argument("--repeats", type=int, default=2, help="warm runs per case and mode")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--mode", choices=("lazy", "eager"), default="lazy", help="with --worker")
    ap.add_argument("--modes", nargs="+", choices=("lazy", "eager"), default=["lazy", "eager"],
                    help="warm runs alternate between these modes")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="keep the caches here (no cold row unless they are empty)")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "LATENCY.md")
    args = ap.parse_args(argv)
    if args.worker:
        print("LATENCY " + json.dumps(worker(args.worker, args.draws, args.mode)), flush=True)
        return 0
    rows = []
    for case in args.cases:
        with tempfile.TemporaryDirectory(prefix="bm-latency-") as tmp:
            cache = args.cache_dir or Path(tmp)
            runs = [("cold", args.modes[0])] * (args.cache_dir is None) + [
                ("warm", m) for _ in range(args.repeats) for m in args.modes]
            for state, mode in runs:
                rec = run_fresh(case, args.draws, cache, mode)
                if rec.get("disk_cache") == "stored":  # the structure was compiled in this run
                    state = "cold"
                rec["state"] = state
                print(json.dumps(rec), flush=True)
                rows.append(rec)
    text = (f"# Time to first posterior\n\n`python -m benchmarks.latency` on {os.cpu_count()} "
            f"cores; {args.draws} draws after {args.draws} tuning steps; one fresh process per "
            "row; seconds.\n\n" + table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
