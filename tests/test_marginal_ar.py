"""Gaussian AR(1) models with one grouping factor: random effects integrated out exactly.

- the marginal log-likelihood of :mod:`bayesmixed.graph.marginal_ar` equals scipy's
  multivariate normal of each level with covariance ``Z S Z' + sigma^2 phi^|t_i - t_k|``, at
  random parameter values, for one and two (correlated) terms, gaps and unsorted rows;
- the effects drawn afterwards have the exact conditional mean ``S Z' V^-1 r`` and covariance
  ``S - S Z' V^-1 Z S`` (Monte Carlo tolerance);
- when it applies (series within the levels, automatic parameterization).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import bayesmixed as bm
from bayesmixed.graph.marginal_ar import can_marginalize_ar
from bayesmixed.names import cor_var, r_var, sd_var

GROUPS = {1: "(1 | g)", 2: "(1 + x | g)"}


def _data(seed=0):
    """Four groups, one series each, with gaps; rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for j, times in enumerate(([1, 2, 3, 5, 8], [2, 3, 4, 7], [1, 4, 5, 6, 7, 9], [1, 2, 3])):
        rows += [(f"g{j}", t) for t in times]
    df = pd.DataFrame(rows, columns=["g", "t"]).sample(frac=1.0, random_state=seed)
    df["x"] = rng.normal(size=len(df))
    df["y"] = 2.0 + 0.5 * df.x + rng.normal(size=len(df))
    return df.reset_index(drop=True)


def _values(built, seed):
    """Random unconstrained point; constrained values of every parameter there."""
    m = built.model
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(scale=0.5, size=np.shape(v)) for k, v in m.initial_point().items()}
    names = ["Intercept", "Intercept_c", "b", sd_var("g"), "ar[1]", "sigma", "y_marginal"]
    if cor_var("g") in m.named_vars:
        names.append(cor_var("g"))
    fn = m.compile_fn([m[n] for n in names], inputs=m.value_vars, on_unused_input="ignore",
                      mode="FAST_COMPILE")
    return dict(zip(names, fn(point), strict=True))


def _covariance(v, d, rows, k):
    sd = np.atleast_1d(v[sd_var("g")])
    R = v[cor_var("g")] if k == 2 else np.eye(1)
    S = np.diag(sd) @ R @ np.diag(sd)
    Z = d.blocks[0].Z[rows]
    t = d.data.t.to_numpy()[rows]
    A = v["sigma"] ** 2 * v["ar[1]"] ** np.abs(t[:, None] - t[None, :])
    return S, Z, Z @ S @ Z.T + A


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_marginal_loglik_equals_multivariate_normal(k, seed):
    df = _data(seed)
    built = bm.prepare(f"y ~ x + {GROUPS[k]} + ar(t, g)", df)
    assert built.marginal and "z__g" not in built.model.named_vars
    v = _values(built, seed)
    d = built.design
    mu = v["Intercept"] + d.X[:, 1] * np.atleast_1d(v["b"])[0]
    ref = 0.0
    for j in range(d.blocks[0].n_levels):
        rows = np.flatnonzero(d.blocks[0].index == j)
        _, _, V = _covariance(v, d, rows, k)
        ref += stats.multivariate_normal(mu[rows], V).logpdf(d.y[rows])
    np.testing.assert_allclose(v["y_marginal"], ref, rtol=1e-9)


@pytest.mark.parametrize("k", [1, 2])
def test_effects_are_drawn_from_their_exact_conditional(k):
    df = _data(3)
    built = bm.prepare(f"y ~ x + {GROUPS[k]} + ar(t, g)", df)
    v = _values(built, 3)
    n_draws = 40000
    read = ["Intercept_c", "b", sd_var("g"), "ar[1]", "sigma"] + [cor_var("g")] * (k == 2)
    post = {}
    for name in read:
        val = np.asarray(v[name])
        dims = ("chain", "draw", *[f"{name}_{i}" for i in range(val.ndim)])
        post[name] = xr.DataArray(np.broadcast_to(val, (1, n_draws, *val.shape)).copy(), dims=dims)
    idata = xr.DataTree.from_dict({"posterior": xr.Dataset(post)})
    built.complete(idata, seed=1)
    u = idata["posterior"][r_var("g")].values.reshape(n_draws, -1, k)
    d = built.design
    mu = v["Intercept"] + d.X[:, 1] * np.atleast_1d(v["b"])[0]
    for j in range(d.blocks[0].n_levels):
        rows = np.flatnonzero(d.blocks[0].index == j)
        S, Z, V = _covariance(v, d, rows, k)
        gain = S @ Z.T @ np.linalg.inv(V)
        mean, cov = gain @ (d.y[rows] - mu[rows]), S - gain @ Z @ S
        se = np.sqrt(np.diag(cov) / n_draws)
        assert np.all(np.abs(u[:, j].mean(axis=0) - mean) < 4.5 * se)
        np.testing.assert_allclose(np.cov(u[:, j].T).reshape(k, k), cov, rtol=0.05,
                                   atol=0.05 * np.sqrt(np.outer(np.diag(cov), np.diag(cov))).max())


def test_applies_only_with_series_within_levels_and_automatic_parameterization():
    df = _data()
    assert bm.prepare("y ~ x + (1 | g) + ar(t, g)", df).marginal
    assert not bm.prepare("y ~ x + (1 | g) + ar(t, g)", df, centered={"g": True}).marginal
    df["h"] = np.where(df.t < 4, "early", "late")  # series g cut across levels of h
    built = bm.prepare("y ~ x + (1 | h) + ar(t, g)", df)
    assert not built.marginal and not can_marginalize_ar(built.design, built.choices)
