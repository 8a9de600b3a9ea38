"""Compilation time of the frozen and input forms, with nutpie's and bayesmixed's data extraction.

``python -m benchmarks.compile_forms`` compiles, in fresh processes, the models of a
simulation loop as ``bm.fit`` does: inside ``reuse_compiled()`` (the *input form*: every data
array swappable, as K-fold, power analysis and SBC compile it) ``y ~ x + (1 | g)`` gaussian and
bernoulli and ``y ~ x + (1 | g) + (1 | h)`` poisson, then outside it (the *frozen form*: data
compiled in) ``y ~ x + (1 | g)`` poisson; 1 chain, 50 draws after 50 tuning steps (sampling is
negligible here), disk cache off. Each process runs one variant:

- ``nutpie``: nutpie's own ``make_extraction_fn`` (a ``literal_unroll`` loop over the shared
  arrays);
- ``bayesmixed``: :mod:`bayesmixed.sample.extraction` (straight-line code), the default.

A warm-up process (``bayesmixed``, cold kernel caches: PyTensor's compile directory is a new
temporary one, shared by every process) runs first; then ``--repeats`` rounds of both variants,
in alternating order, so both see the same machine load and warm caches. Each process also
stores its posterior draws; the draws of the two variants are compared bit for bit. Writes a
markdown table to ``benchmarks/out/COMPILE_FORMS.md`` (or ``--out``).
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

import numpy as np

HERE = Path(__file__).resolve().parent
INPUT = [("y ~ x + (1 | g)", "gaussian"), ("y ~ x + (1 | g)", "bernoulli"),
         ("y ~ x + (1 | g) + (1 | h)", "poisson")]
FROZEN = [("y ~ x + (1 | g)", "poisson")]
VARIANTS = ("nutpie", "bayesmixed")


def worker(variant: str, draws_path: str) -> dict:
    """Compile and fit the models in this process with ``variant``'s extraction."""
    import bayesmixed as bm
    from bayesmixed.sample import backends, extraction

    if variant == "nutpie":
        extraction.install = lambda: False  # leave nutpie's make_extraction_fn in place
    kw = {"chains": 1, "draws": 50, "tune": 50, "progress": False, "seed": 1}
    out, draws = {"input": [], "frozen": []}, {}

    def one(form: str, family: str) -> float:
        data = bm.simulate(form, n_groups=8, n_per_group=5, seed=1, family=family)
        fit = bm.fit(form, data, family=family, **kw)
        post = fit.idata["posterior"]
        for name in post.data_vars:
            draws[f"{form} {family} {name}"] = np.asarray(post[name])
        return round(fit.timings["compile"], 2)

    with backends.reuse_compiled():
        out["input"] = [one(f, fam) for f, fam in INPUT]
    out["frozen"] = [one(f, fam) for f, fam in FROZEN]
    np.savez(draws_path, **draws)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "out" / "COMPILE_FORMS.md"))
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "DRAWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bm-compile-forms-"))
    env = {**os.environ, "BAYESMIXED_CACHE": "0",
           "PYTENSOR_FLAGS": f"base_compiledir={tmp / 'pytensor'}",
           "NUMBA_CACHE_DIR": str(tmp / "numba")}
    rows = []
    schedule = [(0, "bayesmixed")]  # warm-up: fills the kernel caches (row "cold")
    for r in range(1, args.repeats + 1):
        schedule += [(r, v) for v in (VARIANTS if r % 2 else VARIANTS[::-1])]
    for r, variant in schedule:
        path = tmp / f"{variant}-{r}.npz"
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "benchmarks.compile_forms", "--worker",
                               variant, str(path)], env=env, capture_output=True, text=True,
                              check=True, cwd=HERE.parent)
        rec = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((r, variant, rec, time.perf_counter() - t0, load, path))
    same = all(_same(rows[0][5], row[5]) for row in rows[1:])
    lines = ["# Compilation of the input and frozen forms (nutpie's vs bayesmixed's extraction)",
             "", f"Command: `python -m benchmarks.compile_forms --repeats {args.repeats}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; compile seconds per model "
             f"(`fit.timings['compile']`).", "",
             "| round | extraction | input: gaussian | input: bernoulli | input: poisson 2 factors "
             "| frozen: poisson | process wall s | load |", "|---|---|---|---|---|---|---|---|"]
    for r, variant, rec, wall, load, _ in rows:
        label = "warm-up, cold kernel caches" if r == 0 else str(r)
        cells = " | ".join(str(v) for v in rec["input"] + rec["frozen"])
        lines.append(f"| {label} | {variant} | {cells} | {wall:.1f} | {load:.1f} |")
    lines += ["", f"Posterior draws of every process bit-identical: {'yes' if same else 'NO'}."]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


def _same(a: Path, b: Path) -> bool:
    x, y = np.load(a), np.load(b)
    return x.files == y.files and all(np.array_equal(x[k], y[k]) for k in x.files)


if __name__ == "__main__":
    main()
