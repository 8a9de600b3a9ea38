"""The outer random intercept integrated out of a nested centered block (graph/collapse.py):
the same posterior as the model it replaces, exactly (log densities), and used only where its
conditions hold."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytest

import bayesmixed as bm
from bayesmixed.formula.priors import prior
from bayesmixed.graph.collapse import collapsed_block, nested_logp
from bayesmixed.graph.random_effects import BlockPlan, block_coords
from bayesmixed.names import outer_map_data

FORMULA = "strength ~ 1 + (1 | batch/cask)"


@pytest.fixture(scope="module")
def pastes():
    return bm.datasets.load("pastes")


def test_plan_collapses_the_automatic_outer_factor_only(pastes):
    auto = bm.prepare(FORMULA, pastes)
    par = auto.meta()["parameterization"]
    assert auto.collapsed == ("batch", "batch:cask")
    assert par["batch"]["integrated_into"] == "batch:cask" and par["batch:cask"]["centered"]
    assert "integrated_into" not in par["batch:cask"]
    names = {v.name for v in auto.model.free_RVs}
    assert {"sd__batch", "z__batch", "r_raw__batch__cask"} <= names
    # the user's own choice of the outer factor's form is kept as asked
    user = bm.prepare(FORMULA, pastes, centered={"batch": False})
    assert user.collapsed is None
    assert "integrated_into" not in user.meta()["parameterization"]["batch"]


def test_collapsed_model_density_is_the_joint_density(pastes):
    """p(v) N(z) = p(v | u) p(u) / |du/dz| at any point: the collapsed model's log density
    equals the uncollapsed one's at u = E(u | v) + sd(u | v) z, plus log sd(u | v) per level
    minus log sd(batch) per level (the change of variables between the two z's)."""
    col = bm.prepare(FORMULA, pastes).model
    ref = bm.prepare(FORMULA, pastes, centered={"batch": False}).model
    rng = np.random.default_rng(7)
    point = {k: rng.normal(size=np.shape(v)) for k, v in col.initial_point().items()}
    sd_c, sd_b = np.exp(point["sd__batch__cask_log__"][0]), np.exp(point["sd__batch_log__"][0])
    d = col["outer_n__batch__cask"].get_value()
    level_map = col["outer_idx__batch__cask"].get_value()
    intercept = point["Intercept_c"]
    r = point["r_raw__batch__cask"][:, 0] - intercept  # casks' mean: the intercept
    s = np.bincount(level_map, weights=r, minlength=len(d))
    den = sd_c**2 + d * sd_b**2
    csd = np.sqrt(sd_b**2 * sd_c**2 / den)
    u = sd_b**2 * s / den + csd * point["z__batch"][:, 0]
    other = {**point, "z__batch": (u / sd_b)[:, None]}
    lhs = col.compile_logp()(point)
    rhs = ref.compile_logp()(other) + np.log(csd).sum() - len(d) * np.log(sd_b)
    assert np.isclose(lhs, rhs, rtol=0, atol=1e-8), (lhs, rhs)
    # reported effects: the batch effects are u, the casks' deviations v - mean - u
    outs = col.replace_rvs_by_values([col["r__batch"], col["r__batch__cask"]])
    det = pytensor.function(col.value_vars, outs, on_unused_input="ignore")(
        **{v.name: point[v.name] for v in col.value_vars})
    np.testing.assert_allclose(det[0][:, 0], u, atol=1e-10)
    np.testing.assert_allclose(det[1][:, 0], r - u[level_map], atol=1e-10)


def test_nested_logp_matches_dense_multivariate_normal():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(3)
    level_map = np.array([0, 0, 0, 1, 2, 2])
    r = rng.normal(size=6)
    cov = 0.4**2 * np.eye(6) + 1.7**2 * (level_map[:, None] == level_map[None, :])
    got = nested_logp(r, 0.4, 1.7, level_map, np.bincount(level_map)).eval()
    assert np.isclose(got, multivariate_normal(np.zeros(6), cov).logpdf(r))


def test_prior_draws_have_the_nested_covariance(pastes):
    """Forward draws (prior predictive) of the inner effects: variance sd_c^2 + sd_b^2, and
    covariance sd_b^2 between casks of one batch, 0 across batches."""
    batch, cask = bm.prepare(FORMULA, pastes).design.blocks
    level_map = np.zeros(cask.n_levels, dtype=int)
    level_map[cask.index] = batch.index
    p = BlockPlan("centered", (prior("half_normal", 1),))
    with pm.Model(coords={**block_coords(batch), **block_coords(cask)}) as model:
        collapsed_block(cask, p, batch, BlockPlan("non-centered", p.sd_priors), level_map, None)
    fixed = pm.do(model, {"sd__batch": np.array([0.8]), "sd__batch__cask": np.array([0.5])})
    draws = pm.draw(fixed["r_raw__batch__cask"], draws=6000, random_seed=11)[:, :, 0]
    cov = np.cov(draws.T)
    same = (level_map[:, None] == level_map[None, :]) & ~np.eye(len(level_map), dtype=bool)
    # 6,000 draws: sd of a sample variance 0.89 * sqrt(2/6000) = 0.016, of a covariance ~0.012
    assert abs(np.diag(cov).mean() - 0.89) < 0.02
    assert abs(cov[same].mean() - 0.64) < 0.02
    assert abs(cov[~same & ~np.eye(len(level_map), dtype=bool)].mean()) < 0.01


@pytest.mark.slow
def test_reuse_of_a_compiled_collapsed_model_swaps_the_nesting(pastes):
    """A refit on data of the same structure but other casks in each batch reuses the compiled
    model (``reuse_compiled``) and gives the draws of a compilation for those data (both with
    swappable data): the nesting map is data (``outer_idx__``), swapped in, not a constant of
    the first data set."""
    from bayesmixed.report.core.draws import internal
    from bayesmixed.sample.backends import clear_cache, reuse_compiled

    other = pastes.copy()
    batches = sorted(other["batch"].unique())
    shift = {b: batches[(i + 1) % len(batches)] for i, b in enumerate(batches)}
    first_cask = other["cask"] == sorted(other["cask"].unique())[0]
    other.loc[first_cask, "batch"] = other.loc[first_cask, "batch"].map(shift)
    kw = {"chains": 1, "draws": 50, "tune": 50, "progress": False, "seed": 3}
    clear_cache()
    with reuse_compiled():
        first = bm.fit(FORMULA, pastes, **kw)
        second = bm.fit(FORMULA, other, **kw)
    clear_cache()
    with reuse_compiled():
        fresh = bm.fit(FORMULA, other, **kw)
    clear_cache()
    assert first.parameterization["batch"]["integrated_into"] == "batch:cask"
    assert second.parameterization["batch"]["integrated_into"] == "batch:cask"
    assert second.timings["cached"] is True and fresh.timings["cached"] is False
    for name in ("r__batch", "r__batch__cask", "sd__batch"):
        np.testing.assert_allclose(internal(second.idata)[name].values,
                                   internal(fresh.idata)[name].values, rtol=1e-8, atol=1e-10)


def test_a_reused_structure_gets_the_new_nesting_map(pastes):
    """The map from inner to outer levels in the mean of a centered block is data, swapped in
    with the rest when a compiled structure is reused (K-fold, SBC, simulation loops): with
    the sample labels shuffled (same sizes, another nesting), the first model given the second
    data set's values has the second model's log density."""
    spec = "strength ~ 1 + (1 | batch) + (1 | sample)"
    forms = {"batch": False, "sample": True}
    built = bm.prepare(spec, pastes, centered=forms)
    a = built.model
    label = {blk.factor: blk.label for blk in built.design.blocks}
    other = pastes.copy()
    rng = np.random.default_rng(5)
    labels = other["sample"].unique()
    other["sample"] = other["sample"].map(dict(zip(labels, rng.permutation(labels), strict=True)))
    other["batch"] = other.groupby("sample")["batch"].transform("first")  # still nested
    b = bm.prepare(spec, other, centered=forms).model
    name = outer_map_data(label["sample"], label["batch"])
    assert not np.array_equal(a[name].get_value(), b[name].get_value())
    point = {k: rng.normal(size=np.shape(v)) for k, v in a.initial_point().items()}
    want = b.compile_logp()(point)
    assert not np.isclose(a.compile_logp()(point), want)
    with a:
        pm.set_data({v.name: v.get_value() for v in b.data_vars})
    assert np.isclose(a.compile_logp()(point), want, rtol=0, atol=1e-9)
