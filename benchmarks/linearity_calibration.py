"""False-alarm rate and power of the linearity (curvature) check.

``python -m benchmarks.linearity_calibration`` simulates ``--reps`` data sets of ``--n`` rows
per setting with ``eta = -0.3 + 0.5 x1 + quad (x1^2 - 1) + 0.7 x2`` (``x1 ~ N(0, 1)``,
``x2 ~ U(-2, 2)``; bernoulli on the logit scale, poisson with rate ``exp(1 + eta / 2)``), fits
the linear-in-both GLM by maximum likelihood (IRLS; the posterior mean of a flat-prior fit),
runs the binning and the curvature test of :mod:`bayesmixed.report.checks.linearity` on both
predictors (alpha = 1%, Bonferroni over the two) and writes a markdown table of the share of
data sets with x1 flagged, x2 flagged and any flag (``benchmarks/LINEARITY.md`` unless
``--out``). Under ``quad = 0`` the "any" column is the false-alarm rate per fit (designed:
at most 1%); under ``quad > 0`` the x1 column is the power and x2 the false alarms.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from bayesmixed.report.checks.linearity import (
    binned_by_predictor,
    curvature_test,
    pearson_dispersion,
)

HERE = Path(__file__).resolve().parent


def glm_mle(X: np.ndarray, y: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Fitted mean and variance per row of the canonical-link GLM, by IRLS."""
    b = np.zeros(X.shape[1])
    m = np.mean(y)  # start at the intercept-only fit (X[:, 0] is the constant)
    b[0] = np.log(m / (1 - m)) if family == "bernoulli" else np.log(m)
    for _ in range(50):
        eta = X @ b
        mu = 1 / (1 + np.exp(-eta)) if family == "bernoulli" else np.exp(eta)
        w = mu * (1 - mu) if family == "bernoulli" else mu
        step = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (y - mu))
        b += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return mu, w


def flag_rates(family: str, quad: float, reps: int, n: int, seed: int) -> np.ndarray:
    """Share of data sets with (x1 flagged, x2 flagged, any flagged)."""
    rng = np.random.default_rng(seed)
    flags = np.zeros((reps, 2), bool)
    for r in range(reps):
        x1, x2 = rng.normal(size=n), rng.uniform(-2, 2, n)
        eta = -0.3 + 0.5 * x1 + quad * (x1**2 - 1) + 0.7 * x2
        y = (rng.binomial(1, 1 / (1 + np.exp(-eta))) if family == "bernoulli"
             else rng.poisson(np.exp(1 + eta / 2)))
        mu, var = glm_mle(np.column_stack([np.ones(n), x1, x2]), y, family)
        phi = 1.0 if family == "bernoulli" else pearson_dispersion(y, mu, var, 3)
        for k, x in enumerate((x1, x2)):
            table = binned_by_predictor(x, y, mu, var, binary_se=family == "bernoulli",
                                        dispersion=phi)
            flags[r, k] = curvature_test(table, alpha=0.01, n_tests=2)["flagged"]
    return np.array([*flags.mean(axis=0), flags.any(axis=1).mean()])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--out", type=Path, default=HERE / "LINEARITY.md")
    args = ap.parse_args(argv)
    rows = []
    for family in ("bernoulli", "poisson"):
        for quad in (0.0, 0.25, 0.5):
            t = time.time()
            rate = flag_rates(family, quad, args.reps, args.n, seed=1)
            rows.append(f"| {family} | {quad:g} | {rate[0]:.3f} | {rate[1]:.3f} | {rate[2]:.3f} "
                        f"| {time.time() - t:.0f} |")
            print(rows[-1], flush=True)
    head = [
        "# Linearity check: false alarms and power (issue 15.5)",
        "",
        f"`python -m benchmarks.linearity_calibration --reps {args.reps} --n {args.n}` "
        f"(see its docstring); alpha = 1% per fit, Bonferroni over the 2 predictors; "
        f"1-minute load {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| family | quad | x1 flagged | x2 flagged (linear) | any flagged | seconds |",
        "|---|---|---|---|---|---|",
    ]
    args.out.write_text("\n".join(head + rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
