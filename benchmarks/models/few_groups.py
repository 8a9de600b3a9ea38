"""Few groups: a random intercept over 5 levels (sd poorly identified, heavy-tailed posterior)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.models.base import BenchModel


def simulate(seed: int, quick: bool) -> pd.DataFrame:
    """5 groups x 40 rows of binary outcomes (x 20 when quick)."""
    rng = np.random.default_rng(seed)
    n_per = 20 if quick else 40
    g = np.repeat(np.arange(5), n_per)
    x = rng.normal(0, 1, g.size)
    u = rng.normal(0, 0.5, 5)
    eta = -0.3 + 0.7 * x + u[g]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


MODEL = BenchModel(
    name="few_groups",
    title="bernoulli, (1 | g) with 5 groups x 40 rows",
    formula="y ~ x + (1 | g)",
    family="bernoulli",
    simulate=simulate,
)
