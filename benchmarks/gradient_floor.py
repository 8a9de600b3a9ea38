"""VerbAgg: the cost of one gradient of the compiled log density against a numpy floor.

``python -m benchmarks.gradient_floor`` builds VerbAgg
``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)`` (bernoulli, 7,584 rows) as
``bm.fit`` does, loads (or compiles) its nutpie model, and times

(CPU time of the calling thread, so other processes' load barely matters; numpy's BLAS is
limited to one thread for a like-for-like comparison with one NUTS chain)

- *compiled*: one call of the compiled log density and gradient (the C callback nutpie calls,
  through ``ctypes``), at a random point;
- *numpy floor*: the data-sized work no implementation of this model can skip, in numpy:
  ``eta = X b + a[id] + c[item]``, the bernoulli log-likelihood and its gradient with respect to
  ``b`` (``X.T (y - p)``) and to the effects (``bincount``). Priors and transforms (a few dozen
  numbers) are left out, so the floor is a lower bound.

Then (``--sample``) it samples 2 chains of 1,000 draws after 1,000 tuning steps (seed 1, the
compiled model ``bm.fit`` uses, with the warm-up kept) and reports the leapfrog steps per draw in
warm-up and sampling and the sampler threads' CPU seconds per gradient. Each row of the table is
the median of ``--repeats`` timing runs; the machine's load is recorded.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread, like one NUTS chain
import time

import numpy as np

FORMULA = "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)"


def _best_of(fn, calls: int, repeats: int) -> float:
    """Median over ``repeats`` of the mean CPU seconds (this thread's, robust to other
    processes' load) per call of ``fn`` over ``calls`` calls."""
    out = []
    for _ in range(repeats):
        t0 = time.thread_time()
        for _ in range(calls):
            fn()
        out.append((time.thread_time() - t0) / calls)
    return float(np.median(out))


def numpy_floor(design, rng) -> tuple:
    """The numpy logp-and-gradient closure of the data-sized work of ``design``."""
    X, y = np.ascontiguousarray(design.X), design.y.astype(float)
    idx = [b.index for b in design.blocks]
    sizes = [b.n_levels for b in design.blocks]
    b = rng.normal(0, 0.1, X.shape[1])
    effects = [rng.normal(0, 0.5, n) for n in sizes]

    def logp_grad():
        eta = X @ b
        for i, u in zip(idx, effects, strict=True):
            eta += u[i]
        logp = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        resid = y - 1.0 / (1.0 + np.exp(-eta))
        grads = [X.T @ resid] + [np.bincount(i, resid, n) for i, n in zip(idx, sizes,
                                                                            strict=True)]
        return logp, grads

    return logp_grad


def main(argv: list[str] | None = None) -> int:
    """Time the gradients (and with ``--sample`` the sampler) and print a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sample", action="store_true")
    args = ap.parse_args(argv)
    import bayesmixed as bm
    from bayesmixed.sample.backends import _compiled_nutpie

    data = bm.datasets.load("VerbAgg")
    built = bm.prepare(FORMULA, data, "bernoulli")
    status: dict = {}
    compiled = _compiled_nutpie(built, status)[0]
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.3, compiled.n_dim)
    compiled.logp_func(x)
    floor = numpy_floor(built.design, rng)
    floor()
    load = os.getloadavg()[0]
    t_comp = _best_of(lambda: compiled.logp_func(x), args.calls, args.repeats)
    t_np = _best_of(floor, args.calls // 4, args.repeats)
    agg = getattr(built, "aggregation", None)
    rows = [f"| compiled log density + gradient (nutpie's callback; {status.get('disk_cache')}) "
            f"| {t_comp * 1e6:.0f} |",
            f"| numpy floor (eta, bernoulli logp, gradient; {built.design.n_obs} rows, "
            f"{'aggregated' if agg is not None else 'no identical rows to aggregate'}) "
            f"| {t_np * 1e6:.0f} |",
            f"| ratio compiled / floor | {t_comp / t_np:.2f} |"]
    if args.sample:
        from bayesmixed.sample.imports import import_nutpie

        nutpie = import_nutpie()
        cpu0, main0 = time.process_time(), time.thread_time()
        tr = nutpie.sample(compiled, chains=2, draws=1000, tune=1000, seed=1, cores=2,
                           progress_bar=False, save_warmup=True)
        sampler_cpu = (time.process_time() - cpu0) - (time.thread_time() - main0)
        warm = tr["warmup_sample_stats"]["n_steps"].values
        draw = tr["sample_stats"]["n_steps"].values
        n_grad = int(warm.sum() + draw.sum())
        rows += [f"| leapfrog steps per draw, warm-up / sampling | {warm.mean():.1f} / "
                 f"{draw.mean():.1f} |",
                 f"| gradients, 2 chains x (1,000 + 1,000) | {n_grad} |",
                 f"| sampler CPU s (both threads) / per gradient us | {sampler_cpu:.1f} / "
                 f"{sampler_cpu / n_grad * 1e6:.0f} |"]
    text = (f"`python -m benchmarks.gradient_floor{' --sample' if args.sample else ''}`; "
            f"{os.cpu_count()} cores, load (1 min) {load:.1f}; CPU microseconds per call "
            f"(thread time), median of {args.repeats} runs.\n\n| quantity | value |\n"
            "|---|---|\n" + "\n".join(rows) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
