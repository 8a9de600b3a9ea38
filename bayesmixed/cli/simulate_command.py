"""``bayesmixed simulate``: write a data set with known parameters and its truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from bayesmixed.cli.common import (
    EXIT_OK,
    UsageError,
    emit_json,
    parse_assignments,
    say,
    write_table,
)

__all__ = ["add_parser", "truth_path"]

EPILOG = """\
examples:
  bayesmixed simulate --formula "y ~ x + (1 + x | g)" --family bernoulli --n-groups 40 \\
      --n-per-group 25 --set x=1.2 --set "sd(Intercept|g)=0.8" --seed 1 --out sim.csv
  bayesmixed simulate --formula "y ~ z + (1 | id) + (1 | item)" --family bernoulli \\
      --n-groups id=100,item=20 --level-by z=item --seed 2 --out crossed.parquet
  bayesmixed simulate --model sleepstudy --n-groups 18 --n-per-group 10 --out sleep_sim.csv

The truth (every parameter and the realized group effects) is written beside the data as
<out-stem>.truth.json. With --model, the library's reference estimates are the default truth.
"""


def add_parser(sub) -> None:
    """Register the ``simulate`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> sub.choices["simulate"].parse_args(["--formula", "y ~ (1 | g)", "--out", "s.csv"]).n_groups
    '20'
    """
    p = sub.add_parser("simulate", help="simulate data with known parameters",
                       description="Simulate a data set from a model spec with known parameters.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--formula", help="lme4-style formula")
    p.add_argument("--family", help="response family (default gaussian for a formula)")
    p.add_argument("--link", help="link function")
    p.add_argument("--zi", help='zero-inflation formula, e.g. "~ x" (zero_inflated_* families)')
    p.add_argument("--hu", help='hurdle formula, e.g. "~ x" (hurdle_* families)')
    p.add_argument("--spec", help="YAML model spec")
    p.add_argument("--model", help="a library model by name")
    p.add_argument("--n-groups", default="20",
                   help="levels per grouping column: N for all, or col=N,col=M (default 20)")
    p.add_argument("--n-per-group", type=int, default=10,
                   help="rows per group (per cell of crossed factors; default 10)")
    p.add_argument("--truth", help="parameter values: a JSON/YAML file or an inline JSON object")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help='one parameter value, e.g. "x=0.5" or "sd(Intercept|g)=1"; repeatable')
    p.add_argument("--levels", action="append", metavar="COL=A,B,...",
                   help="make predictor COL categorical with these levels; repeatable")
    p.add_argument("--level-by", action="append", metavar="COL=GROUP",
                   help="make predictor COL constant within levels of grouping column GROUP")
    p.add_argument("--trials", type=int, default=10,
                   help="trials per row for binomial (default 10)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--out", required=True, help="data file to write (.csv, .parquet, .feather)")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.add_argument("--json", action="store_true", help="print the truth as JSON on stdout")
    p.set_defaults(handler=run)


def truth_path(out: str | Path) -> Path:
    """Where the truth of a simulated data file is written: ``<stem>.truth.json``.

    Examples
    --------
    >>> truth_path("data/sim.csv").as_posix()
    'data/sim.truth.json'
    """
    p = Path(out)
    return p.with_name(f"{p.stem}.truth.json")


def _n_groups(text: str) -> int | dict[str, int]:
    try:
        if "=" not in text:
            return int(text)
        return {k: int(v) for k, v in parse_assignments(text.split(","), "--n-groups").items()}
    except ValueError:
        raise UsageError(
            f"--n-groups must be N or col=N,col=M with integers, got {text!r}"
        ) from None


def _truth(args, reference: dict[str, float]) -> dict[str, Any]:
    truth: dict[str, Any] = dict(reference)
    if args.truth:
        p = Path(args.truth)
        try:
            given = yaml.safe_load(p.read_text()) if p.is_file() else json.loads(args.truth)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise UsageError(
                f"--truth is neither a readable file nor a JSON object: {exc}"
            ) from None
        if not isinstance(given, dict):
            raise UsageError("--truth must hold a mapping of parameter -> value")
        truth.update(given)
    for key, value in parse_assignments(args.set, "--set").items():
        try:
            truth[key] = float(value)
        except ValueError:
            raise UsageError(f"--set {key}: {value!r} is not a number") from None
    return truth


def _predictors(args) -> dict[str, Any]:
    preds: dict[str, Any] = {}
    for col, levels in parse_assignments(args.levels, "--levels").items():
        preds[col] = {"levels": [v.strip() for v in levels.split(",") if v.strip()]}
    for col, group in parse_assignments(args.level_by, "--level-by").items():
        preds.setdefault(col, {})["by"] = group
    return preds


def run(args) -> int:
    """Run ``bayesmixed simulate``."""
    from bayesmixed.runfolder import jsonable
    from bayesmixed.simulation import simulate

    chosen = [o for o in ("formula", "spec", "model") if getattr(args, o)]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --formula, --spec and --model")
    reference: dict[str, float] = {}
    if args.model:
        from bayesmixed import library

        entry = library.get(args.model)
        spec: Any = entry.spec
        reference = entry.reference_estimates()
    elif args.spec:
        spec = Path(args.spec)
    else:
        spec = args.formula
    family = args.family if (args.family or not args.formula) else "gaussian"
    if args.zi or args.hu:
        from bayesmixed.api import make_spec
        from bayesmixed.cli.common import with_dpars

        spec = with_dpars(make_spec(spec, family, args.link), args)
    tpath = truth_path(args.out)
    for p in (Path(args.out), tpath):
        if p.exists() and not args.force:
            raise UsageError(f"{str(p)!r} already exists; pass --force to replace it")
    data = simulate(spec, n_groups=_n_groups(args.n_groups), n_per_group=args.n_per_group,
                    truth=_truth(args, reference), family=family, link=args.link,
                    predictors=_predictors(args) or None, trials=args.trials, seed=args.seed)
    truth = jsonable(data.attrs["truth"])
    write_table(data, args.out, force=args.force)
    tpath.write_text(json.dumps(truth, indent=2) + "\n")
    if args.json:
        emit_json({"data": str(Path(args.out).absolute()), "truth_file": str(tpath.absolute()),
                   "rows": len(data), "truth": truth})
    else:
        say(f"bayesmixed: {len(data)} rows of {truth['design']['formula']} "
            f"[{truth['design']['family']}] -> {args.out}; truth -> {tpath}")
    return EXIT_OK
