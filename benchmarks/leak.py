"""Memory across many fits in one process (issue 16, point 6: no leaks).

``python -m benchmarks.leak [N]`` fits ``N`` (default 100) small logistic models in a loop in
one process, as a notebook user or a simulation loop would: each on its own simulated data
set (200 rows, ``y ~ x + (1 | g)``, 2 chains x 200 draws after 200 tuning), calls
``summary()`` and ``diagnostics()`` (which keep per-fit results) and drops the fit. It prints
the resident memory (RSS, MiB) after every tenth fit and the growth per fit over the second
half of the loop, after the compiled-model cache (bounded: 16 structures with data frozen in)
has filled. Flat memory means growth per fit near 0 MiB.

``python -m benchmarks.leak N --reuse`` runs the same loop inside
``bayesmixed.sample.backends.reuse_compiled()`` (what ``fit_many``, ``power``, SBC and K-fold
do): the structure is compiled once and each data set is swapped in.
"""

from __future__ import annotations

import gc
import sys
import time


def rss_mib() -> float:
    """Current resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(n: int = 100, reuse: bool = False) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    import contextlib

    import bayesmixed as bm
    from bayesmixed.sample.backends import reuse_compiled

    rows, t0 = [], time.perf_counter()
    ctx = reuse_compiled() if reuse else contextlib.nullcontext()
    with ctx:
        _loop(bm, n, rows, t0)
    half = [r for r in rows if r[0] > n // 2]
    slope = (half[-1][1] - half[0][1]) / max(half[-1][0] - half[0][0], 1) if len(half) > 1 else 0
    print(f"growth over the second half: {slope:.3f} MiB per fit")
    return {"rss": rows, "mib_per_fit_second_half": slope}


def _loop(bm, n: int, rows: list, t0: float) -> None:
    for i in range(n):
        df = bm.simulate("y ~ x + (1 | g)", n_groups=20, n_per_group=10, family="bernoulli",
                         seed=i)
        fit = bm.fit("y ~ x + (1 | g)", df, "bernoulli", chains=2, draws=200, tune=200,
                     seed=i, progress=False)
        fit.summary()
        fit.diagnostics()
        del fit
        gc.collect()
        if (i + 1) % 10 == 0:
            rows.append((i + 1, rss_mib()))
            print(f"after {i + 1:4d} fits: RSS {rows[-1][1]:8.1f} MiB "
                  f"({time.perf_counter() - t0:6.0f} s)", flush=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 100, reuse="--reuse" in sys.argv)
