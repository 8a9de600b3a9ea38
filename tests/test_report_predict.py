"""Predictions: population-averaged vs brute-force Monte Carlo, new groups vs simulation from
known parameters, unseen levels handled as new groups and reported."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from bayesmixed.design.levels import level_strings, match_levels
from bayesmixed.errors import PredictionError
from bayesmixed.report.core.draws import internal
from bayesmixed.report.predict.predict import (
    NewLevelsWarning,
    predict,
    predict_draws,
    prediction_inputs,
)
from tests.fixtures_report import fit_fixture, known_posterior_fit, parts

bern_fit = fit_fixture("bern")
binom_fit = fit_fixture("binom")
gauss_fit = fit_fixture("gauss")


def flat(fit, name):
    v = np.asarray(internal(fit.idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


NEW = pd.DataFrame({"x": [-1.0, 0.0, 1.5], "trt": ["A", "B", "B"], "school": ["s01"] * 3})


def fixed_eta(fit, rows: pd.DataFrame) -> np.ndarray:
    b = internal(fit.idata)["b"]
    bx, bt = (b.sel(coef=c).values.reshape(-1, 1) for c in ("x", "trt[B]"))
    eta = flat(fit, "Intercept")[:, None] + bx * rows["x"].to_numpy()
    return eta + bt * (rows["trt"] == "B").to_numpy()


def test_population_averaged_equals_brute_force_monte_carlo(bern_fit):
    fit = bern_fit
    got, _ = predict_draws(*parts(fit), NEW, groups="marginal")
    eta = fixed_eta(fit, NEW)
    sd, cor = flat(fit, "sd__school"), flat(fit, "cor__school")
    rng = np.random.default_rng(0)
    M = 200_000
    for s in (0, 150, 333, 599):
        Sigma = np.diag(sd[s]) @ cor[s] @ np.diag(sd[s])
        u = rng.multivariate_normal(np.zeros(2), Sigma, size=M)
        for i, x in enumerate(NEW["x"]):
            p = special.expit(eta[s, i] + u[:, 0] + u[:, 1] * x)
            se = p.std() / np.sqrt(M)
            assert abs(got[s, i] - p.mean()) < 5 * se + 1e-9
    mc, _ = predict_draws(*parts(fit), NEW, groups="marginal", integration="monte_carlo", n_mc=2000, seed=1)
    # Monte Carlo integration agrees with quadrature within its error (sd of expit <= 0.5)
    assert np.max(np.abs(mc - got)) < 5 * 0.5 / np.sqrt(2000)


def test_population_averaged_rows_of_one_pattern_share_one_quadrature(bern_fit):
    """Repeated rows (the data with ``x`` set to one value, as effect averages do) are
    integrated once per distinct pattern: the same values as the quadrature row by row."""
    from bayesmixed.report.core.draws import block_covariance
    from bayesmixed.report.predict.inputs import distinct_rows

    fit = bern_fit
    rows = pd.concat([NEW, NEW.iloc[[2, 0, 2]], NEW.assign(x=0.25)], ignore_index=True)
    first, back = distinct_rows(prediction_inputs(fit.idata, fit.meta, fit.design, rows))
    assert len(first) == 5 and np.array_equal(rows.iloc[first].iloc[back].to_numpy(),
                                              rows.to_numpy())
    got, _ = predict_draws(fit.idata, fit.meta, fit.design, rows, groups="marginal")
    eta = fixed_eta(fit, rows)
    Z = np.column_stack([np.ones(len(rows)), rows["x"].to_numpy()])
    v = np.einsum("ik,skl,il->si", Z, block_covariance(fit.idata, fit.meta["blocks"][0]), Z)
    t, w = np.polynomial.hermite.hermgauss(60)  # all 60 nodes, row by row
    ref = sum(wk * special.expit(eta + np.sqrt(2 * v) * tk) for tk, wk in zip(t, w, strict=True))
    ref /= np.sqrt(np.pi)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert np.array_equal(got[:, 3], got[:, 2]) and np.array_equal(got[:, 4], got[:, 0])
    mc, _ = predict_draws(*parts(fit), rows, groups="marginal", integration="monte_carlo", n_mc=50,
                          seed=1)
    assert not np.array_equal(mc[:, 3], mc[:, 2])  # Monte Carlo: each row its own draws


def test_population_averaged_differs_from_conditional_under_logit(bern_fit, gauss_fit):
    pa, _ = predict_draws(*parts(bern_fit), NEW, groups="marginal")
    cond, _ = predict_draws(*parts(bern_fit), NEW, groups="none")
    np.testing.assert_allclose(cond, special.expit(fixed_eta(bern_fit, NEW)), rtol=1e-12)
    # attenuation toward 1/2 for a probability away from 1/2
    assert abs(pa[:, 2].mean() - 0.5) < abs(cond[:, 2].mean() - 0.5) - 0.01
    nd = pd.DataFrame({"plate": ["a"], "sample": ["A"]})
    g_pa, _ = predict_draws(*parts(gauss_fit), nd, groups="marginal")
    g_none, _ = predict_draws(*parts(gauss_fit), nd, groups="none")
    np.testing.assert_allclose(g_pa, g_none)


KNOWN = {
    "Intercept": -0.3,
    "b": [0.8, 0.6],
    "sd__school": [1.0, 0.5],
    "cor__school": [[1.0, 0.5], [0.5, 1.0]],
    "r__school": 0.0,
}


def test_new_groups_match_simulation_from_known_parameters(bern_fit):
    n = 40_000
    fit = known_posterior_fit(bern_fit, KNOWN, n)
    rows = pd.DataFrame({"x": [0.0, 1.0, 0.0], "trt": ["A"] * 3, "school": ["n1", "n1", "n2"]})
    eta, _ = predict_draws(*parts(fit), rows, kind="linpred", groups="new", seed=3)
    Sigma = np.array([[1.0, 0.25], [0.25, 0.25]])
    z = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    mean = -0.3 + 0.8 * rows["x"].to_numpy()
    cov = z @ Sigma @ z.T
    cov[[0, 1], 2] = cov[2, [0, 1]] = 0.0  # another new group: independent effects
    emp_cov = np.cov(eta, rowvar=False)
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(eta.mean(axis=0) - mean) < 4 * se_mean)
    # sd of a sample covariance ~ sqrt((s_ii s_jj + s_ij^2) / n)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(emp_cov - cov) < 4 * se_cov)
    # response draws: share of ones = E[expit(-0.3 + u0)], u0 ~ N(0, 1)
    y, _ = predict_draws(*parts(fit), rows.iloc[[0]], kind="response", groups="new", seed=4)
    p = integrate.quad(
        lambda u: special.expit(-0.3 + u) * np.exp(-u * u / 2) / np.sqrt(2 * np.pi), -12, 12
    )[0]
    assert abs(y.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_unseen_levels_are_new_groups_and_reported(bern_fit):
    rows = pd.DataFrame(
        {"x": [0.5, 0.5, 0.5, 0.5], "trt": ["A"] * 4, "school": ["s01", "zz", "zz", "yy"]}
    )
    with pytest.warns(NewLevelsWarning, match="zz") as rec:
        out = bern_fit.predict(rows, kind="linpred", seed=2)
    assert "yy" in str(rec[0].message)
    assert out.attrs["new_levels"] == {"school": ["yy", "zz"]}
    with pytest.warns(NewLevelsWarning):
        eta, _ = predict_draws(*parts(bern_fit), rows, kind="linpred", seed=2)
    np.testing.assert_array_equal(eta[:, 1], eta[:, 2])  # one effect per new level
    assert np.max(np.abs(eta[:, 1] - eta[:, 3])) > 0.1  # another new level, another effect
    # never mapped to a fitted level: differs from every fitted school's prediction
    levels = list(bern_fit.design.blocks[0].levels)
    seen = pd.DataFrame({"x": 0.5, "trt": "A", "school": levels})
    eta_seen, _ = predict_draws(*parts(bern_fit), seen, kind="linpred")
    assert np.min(np.max(np.abs(eta_seen - eta[:, [1]]), axis=0)) > 0.1
    # a new level carries the between-school variance on top of the fixed-effect uncertainty
    assert eta[:, 1].var() > eta_seen.var(axis=0).max()


def test_observed_groups_by_hand(bern_fit):
    fit = bern_fit
    eta, _ = predict_draws(*parts(fit), NEW, kind="linpred", groups="observed")
    r = flat(fit, "r__school")
    j = list(fit.design.blocks[0].levels).index("s01")
    expected = fixed_eta(fit, NEW) + r[:, j, 0][:, None] + r[:, j, 1][:, None] * NEW["x"].to_numpy()
    np.testing.assert_allclose(eta, expected, rtol=1e-10, atol=1e-10)
    full = fit.predict()  # the fitted rows
    assert len(full) == fit.meta["n_obs"]
    assert {"mean", "sd", "2.5%", "97.5%"} <= set(full.columns)
    assert full["mean"].between(0, 1).all()


def test_bad_prediction_requests(bern_fit):
    with pytest.raises(PredictionError, match="kind"):
        bern_fit.predict(NEW, kind="probability")
    with pytest.raises(PredictionError, match="groups"):
        bern_fit.predict(NEW, groups="all")
    with pytest.raises(PredictionError, match="school"):
        bern_fit.predict(NEW.drop(columns="school"))
    with pytest.raises(PredictionError):
        bern_fit.predict(NEW.assign(trt="C"))


def test_binomial_response_uses_trials(binom_fit):
    rows = binom_fit.data.head(8)
    y = binom_fit.predict(rows, kind="response", summary=False, seed=1).values
    assert np.all(y <= rows["size"].to_numpy()[None, :]) and np.all(y >= 0)
    assert np.allclose(y, np.round(y))
    p = binom_fit.predict(rows, kind="mean")
    assert p["mean"].between(0, 1).all()
    np.testing.assert_allclose(y.mean(axis=0) / rows["size"].to_numpy(), p["mean"], atol=0.08)


# --- group levels of any type: matched as text to the fitted levels (issue "New levels of any
# type"); fitted int columns with text, str columns with numbers, categories, numpy scalars

int_fit = fit_fixture("int_nested")


def _levels_of(values, fitted, factor="g", fitted_levels=None):
    new = pd.DataFrame({factor: pd.Series(values, dtype=object)})
    old = pd.DataFrame({factor: fitted})
    levels = fitted_levels or level_strings(old[factor])[1]
    return match_levels(new, old, factor, levels)


def test_match_levels_by_text_whatever_the_type():
    idx, texts = _levels_of(["3", np.int64(3), np.float64(3.0), 3.0, "3.0", "x"], [1, 2, 3])
    assert idx.tolist() == [2, 2, 2, 2, 2, -1] and texts[-1] == "x"
    idx, _ = _levels_of([308, np.int64(308), np.float64(308.0), "308", 309.5], ["308", "309"])
    assert idx.tolist() == [0, 0, 0, 0, -1]
    idx, _ = _levels_of(["2", 2, np.float64(2.0)], [1.0, 2.0])  # fitted floats, labels "1.0"
    assert idx.tolist() == [1, 1, 1]
    idx, _ = _levels_of(["True", np.True_, True, 1], [True, False])
    assert idx.tolist() == [1, 1, 1, -1]
    idx, _ = _levels_of(["b", "2"], pd.Categorical(["a", "b", 2]))  # fitted categories
    assert idx.tolist() == [2, 0]  # categories order: 2, "a", "b"
    new = pd.DataFrame({"a": pd.Categorical([2, 9]), "b": ["y", "x"]})  # new categorical column
    old = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    idx, texts = match_levels(new, old, "a:b", ["1:x", "2:y"])
    assert idx.tolist() == [1, -1] and texts.tolist() == ["2:y", "9:x"]
    # equal as text, different types in one fitted column: one level, not two labelled "3"
    assert level_strings(pd.Series([3, "3", 3.0, "a"], dtype=object))[1] == ["3", "a"]


def _eta(fit, rows: pd.DataFrame, groups: str = "observed") -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", NewLevelsWarning)  # every level here is a fitted one
        return predict_draws(*parts(fit), rows, kind="linpred", groups=groups, seed=1)[0]


@pytest.mark.parametrize(
    "site",
    ["2", np.int64(2), np.float64(2.0), 2.0, "2.0", pd.Categorical(["2"]), pd.Categorical([2])],
    ids=["str", "np.int64", "np.float64", "float", "str-float", "category-str", "category-int"],
)
def test_int_fitted_levels_given_as_text_numpy_scalars_or_categories(int_fit, site):
    ref = pd.DataFrame({"x": [0.5], "site": [2], "brood": [3]})
    rows = pd.DataFrame({"x": [0.5], "site": site, "brood": ["3"]})
    np.testing.assert_array_equal(_eta(int_fit, rows), _eta(int_fit, ref))
    inputs = prediction_inputs(*parts(int_fit), rows)
    assert [idx.tolist() for idx, _ in inputs.groups] == [[1], [5]]  # site 2; site:brood 2:3


def test_str_fitted_levels_given_as_numbers(binom_fit):
    assert binom_fit.data["herd"].map(type).eq(str).all()  # herd "1" .. "15" as text
    ref = pd.DataFrame({"period": ["2"], "herd": ["3"], "size": [10]})
    for herd in (3, np.int64(3), np.float64(3.0), pd.Categorical([3])):
        rows = ref.assign(herd=herd)
        np.testing.assert_array_equal(_eta(binom_fit, rows), _eta(binom_fit, ref))


def test_new_levels_of_any_type_are_named_new_groups(int_fit):
    rows = pd.DataFrame(
        {
            "x": 0.0,
            "site": pd.Series(["new-person", 99, "99", np.float64(99.0), 2], dtype=object),
            "brood": pd.Series([1, 1, "1", np.int64(1), 7], dtype=object),
        }
    )
    with pytest.warns(NewLevelsWarning, match="site: 99, new-person") as rec:
        out = predict(*parts(int_fit), rows, kind="linpred", seed=2)
    assert "site:brood: 2:7, 99:1, new-person:1" in str(rec[0].message)
    assert out.attrs["new_levels"] == {
        "site": ["99", "new-person"],
        "site:brood": ["2:7", "99:1", "new-person:1"],
    }
    with pytest.warns(NewLevelsWarning):
        eta, _ = predict_draws(*parts(int_fit), rows, kind="linpred", seed=2)
    np.testing.assert_array_equal(eta[:, 1], eta[:, 2])  # 99, "99" and 99.0: one new group
    np.testing.assert_array_equal(eta[:, 1], eta[:, 3])
    assert np.max(np.abs(eta[:, 0] - eta[:, 1])) > 0.1  # "new-person" is another one
    for groups in ("new", "none", "marginal"):  # the issue: groups="new" with a text level
        table = predict(*parts(int_fit), rows, groups=groups, seed=3)
        assert np.isfinite(table["mean"]).all() and table.attrs["new_levels"] == {}
    eta_new, _ = predict_draws(*parts(int_fit), rows, kind="linpred", groups="new", seed=3)
    np.testing.assert_array_equal(eta_new[:, 1], eta_new[:, 3])  # one new group, shared
