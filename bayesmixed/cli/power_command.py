"""``bayesmixed power``: simulation-based power of a design grid (:mod:`bayesmixed.power_analysis`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bayesmixed.cli.common import EXIT_OK, UsageError, emit_json, parse_assignments, say

__all__ = ["add_client_args", "add_parser", "client_arg"]

EPILOG = """\
examples:
  bayesmixed power --formula "y ~ x + (1 | g)" --set x=0.3 --set "sd(Intercept|g)=0.5" \\
      --n-groups 10,20,40 --n-per-group 5 --sims 200 --target x --seed 1 --workers 4
  bayesmixed power --spec model.yaml --truth truth.yaml --n-groups 30 --n-per-group 4,8 \\
      --scheduler tcp://10.0.0.5:8786 --json > power.json

Power is the share of simulated data sets whose central --prob interval of --target excludes
0; the table also gives coverage of the truth, mean interval width and the share of fits that
converged, with Monte Carlo standard errors sqrt(p (1 - p) / sims).
"""


def _ints(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{name} must be integers separated by commas, got {text!r}") from None
    if not values:
        raise UsageError(f"{name} needs at least one value")
    return values


def add_parser(sub) -> None:
    """Register the ``power`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> sub.choices["power"].parse_args(["--formula", "y ~ x + (1 | g)"]).sims
    200
    """
    p = sub.add_parser("power", help="simulation-based power analysis of a design grid",
                       description="Simulate data sets with a known truth for every design, fit "
                       "each one and report power, coverage and interval width.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--formula", help="lme4-style formula")
    p.add_argument("--family", help="response family (default gaussian for a formula)")
    p.add_argument("--link", help="link function")
    p.add_argument("--spec", help="YAML model spec")
    p.add_argument("--truth", help="parameter values: a JSON/YAML file or an inline JSON object")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help='one parameter value, e.g. "x=0.5" or "sd(Intercept|g)=1"; repeatable')
    p.add_argument("--n-groups", default="20", help="numbers of groups, comma-separated")
    p.add_argument("--n-per-group", default="10", help="rows per group, comma-separated")
    p.add_argument("--sims", type=int, default=200, help="simulations per design (default 200)")
    p.add_argument("--target", default="x", help="the coefficient studied (default x)")
    p.add_argument("--prob", type=float, default=0.95, help="interval probability (0.95)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--chains", type=int, default=2, help="chains per fit (default 2)")
    p.add_argument("--draws", type=int, default=500, help="draws per chain (default 500)")
    p.add_argument("--tune", type=int, default=500, help="tuning steps per chain (default 500)")
    add_client_args(p)
    p.add_argument("--plot", help="write the power curve to this image file")
    p.add_argument("--out", help="write the per-design table to this CSV file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.set_defaults(handler=run)


def add_client_args(p) -> None:
    """``--workers N`` / ``--scheduler ADDRESS``, for every subcommand that runs many fits.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_client_args(p)
    >>> p.parse_args(["--workers", "4"]).workers
    4
    """
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, metavar="N",
                   help="run the fits on a local Dask cluster of N worker processes")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the fits on the Dask cluster of this scheduler (tcp://host:8786)")


def client_arg(args) -> tuple[Any, int | None]:
    """(``client``, ``n_workers``) for :func:`bayesmixed.parallel.run_tasks` from the options.

    Examples
    --------
    >>> client_arg(argparse.Namespace(workers=None, scheduler=None))
    (None, None)
    >>> client_arg(argparse.Namespace(workers=3, scheduler=None))
    ('local', 3)
    """
    if getattr(args, "scheduler", None):
        return args.scheduler, None
    workers = getattr(args, "workers", None)
    if workers is None:
        return None, None
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    return "local", workers


def _truth(args) -> dict[str, Any]:
    truth: dict[str, Any] = {}
    if args.truth:
        path = Path(args.truth)
        import yaml

        try:
            given = yaml.safe_load(path.read_text()) if path.is_file() else json.loads(args.truth)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise UsageError(f"--truth is neither a readable file nor a JSON object: {exc}") from None
        if not isinstance(given, dict):
            raise UsageError("--truth must hold a mapping of parameter -> value")
        truth.update(given)
    for key, value in parse_assignments(args.set, "--set").items():
        try:
            truth[key] = float(value)
        except ValueError:
            raise UsageError(f"--set {key}: {value!r} is not a number") from None
    return truth


def run(args) -> int:
    """Run ``bayesmixed power``."""
    from bayesmixed.parallel import open_client
    from bayesmixed.power_analysis import power
    from bayesmixed.runfolder import jsonable

    chosen = [o for o in ("formula", "spec") if getattr(args, o)]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --formula and --spec")
    spec: Any = Path(args.spec) if args.spec else args.formula
    family = args.family if (args.family or not args.formula) else "gaussian"
    client, n_workers = client_arg(args)
    truth = _truth(args)
    groups, per = _ints(args.n_groups, "--n-groups"), _ints(args.n_per_group, "--n-per-group")
    with open_client(client, n_workers) as c:  # a LocalCluster lives for this run only
        result = power(spec, truth, groups, per, sims=args.sims, target=args.target,
                       seed=args.seed, prob=args.prob, family=family, link=args.link, client=c,
                       progress=not args.quiet, chains=args.chains, draws=args.draws,
                       tune=args.tune)
    if args.out:
        result.table.to_csv(args.out, index=False)
    if args.plot:
        result.plot().savefig(args.plot, dpi=120, bbox_inches="tight")
    if args.json:
        emit_json(jsonable(result.to_dict()))
    else:
        say(str(result))
    return EXIT_OK
