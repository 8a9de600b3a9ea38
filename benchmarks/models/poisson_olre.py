"""Poisson counts with an observation-level random effect (epilepsy-like, overdispersed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.models.base import BenchModel


def simulate(seed: int, quick: bool) -> pd.DataFrame:
    """59 patients x 4 visits (30 x 4 when quick): (1 | patient) + (1 | obs)."""
    rng = np.random.default_rng(seed)
    n_pat = 30 if quick else 59
    pat = np.repeat(np.arange(n_pat), 4)
    trt = (np.arange(n_pat) % 2).astype(float)[pat]
    base = rng.normal(0, 1, n_pat)[pat]
    visit = np.tile([-0.3, -0.1, 0.1, 0.3], n_pat)
    u = rng.normal(0, 0.5, n_pat)[pat]
    e = rng.normal(0, 0.35, pat.size)
    eta = 1.8 - 0.3 * trt + 0.6 * base - 0.3 * visit + u + e
    y = rng.poisson(np.exp(eta))
    return pd.DataFrame(
        {
            "count": y,
            "trt": trt,
            "base": base,
            "visit": visit,
            "patient": [f"p{j:02d}" for j in pat],
            "obs": [f"o{j:03d}" for j in range(pat.size)],
        }
    )


MODEL = BenchModel(
    name="poisson_olre",
    title="poisson, (1 | patient) + (1 | obs), 59 patients x 4 visits",
    formula="count ~ trt + base + visit + (1 | patient) + (1 | obs)",
    family="poisson",
    simulate=simulate,
)
