"""Run the benchmark suite and write ``benchmarks/RESULTS.md``.

``python -m benchmarks.run`` runs every suite model with bayesmixed and bambi (its nutpie and
PyMC NUTS backends), 4 chains x 1,000 draws after 1,000 tuning steps, on the same simulated data
with the same priors (bambi is given bayesmixed's default priors), one fresh process per fit.

Options: ``--quick`` (smaller data, 300 draws; writes ``benchmarks/out/RESULTS-quick.md``),
``--models NAME ...``, ``--tools TOOL ...``, ``--chains``, ``--draws``, ``--seed``,
``--timeout`` (seconds per fit; default 1800), ``--bambi-timeout`` (seconds per bambi fit;
default 900: bambi fits that take longer are reported as not finished), ``--bambi-max-rows``
(skip bambi above this size), ``--cold``, ``--out PATH``.

Before each timed fit an untimed warm-up fit of the same model and data (1 chain, 20 draws) runs
in its own process, so that every tool starts from warm compilation caches (numba's for nutpie,
PyMC's C cache), as when an analysis is run again; ``--cold`` leaves it out. bayesmixed's
compilation time in that warm-up (``warmup_compile_s``) is reported too.

Figures per fit: wall time end to end (model building + compilation + sampling, after the
libraries are imported), min bulk ESS over the population-level, group-level sd and
correlation parameters, ESS per second of wall time, max R-hat over the same parameters,
divergences, and for bayesmixed the ratio of its ESS/s to that of bambi's best converged
backend (converged: R-hat <= 1.01 and no divergences).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.models import SUITE
from benchmarks.worker import TOOLS

HERE = Path(__file__).resolve().parent
RHAT_OK = 1.01
#: draws (and tuning steps) of the untimed warm-up fit that fills the compilation caches
WARMUP_DRAWS = 20


def run_fit(
    model: str, tool: str, args: argparse.Namespace, chains: int | None = None, draws: int | None = None
) -> dict:
    """One fit in a fresh interpreter; returns its record (with ``error`` on failure)."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.worker",
        model,
        tool,
        "--chains",
        str(chains or args.chains),
        "--draws",
        str(draws or args.draws),
        "--seed",
        str(args.seed),
    ]
    if args.quick:
        cmd.append("--quick")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    timeout = args.timeout if tool == "bayesmixed" else min(args.timeout, args.bambi_timeout)
    # a session of its own, so that a fit over its time limit goes with its worker processes
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {
            "model": model,
            "tool": tool,
            "error": f"did not finish in {timeout} s",
            "timed_out": True,
        }
    for line in stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line[len("BENCH-RESULT ") :])
    tail = (stderr or stdout).strip().splitlines()[-3:]
    return {
        "model": model,
        "tool": tool,
        "error": " | ".join(tail)[-300:],
        "wall_s": time.perf_counter() - t0,
    }


def converged(rec: dict) -> bool:
    """R-hat <= 1.01 and no divergences."""
    return "error" not in rec and rec["max_rhat"] <= RHAT_OK and rec["divergences"] == 0


def ess_per_s(rec: dict) -> float:
    """Min bulk ESS per second of wall time."""
    return rec["min_ess_bulk"] / rec["wall_s"]


def _fmt_row(rec: dict, ratio: str) -> str:
    if "error" in rec:
        return (
            f"| {rec['model']} | {rec['tool']} | - | - | - | - | - | - | {ratio} | {rec['error']} |"
        )
    per_draw = rec["min_ess_bulk"] / (rec["chains"] * rec["draws"])
    ok = "yes" if converged(rec) else "**no**"
    note = []
    if rec["tool"] == "bayesmixed":
        cen = ", ".join(
            f"{f}: {'M' if c == 'marginal' else 'PC' if c == 'partial' else 'C' if c else 'NC'}"
            for f, c in rec.get("parameterization", {}).items()
        )
        note.append(cen)
        if rec.get("n_cells"):
            note.append(f"{rec['n_cells']} cells")
        t = rec.get("timings", {})
        if "compile" in t:
            note.append(
                f"compile {t['compile']:.1f} s{' (cached)' if t.get('cached') else ''}"
                + (f" (warm-up fit {rec['warmup_compile_s']:.1f} s)" if "warmup_compile_s" in rec else "")
                + f", sample {t.get('sample', float('nan')):.1f} s"
            )
    note.append(f"worst ESS: {rec['min_ess_param']}")
    return (
        f"| {rec['model']} | {rec['tool']} | {rec['wall_s']:.1f} | {rec['min_ess_bulk']:.0f} "
        f"({per_draw:.2f}/draw) | {ess_per_s(rec):.1f} | {rec['max_rhat']:.3f} | "
        f"{rec['divergences']} | {ok} | {ratio} | {'; '.join(note)} |"
    )


def ratio_to_bambi(records: list[dict], model: str) -> str:
    """bayesmixed ESS/s over the best converged bambi backend's, as text."""
    mine = [
        r for r in records if r["model"] == model and r["tool"] == "bayesmixed" and "error" not in r
    ]
    theirs = [
        r for r in records if r["model"] == model and r["tool"] != "bayesmixed" and converged(r)
    ]
    if not mine:
        return "-"
    if not theirs:
        ran = [r for r in records if r["model"] == model and r["tool"] != "bayesmixed"]
        if ran and all(r.get("timed_out") for r in ran):
            return "bambi did not finish"
        finished = [r for r in ran if "error" not in r]
        return "bambi did not converge" if finished else "bambi not run"
    best = max(theirs, key=ess_per_s)
    return f"{ess_per_s(mine[0]) / ess_per_s(best):.2f}x ({best['tool']})"


def goal_check(records: list[dict], model: str) -> str:
    """Which of the issue's goals bayesmixed meets on ``model``, as text."""
    mine = [r for r in records if r["model"] == model and r["tool"] == "bayesmixed"]
    if not mine or "error" in mine[0]:
        return "not run"
    rec = mine[0]
    need = 3.0 if model == "crossed_binary" else 1.0
    theirs = [
        r for r in records if r["model"] == model and r["tool"] != "bayesmixed" and converged(r)
    ]
    if theirs:
        ratio = ess_per_s(rec) / max(ess_per_s(r) for r in theirs)
        speed = f"{ratio:.2f}x bambi's best ({'met' if ratio >= need else f'NOT met, need {need:.0f}x'})"
    else:
        speed = "no converged bambi fit to compare"
    per_draw = rec["min_ess_bulk"] / (rec["chains"] * rec["draws"])
    return (
        f"converged {'yes' if converged(rec) else 'NO'}; {speed}; "
        f"{per_draw:.2f} ESS per draw ({'met' if per_draw >= 0.4 else 'NOT met'})"
    )


def write_results(
    records: list[dict],
    args: argparse.Namespace,
    path: Path,
    started: str,
    seconds: float,
    loads: tuple,
) -> None:
    """The markdown report."""
    import bambi
    import nutpie
    import pymc

    import bayesmixed

    lines = [
        "# Benchmark: bayesmixed vs bambi",
        "",
        f"Command: `python -m benchmarks.run {' '.join(args.argv)}`".rstrip() + "  ",
        f"Started {started}, took {seconds / 60:.1f} min. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPU cores, Python {platform.python_version()}; load average "
        f"{loads[0]:.1f} at start, {loads[1]:.1f} at end "
        "(other work on the machine slows every tool).  ",
        f"Versions: bayesmixed {bayesmixed.__version__}, bambi {bambi.__version__}, "
        f"PyMC {pymc.__version__}, nutpie {nutpie.__version__}.  ",
        f"Settings: {args.chains} chains x {args.draws} draws after {args.draws} tuning steps, "
        f"seed {args.seed}, one fresh process per fit; bambi gets bayesmixed's default priors.",
        "",
        "Wall = build + compile + sample (libraries already imported). ESS = min bulk ESS over "
        "population-level, group-level sd and correlation parameters; R-hat = max over the "
        "same. Converged = R-hat <= 1.01 and no divergences. Ratio = bayesmixed ESS/s divided "
        "by the ESS/s of bambi's best converged backend. C / NC / PC = centered / non-centered / "
        "partially centered, M = integrated out (gaussian, one factor). "
        + (
            "Compilation from cold caches (no warm-up fit). "
            if args.cold
            else "Before each timed fit an untimed warm-up fit (1 chain, 20 draws, own process) "
            "filled the compilation caches of that tool, as when an analysis is run again; "
            "bayesmixed's compile time in the warm-up fit is shown too (from cold caches only "
            "where this model and data were never compiled on the machine: measured 8-12 s "
            "instead of 4-5 s for the partially centered models). "
        )
        + "A fit that did not finish within its time "
        f"limit ({args.timeout} s for bayesmixed, {min(args.timeout, args.bambi_timeout)} s "
        "for bambi) is shown as such.",
        "",
        "| model | tool | wall s | min bulk ESS | ESS/s | max R-hat | div | converged | ratio "
        "| notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.models:
        ratio = ratio_to_bambi(records, name)
        for rec in records:
            if rec["model"] == name:
                lines.append(_fmt_row(rec, ratio if rec["tool"] == "bayesmixed" else ""))
    lines += [
        "",
        "Goals for bayesmixed: converged; ESS/s at least that of bambi's best converged "
        "backend (3x on crossed_binary); min bulk ESS at least 0.4 per draw.",
        "",
    ]
    for name in args.models:
        lines.append(f"- {name}: {goal_check(records, name)}")
    lines += ["", "Models:", ""]
    for name in args.models:
        m = SUITE[name]
        lines.append(
            f"- **{name}**: {m.title}; `{m.formula}` ({m.family})"
            + (
                f"; bambi: `{m.bambi_formula}`"
                if m.bambi_formula and m.bambi_formula != m.formula
                else ""
            )
        )
        for note in m.notes:
            lines.append(f"  - {note}")
    skipped = [r for r in records if r.get("skipped")]
    if skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {r['model']} / {r['tool']}: {r['skipped']}" for r in skipped]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="small data, 300 draws")
    ap.add_argument("--models", nargs="+", default=list(SUITE), choices=list(SUITE))
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=None, help="draws and tuning steps per chain")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per fit")
    ap.add_argument(
        "--bambi-timeout", type=int, default=900, help="seconds per bambi fit (at most --timeout)"
    )
    ap.add_argument(
        "--bambi-max-rows", type=int, default=None, help="skip bambi on larger data sets"
    )
    ap.add_argument(
        "--cold",
        action="store_true",
        help="no untimed warm-up fit before each timed one (compilation from cold caches)",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    args.argv = argv
    args.draws = args.draws or (300 if args.quick else 1000)
    out = args.out or (HERE / "out" / "RESULTS-quick.md" if args.quick else HERE / "RESULTS.md")
    (HERE / "out").mkdir(exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    records: list[dict] = []
    for name in args.models:
        m = SUITE[name]
        for tool in args.tools:
            rows = len(m.simulate(args.seed, args.quick))
            if tool != "bayesmixed" and args.bambi_max_rows and rows > args.bambi_max_rows:
                records.append(
                    {
                        "model": name,
                        "tool": tool,
                        "skipped": (f"{rows} rows, above --bambi-max-rows {args.bambi_max_rows}"),
                        "error": "skipped (see below)",
                    }
                )
                continue
            warm = None
            if not args.cold:  # compile once untimed: every tool starts from warm disk caches
                warm = run_fit(name, tool, args, chains=1, draws=WARMUP_DRAWS)
            rec = run_fit(name, tool, args)
            if warm is not None and "timings" in warm:
                rec["warmup_compile_s"] = float(warm["timings"]["compile"])
            records.append(rec)
            brief = rec.get("error") or (
                f"{rec['wall_s']:.1f} s, ESS {rec['min_ess_bulk']:.0f}, "
                f"R-hat {rec['max_rhat']:.3f}, div {rec['divergences']}"
            )
            print(f"{name:22s} {tool:13s} {brief}", flush=True)
            stamp = time.strftime("%Y%m%d")
            with open(HERE / "out" / f"records-{stamp}.jsonl", "a") as fh:
                fh.write(json.dumps({**rec, "quick": args.quick}) + "\n")
    write_results(
        records, args, out, started, time.perf_counter() - t0, (load0, os.getloadavg()[0])
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
