"""``within(x, g)`` / ``between(x, g)``: the Mundlak decomposition, remembered for new data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design.centering import Between, Within
from bayesmixed.report.predict.inputs import new_data_matrices


def confounded(seed: int = 1, n_groups: int = 30, n_per: int = 10) -> pd.DataFrame:
    """Cluster effects correlated with the cluster mean of x: within effect 0.5, between 2.0."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per)
    xbar = rng.normal(0, 1, n_groups)
    x = xbar[g] + rng.normal(0, 1, g.size)
    u = 1.5 * xbar + rng.normal(0, 0.5, n_groups)
    y = 1 + 0.5 * x + u[g] + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i:02d}" for i in g]})


def test_columns_are_the_group_mean_split():
    df = confounded()
    d = bm.prepare("y ~ within(x, g) + between(x, g) + (1 | g)", df).design
    assert d.x_names == ("Intercept", "within(x, g)", "between(x, g)")
    means = df.groupby("g")["x"].transform("mean").to_numpy()
    np.testing.assert_allclose(d.X[:, 2], means)
    np.testing.assert_allclose(d.X[:, 1], df["x"] - means)
    np.testing.assert_allclose(d.X[:, 1] + d.X[:, 2], df["x"])


def test_new_data_use_the_fitted_means_and_new_groups_their_own():
    df = confounded()
    d = bm.prepare("y ~ within(x, g) + between(x, g) + (1 | g)", df).design
    fitted_mean = df.loc[df["g"] == "g03", "x"].mean()
    new = pd.DataFrame({"x": [0.0, 1.0, 3.0], "g": ["g03", "zz", "zz"]})
    X, _ = new_data_matrices(d, new)
    assert X[0, 2] == pytest.approx(fitted_mean) and X[0, 1] == pytest.approx(-fitted_mean)
    assert X[1:, 2].tolist() == [2.0, 2.0] and X[1:, 1].tolist() == [-1.0, 1.0]


def test_transforms_remember_the_first_data():
    w, b = Within(), Between()
    assert w([1.0, 3.0], ["a", "a"]).tolist() == [-1.0, 1.0]
    assert b([1.0, 3.0], ["a", "a"]).tolist() == [2.0, 2.0]
    assert b([7.0], ["a"]).tolist() == [2.0] and w([7.0], ["a"]).tolist() == [5.0]


def test_mundlak_recovers_within_and_between_effects():
    df = confounded()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit("y ~ within(x, g) + between(x, g) + (1 | g)", df, chains=2, draws=300,
                     tune=300, seed=1, progress=False)
    s = fit.summary()
    assert s.loc["within(x, g)", "2.5%"] < 0.5 < s.loc["within(x, g)", "97.5%"]
    assert s.loc["between(x, g)", "2.5%"] < 2.0 < s.loc["between(x, g)", "97.5%"]
