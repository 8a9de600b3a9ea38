"""``python -m benchmarks.hard [--cases NAME ...] [--seeds 1 2 3] [--out PATH]``: fit every hard
case at default settings (4 chains x 1,000 draws after 1,000 tuning) on each seed, one fresh
process per case, and write a table (default ``benchmarks/HARD.md``)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.hard.cases import CASES

HERE = Path(__file__).resolve().parent


def _worker(name: str, seeds: list[int]) -> None:
    from benchmarks.hard.measure import fit_case

    for s in seeds:
        _, rec = fit_case(name, s)
        print(json.dumps({"case": name, "seed": s, **rec}), flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hard")
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--out", default=str(HERE.parent / "HARD.md"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        _worker(a.cases[0], a.seeds)
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    rows = []
    for name in a.cases:
        cmd = [sys.executable, "-m", "benchmarks.hard", "--worker", "--cases", name,
               "--seeds", *map(str, a.seeds)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        got = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
        for r in got:
            print(f"{r['case']:18s} seed {r['seed']}: R-hat {r['max_rhat']:.4f} ({r['rhat_where']}) "
                  f"div {r['divergences']} ESS {r['min_ess_bulk']:.0f} ({r['ess_where']}) "
                  f"{r['wall_s']:.1f} s {'ok' if r['ok'] else 'FAIL'} {r['parameterization']} "
                  f"{r.get('adaptation')}",
                  flush=True)
        rows += got
    lines = [
        "# Hard suite",
        "",
        f"`python -m benchmarks.hard` started {started}; 4 chains x 1000 draws after 1000 tuning,",
        "default settings; max R-hat and min bulk ESS over every parameter, random effects",
        "included; goal: R-hat <= 1.01, no divergences, bulk ESS >= 400.",
        "",
        "| case | seed | max R-hat | divergences | min bulk ESS (where) | wall s | goal | "
        "parameterization | adaptation |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        par = ", ".join(f"{k}: {v}" for k, v in r["parameterization"].items())
        lines.append(
            f"| {r['case']} | {r['seed']} | {r['max_rhat']:.4f} | {r['divergences']} | "
            f"{r['min_ess_bulk']:.0f} ({r['ess_where']}) | {r['wall_s']:.1f} | "
            f"{'met' if r['ok'] else 'MISSED'} | {par} | {r.get('adaptation')} |"
        )
    lines += ["", "Cases:", ""]
    lines += [f"- `{c.name}`: {c.title}; `{c.formula}`, {c.family}; data: {c.source}."
              for c in CASES.values() if c.name in a.cases]
    Path(a.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
