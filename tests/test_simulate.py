"""Simulation from a spec: layout, predictors, truth bookkeeping, response draws, recovery."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.errors import SpecError
from bayesmixed.simulation import default_truth, simulate

FORMULA = "y ~ x + treatment + (1 + x | g)"
TREAT = {"treatment": ["A", "B", "C"]}


def _eta_from_truth(df: pd.DataFrame, truth: dict) -> np.ndarray:
    """Linear predictor rebuilt by hand from the stored truth (independent of the design code)."""
    p = truth["params"]
    eta = p["Intercept"] + p["x"] * df["x"].to_numpy()
    for lv in ("B", "C"):
        eta = eta + p[f"treatment[{lv}]"] * (df["treatment"] == lv).to_numpy()
    r = truth["ranef"]["g"]
    eta = eta + df["g"].map(r["Intercept"]).to_numpy() + df["g"].map(r["x"]).to_numpy() * df["x"]
    return np.asarray(eta, dtype=float)


def test_layout_columns_and_truth_names():
    df = simulate(FORMULA, n_groups=12, n_per_group=5, family="bernoulli", predictors=TREAT,
                  truth={"x": 1.5, "cor(Intercept,x|g)": 0.4}, seed=3)
    assert df.shape == (60, 4)
    assert list(df.columns) == ["y", "g", "treatment", "x"]
    assert df.groupby("g").size().eq(5).all() and df["g"].nunique() == 12
    assert set(df["y"].unique()) <= {0, 1}
    assert df["treatment"].value_counts().to_dict() == {"A": 20, "B": 20, "C": 20}
    params = df.attrs["truth"]["params"]
    assert list(params) == ["Intercept", "x", "treatment[B]", "treatment[C]", "sd(Intercept|g)",
                            "sd(x|g)", "cor(Intercept,x|g)"]
    assert params["x"] == 1.5 and params["cor(Intercept,x|g)"] == 0.4
    assert params["sd(x|g)"] == 0.5  # default
    ranef = df.attrs["truth"]["ranef"]["g"]
    assert set(ranef) == {"Intercept", "x"} and len(ranef["x"]) == 12
    assert df.attrs["truth"]["design"]["family"] == "bernoulli"
    json.dumps(df.attrs["truth"])  # JSON-able


def test_same_seed_same_data_other_seed_other_data():
    a = simulate(FORMULA, n_groups=8, n_per_group=4, predictors=TREAT, seed=5)
    b = simulate(FORMULA, n_groups=8, n_per_group=4, predictors=TREAT, seed=5)
    c = simulate(FORMULA, n_groups=8, n_per_group=4, predictors=TREAT, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["truth"] == b.attrs["truth"]
    assert not np.allclose(a["y"], c["y"])


def test_crossed_design_every_cell_present():
    df = simulate("r ~ z + (1 | id) + (1 | item)", n_groups={"id": 7, "item": 4}, n_per_group=2,
                  family="bernoulli", predictors={"z": {"dist": "normal", "by": "item"}}, seed=1)
    assert len(df) == 7 * 4 * 2
    assert df.groupby(["id", "item"]).size().eq(2).all()
    # an item-level predictor is constant within items and varies between them
    assert df.groupby("item")["z"].nunique().eq(1).all() and df["z"].nunique() == 4
    assert set(df.attrs["truth"]["ranef"]) == {"id", "item"}


def test_nested_factor_levels():
    df = simulate("s ~ 1 + (1 | batch/cask)", n_groups={"batch": 5, "cask": 3}, n_per_group=2,
                  seed=2)
    ranef = df.attrs["truth"]["ranef"]
    assert len(ranef["batch"]["Intercept"]) == 5
    assert len(ranef["batch:cask"]["Intercept"]) == 15
    assert "sd(Intercept|batch:cask)" in df.attrs["truth"]["params"]


def test_gaussian_response_matches_truth():
    truth = {"Intercept": 2.0, "x": -1.0, "treatment[B]": 0.5, "treatment[C]": 1.0,
             "sd(Intercept|g)": 0.7, "sd(x|g)": 0.3, "cor(Intercept,x|g)": -0.5, "sigma": 1.3}
    df = simulate(FORMULA, n_groups=200, n_per_group=50, predictors=TREAT, truth=truth, seed=11)
    resid = df["y"].to_numpy() - _eta_from_truth(df, df.attrs["truth"])
    n = len(df)
    # residuals are N(0, sigma^2): mean within 4 standard errors, sd within 4 SE of the sd
    assert abs(resid.mean()) < 4 * 1.3 / np.sqrt(n)
    assert abs(resid.std(ddof=1) - 1.3) < 4 * 1.3 / np.sqrt(2 * n)


def test_realized_effects_follow_the_truth_distribution():
    truth = {"sd(Intercept|g)": 0.8, "sd(x|g)": 0.4, "cor(Intercept,x|g)": 0.6}
    df = simulate(FORMULA, n_groups=4000, n_per_group=1, predictors=TREAT, truth=truth, seed=4)
    r = pd.DataFrame(df.attrs["truth"]["ranef"]["g"])
    m = len(r)
    for term, sd in (("Intercept", 0.8), ("x", 0.4)):
        assert abs(r[term].std(ddof=1) - sd) < 4 * sd / np.sqrt(2 * m)
        assert abs(r[term].mean()) < 4 * sd / np.sqrt(m)
    rho = np.corrcoef(r["Intercept"], r["x"])[0, 1]
    assert abs(rho - 0.6) < 4 * (1 - 0.6**2) / np.sqrt(m)


def test_bernoulli_probabilities_match_truth():
    df = simulate(FORMULA, n_groups=300, n_per_group=40, family="bernoulli", predictors=TREAT,
                  truth={"Intercept": -0.5}, seed=8)
    p = special.expit(_eta_from_truth(df, df.attrs["truth"]))
    # the sum of y - p is a sum of independent centered Bernoullis
    z = (df["y"] - p).sum() / np.sqrt((p * (1 - p)).sum())
    assert abs(z) < 4


@pytest.mark.parametrize("family", ["poisson", "negbinomial"])
def test_count_means_match_truth(family):
    df = simulate("y ~ x + (1 | g)", n_groups=200, n_per_group=30, family=family,
                  truth={"Intercept": 0.8, "x": 0.3, "sd(Intercept|g)": 0.5}, seed=9)
    p = df.attrs["truth"]["params"]
    r = df["g"].map(df.attrs["truth"]["ranef"]["g"]["Intercept"])
    mu = np.exp(p["Intercept"] + p["x"] * df["x"] + r)
    var = mu if family == "poisson" else mu + mu**2 / p["alpha"]
    assert np.issubdtype(df["y"].dtype, np.integer) and (df["y"] >= 0).all()
    z = (df["y"] - mu).sum() / np.sqrt(var.sum())
    assert abs(z) < 4


def test_binomial_cbind_and_trials_forms():
    a = simulate("cbind(s, f) ~ x + (1 | g)", n_groups=10, n_per_group=3, family="binomial",
                 trials=12, seed=1)
    assert ((a["s"] + a["f"]) == 12).all() and (a["s"] >= 0).all()
    b = simulate("s | trials(n) ~ x + (1 | g)", n_groups=10, n_per_group=3, family="binomial",
                 trials=7, seed=1)
    assert (b["n"] == 7).all() and b["s"].between(0, 7).all()


def test_offset_columns_are_positive():
    df = simulate("y ~ x + offset(log(t)) + (1 | g)", n_groups=5, n_per_group=10,
                  family="poisson", seed=1)
    assert (df["t"] > 0).all()
    bm.prepare("y ~ x + offset(log(t)) + (1 | g)", df, "poisson")  # the data build


def test_default_truth_rule():
    df = simulate("y ~ x + (1 + x | g)", n_groups=4, n_per_group=2, family="negbinomial", seed=1)
    built = bm.prepare("y ~ x + (1 + x | g)", df, "negbinomial")
    assert default_truth(built.design) == df.attrs["truth"]["params"]
    params = df.attrs["truth"]["params"]
    assert params["Intercept"] == 1.0 and params["alpha"] == 5.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"truth": {"z": 1.0}}, "'z', which is not a parameter"),
        ({"truth": {"sigma": -1}}, "sigma"),
        ({"truth": {"cor(Intercept,x|g)": 1.5}}, "between -1 and 1"),
        ({"n_groups": 1}, "levels >= 2"),
        ({"n_groups": {"h": 3}}, "'h', which is not a grouping column"),
        ({"n_per_group": 0}, "n_per_group"),
        ({"predictors": {"w": [1, 2]}}, "'w', which the model does not use"),
        ({"predictors": {"x": {"dist": "cauchy"}}}, "unknown dist"),
    ],
)
def test_bad_input_raises_spec_error(kwargs, match):
    args = {"n_groups": 5, "n_per_group": 2, "seed": 1, **kwargs}
    with pytest.raises(SpecError, match=match):
        simulate("y ~ x + (1 + x | g)", **args)


def test_non_positive_definite_correlations_rejected():
    truth = {"cor(Intercept,a|g)": 0.9, "cor(Intercept,b|g)": 0.9, "cor(a,b|g)": -0.9}
    with pytest.raises(SpecError, match="positive definite"):
        simulate("y ~ a + b + (1 + a + b | g)", n_groups=5, truth=truth, seed=1)


def test_expression_response_rejected():
    with pytest.raises(SpecError, match="plain column name"):
        simulate("log(y) ~ x + (1 | g)", seed=1)


def _recovered(fit, truth: dict, names: list[str], k: float = 3.5) -> dict[str, float]:
    """|posterior mean - truth| / posterior sd per parameter (should be O(1))."""
    s = fit.summary()
    return {n: abs(s.loc[n, "mean"] - truth[n]) / s.loc[n, "sd"] for n in names}


def test_gaussian_truth_recovered_by_small_fit():
    truth = {"Intercept": 1.0, "x": 0.5, "sd(Intercept|g)": 0.8, "sd(x|g)": 0.4,
             "cor(Intercept,x|g)": 0.3, "sigma": 1.0}
    df = simulate("y ~ x + (1 + x | g)", n_groups=30, n_per_group=20, truth=truth, seed=21)
    # 20 rows per group inform each group well: the centered form mixes fast (the subject here
    # is simulation, not the automatic parameterization rule)
    fit = bm.fit("y ~ x + (1 + x | g)", df, chains=2, draws=300, tune=300, seed=1, progress=False,
                 centered=True)
    z = _recovered(fit, df.attrs["truth"]["params"], list(truth))
    # a calibrated posterior puts the truth within a few posterior sds (Monte Carlo error of
    # the posterior mean, sd / sqrt(ESS), is an order of magnitude smaller)
    assert max(z.values()) < 3.5, z
    assert fit.summary()["r_hat"].max() < 1.05


@pytest.mark.slow
@pytest.mark.parametrize(
    ("formula", "family", "n_groups", "truth"),
    [
        ("y ~ x + treatment + (1 + x | g)", "bernoulli", {"g": 40},
         {"Intercept": -0.3, "x": 0.8, "treatment[B]": 0.5, "treatment[C]": -0.5,
          "sd(Intercept|g)": 0.9, "sd(x|g)": 0.4, "cor(Intercept,x|g)": 0.3}),
        ("y ~ z + (1 | id) + (1 | item)", "poisson", {"id": 40, "item": 15},
         {"Intercept": 0.5, "z": 0.4, "sd(Intercept|id)": 0.6, "sd(Intercept|item)": 0.4}),
    ],
)
def test_other_families_recovered(formula, family, n_groups, truth):
    preds = {"treatment": ["A", "B", "C"]} if "treatment" in formula else None
    per = 30 if family == "bernoulli" else 1
    df = simulate(formula, n_groups=n_groups, n_per_group=per, family=family, truth=truth,
                  predictors=preds, seed=31)
    fit = bm.fit(formula, df, family, chains=2, draws=400, tune=400, seed=2, progress=False)
    z = _recovered(fit, df.attrs["truth"]["params"], list(truth))
    assert max(z.values()) < 3.5, z
