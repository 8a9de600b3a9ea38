"""Gaussian random-intercept, random-slope model (sleepstudy-like), uncorrelated effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.models.base import BenchModel


def simulate(seed: int, quick: bool) -> pd.DataFrame:
    """60 subjects x 10 days (20 x 10 when quick): reaction = 250 + 10 days + effects + noise."""
    rng = np.random.default_rng(seed)
    n_sub, n_day = (20, 10) if quick else (60, 10)
    sub = np.repeat(np.arange(n_sub), n_day)
    days = np.tile(np.arange(n_day), n_sub).astype(float)
    a = rng.normal(0, 25, n_sub)
    s = rng.normal(0, 6, n_sub)
    y = 250 + 10 * days + a[sub] + s[sub] * days + rng.normal(0, 25, sub.size)
    return pd.DataFrame({"reaction": y, "days": days, "subject": [f"s{j:03d}" for j in sub]})


MODEL = BenchModel(
    name="gaussian_slope",
    title="gaussian, (1 + days || subject), 60 subjects x 10 days",
    formula="reaction ~ days + (1 + days || subject)",
    family="gaussian",
    simulate=simulate,
    bambi_formula="reaction ~ days + (1 + days | subject)",
)
