"""Known standard errors, brms's ``y | se(s)``: parsing, the likelihood, and the eight schools
posterior against posteriordb's reference posterior (eight_schools_noncentered)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed import library
from bayesmixed.errors import DataError, FamilyError, FormulaError
from bayesmixed.formula.parse import parse_formula
from bayesmixed.formula.yaml_spec import spec_from_dict, spec_to_dict


def test_parse_se_response():
    spec = parse_formula("y | se(sigma) ~ 1 + (1 | school)")
    assert (spec.response.expr, spec.response.kind, spec.response.other) == ("y", "se", "sigma")
    assert str(spec.response) == "y | se(sigma)"
    again = spec_from_dict(spec_to_dict(spec))
    assert again.response == spec.response
    with pytest.raises(FormulaError, match="se\\(\\) takes one column"):
        parse_formula("y | se(s, sigma = TRUE) ~ 1")


def test_design_has_no_sigma_and_the_se_per_row():
    df = bm.datasets.load("eight_schools")
    built = bm.prepare("y | se(sigma) ~ 1 + (1 | school)", df)
    assert built.design.family.name == "gaussian_se"
    np.testing.assert_array_equal(built.design.trials, df["sigma"].to_numpy())
    names = [v.name for v in built.model.free_RVs]
    assert "sigma" not in names and "sigma" not in built.priors


@pytest.mark.parametrize(
    ("family", "data", "error", "match"),
    [
        ("poisson", None, DataError, "needs family='gaussian'"),
        ("gaussian", {"sigma": [1.0, 0.0, 2.0]}, DataError, "positive and finite"),
    ],
)
def test_se_needs_gaussian_and_positive_errors(family, data, error, match):
    df = pd.DataFrame({"y": [1, 2, 3], "sigma": [1.0, 1.0, 2.0], "g": ["a", "b", "c"]})
    if data:
        df = df.assign(**data)
    with pytest.raises(error, match=match):
        bm.prepare("y | se(sigma) ~ 1", df, family=family)


def test_log_link_is_refused():
    df = pd.DataFrame({"y": [1.0, 2.0], "sigma": [1.0, 1.0]})
    with pytest.raises(FamilyError, match="not available"):
        bm.prepare("y | se(sigma) ~ 1", df, link="log")


def test_fixed_effects_only_matches_the_conjugate_posterior():
    """y_i ~ N(mu, s_i), flat-ish prior N(0, 100): posterior of mu is the precision-weighted
    mean with sd 1 / sqrt(sum 1 / s_i^2) (closed form)."""
    df = bm.datasets.load("eight_schools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit("y | se(sigma) ~ 1", df, priors={"Intercept": "normal(0, 100)"}, chains=2,
                     draws=1000, tune=500, seed=2, progress=False)
    w = 1 / df["sigma"].to_numpy() ** 2
    prec = w.sum() + 1 / 100**2
    mean, sd = (w * df["y"]).sum() / prec, 1 / np.sqrt(prec)
    row = fit.summary().loc["Intercept"]
    assert row["mean"] == pytest.approx(mean, abs=5 * row["mcse_mean"])
    assert row["sd"] == pytest.approx(sd, rel=0.1)
    assert "sigma" not in fit.summary().index
    ll = fit.idata["log_likelihood"]["y"].values.reshape(-1, len(df))
    draws = fit.idata["posterior"]["Intercept"].values.reshape(-1)
    np.testing.assert_allclose(
        ll, stats.norm.logpdf(df["y"].to_numpy()[None], draws[:, None], df["sigma"].to_numpy()),
        rtol=1e-10)


@pytest.mark.slow
def test_eight_schools_matches_posteriordb_reference():
    """Posterior mean and sd of mu (Intercept) and tau (sd(Intercept|school)) within Monte Carlo
    error of posteriordb's reference posterior, with clean convergence."""
    entry = library.get("eight_schools")
    fit = bm.fit(entry.spec, entry.load_data(), seed=20261201, progress=False, **entry.sampler)
    diag = fit.diagnostics()
    assert diag.verdict == "ok", diag.problems
    assert fit.parameterization["school"]["centered"] is False
    table = fit.summary()
    ref = entry.reference
    for name, ref_mean in entry.reference_estimates().items():
        row = table.loc[name]
        # z-score of the difference: our MCSE and the reference's MCSE combined
        se = np.hypot(row["mcse_mean"], ref["mcse_mean"][name])
        assert abs(row["mean"] - ref_mean) < 4 * se, (name, row["mean"], ref_mean, se)
        # the reference sd is rounded to 0.01; the sd's MCSE comes from arviz-stats
        se_sd = np.hypot(row["mcse_sd"], 0.005)
        assert abs(row["sd"] - ref["posterior_sd"][name]) < 4 * se_sd, (name, row["sd"])


def test_quantities_needing_a_residual_sd_say_so():
    df = bm.datasets.load("eight_schools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit("y | se(sigma) ~ 1", df, chains=1, draws=100, tune=100, seed=1,
                     progress=False)
    assert fit.predict(groups="none")["mean"].notna().all()
    with pytest.raises(FamilyError, match="known standard errors"):
        fit.predict(kind="response")
