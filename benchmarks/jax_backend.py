"""JAX backend benchmark: data size x backend x precision -> wall, compile, ESS/s, accuracy.

One command, on a CPU here or on a GPU machine later (JAX picks the accelerator itself)::

    python -m benchmarks.jax_backend --rows 3000,30000 --out benchmarks/JAX.md
    python -m benchmarks.jax_backend --rows 3000,30000,300000,3000000 --out JAX-gpu.md

The model is the flagship: a mixed-effects logistic regression ``y ~ x + w + (1 + x | g)``
with 30 rows per group (simulated: sds 1.0 and 0.6, correlation 0.5; seed fixed). Every
row of the table is one fit in this process; JAX's persistent compilation cache is off
(``BAYESMIXED_CACHE=0``) so ``compile`` is a cold compilation. Accuracy: for each float32 fit,
the largest |mean(float32) - mean(float64)| / sd(float64) over the summary's rows (population
coefficients, sds, correlation), against the float64 fit of the same backend and size; the
Monte Carlo noise of that figure is about 4 x sqrt(2 / ESS) (0.13 at ESS 2,000) at worst over
the rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime

os.environ.setdefault("BAYESMIXED_CACHE", "0")

__all__ = ["main", "simulate"]


def simulate(rows: int, seed: int = 1):
    """``rows`` binary outcomes in groups of 30, as the suite's ``logistic_corr_slope``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_g = max(2, rows // 30)
    cov = np.array([[1.0, 0.3], [0.3, 0.36]])
    u = rng.multivariate_normal([0, 0], cov, n_g)
    g = np.repeat(np.arange(n_g), 30)
    x, w = rng.normal(0, 1, g.size), rng.normal(0, 1, g.size)
    eta = -0.5 + 0.8 * x + 0.3 * w + u[g, 0] + u[g, 1] * x
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "w": w, "g": [f"g{j:06d}" for j in g]})


FORMULA = "y ~ x + w + (1 + x | g)"


def one(df, backend: str, precision: str, args) -> dict:
    import bayesmixed as bm

    t0 = time.perf_counter()
    fit = bm.fit(FORMULA, df, family="bernoulli", backend=backend, precision=precision,
                 chains=args.chains, draws=args.draws, tune=args.tune, seed=args.seed,
                 progress=False, log_likelihood=False, chain_method=args.chain_method)
    wall = time.perf_counter() - t0
    s = fit.summary()
    d = fit.diagnostics()
    t = fit.timings
    run = fit.meta.get("sampler_run", {})
    ess = float(s["ess_bulk"].min())
    return {"backend": backend, "precision": precision, "wall": wall,
            "compile": float(t["compile"]), "sample": float(t["sample"]), "ess": ess,
            "ess_s": ess / wall, "ess_s_sample": ess / float(t["sample"]),
            "rhat": float(d.max_rhat), "div": int(d.divergences),
            "device": run.get("device", "cpu"), "method": run.get("chain_method", "-"),
            "summary": s}


def accuracy(rec: dict, ref: dict) -> float:
    a, b = ref["summary"], rec["summary"]
    return float(((b["mean"] - a["mean"]).abs() / a["sd"]).max())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="3000,30000", help="comma-separated data sizes")
    p.add_argument("--backends", default="numpyro,blackjax,nutpie")
    p.add_argument("--precisions", default="float64,float32")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chain-method", default="auto")
    p.add_argument("--out", help="markdown file to write (default: print)")
    args = p.parse_args(argv)
    import jax

    from bayesmixed.sample.jaxrun import device_info, import_pymc_jax

    import_pymc_jax()
    info = device_info()
    started = datetime.now(UTC)
    load0 = os.getloadavg()[0]

    def write(lines: list[str], done: bool) -> None:
        took = (datetime.now(UTC) - started).total_seconds() / 60
        state = f"took {took:.1f} min" if done else f"running for {took:.1f} min (partial)"
        head = [
            "# JAX backend: data size x backend x precision",
            "",
            f"Command: `python -m benchmarks.jax_backend {' '.join(argv or sys.argv[1:])}`  ",
            f"Started {started:%Y-%m-%d %H:%M} UTC, {state}. Machine: "
            f"{platform.machine()}, {os.cpu_count()} CPU cores; JAX {jax.__version__} on "
            f"{info['device']} ({info['n_devices']} device(s)); load average {load0:.1f} at "
            f"start, {os.getloadavg()[0]:.1f} now.  ",
            f"Model: `{FORMULA}` (bernoulli), 30 rows per group; {args.chains} chains x "
            f"{args.draws} draws after {args.tune} tuning steps, seed {args.seed}; one process, "
            "JAX's persistent compilation cache off (compile = cold). Wall = build + compile + "
            "sample; ESS = min bulk ESS over the summary's rows.",
            "",
        ]
        text = "\n".join(head + lines) + "\n"
        if args.out:
            with open(args.out, "w") as fh:
                fh.write(text)
        elif done:
            print(text)

    lines = [
        "| rows | backend | precision | device | chain method | wall s | compile s | sample s "
        "| min bulk ESS | ESS/s (wall) | ESS/s (sampling) | max R-hat | div "
        "| max abs(mean32 - mean64)/sd |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rows in [int(r) for r in args.rows.split(",")]:
        df = simulate(rows, args.seed)
        for backend in args.backends.split(","):
            ref = None
            for precision in args.precisions.split(","):
                if backend == "nutpie" and precision != "float64":
                    continue
                r = one(df, backend, precision, args)
                acc = "-"
                if precision == "float64":
                    ref = r
                elif ref is not None:
                    acc = f"{accuracy(r, ref):.3f}"
                line = (f"| {len(df)} | {backend} | {precision} | {r['device']} | {r['method']} "
                        f"| {r['wall']:.1f} | {r['compile']:.1f} | {r['sample']:.1f} "
                        f"| {r['ess']:.0f} | {r['ess_s']:.1f} | {r['ess_s_sample']:.1f} "
                        f"| {r['rhat']:.3f} | {r['div']} | {acc} |")
                lines.append(line)
                print(line, flush=True)
                write(lines, False)
    write(lines, True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
