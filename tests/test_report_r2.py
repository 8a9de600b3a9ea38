"""Bayesian R2 (Gelman et al. 2019) and Nakagawa's R2 against their formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from bayesmixed.errors import PredictionError
from bayesmixed.report.core.draws import internal
from bayesmixed.report.tables import r2
from tests.fixtures_report import fit_fixture, parts

bern_fit = fit_fixture("bern")
binom_fit = fit_fixture("binom")
gauss_fit = fit_fixture("gauss")


def flat(fit, name):
    v = np.asarray(internal(fit.idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


def eta_by_hand(fit):
    """Linear predictor with the observed groups' effects, row by row from the raw draws."""
    X = fit.design.X
    beta = [flat(fit, "Intercept")]
    for n in fit.meta["x_names"][1:]:
        beta.append(internal(fit.idata)["b"].sel(coef=n).values.reshape(-1))
    eta = np.stack(beta, axis=1) @ X.T
    for mblk, dblk in zip(fit.meta["blocks"], fit.design.blocks, strict=True):
        r = flat(fit, f"r__{mblk['label']}")
        eta += np.einsum("sik,ik->si", r[:, dblk.index, :], dblk.Z)
    return eta


def test_bayes_r2_bernoulli_formula(bern_fit):
    mu = special.expit(eta_by_hand(bern_fit))
    var_fit = mu.var(axis=1, ddof=1)
    expected = var_fit / (var_fit + (mu * (1 - mu)).mean(axis=1))
    np.testing.assert_allclose(r2.bayes_r2_draws(*parts(bern_fit)), expected, rtol=1e-10)
    y = bern_fit.design.y
    resid = var_fit / (var_fit + (y - mu).var(axis=1, ddof=1))
    np.testing.assert_allclose(r2.bayes_r2_draws(*parts(bern_fit), "residual"), resid, rtol=1e-10)
    with pytest.raises(PredictionError):
        r2.bayes_r2_draws(*parts(bern_fit), "other")


def test_bayes_r2_gaussian_and_binomial(gauss_fit, binom_fit):
    mu = eta_by_hand(gauss_fit)
    var_fit = mu.var(axis=1, ddof=1)
    expected = var_fit / (var_fit + flat(gauss_fit, "sigma") ** 2)
    np.testing.assert_allclose(r2.bayes_r2_draws(*parts(gauss_fit)), expected, rtol=1e-10)
    n = binom_fit.design.trials
    p = special.expit(eta_by_hand(binom_fit))
    var_fit = (n * p).var(axis=1, ddof=1)
    expected = var_fit / (var_fit + (n * p * (1 - p)).mean(axis=1))
    np.testing.assert_allclose(r2.bayes_r2_draws(*parts(binom_fit)), expected, rtol=1e-10)


def test_nakagawa_r2(bern_fit, gauss_fit):
    fit = bern_fit
    beta = np.column_stack(
        [flat(fit, "Intercept")]
        + [
            internal(fit.idata)["b"].sel(coef=n).values.reshape(-1)
            for n in fit.meta["x_names"][1:]
        ]
    )
    var_f = (beta @ fit.design.X.T).var(axis=1, ddof=1)
    sd, cor = flat(fit, "sd__school"), flat(fit, "cor__school")
    Z = fit.design.blocks[0].Z
    M = Z.T @ Z / Z.shape[0]
    cov = sd[:, :, None] * cor * sd[:, None, :]
    var_r = np.einsum("skl,kl->s", cov, M)
    total = var_f + var_r + np.pi**2 / 3
    got = r2.nakagawa_r2_draws(*parts(fit))
    np.testing.assert_allclose(got["marginal"], var_f / total, rtol=1e-10)
    np.testing.assert_allclose(got["conditional"], (var_f + var_r) / total, rtol=1e-10)
    table = fit.r2()
    assert list(table.index) == ["bayes", "marginal", "conditional"]
    assert table.loc["marginal", "mean"] < table.loc["conditional", "mean"]
    # an intercept-only fixed part explains nothing
    g = r2.nakagawa_r2_draws(*parts(gauss_fit))
    np.testing.assert_allclose(g["marginal"], 0.0, atol=1e-12)
    assert 0 < g["conditional"].mean() < 1
