"""K-fold CV with 10 folds, serial vs a 2-worker local Dask cluster (issue 14, point 6).

``python -m benchmarks.kfold_dask`` fits the flagship model (mixed-effects logistic
regression ``y ~ x + (1 | g)``, 30 groups x 10 rows, simulated with seed 1) once, then runs
``fit.kfold(k=10, by="g")`` twice with the same seeds: in this process (``client=None``) and on
a ``LocalCluster`` of 2 single-threaded worker processes started beforehand (its start-up is
timed separately). It checks that both give the same elpd, per-fold and pointwise values bit
for bit, and prints a markdown table row (wall seconds of each, their ratio, the load average
before and after, each part's timing) to paste into ``benchmarks/RESULTS.md``.

Both runs compile cold: the on-disk cache of compiled models points at a fresh temporary
directory and is switched off (``BAYESMIXED_CACHE=0``), so the serial run compiles the fold
model once and each worker compiles it once (in parallel). Options: ``--folds``,
``--chains``, ``--draws`` (draws = tuning steps), ``--workers``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the result.

    Examples
    --------
    From a terminal (a few minutes on 2 free cores)::

        python -m benchmarks.kfold_dask --folds 10 --workers 2
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kfold_dask")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ["BAYESMIXED_CACHE"] = "0"
    os.environ["BAYESMIXED_CACHE_DIR"] = tempfile.mkdtemp(prefix="bm-kfold-bench-")
    warnings.simplefilter("ignore")

    import distributed
    import numpy as np

    import bayesmixed as bm

    data = bm.simulate("y ~ x + (1 | g)", family="bernoulli", n_groups=30, n_per_group=10,
                       truth={"Intercept": -0.5, "x": 1.0, "sd(Intercept|g)": 1.0}, seed=1)
    sampler = {"chains": args.chains, "draws": args.draws, "tune": args.draws}
    fit = bm.fit("y ~ x + (1 | g)", data, family="bernoulli", seed=2, progress=False, **sampler)
    diag = fit.diagnostics()
    kw = {"k": args.folds, "by": "g", "seed": 3, **sampler}

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    serial = fit.kfold(**kw)
    t_serial = time.perf_counter() - t0

    t0 = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    t_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    remote = fit.kfold(client=client, **kw)
    t_remote = time.perf_counter() - t0
    client.close()
    cluster.close()
    load1 = os.getloadavg()[0]

    same = (serial.elpd == remote.elpd
            and np.array_equal(serial.elpd_fold, remote.elpd_fold)
            and np.array_equal(serial.elpd_i.values, remote.elpd_i.values))
    print(f"full fit: verdict {diag.verdict}, max R-hat {diag.max_rhat:.3f}, "
          f"divergences {diag.divergences}")
    print(f"elpd {serial.elpd:.3f} (se {serial.se:.3f}); identical serial vs cluster: {same}")
    print("| folds | sampler | serial s | cluster s (+ start-up) | serial / cluster | "
          "load before / after | identical |")
    print(f"| {args.folds} | {args.chains} chains x {args.draws} (+{args.draws} tune) | "
          f"{t_serial:.1f} | {t_remote:.1f} (+{t_start:.1f}) | {t_serial / t_remote:.2f} | "
          f"{load0:.1f} / {load1:.1f} | {'yes' if same else '**no**'} |")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
