"""Random-intercept, random-slope logistic model with correlated effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.models.base import BenchModel


def simulate(seed: int, quick: bool) -> pd.DataFrame:
    """100 groups x 30 rows (40 x 30 when quick); sd 1.0 and 0.6, correlation 0.5."""
    rng = np.random.default_rng(seed)
    n_g, n_per = (40, 30) if quick else (100, 30)
    cov = np.array([[1.0, 0.5 * 0.6], [0.5 * 0.6, 0.36]])
    u = rng.multivariate_normal([0, 0], cov, n_g)
    g = np.repeat(np.arange(n_g), n_per)
    x = rng.normal(0, 1, g.size)
    w = rng.normal(0, 1, g.size)
    eta = -0.5 + 0.8 * x + 0.3 * w + u[g, 0] + u[g, 1] * x
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "w": w, "g": [f"g{j:03d}" for j in g]})


MODEL = BenchModel(
    name="logistic_corr_slope",
    title="bernoulli, (1 + x | g) correlated, 100 groups x 30 rows",
    formula="y ~ x + w + (1 + x | g)",
    family="bernoulli",
    simulate=simulate,
    bambi_formula="y ~ x + w + (1 + x | g)",
    notes=("bambi 0.21 has no correlated group-level effects: it fits (1 + x || g).",),
)
