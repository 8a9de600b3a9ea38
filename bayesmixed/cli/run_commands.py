"""Commands that read run folders: ``summary``, ``report``, ``compare`` and ``predict``."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from bayesmixed.cli.common import (
    EXIT_OK,
    UsageError,
    emit_json,
    read_table,
    say,
    table_records,
    write_table,
)

__all__ = ["add_parsers"]


def add_parsers(sub) -> None:
    """Register ``summary``, ``report``, ``compare`` and ``predict``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parsers(sub)
    >>> sub.choices["predict"].parse_args(["runs/a", "--data", "new.csv"]).groups
    'observed'
    """
    p = sub.add_parser("summary", help="print the summary of a run folder",
                       description="Load a run folder and print the fit's summary (no refitting).")
    p.add_argument("run_dir", help="run folder written by 'bayesmixed fit' or Fit.save")
    p.add_argument("--exponentiate", action="store_true",
                   help="also show exp(coefficients): odds ratios / rate ratios")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(handler=run_summary)

    p = sub.add_parser("report", help="re-render the HTML report of a run folder",
                       description="Load a run folder and (re)write its HTML report.")
    p.add_argument("run_dir", help="run folder")
    p.add_argument("--out", help="report file (default RUN_DIR/report.html, replaced atomically)")
    p.add_argument("--hypothesis", action="append", metavar="HYPOTHESIS",
                   help="add a hypothesis test (repeatable), e.g. --hypothesis \"x > 0\"")
    p.add_argument("--rope", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="region of practical equivalence for the hypotheses")
    p.set_defaults(handler=run_report)

    p = sub.add_parser("compare", help="compare run folders by LOO",
                       description="Compare fitted models by PSIS-LOO expected log predictive "
                       "density (the runs must be fitted to the same observations).")
    p.add_argument("run_dirs", nargs="+", help="two or more run folders")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(handler=run_compare)

    p = sub.add_parser(
        "predict", help="predict new data from a run folder",
        description="Predict rows of a data file from a fitted run folder.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="groups: observed = each row's fitted group effects (unseen levels become new "
        "groups);\n        new = every group new, effects drawn from the fitted distribution;\n"
        "        none = effects at zero; marginal = population-averaged over the effects.",
    )
    p.add_argument("run_dir", help="run folder")
    p.add_argument("--data", required=True,
                   help="rows to predict: .csv, .tsv, .parquet or .feather")
    p.add_argument("--out", help="output file (.csv, .parquet, ...); default: CSV on stdout")
    p.add_argument("--groups", default="observed", choices=["observed", "new", "none", "marginal"])
    p.add_argument("--kind", default="mean", choices=["mean", "linpred", "response"],
                   help="expected response (default), linear predictor, or predictive draws")
    p.add_argument("--prob", type=float, default=0.95, help="interval probability (default 0.95)")
    p.add_argument("--draws", type=int, help="number of posterior draws to use (default all)")
    p.add_argument("--seed", type=int, default=0, help="seed for new-group effects and draws")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.set_defaults(handler=run_predict)


def _load(path: str):
    from bayesmixed.io import load_fit

    return load_fit(path)


def run_summary(args) -> int:
    """``bayesmixed summary RUN_DIR``."""
    fit = _load(args.run_dir)
    if args.json:
        diag = fit.diagnostics()
        out = {
            "run_dir": str(Path(args.run_dir).absolute()),
            "formula": fit.formula,
            "family": fit.family,
            "link": fit.link,
            "n_obs": fit.meta["n_obs"],
            "levels": fit.levels,
            "summary": table_records(fit.summary().drop(columns=["kind"], errors="ignore")),
            "icc": table_records(fit.icc()) if fit.meta["blocks"] else {},
            "verdict": diag.verdict,
            "diagnostics": diag.to_dict(),
        }
        if args.exponentiate:
            out["exponentiated"] = table_records(
                fit.summary(exponentiate=True).drop(columns=["kind"], errors="ignore"))
        emit_json(out)
        return EXIT_OK
    print(fit)
    if args.exponentiate:
        table = fit.summary(exponentiate=True)
        fixed = table[table["kind"] == "fixed"].drop(columns=["kind"])
        print("\nExponentiated population-level coefficients:")
        print(fixed.round(3).to_string())
    return EXIT_OK


def run_report(args) -> int:
    """``bayesmixed report RUN_DIR``: render into a temporary folder, then move into place."""
    from bayesmixed.runfolder import REPORT

    run_dir = Path(args.run_dir)
    fit = _load(args.run_dir)
    target = Path(args.out) if args.out else run_dir / REPORT
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".report-", dir=target.parent))
    try:
        fit.report(tmp / target.name, hypotheses=args.hypothesis,
                   rope=tuple(args.rope) if args.rope else None)
        for produced in sorted(tmp.iterdir()):
            os.replace(produced, target.parent / produced.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(target)
    return EXIT_OK


def _names(paths: list[str]) -> list[str]:
    names: list[str] = []
    for p in paths:
        base = Path(p).absolute().name or str(p)
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def run_compare(args) -> int:
    """``bayesmixed compare RUN_A RUN_B ...``."""
    import bayesmixed as bm

    if len(args.run_dirs) < 2:
        raise UsageError("compare needs at least two run folders")
    fits = {n: _load(p) for n, p in zip(_names(args.run_dirs), args.run_dirs, strict=True)}
    table = bm.compare(fits)
    if args.json:
        emit_json({"comparison": table_records(table)})
    else:
        print(table.to_string())
    return EXIT_OK


def run_predict(args) -> int:
    """``bayesmixed predict RUN_DIR --data NEW``."""
    if args.out and Path(args.out).exists() and not args.force:
        raise UsageError(f"{args.out!r} already exists; pass --force to replace it")
    if not 0 < args.prob < 1:
        raise UsageError(f"--prob must lie strictly between 0 and 1, got {args.prob}")
    fit = _load(args.run_dir)
    newdata = read_table(args.data)
    with warnings.catch_warnings():  # unseen levels are reported below, once
        warnings.filterwarnings("ignore", message="levels not in the fitted data")
        pred = fit.predict(newdata, kind=args.kind, groups=args.groups, prob=args.prob,
                           draws=args.draws, seed=args.seed)
    new_levels = pred.attrs.get("new_levels") or {}
    for factor, levels in new_levels.items():
        say(f"bayesmixed: {len(levels)} level(s) of {factor!r} not in the fitted data were "
            f"predicted as new groups")
    if args.out:
        write_table(pred, args.out, force=args.force)
        say(f"bayesmixed: {len(pred)} predictions ({args.kind}, groups={args.groups}) "
            f"-> {args.out}")
    else:
        print(pred.to_csv(index=False), end="")
    return EXIT_OK
