"""Crossed persons x items binary design with person- and item-level predictors.

Shaped like lme4's VerbAgg (316 persons x 24 items = 7,584 rows): person-level anger (numeric)
and gender; item-level behaviour type (3 levels, two indicators), situation and mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.models.base import BenchModel


def simulate(seed: int, quick: bool) -> pd.DataFrame:
    """316 persons x 24 items (80 x 24 when quick), logit link."""
    rng = np.random.default_rng(seed)
    n_p, n_i = (80, 24) if quick else (316, 24)
    anger = rng.normal(20, 5, n_p).round()
    male = rng.binomial(1, 0.25, n_p).astype(float)
    # item design: 4 situations (2 self, 2 other) x 3 behaviours x 2 modes
    situ = np.repeat([0, 0, 1, 1], 6).astype(float)
    btype = np.tile(np.repeat([0, 1, 2], 2), 4)
    want = np.tile([0, 1], 12).astype(float)
    scold, shout = (btype == 1).astype(float), (btype == 2).astype(float)
    u_p = rng.normal(0, 1.3, n_p)
    u_i = rng.normal(0, 0.6, n_i)
    pp = np.repeat(np.arange(n_p), n_i)
    ii = np.tile(np.arange(n_i), n_p)
    eta = (
        0.2
        + 0.06 * (anger[pp] - 20)
        + 0.3 * male[pp]
        - 1.0 * scold[ii]
        - 2.0 * shout[ii]
        - 1.0 * situ[ii]
        - 0.7 * want[ii]
        + u_p[pp]
        + u_i[ii]
    )
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame(
        {
            "r": y,
            "anger": anger[pp],
            "male": male[pp],
            "scold": scold[ii],
            "shout": shout[ii],
            "situ_self": situ[ii],
            "want": want[ii],
            "person": [f"p{j:03d}" for j in pp],
            "item": [f"i{j:02d}" for j in ii],
        }
    )


MODEL = BenchModel(
    name="crossed_binary",
    title="bernoulli, crossed (1 | person) + (1 | item), 316 x 24 = 7,584 rows",
    formula="r ~ anger + male + scold + shout + situ_self + want + (1 | person) + (1 | item)",
    family="bernoulli",
    simulate=simulate,
)
