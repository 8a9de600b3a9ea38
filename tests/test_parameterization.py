"""The automatic centered / non-centered rule, its inputs, overrides and reporting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.graph.parameterization import (
    CENTER_THRESHOLD,
    PIVOT_THRESHOLD,
    _lower_bound_factor,
    choose_parameterization,
    partial_weights,
)
from bayesmixed.graph.variance_guess import guess_variances
from bayesmixed.report.core.draws import internal

F = "y ~ x + (1 | g)"


def simulate(family: str, levels: int, per: int, tau: float, seed: int = 1, sigma: float = 1.0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(levels), per)
    x = rng.normal(size=g.size)
    eta = 0.3 + 0.5 * x + rng.normal(0, tau, levels)[g]
    if family == "gaussian":
        y = eta + rng.normal(0, sigma, g.size)
    else:
        y = rng.binomial(1, special.expit(eta))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j:03d}" for j in g]})


def choice(df, family, formula=F, user=None):
    design = bm.prepare(formula, df, family).design
    return choose_parameterization(design, user)


@pytest.mark.parametrize(
    "family, levels, per, tau, centered",
    [
        ("gaussian", 30, 30, 1.0, True),  # data precision per level 30 >> prior precision 1
        ("gaussian", 60, 2, 0.3, False),  # 2 rows per level, small spread: funnel if centered
        ("bernoulli", 40, 100, 1.5, True),  # strong signal: 100 binary rows, sd 1.5
        ("bernoulli", 40, 5, 0.3, False),  # sparse binary data
    ],
)
def test_rule_centers_informative_factors_only(family, levels, per, tau, centered):
    c = choice(simulate(family, levels, per, tau), family)["g"]
    assert c.rule == "auto"
    assert c.centered is centered
    assert (c.ratio >= CENTER_THRESHOLD) is centered
    # the decision is not marginal: an order of magnitude from the threshold either way
    assert c.ratio > 5 * CENTER_THRESHOLD if centered else c.ratio < CENTER_THRESHOLD / 5


def test_spread_explained_by_a_covariate_does_not_count():
    # level means differ only through a level-constant covariate (true sd of the effects ~0):
    # a rule built on raw level means would see a large spread and center the factor
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(40), 10)
    z = rng.normal(0, 2, 40)
    df = pd.DataFrame({"z": z[g], "g": g.astype(str)})
    df["y"] = 1.5 * df["z"] + rng.normal(0, 0.05, 40)[g] + rng.normal(0, 1, g.size)
    c = choice(df, "gaussian", "y ~ z + (1 | g)")["g"]
    assert not c.centered and c.ratio < 0.5


def test_few_levels_lower_the_ratio():
    # the same data per level: with 5 levels the spread is uncertain, so the rule is stricter
    assert _lower_bound_factor(5) < 0.55 < _lower_bound_factor(30) < 0.8 < _lower_bound_factor(1000)
    many = choice(simulate("gaussian", 200, 8, 0.5, seed=4), "gaussian")["g"]
    design = bm.prepare(F, simulate("gaussian", 200, 8, 0.5, seed=4), "gaussian").design
    tau2 = guess_variances(design).blocks[0].tau2[0]
    info = np.median(guess_variances(design).blocks[0].info[:, 0])
    assert many.ratio == pytest.approx(info * tau2 * _lower_bound_factor(200), rel=1e-9)


def test_variance_guess_close_to_lme4_on_sleepstudy():
    design = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    g = guess_variances(design)
    sd = np.sqrt(g.blocks[0].tau2)
    # lme4 (REML): sd(Intercept) 24.74, sd(Days) 5.92, sigma 25.59
    assert sd[0] == pytest.approx(24.74, rel=0.1)
    assert sd[1] == pytest.approx(5.92, rel=0.1)
    assert np.sqrt(g.sigma2) == pytest.approx(25.59, rel=0.05)


def test_variance_guess_on_binary_data_with_much_data_per_level():
    design = bm.prepare(F, simulate("bernoulli", 60, 400, 0.8, seed=3), "bernoulli").design
    sd = float(np.sqrt(guess_variances(design).blocks[0].tau2[0]))
    assert sd == pytest.approx(0.8, rel=0.2)  # 60 levels: sampling sd of the sd alone ~ 9%


def test_user_override_is_respected():
    rich = simulate("gaussian", 30, 30, 1.0)
    sparse = simulate("gaussian", 60, 2, 0.3)
    assert choice(rich, "gaussian")["g"].centered
    forced = choice(rich, "gaussian", user={"g": False})["g"]
    assert forced.centered is False and forced.rule == "user"
    forced = choice(sparse, "gaussian", user=True)["g"]
    assert forced.centered is True and forced.rule == "user"
    assert choice(sparse, "gaussian", user="auto")["g"].rule == "auto"
    built = bm.prepare(F, sparse, centered=True)
    assert "r_raw__g" in built.model.named_vars and "z__g" not in built.model.named_vars
    built = bm.prepare(F, rich, centered={"g": False})
    assert "z__g" in built.model.named_vars and "r_raw__g" not in built.model.named_vars


def test_crossed_design_centers_both_factors_and_moves_level_predictors():
    rng = np.random.default_rng(7)
    n_p, n_i = 150, 30
    pp, ii = np.repeat(np.arange(n_p), n_i), np.tile(np.arange(n_i), n_p)
    anger, hard = rng.normal(0, 1, n_p), rng.normal(0, 1, n_i)
    eta = 0.2 + 0.5 * anger[pp] - 0.8 * hard[ii] + rng.normal(0, 1.5, n_p)[pp] + rng.normal(0, 1, n_i)[ii]
    df = pd.DataFrame({"y": rng.binomial(1, special.expit(eta)), "anger": anger[pp],
                       "hard": hard[ii], "person": pp.astype(str), "item": ii.astype(str)})
    built = bm.prepare("y ~ anger + hard + (1 | person) + (1 | item)", df, "bernoulli")
    assert built.choices["person"].centered and built.choices["item"].centered
    moved = built.meta()["hierarchical_centering"]
    assert "hard" in moved["item"] and "Intercept" in moved["item"]  # item: larger spread / levels
    assert moved["person"] == ["anger"]


@pytest.fixture(scope="module")
def small_fit():
    # binary data: a gaussian model with one factor would have its effects integrated out
    df = simulate("bernoulli", 20, 150, 1.5, seed=5)
    return bm.fit(F, df, "bernoulli", chains=2, draws=200, tune=200, seed=1, progress=False)


def test_choice_is_stored_and_printed(small_fit):
    info = small_fit.meta["parameterization"]["g"]
    assert info["centered"] is True and info["rule"] == "auto" and info["ratio"] >= CENTER_THRESHOLD
    assert small_fit.meta["blocks"][0]["centered"] is True
    assert f"g: centered (auto, information ratio {info['ratio']:.2f})" in str(small_fit)
    assert small_fit.parameterization == small_fit.meta["parameterization"]


# -- pivot level: a data-rich level of a non-centered factor carries the intercept ---------


def unbalanced(correlated: bool = False, seed: int = 13) -> pd.DataFrame:
    """One level with 400 rows and 24 with 1-4 rows (as in test_hard_cases)."""
    rng = np.random.default_rng(seed)
    sizes = np.r_[400, rng.integers(1, 5, 24)]
    g = np.repeat(np.arange(sizes.size), sizes)
    x = rng.normal(size=g.size)
    u = rng.normal(0, 0.7, (sizes.size, 2))
    eta = -0.3 + 0.8 * x + u[g, 0] + (0.3 * u[g, 1] * x if correlated else 0.0)
    y = (rng.random(g.size) < special.expit(eta)).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j:02d}" for j in g]})


def test_data_rich_level_of_a_noncentered_factor_is_the_pivot():
    c = choice(unbalanced(), "bernoulli")["g"]
    assert not c.centered and c.ratio < CENTER_THRESHOLD
    assert c.pivot_level == 0 and c.pivot_ratio >= PIVOT_THRESHOLD  # the level with 400 rows
    # balanced factors have none
    assert choice(simulate("bernoulli", 30, 20, 0.3), "bernoulli")["g"].pivot_level is None
    # a user's choice is taken as it is
    assert choice(unbalanced(), "bernoulli", user={"g": False})["g"].pivot_level is None
    built = bm.prepare(F, unbalanced(), "bernoulli")
    assert built.pivot == ("g", 0)
    assert built.meta()["parameterization"]["g"]["pivot_level"] == "g00"
    assert "pivot__g" in [v.name for v in built.model.free_RVs]


def test_no_pivot_for_a_factor_with_random_slopes():
    # measured: pivoting the intercept of (1 + x | g) does not remove the slope's ridge
    built = bm.prepare("y ~ x + (1 + x | g)", unbalanced(correlated=True), "bernoulli")
    assert built.pivot is None


def derived(model, name):
    """A compiled function of the value variables giving the model's variable ``name``."""
    (v,) = model.replace_rvs_by_values([model[name]])
    return model.compile_fn(v, inputs=model.value_vars, on_unused_input="ignore")


@pytest.mark.parametrize("formula", ["y ~ x + (1 | g)", "y ~ 0 + x + (1 | g)"])
def test_pivot_is_the_same_posterior(formula):
    """At corresponding points (pivot = intercept + the level's effect) the two log densities
    are equal: the pivot is a shift with Jacobian 1 and the intercept's prior is kept."""
    df = unbalanced()
    piv = bm.prepare(formula, df, "bernoulli", aggregate=False)
    nc = bm.prepare(formula, df, "bernoulli", aggregate=False, centered={"g": False})
    assert nc.pivot is None
    if formula.startswith("y ~ 0"):  # no model intercept: nothing to pivot
        assert piv.pivot is None
        return
    assert piv.pivot == ("g", 0)
    rng = np.random.default_rng(2)
    point = {k: rng.normal(0, 0.5, np.shape(v)) for k, v in nc.model.initial_point().items()}
    sd = np.exp(point["sd__g_log__"])
    effect0 = point["z__g"].ravel()[0] * sd[0]
    p_point = {k: v for k, v in point.items() if k != "Intercept_c"}
    p_point["pivot__g"] = point["Intercept_c"] + effect0
    lp_nc = nc.model.compile_logp()(point)
    lp_piv = piv.model.compile_logp()(p_point)
    np.testing.assert_allclose(lp_piv, lp_nc, rtol=1e-12, atol=1e-8)

    for name in ("Intercept", "r__g"):
        np.testing.assert_allclose(
            derived(piv.model, name)(p_point), derived(nc.model, name)(point), atol=1e-12
        )


# -- partial centering: per-level weights between the two forms (issue 5) -----------------


def slopes_data(seed: int = 3, levels: int = 30, per: int = 30) -> pd.DataFrame:
    """Logistic (1 + x | g): the intercepts well informed (ratio ~3), the slopes less (~1)."""
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([0, 0], [[1.0, 0.3], [0.3, 0.36]], levels)
    g = np.repeat(np.arange(levels), per)
    x = rng.normal(size=g.size)
    eta = -0.5 + 0.8 * x + u[g, 0] + u[g, 1] * x
    return pd.DataFrame({"y": rng.binomial(1, special.expit(eta)), "x": x, "g": [f"g{j:02d}" for j in g]})


def olre_data(seed: int = 1, patients: int = 40) -> pd.DataFrame:
    """Poisson counts, (1 | patient) + (1 | obs): neither factor is clearly informed."""
    rng = np.random.default_rng(seed)
    pat = np.repeat(np.arange(patients), 4)
    eta = 1.5 + rng.normal(0, 0.5, patients)[pat] + rng.normal(0, 0.45, pat.size)
    return pd.DataFrame({"y": rng.poisson(np.exp(eta)), "patient": pat.astype(str),
                         "obs": np.arange(pat.size).astype(str)})


def test_weights_follow_the_information_of_each_level_and_term():
    design = bm.prepare("y ~ x + (1 + x | g)", slopes_data(), "bernoulli").design
    guess = guess_variances(design)
    w = partial_weights(design, 0, guess)
    assert w.shape == (30, 2) and np.all((w > 0) & (w < 1))
    assert np.median(w[:, 0]) > np.median(w[:, 1])  # intercepts better informed than slopes
    # more rows per level, more weight on the centered form
    rich = bm.prepare("y ~ x + (1 + x | g)", slopes_data(per=120), "bernoulli").design
    assert np.median(partial_weights(rich, 0, guess_variances(rich))[:, 0]) > np.median(w[:, 0])


def test_rule_picks_partial_centering_between_the_two_corners():
    c = choice(slopes_data(), "bernoulli", "y ~ x + (1 + x | g)")["g"]
    assert c.ratio < CENTER_THRESHOLD and c.pivot_level is None
    assert c.partial and c.kind == "partial" and not c.centered
    both = choose_parameterization(bm.prepare("y ~ 1 + (1 | patient) + (1 | obs)", olre_data(), "poisson").design)
    assert both["patient"].partial and both["obs"].partial
    # the corners keep their forms: rich data centered, sparse data nearly non-centered
    assert not choice(simulate("gaussian", 30, 30, 1.0), "gaussian")["g"].partial
    sparse = choice(simulate("bernoulli", 40, 5, 0.3), "bernoulli")["g"]
    assert not sparse.centered
    assert not sparse.partial or np.median(sparse.weights["g"]) < 0.3


def test_user_can_ask_for_partial_centering():
    rich = simulate("gaussian", 30, 30, 1.0)
    c = choice(rich, "gaussian", user={"g": "partial"})["g"]
    assert c.partial and c.rule == "user"
    built = bm.prepare(F, rich, centered={"g": "partial"})
    assert "p__g" in built.model.named_vars and "z__g" not in built.model.named_vars
    with pytest.raises(bm.SpecError, match="'partial'"):
        choice(rich, "gaussian", user={"g": "half"})


@pytest.mark.parametrize("formula", ["y ~ x + (1 + x | g)", "y ~ x + (1 + x || g)"])
def test_partial_centering_is_the_same_posterior(formula):
    """With ``p = W m + sd^w z`` the log densities differ by exactly the Jacobian
    ``sum w log sd``, and the effects and intercept derived from both are identical."""
    df = slopes_data()
    part = bm.prepare(formula, df, "bernoulli", aggregate=False)
    nc = bm.prepare(formula, df, "bernoulli", aggregate=False, centered={"g": False})
    assert part.choices["g"].partial and "z__g" in nc.model.named_vars
    # hierarchical centering moved the intercept and the x slope into the effects' mean
    assert part.meta()["hierarchical_centering"] == {"g": ["Intercept", "x"]}
    w = part.choices["g"].weights["g"]
    rng = np.random.default_rng(2)
    point = {k: rng.normal(0, 0.5, np.shape(v)) for k, v in nc.model.initial_point().items()}
    sd = np.exp(point["sd__g_log__"])
    b = point["b"].ravel()[0]
    m = np.array([point["Intercept_c"] - part.x_means[1] * b, b])  # the mean of every level
    p_point = {k: v for k, v in point.items() if k != "z__g"}
    p_point["p__g"] = w * m + sd**w * point["z__g"]
    lp_nc = nc.model.compile_logp()(point)
    lp_part = part.model.compile_logp()(p_point)
    np.testing.assert_allclose(lp_part, lp_nc - np.sum(w * np.log(sd)), rtol=1e-12, atol=1e-8)

    for name in ("Intercept", "r__g"):
        np.testing.assert_allclose(
            derived(part.model, name)(p_point), derived(nc.model, name)(point), atol=1e-10
        )


def test_partial_centering_is_stored_and_printed():
    fit = bm.fit("y ~ 1 + (1 | patient) + (1 | obs)", olre_data(), "poisson",
                 chains=2, draws=200, tune=200, seed=1, progress=False)
    info = fit.meta["parameterization"]["obs"]
    assert info["partial"] is True and info["rule"] == "auto"
    lo, med, hi = info["weights"]
    assert 0 <= lo <= med <= hi <= 1
    assert f"obs: partially centered, weights {lo:.2f}-{hi:.2f} (median {med:.2f})" in str(fit)
    label = next(b["label"] for b in fit.meta["blocks"] if b["factor"] == "obs")
    assert internal(fit.idata)[f"r__{label}"].shape[-2:] == (160, 1)
