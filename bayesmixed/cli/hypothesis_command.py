"""``bayesmixed hypothesis RUN_DIR "x > 0" ...``: brms-style hypothesis tests on a run folder."""

from __future__ import annotations

from pathlib import Path

from bayesmixed.cli.common import EXIT_OK, UsageError, emit_json, table_records

__all__ = ["add_parser", "run_hypothesis"]


def add_parser(sub) -> None:
    """Register ``hypothesis``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> sub.choices["hypothesis"].parse_args(["runs/a", "x > 0", "--rope", "-0.1", "0.1"]).rope
    [-0.1, 0.1]
    """
    p = sub.add_parser(
        "hypothesis", help="test hypotheses about the parameters of a run folder",
        description="Posterior probability and evidence ratio of one-sided hypotheses "
        "('x > 0'), Savage-Dickey Bayes factor of point hypotheses ('a - b = 0', from draws "
        "of the model's prior), and the share inside a region of practical equivalence. "
        "Parameters are named as in 'bayesmixed summary'; quote each hypothesis.")
    p.add_argument("run_dir", help="run folder written by 'bayesmixed fit' or Fit.save")
    p.add_argument("hypotheses", nargs="+", metavar="HYPOTHESIS",
                   help="e.g. \"x > 0\" or \"btype[scold] - btype[shout] = 0\"")
    p.add_argument("--prob", type=float, default=0.95, help="interval probability (default 0.95)")
    p.add_argument("--rope", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="region of practical equivalence, e.g. --rope -0.1 0.1")
    p.add_argument("--prior-draws", type=int, default=10_000,
                   help="prior draws for the Savage-Dickey ratio (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the prior draws")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(handler=run_hypothesis)


def run_hypothesis(args) -> int:
    """``bayesmixed hypothesis RUN_DIR HYPOTHESIS ...``."""
    from bayesmixed.io import load_fit

    if not 0 < args.prob < 1:
        raise UsageError(f"--prob must lie strictly between 0 and 1, got {args.prob}")
    if args.prior_draws < 100:
        raise UsageError(f"--prior-draws must be at least 100, got {args.prior_draws}")
    fit = load_fit(args.run_dir)
    table = fit.hypothesis(*args.hypotheses, prob=args.prob,
                           rope=tuple(args.rope) if args.rope else None,
                           prior_draws=args.prior_draws, seed=args.seed)
    if args.json:
        emit_json({"run_dir": str(Path(args.run_dir).absolute()),
                   "hypotheses": table_records(table)})
    else:
        print(table.round(4).to_string())
    return EXIT_OK
