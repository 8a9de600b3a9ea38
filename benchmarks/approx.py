"""Pathfinder (``method="pathfinder"``) against NUTS on the benchmark models (issue 14).

For each model of :data:`benchmarks.models.SUITE`: a NUTS fit (nutpie, 4 chains x 1000 draws
after 1000 tuning steps) and a Pathfinder fit (4 paths, 1000 PSIS-resampled draws) of the same
simulated data, seed 1, one after the other in this process (libraries imported before the
clock starts). Per parameter of the summary (population-level coefficients, group-level sds
and correlations, auxiliary parameters): the difference of the posterior means in NUTS
posterior sds, ``d = (mean_pf - mean_nuts) / sd_nuts``, and the ratio of the posterior sds,
``sd_pf / sd_nuts``; the table gives the largest |d| and the range of the sd ratios, separately
for the fixed effects and the variance parameters, with the Pareto k and importance-sampling
ESS of the Pathfinder draws and both wall times (build + compile + sample; nutpie's compiled
model may come from its disk cache, Pathfinder's JAX functions are compiled afresh in the
process: the NUTS compile time and Pathfinder's tracing time are shown; Pathfinder's XLA
compilation runs on the first call, inside its sampling time).

Run::

    python -m benchmarks.approx --out benchmarks/APPROX.md [--quick] [--models a,b]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from datetime import datetime
from pathlib import Path

import bayesmixed as bm
from benchmarks.models import SUITE

NUTS = {"chains": 4, "draws": 1000, "tune": 1000}
PATHFINDER = {"method": "pathfinder", "chains": 4, "draws": 1000}


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def compare(nuts, approx) -> dict:
    """Largest |mean difference| in NUTS sds and sd ratios, fixed effects and the rest."""
    a, b = nuts.summary(), approx.summary()
    d = (b["mean"] - a["mean"]) / a["sd"]
    r = b["sd"] / a["sd"]
    fixed = a["kind"] == "fixed"
    out = {}
    for label, rows in (("fixed", fixed), ("other", ~fixed)):
        if rows.any():
            out[label] = {"max_abs_d": float(d[rows].abs().max()),
                          "worst": str(d[rows].abs().idxmax()),
                          "ratio_lo": float(r[rows].min()), "ratio_hi": float(r[rows].max())}
    return out


def run_model(name: str, quick: bool, seed: int) -> dict:
    m = SUITE[name]
    data = m.simulate(seed, quick)
    rec: dict = {"model": name, "rows": len(data)}
    for label, settings in (("nuts", NUTS), ("pathfinder", PATHFINDER)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            fit = bm.fit(m.formula, data, m.family, seed=seed, progress=False, **settings)
            wall = time.perf_counter() - t0
        rec[label] = {"fit": fit, "wall": wall, "compile": float(fit.timings.get("compile", 0)),
                      "sample": float(fit.timings.get("sample", 0)), "load": _load()}
    nuts = rec["nuts"]["fit"]
    d = nuts.diagnostics()
    rec["nuts_ok"] = bool(d.max_rhat <= 1.01 and d.divergences == 0)
    rec["nuts_rhat"], rec["nuts_div"] = d.max_rhat, d.divergences
    rec["cmp"] = compare(nuts, rec["pathfinder"]["fit"])
    rec["approx"] = rec["pathfinder"]["fit"].meta["approximation"]
    return rec


def _cell(c: dict | None) -> tuple[str, str]:
    if not c:
        return "-", "-"
    worst = c["worst"].replace("|", "\\|")  # sd(x|g): a table cell
    return (f"{c['max_abs_d']:.2f} ({worst})", f"{c['ratio_lo']:.2f}-{c['ratio_hi']:.2f}")


def table(records: list[dict]) -> list[str]:
    lines = [
        "| model | rows | NUTS wall s (compile) | Pathfinder wall s (tracing) | wall ratio | "
        "NUTS R-hat / div | fixed: max abs d | fixed: sd ratio | sd/cor/aux: max abs d | "
        "sd/cor/aux: sd ratio | Pareto k | IS ESS | L-BFGS iterations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        n, p = r["nuts"], r["pathfinder"]
        fd, fr = _cell(r["cmp"].get("fixed"))
        od, orr = _cell(r["cmp"].get("other"))
        a = r["approx"]
        lines.append(
            f"| {r['model']} | {r['rows']:,} | {n['wall']:.1f} ({n['compile']:.1f}) | "
            f"{p['wall']:.1f} ({p['compile'] + 0:.1f}) | {n['wall'] / p['wall']:.2f}x | "
            f"{r['nuts_rhat']:.3f} / {r['nuts_div']} | {fd} | {fr} | {od} | {orr} | "
            f"{a['pareto_k']:.2f} | {a['ess']:.0f} of {a['pooled_draws']} | "
            f"{', '.join(map(str, a['iterations']))} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="benchmarks/APPROX.md")
    p.add_argument("--quick", action="store_true", help="the suite's small data sets")
    p.add_argument("--models", help="comma-separated subset (default: all)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    names = args.models.split(",") if args.models else list(SUITE)
    started, load0 = datetime.now(), _load()
    t0 = time.perf_counter()
    records = []
    for name in names:
        records.append(run_model(name, args.quick, args.seed))
        print(table(records)[-1], flush=True)
    command = "python -m benchmarks.approx --out " + args.out + (" --quick" if args.quick else "")
    command += f" --models {args.models}" if args.models else ""
    text = [
        "# Pathfinder (approximate) vs NUTS",
        "",
        f"Command: `{command}`  ",
        f"Started {started:%Y-%m-%d %H:%M:%S}, took {(time.perf_counter() - t0) / 60:.1f} min. "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores; load average {load0} at "
        f"start, {_load()} at end (the machine was shared: wall times are inflated; the "
        "ratio of the two fits of a model, run one after the other, is the figure to read).  ",
        "Settings: NUTS = nutpie, 4 chains x 1000 draws after 1000 tuning steps; Pathfinder = "
        "4 paths x 1000 draws, PSIS-resampled to 1000 (`bm.fit(..., method=\"pathfinder\")`); "
        "seed 1; wall = build + compile + sample, libraries imported. Pathfinder's XLA "
        "compilation happens on its first call: it is in the wall time, not in \"tracing\". "
        "wall ratio = NUTS wall / Pathfinder wall (> 1: Pathfinder faster).",
        "",
        "d = (Pathfinder mean - NUTS mean) / NUTS sd per parameter (largest |d| shown, with its "
        "parameter); sd ratio = Pathfinder sd / NUTS sd (range). \"fixed\" = population-level "
        "coefficients; \"sd/cor/aux\" = group-level sds, correlations and auxiliary parameters. "
        "Pareto k > 0.7: the importance weights are unreliable (the fit's diagnostics say so). "
        "IS ESS = importance-sampling effective sample size of the pooled path draws.",
        "",
        *table(records),
        "",
    ]
    Path(args.out).write_text("\n".join(text))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
