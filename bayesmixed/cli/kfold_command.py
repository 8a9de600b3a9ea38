"""``bayesmixed kfold RUN_DIR``: grouped K-fold cross-validation of a run folder's model.

The model of the run folder is refitted ``K`` times, each time without the whole clusters of
one fold (``--by``, default the first grouping factor), with the run's spec, parameterization
and sampler settings; the held-out clusters are scored as new groups. ``--workers N`` runs the
refits on a local Dask cluster of ``N`` processes and ``--scheduler ADDRESS`` on an existing
cluster: the same ``--seed`` gives the same result as a serial run.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from bayesmixed.cli.common import EXIT_OK, UsageError, emit_json, say
from bayesmixed.cli.power_command import add_client_args, client_arg

__all__ = ["add_parser", "kfold_record", "run_kfold"]


def add_parser(sub) -> None:
    """Register ``kfold``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> a = sub.choices["kfold"].parse_args(["runs/a", "--k", "5", "--workers", "2"])
    >>> a.k, a.workers, a.by
    (5, 2, None)
    """
    p = sub.add_parser(
        "kfold", help="grouped K-fold cross-validation of a run folder's model",
        description="Refit the model of a run folder K times, each time leaving out whole "
        "clusters of one fold, and score the held-out clusters as new groups (expected log "
        "predictive density, elpd). The refits use the run's spec and sampler settings "
        "unless --chains/--draws/--tune are given.")
    p.add_argument("run_dir", help="run folder written by 'bayesmixed fit' or Fit.save")
    p.add_argument("--k", type=int, default=10, help="number of folds (default 10)")
    p.add_argument("--by", help="grouping column kept together (default the first factor)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the folds, the refits and the new-group draws (default 0)")
    p.add_argument("--n-new", type=int, default=20,
                   help="new-group effect draws per posterior draw (default 20)")
    p.add_argument("--chains", type=int, help="chains per refit (default the run's)")
    p.add_argument("--draws", type=int, help="draws per chain per refit (default the run's)")
    p.add_argument("--tune", type=int, help="tuning draws per refit (default the run's)")
    add_client_args(p)
    p.add_argument("--out", help="also write the result as JSON to this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.set_defaults(handler=run_kfold)


def kfold_record(res, run_dir: str | Path) -> dict:
    """The K-fold result as plain data: totals, per-fold and per-cluster elpd.

    Examples
    --------
    >>> import types
    >>> import numpy as np, xarray as xr
    >>> res = types.SimpleNamespace(elpd=-10.0, se=1.5, p=2.0, n_folds=2, by="g",
    ...     elpd_fold=np.array([-4.0, -6.0]), folds=np.array([0, 1, 1]),
    ...     elpd_i=xr.DataArray([-4.0, -6.0], dims=["cluster"], coords={"cluster": ["a", "b"]}))
    >>> r = kfold_record(res, "runs/x")
    >>> r["elpd"], r["elpd_fold"], r["elpd_cluster"]
    (-10.0, [-4.0, -6.0], {'a': -4.0, 'b': -6.0})
    """
    clusters = [str(c) for c in res.elpd_i.coords["cluster"].values]
    return {
        "run_dir": str(Path(run_dir).absolute()),
        "by": res.by,
        "k": int(res.n_folds),
        "elpd": float(res.elpd),
        "se": float(res.se),
        "p_kfold": float(res.p),
        "elpd_fold": [float(v) for v in res.elpd_fold],
        "elpd_cluster": dict(zip(clusters, (float(v) for v in res.elpd_i.values), strict=True)),
    }


def _write_json(record: dict, path: str | Path) -> None:
    """Write ``record`` to ``path`` atomically (a temporary file, then a rename)."""
    from bayesmixed.runfolder import jsonable

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(jsonable(record), f, indent=2, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_kfold(args) -> int:
    """``bayesmixed kfold RUN_DIR``.

    Examples
    --------
    >>> from bayesmixed.cli import main
    >>> main(["kfold", "no-such-run"])  # doctest: +SKIP
    2
    """
    from bayesmixed.io import load_fit
    from bayesmixed.parallel import open_client

    if args.k < 2:
        raise UsageError(f"--k must be at least 2, got {args.k}")
    if args.n_new < 1:
        raise UsageError(f"--n-new must be at least 1, got {args.n_new}")
    for opt in ("chains", "draws", "tune"):
        v = getattr(args, opt)
        if v is not None and v < 1:
            raise UsageError(f"--{opt} must be at least 1, got {v}")
    client, n_workers = client_arg(args)
    fit = load_fit(args.run_dir)
    say(f"K-fold: {args.k} refits of {args.run_dir}"
        + (f" on {n_workers or 'the'} Dask workers" if client is not None else ""), args.quiet)
    with open_client(client, n_workers) as c:
        res = fit.kfold(k=args.k, by=args.by, seed=args.seed, n_new=args.n_new,
                        chains=args.chains, draws=args.draws, tune=args.tune,
                        progress=not args.quiet and c is not None, client=c)
    record = kfold_record(res, args.run_dir)
    if args.out:
        _write_json(record, args.out)
    if args.json:
        emit_json(record)
    else:
        print(f"K-fold CV ({record['k']} folds by {record['by']}): elpd {record['elpd']:.2f} "
              f"(se {record['se']:.2f}), p_kfold {record['p_kfold']:.2f}")
        for f, v in enumerate(record["elpd_fold"]):
            print(f"  fold {f + 1}: elpd {v:.2f}")
    return EXIT_OK
