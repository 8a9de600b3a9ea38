"""The scale test: 200,000 rows, 2,000 groups, correlated random intercept and slope."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.models.base import BenchModel


def simulate(seed: int, quick: bool) -> pd.DataFrame:
    """2,000 groups x 100 rows (200 x 100 when quick); x continuous, so no two rows aggregate."""
    rng = np.random.default_rng(seed)
    n_g, n_per = (200, 100) if quick else (2000, 100)
    cov = np.array([[0.8**2, 0.3 * 0.8 * 0.4], [0.3 * 0.8 * 0.4, 0.4**2]])
    u = rng.multivariate_normal([0, 0], cov, n_g)
    g = np.repeat(np.arange(n_g), n_per)
    x = rng.normal(0, 1, g.size)
    w = rng.binomial(1, 0.4, g.size).astype(float)
    eta = -0.4 + 0.5 * x - 0.3 * w + u[g, 0] + u[g, 1] * x
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "w": w, "g": [f"g{j:04d}" for j in g]})


MODEL = BenchModel(
    name="large_logistic",
    title="bernoulli, (1 + x | g), 2,000 groups x 100 = 200,000 rows",
    formula="y ~ x + w + (1 + x | g)",
    family="bernoulli",
    simulate=simulate,
    bambi_formula="y ~ x + w + (1 + x | g)",
    notes=("bambi fits (1 + x || g) (no correlated group-level effects).",),
)
