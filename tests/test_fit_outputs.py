"""The Fit result of the flagship model: summary rows, printed layout, diagnostics, priors.

(ICC and the other variance quantities are tested against their closed forms in
``test_report_*``.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.report.core.draws import internal

from .conftest import QUICK


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    J, n = 30, 20
    g = np.repeat(np.arange(J), n)
    u0 = rng.normal(0, 0.8, J)
    u1 = rng.normal(0, 0.3, J)
    x = rng.normal(size=J * n)
    treat = rng.choice(["A", "B"], size=J * n)
    eta = -0.2 + u0[g] + (0.7 + u1[g]) * x + 0.5 * (treat == "B")
    return pd.DataFrame(
        {
            "y": rng.binomial(1, special.expit(eta)),
            "x": x,
            "treatment": treat,
            "school": [f"s{i}" for i in g],
        }
    )


@pytest.fixture(scope="module")
def fit(data):
    return bm.fit("y ~ x + treatment + (1 + x | school)", data, "bernoulli", seed=3, **QUICK)


def test_summary_rows_named_the_brms_way(fit):
    table = fit.summary()
    # Monte Carlo standard error of the mean: sd / sqrt(ESS) up to the ESS estimator's details
    ratio = table["mcse_mean"] / (table["sd"] / np.sqrt(table["ess_bulk"].astype(float)))
    assert ratio.between(0.7, 1.4).all(), ratio
    assert list(table.index) == [
        "Intercept",
        "x",
        "treatment[B]",
        "sd(Intercept|school)",
        "sd(x|school)",
        "cor(Intercept,x|school)",
    ]
    assert list(table.columns) == [
        "kind",
        "mean",
        "sd",
        "2.5%",
        "97.5%",
        "mcse_mean",
        "mcse_sd",
        "r_hat",
        "ess_bulk",
        "ess_tail",
    ]
    assert (table["2.5%"] < table["mean"]).all() and (table["mean"] < table["97.5%"]).all()


def test_summary_matches_draws(fit):
    draws = internal(fit.idata)["b"].sel(coef="x").values.ravel()
    row = fit.summary().loc["x"]
    assert row["mean"] == pytest.approx(draws.mean())
    assert row["97.5%"] == pytest.approx(np.quantile(draws, 0.975))


def test_exponentiated_summary_gives_odds_ratios(fit):
    table = fit.summary(exponentiate=True)
    draws = np.exp(internal(fit.idata)["b"].sel(coef="x").values.ravel())
    assert table.loc["OR(x)", "mean"] == pytest.approx(draws.mean())
    assert table.loc["OR(x)", "2.5%"] == pytest.approx(np.quantile(draws, 0.025))
    assert "sd(x|school)" in table.index  # variance parameters are not exponentiated


def test_intercept_on_user_scale(fit):
    """Intercept = centered intercept - means . b, draw by draw."""
    post = internal(fit.idata)
    means = np.asarray(fit.meta["x_means"])[1:]
    b = post["b"].values
    np.testing.assert_allclose(post["Intercept"].values, post["Intercept_c"].values - b @ means)


def test_printed_summary_layout(fit):
    text = str(fit)
    for piece in [
        "Family: bernoulli",
        "Links: mu = logit",
        "Formula: y ~ x + treatment + (1 + x | school)",
        "600 observations",
        "~school (Number of levels: 30)",
        "sd(Intercept)",
        "cor(Intercept,x)",
        "Regression Coefficients:",
        "treatment[B]",
        "Reference levels: treatment = 'A'",
        "Parameterization: school",
        "Verdict:",
    ]:
        assert piece in text, piece
    html = fit._repr_html_()
    assert "<table" in html and "sd(Intercept)" in html


def test_diagnostics_figures(fit):
    d = fit.diagnostics()
    assert d.verdict in {"ok", "warning", "fail"}
    assert d.max_rhat == pytest.approx(fit.summary()["r_hat"].max(), abs=0.05)
    assert d.min_ess_bulk == pytest.approx(fit.summary()["ess_bulk"].min(), abs=1)
    assert d.divergences == int(fit.idata["sample_stats"]["diverging"].values.sum())
    assert d.n_chains == 2 and d.n_draws == 300
    assert 0 < d.ebfmi_min < 5
    assert d.advice


def test_log_likelihood_stored_for_loo(fit, data):
    ll = fit.idata["log_likelihood"]["y"]
    assert ll.shape == (2, 300, len(data))
    # bernoulli log-lik from the draws, recomputed independently for one row
    post = internal(fit.idata)
    i = 5
    j = fit.design.blocks[0].index[i]
    eta = (
        post["Intercept"]
        + post["b"].sel(coef="x") * data.x[i]
        + post["b"].sel(coef="treatment[B]") * (data.treatment[i] == "B")
        + post["r__school"].isel(school=j).sel(school__term="Intercept")
        + post["r__school"].isel(school=j).sel(school__term="x") * data.x[i]
    ).values
    p = special.expit(eta)
    expected = np.where(data.y[i] == 1, np.log(p), np.log1p(-p))
    np.testing.assert_allclose(ll.values[:, :, i], expected, rtol=1e-6)


def test_priors_recorded(fit):
    pri = fit.priors["prior"]
    assert pri["Intercept"] == "Normal(mu=0, sigma=2.5)"
    assert pri["sd(Intercept|school)"].startswith("HalfStudentT")
    assert pri["cor(school)"] == "LKJ(eta=2)"


def test_prior_overrides_by_class_and_term(data):
    built = bm.prepare(
        "y ~ x + treatment + (1 + x | school)",
        data,
        "bernoulli",
        priors={
            "b": "normal(0, 1)",
            "x": "student_t(3, 0, 2)",
            "sd(school)": "half_normal(0.5)",
            "sd(x|school)": "exponential(2)",
            "cor": "lkj(4)",
        },
    )
    p = {k: str(v) for k, v in built.priors.items()}
    assert p["treatment[B]"] == "Normal(mu=0, sigma=1)"
    assert p["x"] == "StudentT(nu=3, mu=0, sigma=2)"
    assert p["sd(Intercept|school)"] == "HalfNormal(sigma=0.5)"
    assert p["sd(x|school)"] == "Exponential(lam=2)"
    assert p["cor(school)"] == "LKJ(eta=4)"


def test_default_prior_scales_follow_the_data(data):
    df = data.assign(x_big=data.x * 1000, z=data.x * 10 + 5)
    built = bm.prepare("z ~ x_big + (1 | school)", df)
    p = built.priors
    sd_z, sd_x = df.z.std(), df.x_big.std()
    assert p["Intercept"].params["mu"] == pytest.approx(df.z.mean())
    assert p["Intercept"].params["sigma"] == pytest.approx(2.5 * sd_z)
    assert p["x_big"].params["sigma"] == pytest.approx(2.5 * sd_z / sd_x)
    assert p["sigma"].params["lam"] == pytest.approx(1 / sd_z)


def test_prior_predictive_draws(data):
    pp = bm.prior_predictive("y ~ x + (1 | school)", data, "bernoulli", draws=200, seed=1)
    y = pp["prior_predictive"]["y"].values
    assert y.shape[-1] == len(data) and set(np.unique(y)) <= {0, 1}
    sd = pp["prior"]["sd__school"].values.ravel()
    assert (sd > 0).all()
    # HalfStudentT(3, 1): median about 0.77
    assert 0.5 < np.median(sd) < 1.1
