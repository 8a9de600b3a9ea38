"""The ``cumulative`` ordinal family: response coding, thresholds, closed forms, the clmm
references (``ordinal::clmm``, Laplace) and a small fit through every report; recovery, the
references by MCMC and SBC are ``slow``.

References and their provenance:

- soup: ``tests/data/ordinal_reference.json``, copied from ``shared/reference`` (computed offline
  by ``families_reference.R`` with R 4.2 and ordinal 2022.11-16).
- wine: ``bayesmixed/models/wine.yaml``, the clmm output published in the ordinal package's
  documentation (Christensen 2019); independently confirmed here by maximizing the likelihood
  (adaptive-free Gauss-Hermite quadrature over the judge effects) with the family's own
  log-likelihood.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

import bayesmixed as bm
from bayesmixed import library
from bayesmixed.design.default_priors import resolve_priors
from bayesmixed.errors import DataError, SpecError
from bayesmixed.families import get_family
from bayesmixed.families.ordinal import category_probs
from bayesmixed.report.core.draws import internal
from tests.fixtures_report import parts

FAM = get_family("cumulative")
SOUP = json.loads((Path(__file__).parent / "data" / "ordinal_reference.json").read_text())[
    "soup_cumulative_logit"
]
WINE = "rating ~ temp + contact + (1 | judge)"


def _design(formula, data, link=None):
    return bm.prepare(formula, data, family="cumulative", link=link).design


# -- response coding and design --------------------------------------------------------------


def test_ordered_categorical_keeps_declared_categories_even_unobserved():
    y = pd.Categorical(["lo", "mid", "lo", "mid"], categories=["lo", "mid", "hi"], ordered=True)
    df = pd.DataFrame({"y": y, "x": [0.1, 0.5, -0.3, 1.0]})
    d = _design("y ~ x", df)
    assert d.categories == ("lo", "mid", "hi") and d.y.tolist() == [0, 1, 0, 1]
    assert d.x_names == ("x",) and d.X.shape == (4, 1)  # the thresholds take the intercept


def test_integer_response_takes_its_sorted_distinct_values():
    df = pd.DataFrame({"y": [3, 1, 7, 3], "x": [0.1, 0.5, -0.3, 1.0]})
    d = _design("y ~ x", df)
    assert d.categories == ("1", "3", "7") and d.y.tolist() == [1, 0, 2, 1]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (["a", "b", "a", "c"], "no declared order"),
        (pd.Categorical(["a", "b", "a", "b"]), "unordered categorical"),
        ([1.5, 2.0, 1.0, 3.0], "whole numbers"),
        ([2, 2, 2, 2], "at least two categories"),
    ],
)
def test_bad_ordinal_responses_are_refused(values, match):
    with pytest.raises(DataError, match=match):
        _design("y ~ x", pd.DataFrame({"y": values, "x": [0.1, 0.5, -0.3, 1.0]}))


def test_threshold_priors_and_model_variables():
    built = bm.prepare(WINE, bm.datasets.load("wine"), family="cumulative")
    priors = resolve_priors(built.design)
    assert str(priors["Intercept"]) == "StudentT(nu=3, mu=0, sigma=2.5)"
    assert {v.name for v in built.model.free_RVs} >= {"Intercept", "b", "sd__judge"}
    assert built.model["Intercept"].type.shape == (4,)
    assert built.meta()["categories"] == ["1", "2", "3", "4", "5"]
    over = resolve_priors(built.design, {"Intercept": "normal(0, 5)"})
    assert str(over["Intercept"]) == "Normal(mu=0, sigma=5)"


# -- closed forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(("link", "cdf"), [("logit", special.expit), ("probit", stats.norm.cdf)])
def test_category_probabilities_are_differences_of_the_cumulative_link(link, cdf):
    th, eta = np.array([-1.0, 0.3, 2.0]), np.array([-0.7, 0.0, 1.9])
    probs = category_probs(eta, link, th)
    cum = cdf(th[None, :] - eta[:, None])
    np.testing.assert_allclose(np.cumsum(probs, axis=1)[:, :-1], cum, rtol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    ll = FAM.loglik(np.array([0, 1, 3]), eta[None, :], link, {"Intercept": th[None, :]})
    np.testing.assert_allclose(np.exp(ll[0]), probs[[0, 1, 2], [0, 1, 3]], rtol=1e-10)


def test_log_likelihood_is_finite_far_in_the_tails():
    th = np.array([[-1.0, 1.0]])
    ll = FAM.loglik(np.array([2, 0, 1]), np.array([[60.0, -60.0, 45.0]]), "logit", {"Intercept": th})
    assert np.all(np.isfinite(ll))
    assert ll[0, 0] == pytest.approx(0.0, abs=1e-20) and ll[0, 1] == pytest.approx(0.0, abs=1e-20)
    # F(1 - 45) - F(-1 - 45) = e^-44 (1 - e^-2) to double precision, no cancellation
    assert ll[0, 2] == pytest.approx(-44.0 + np.log1p(-np.exp(-2.0)), abs=1e-9)


def _ml(formula: str, data: pd.DataFrame, n_nodes: int = 30):
    """Maximum likelihood of a random-intercept cumulative-logit model, the random effects
    integrated by Gauss-Hermite quadrature, with the family's numpy log-likelihood."""
    d = _design(formula, data)
    K, p, blk = len(d.categories), d.X.shape[1], d.blocks[0]
    nodes, weights = np.polynomial.hermite.hermgauss(n_nodes)

    def unpack(theta):
        th = np.cumsum(np.r_[theta[0], np.exp(theta[1 : K - 1])])
        return th, theta[K - 1 : K - 1 + p], np.exp(theta[-1])

    def nll(theta):
        th, beta, sd = unpack(theta)
        eta = (d.X @ beta)[None, :] + np.sqrt(2.0) * sd * nodes[:, None]
        ll = FAM.loglik(d.y, eta, "logit", {"Intercept": np.tile(th, (n_nodes, 1))})
        per = np.stack([np.bincount(blk.index, weights=r, minlength=blk.n_levels) for r in ll])
        m = per.max(axis=0)
        return -np.sum(m + np.log(weights @ np.exp(per - m) / np.sqrt(np.pi)))

    res = optimize.minimize(nll, np.r_[-1.0, np.zeros(K - 2 + p), 0.0], method="BFGS")
    th, beta, sd = unpack(res.x)
    out = {f"Intercept[{k + 1}]": v for k, v in enumerate(th)}
    out.update(dict(zip(d.x_names, beta, strict=True)))
    out[f"sd(Intercept|{blk.factor})"] = sd
    return out, -res.fun


def test_likelihood_reproduces_clmm_on_soup():
    est, loglik = _ml("SURENESS ~ PROD + (1 | RESP)", bm.datasets.load("soup"))
    ref = {f"Intercept[{k + 1}]": v for k, v in enumerate(SOUP["thresholds"].values())}
    ref["PROD[Test]"] = SOUP["fixef"]["PRODTest"]
    for name, value in ref.items():
        assert est[name] == pytest.approx(value, abs=0.005), name
    # clmm's Laplace approximation vs quadrature: the sd and logLik differ slightly
    assert est["sd(Intercept|RESP)"] == pytest.approx(SOUP["sd"]["RESP"], abs=0.02)
    assert loglik == pytest.approx(SOUP["logLik"], abs=1.0)


def test_likelihood_reproduces_clmm_on_wine():
    ref = library.get("wine").reference
    est, loglik = _ml(WINE, bm.datasets.load("wine"))
    for name, value in ref["estimates"].items():
        assert est[name] == pytest.approx(value, abs=0.01), name
    assert loglik == pytest.approx(ref["logLik"], abs=0.1)


# -- simulation ----------------------------------------------------------------------------------


def test_simulate_takes_the_number_of_categories_from_the_thresholds():
    truth = {"Intercept[1]": -1.0, "Intercept[2]": 0.0, "Intercept[3]": 1.0, "Intercept[4]": 2.0}
    df = bm.simulate("y ~ x + (1 | g)", family="cumulative", n_groups=4, n_per_group=5,
                     truth=truth, seed=2)
    assert list(df["y"].cat.categories) == [1, 2, 3, 4, 5] and df["y"].cat.ordered
    assert df.attrs["truth"]["params"]["Intercept[3]"] == 1.0
    with pytest.raises(SpecError, match="must increase"):
        bm.simulate("y ~ x + (1 | g)", family="cumulative", n_groups=4, n_per_group=5,
                    truth={"Intercept[1]": 1.0, "Intercept[2]": 0.0}, seed=2)


# -- one small fit through the reports -------------------------------------------------------


@pytest.fixture(scope="module")
def wine_fit():
    return bm.fit(WINE, bm.datasets.load("wine"), family="cumulative", chains=2, draws=150,
                  tune=150, seed=3, progress=False)


def test_summary_rows_and_loo(wine_fit):
    s = wine_fit.summary()
    assert list(s.index) == ["temp[warm]", "contact[yes]", "sd(Intercept|judge)",
                             "Intercept[1]", "Intercept[2]", "Intercept[3]", "Intercept[4]"]
    assert (s.loc[[f"Intercept[{k}]" for k in range(1, 5)], "kind"] == "threshold").all()
    assert np.all(np.diff(s.loc[[f"Intercept[{k}]" for k in range(1, 5)], "mean"]) > 0)
    from bayesmixed.report.render.text import format_fit

    assert "Intercept[4]" in format_fit(*parts(wine_fit)) and "temp[warm]" in format_fit(*parts(wine_fit))
    loo = wine_fit.loo(warn=False)
    assert np.isfinite(float(loo.elpd)) if hasattr(loo, "elpd") else True


def test_predictions_per_category_and_population_averaged(wine_fit):
    new = pd.DataFrame({"temp": ["cold", "warm"], "contact": ["no", "yes"], "judge": ["1", "1"]})
    for groups in ("observed", "none", "marginal", "new"):
        probs = wine_fit.predict(new, kind="probs", groups=groups, seed=1)
        cols = [f"P({k})" for k in range(1, 6)]
        np.testing.assert_allclose(probs[cols].sum(axis=1), 1.0, atol=1e-9)
        mean = wine_fit.predict(new, kind="mean", groups=groups, seed=1)["mean"]
        np.testing.assert_allclose(mean, probs[cols].to_numpy() @ np.arange(1, 6), atol=0.05)
    draws = wine_fit.predict(new, kind="probs", summary=False)
    assert draws.dims == ("sample", "obs", "category") and draws.shape[2] == 5
    resp = wine_fit.predict(new, kind="response", summary=False, seed=1).values
    assert set(np.unique(resp)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    # population-averaged probabilities are flatter than those at a typical judge
    none = wine_fit.predict(new, kind="probs", groups="none").iloc[0]
    marg = wine_fit.predict(new, kind="probs", groups="marginal").iloc[0]
    assert marg["P(1)"] > none["P(1)"] and marg["P(2)"] < none["P(2)"]


def test_icc_on_the_latent_logistic_scale(wine_fit):
    sd = internal(wine_fit.idata)["sd__judge"].values.reshape(-1)
    icc = wine_fit.icc()
    assert icc["mean"].iloc[0] == pytest.approx(np.mean(sd**2 / (sd**2 + np.pi**2 / 3)), rel=1e-6)


def test_checks_and_plots(wine_fit, tmp_path):
    from bayesmixed.report.checks.checks import check

    c = check(*parts(wine_fit), influence=False)
    table = c["categories"]
    assert table["category"].tolist() == ["1", "2", "3", "4", "5"]
    assert table["observed"].tolist() == [5, 22, 26, 12, 7]
    assert table["expected"].sum() == pytest.approx(72, rel=1e-6)
    assert c["residuals"]["fitted"].between(0, 4).all()
    wine_fit.plot_ppc()
    wine_fit.report(tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    assert "Thresholds (cut-points" in html and "Intercept[4]" in html and "Error" not in html


# -- slow: the references by MCMC, recovery, SBC ------------------------------------------------


def _within(fit, reference: dict, k_sd: float = 2.5):
    """Each reference value within ``k_sd`` posterior sds of the posterior mean (sds: within the
    central 95% interval); returns the z-scores for the report."""
    s = fit.summary()
    z = {}
    for name, value in reference.items():
        row = s.loc[name]
        z[name] = (row["mean"] - value) / row["sd"]
        if name.startswith("sd("):
            assert row["2.5%"] <= value <= row["97.5%"], (name, value, row.to_dict())
        else:
            assert abs(z[name]) < k_sd, (name, value, row.to_dict())
    return z


@pytest.mark.slow
def test_wine_posterior_agrees_with_clmm():
    m = library.get("wine")
    fit = bm.fit(WINE, bm.datasets.load("wine"), family="cumulative", chains=4, draws=1000,
                 tune=1000, seed=1, progress=False)
    _within(fit, m.reference_estimates())


@pytest.mark.slow
def test_soup_posterior_agrees_with_clmm():
    ref = {f"Intercept[{k + 1}]": v for k, v in enumerate(SOUP["thresholds"].values())}
    ref["PROD[Test]"] = SOUP["fixef"]["PRODTest"]
    ref["sd(Intercept|RESP)"] = SOUP["sd"]["RESP"]
    fit = bm.fit("SURENESS ~ PROD + (1 | RESP)", bm.datasets.load("soup"), family="cumulative",
                 chains=2, draws=500, tune=500, seed=1, progress=False)
    _within(fit, ref)


@pytest.mark.slow
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_recovery_from_simulated_data(link):
    truth = {"Intercept[1]": -1.5, "Intercept[2]": -0.2, "Intercept[3]": 1.0, "Intercept[4]": 2.2,
             "x": 0.8, "sd(Intercept|g)": 0.9}
    df = bm.simulate("y ~ x + (1 | g)", family="cumulative", link=link, n_groups=30,
                     n_per_group=25, truth=truth, seed=4)
    fit = bm.fit("y ~ x + (1 | g)", df, family="cumulative", link=link, chains=2, draws=500,
                 tune=500, seed=2, progress=False)
    _within(fit, truth, k_sd=3.0)


@pytest.mark.slow
def test_sbc_of_a_random_intercept_cumulative_model():
    from bayesmixed.validate.sbc import sbc

    res = sbc("y ~ x + (1 | g)", 30, family="cumulative",
              priors={"Intercept": "normal(0, 1.5)", "b": "normal(0, 1)", "sd": "half_normal(1)"},
              n_groups=6, n_per_group=8, draws=300, tune=300, seed=5, include_effects=False)
    assert res.n_done >= 25
    assert res.passes(alpha=0.01)


def test_posterior_names_are_summary_rows(wine_fit):
    rows = list(wine_fit.summary().index)
    params = [v for v in wine_fit.idata["posterior"].data_vars if not v.startswith("r(")]
    assert params == rows
    assert "Intercept" in internal(wine_fit.idata)  # the sampler's vector of thresholds


def test_tidy_thresholds_are_fixed_effects(wine_fit):
    t = wine_fit.tidy()
    fixed = t.loc[t["effect"] == "fixed", "term"].tolist()
    assert [f"Intercept[{k}]" for k in range(1, 5)] == [x for x in fixed if x.startswith("Inter")]
    assert not t.loc[t["effect"] == "ran_pars", "term"].str.startswith("Intercept[").any()
