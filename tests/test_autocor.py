"""AR(1) residuals within series: the ``ar(time, gr)`` term (issue 15, point 2).

- parsing (formula, positional and named; YAML) and the errors before sampling;
- the exact check: the family's pointwise log-likelihood (numpy) and the model's observed
  log-density (PyTensor) summed over a series equal scipy's multivariate normal density with
  the AR(1) covariance ``sigma^2 phi^|t_i - t_j|``, gaps and unsorted rows included;
- simulation draws the stationary process (lag correlations ``phi^d``, marginal sd ``sigma``);
- a tiny simulated fit recovers ``phi`` (fast); the nlme ``corAR1`` REML fit of BodyWeight
  (``tests/data/nlme_ar1_reference.json``) lies in the central 95% posterior intervals (slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.design.autocor import series_codes
from bayesmixed.errors import DataError, FamilyError, FormulaError, PriorError, SpecError
from bayesmixed.families import get_family
from bayesmixed.families.autocor import draw_process
from bayesmixed.formula.parse import parse_formula
from bayesmixed.formula.terms import ARTerm
from bayesmixed.formula.yaml_spec import spec_from_dict, spec_to_dict

FAM = get_family("gaussian_ar1")
REF = json.loads((Path(__file__).parent / "data" / "nlme_ar1_reference.json").read_text())[
    "bodyweight_ar1"
]


def _series_data(seed=0):
    """Three series with gaps, rows shuffled."""
    rng = np.random.default_rng(seed)
    t = np.concatenate([[1, 2, 3, 5, 8], [2, 3, 4, 7], [1, 4, 5, 6, 7, 9]])
    g = np.repeat(["a", "b", "c"], [5, 4, 6])
    df = pd.DataFrame({"t": t, "g": g, "x": rng.normal(size=t.size)})
    df["y"] = 1.0 + df.x + rng.normal(size=t.size)
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _mvn_logpdf(y, mu, t, g, phi, sigma):
    """Independent reference: a multivariate normal per series, covariance sigma^2 phi^|dt|."""
    total = 0.0
    for lv in np.unique(g):
        m = g == lv
        dt = np.abs(t[m][:, None] - t[m][None, :])
        total += stats.multivariate_normal(mu[m], sigma**2 * phi**dt).logpdf(y[m])
    return total


# -- parsing ---------------------------------------------------------------------------------

def test_formula_named_positional_and_yaml_forms_agree():
    named = parse_formula("y ~ x + (1 | g) + ar(time = t, gr = g, p = 1)")
    assert named.ar == ARTerm("t", "g", 1)
    assert parse_formula("y ~ x + (1 | g) + ar(t, g)") == named
    assert parse_formula("y ~ x + ar(time = t)").ar == ARTerm("t", None)
    assert named.formula == "y ~ x + (1 | g) + ar(time = t, gr = g)"
    d = spec_to_dict(named)
    assert d["ar"] == {"time": "t", "gr": "g", "p": 1}
    assert spec_from_dict(d) == named
    assert spec_from_dict({"response": "y", "fixed": "x", "ar": {"time": "t", "gr": "g"},
                           "groups": [{"factor": "g"}]}) == named


@pytest.mark.parametrize("formula, match", [
    ("y ~ x + ar(t, g, p = 2)", "only first-order"),
    ("y ~ x + ar(t, g, 2)", "only first-order"),
    ("y ~ x + ar(gr = g)", "needs the time column"),
    ("y ~ x + ar(t, g, lag = 1)", "unknown argument 'lag'"),
    ("y ~ x + ar(t) + ar(s)", "once"),
    ("y ~ x + ar(log(t), g)", "time in .* must be a column name"),
])
def test_bad_ar_terms_are_named(formula, match):
    with pytest.raises(FormulaError, match=match):
        parse_formula(formula)


def test_yaml_ar_entry_errors():
    with pytest.raises(SpecError, match="only first-order"):
        spec_from_dict({"response": "y", "ar": {"time": "t", "p": 3}})
    with pytest.raises(SpecError, match="not both"):
        spec_from_dict({"formula": "y ~ ar(t)", "ar": {"time": "t"}})


# -- data checks before sampling -------------------------------------------------------------

def test_series_links_follow_time_order_with_gaps():
    df = pd.DataFrame({"t": [3, 1, 7, 2], "g": ["a", "a", "a", "b"]})
    # row 0 (t=3) follows row 1 (t=1) two steps on; row 2 (t=7) follows row 0 four steps on
    assert series_codes(ARTerm("t", "g"), df).tolist() == [1 + 4 * 1, -1, 0 + 4 * 3, -1]


@pytest.mark.parametrize("t, match", [
    ([1.0, 2.5, 3.0, 1.0], "'t' of an ar.* whole numbers.*2.5"),
    ([1, 2, 2, 1], "time 2 twice within g = 'a'"),
    (["a", "b", "c", "d"], "'t' of an ar.* whole numbers"),
])
def test_bad_time_columns_are_named(t, match):
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "t": t, "g": ["a", "a", "a", "b"]})
    with pytest.raises(DataError, match=match):
        bm.prepare("y ~ 1 + ar(t, g)", df)


def test_missing_column_and_known_standard_errors_are_named():
    df = _series_data()
    with pytest.raises(DataError, match="column 'time' used in the term ar"):
        bm.prepare("y ~ x + ar(time, g)", df)
    with pytest.raises(FamilyError, match=r"not supported with known standard errors"):
        bm.prepare("y | se(s) ~ x + ar(t, g)", df.assign(s=1.0))
    with pytest.raises(PriorError, match="must lie within"):
        bm.prepare("y ~ x + ar(t, g)", df, priors={"ar[1]": "uniform(-2, 1)"})
    with pytest.raises(PriorError, match="interval"):
        bm.prepare("y ~ x + ar(t, g)", df, priors={"ar[1]": "normal(0, 1)"})


# -- the exact check -------------------------------------------------------------------------

@pytest.mark.parametrize("phi", [0.6, -0.4])
def test_log_likelihood_equals_multivariate_normal_with_ar1_covariance(phi):
    df = _series_data()
    built = bm.prepare("y ~ x + ar(t, g)", df, aggregate=False)
    d = built.design
    assert d.family.name == "gaussian_ar1" and not built.marginal
    sigma, b0, b1 = 1.7, 0.8, 1.3
    mu = b0 + b1 * df.x.to_numpy()
    ref = _mvn_logpdf(df.y.to_numpy(), mu, df.t.to_numpy(), df.g.to_numpy(), phi, sigma)
    # numpy, pointwise (the report's log-likelihood, LOO's input)
    ll = FAM.loglik(d.y, mu[None, :], "identity", {"sigma": sigma, "ar[1]": phi}, d.trials)
    assert ll.shape == (1, len(df))
    np.testing.assert_allclose(ll.sum(), ref, rtol=1e-10)
    # PyTensor: the observed variable of the model, at the same parameter values
    x_mean = built.x_means[list(d.x_names).index("x")]
    point = {"Intercept_c": b0 + b1 * x_mean, "b": np.array([b1]),
             "sigma_innovation_log__": np.log(sigma * np.sqrt(1 - phi**2)),
             "ar[1]_interval__": np.log((1 + phi) / (1 - phi))}
    logp = built.model.compile_fn(built.model.logp(vars=[built.model["y"]], sum=True),
                                  inputs=built.model.value_vars)
    np.testing.assert_allclose(logp(point), ref, rtol=1e-10)


def test_process_draws_have_ar1_correlations_and_stationary_sd():
    codes = series_codes(ARTerm("t"), pd.DataFrame({"t": [1, 2, 4]}))
    e = draw_process(np.random.default_rng(5), (40000, 3), 0.7, 2.0, codes)
    r = np.corrcoef(e.T)
    # Monte Carlo sd of a correlation estimate ~ (1 - r^2) / sqrt(n) <= 0.005: 4 sd margins
    np.testing.assert_allclose([r[0, 1], r[1, 2], r[0, 2]], [0.7, 0.49, 0.343], atol=0.02)
    np.testing.assert_allclose(e.std(axis=0), 2.0, rtol=0.02)


def test_simulate_lays_out_time_and_prior_predictive_runs():
    df = bm.simulate("y ~ x + (1 | g) + ar(t, g)", n_groups=3, n_per_group=4,
                     truth={"ar[1]": -0.3}, seed=2)
    assert df.t.tolist() == [1, 2, 3, 4] * 3
    assert df.attrs["truth"]["params"]["ar[1]"] == -0.3
    with pytest.raises(SpecError, match="ar\\[1\\]"):
        bm.simulate("y ~ x + (1 | g) + ar(t, g)", n_groups=3, n_per_group=4,
                    truth={"ar[1]": 1.2}, seed=2)
    prior = bm.prior_predictive("y ~ x + (1 | g) + ar(t, g)", df, draws=5, seed=1)
    assert "y" in str(prior)


# -- fits ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ar_fit():
    df = bm.simulate("y ~ x + ar(t, g)", n_groups=8, n_per_group=25,
                     truth={"ar[1]": 0.7, "sigma": 1.0}, seed=11)
    df.attrs.clear()
    df = df[df.t != 5].reset_index(drop=True)  # a gap in every series
    return bm.fit("y ~ x + ar(t, g)", df, chains=2, draws=300, tune=300, seed=3,
                  progress=False), df


def test_small_fit_recovers_phi_and_reports_everything(ar_fit, tmp_path):
    fit, df = ar_fit
    s = fit.summary()
    assert {"ar[1]", "sigma", "x"} <= set(s.index)
    assert s["r_hat"].max() <= 1.01 and int(fit.idata["sample_stats"]["diverging"].sum()) == 0
    lo, hi = np.quantile(fit.idata["posterior"]["ar[1]"].values, [0.005, 0.995])
    assert lo < 0.7 < hi and lo > 0.4  # truth inside 99%; clearly autocorrelated
    assert fit.idata["log_likelihood"]["y"].shape[-1] == len(df)
    assert np.isfinite(fit.loo().elpd)
    yrep = fit.ppc()["posterior_predictive"]["y"].values.reshape(-1, len(df))
    e = yrep - yrep.mean(axis=0)  # predictive draws keep the lag-1 correlation of the series
    codes, n = series_codes(ARTerm("t", "g"), df), len(df)
    lag1 = np.flatnonzero((codes >= 0) & (codes < n))  # rows one step after the previous row
    r = np.mean([np.corrcoef(e[:, i], e[:, int(codes[i])])[0, 1] for i in lag1])
    assert 0.5 < r < 0.9, r
    new = df[df.g == df.g.iloc[0]].head(4)
    assert fit.predict(new, kind="response", seed=1).shape[0] == 4
    assert "ar(time = t, gr = g), AR(1) within series" in str(fit)
    back = bm.load(fit.save(tmp_path / "ar"))  # the spec.yaml keeps the ar() term
    assert back.meta["family"] == "gaussian_ar1"
    np.testing.assert_allclose(back.loo().elpd, fit.loo().elpd)


# -- slow: nlme corAR1 on BodyWeight ---------------------------------------------------------

@pytest.mark.slow
def test_bodyweight_posterior_contains_nlme_corar1_estimates():
    """The library model at default settings (4 x 1000 after 1000, target_accept 0.8): the
    rat effects are integrated out (bayesmixed/graph/marginal_ar.py). With the effects sampled
    this needed non-centered effects, target_accept 0.95 and 2000 draws (R-hat 1.04-1.15
    otherwise: phi -> 1 trades off against the random intercept). About 65 s."""
    m = bm.library.get("bodyweight")
    assert m.spec.formula == "weight ~ Time * Diet + (1 + Time | Rat) + ar(time = t, gr = Rat)"
    fit = bm.fit(m.spec, m.load_data(), seed=1, progress=False, **m.sampler)
    assert fit.meta["parameterization"]["Rat"].get("marginal") is True
    s = fit.summary()
    assert s["r_hat"].max() <= 1.01 and s["ess_bulk"].min() >= 400
    assert int(fit.idata["sample_stats"]["diverging"].sum()) == 0
    post = fit.idata["posterior"]
    names = {"(Intercept)": "Intercept", "Time": "Time", "Diet2": "Diet[2]",
             "Diet3": "Diet[3]", "Time:Diet2": "Time:Diet[2]", "Time:Diet3": "Time:Diet[3]"}
    ref = {names[k]: v for k, v in REF["fixef"].items()}
    ref.update({"ar[1]": REF["phi"], "sigma": REF["sigma"], "sd(Intercept|Rat)": REF["sd"][
        "Intercept"], "sd(Time|Rat)": REF["sd"]["Time"]})
    for name, value in ref.items():
        lo, hi = np.quantile(post[name].values, [0.025, 0.975])
        assert lo < value < hi, (name, value, lo, hi)


def test_library_model_carries_the_nlme_reference():
    est = bm.library.get("bodyweight").reference_estimates()
    assert est["ar[1]"] == REF["phi"] and est["sigma"] == REF["sigma"]
    assert est["Time:Diet[3]"] == REF["fixef"]["Time:Diet3"]
