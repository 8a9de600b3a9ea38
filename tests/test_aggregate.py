"""Exact aggregation: identical rows collapse into counts, the posterior does not change.

Three independent checks: (1) the cells themselves, against a pandas groupby; (2) the
log-likelihood of the aggregated model minus that of the row-level model, at random parameter
points, is a constant (0 for the logit link, whose observation model drops no constant between
the two forms; ``sum log C(n, s)`` for the probit link, which uses PyMC's full binomial density);
(3) posterior means and sds of fits with and without aggregation (different seeds) agree within
Monte Carlo error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.graph.aggregate import aggregate, cell_index
from bayesmixed.report.core.draws import internal

FORMULA = "y ~ trt + sex + (1 | g)"


def binary_data(seed: int = 3, groups: int = 12, per: int = 40) -> pd.DataFrame:
    """Binary outcome, two binary covariates: at most 4 cells per group."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    trt = rng.integers(0, 2, g.size)
    sex = rng.integers(0, 2, g.size)
    u = rng.normal(0, 0.8, groups)
    eta = -0.4 + 0.9 * trt - 0.5 * sex + u[g]
    y = rng.binomial(1, special.expit(eta))
    return pd.DataFrame({"y": y, "trt": trt, "sex": sex, "g": [f"g{j:02d}" for j in g]})


def test_cells_match_a_groupby():
    df = binary_data()
    design = bm.prepare(FORMULA, df, "bernoulli").design
    agg = aggregate(design)
    assert agg is not None and agg.kind == "bernoulli -> binomial"
    ref = df.groupby(["g", "trt", "sex"], sort=False)["y"].agg(["sum", "size"]).reset_index()
    assert agg.n_rows == len(df) and agg.n_cells == len(ref) < len(df)
    cells = agg.design
    got = pd.DataFrame({
        "g": [design.blocks[0].levels[i] for i in cells.blocks[0].index],
        "trt": cells.X[:, design.x_names.index("trt")],
        "sex": cells.X[:, design.x_names.index("sex")],
        "s": cells.y, "n": cells.trials,
    })
    merged = got.merge(ref.astype({"trt": float, "sex": float}), on=["g", "trt", "sex"], validate="1:1")
    assert len(merged) == len(ref)
    np.testing.assert_array_equal(merged["s"], merged["sum"])
    np.testing.assert_array_equal(merged["n"], merged["size"])
    # every row maps to a cell with its own covariates and group
    cell, first = cell_index(design)
    np.testing.assert_array_equal(design.X, design.X[first][cell])
    np.testing.assert_array_equal(design.blocks[0].index, design.blocks[0].index[first][cell])


def test_poisson_cells_add_log_count_to_the_offset():
    df = binary_data().assign(y=lambda d: d["y"] * 3 + d["trt"])
    design = bm.prepare(FORMULA, df, "poisson").design
    agg = aggregate(design)
    cell, _ = cell_index(design)
    counts = np.bincount(cell)
    np.testing.assert_allclose(agg.design.offset, np.log(counts))
    np.testing.assert_array_equal(agg.design.y, np.bincount(cell, weights=df["y"]).astype(int))


@pytest.mark.parametrize(
    "family, change",
    [
        ("gaussian", lambda d: d.assign(y=d["y"] + 0.1 * d.index)),  # no exact reduction used
        ("negbinomial", lambda d: d),  # the likelihood is not a function of the cell sum
        ("bernoulli", lambda d: d.assign(trt=np.linspace(0, 1, len(d)))),  # no shared rows
    ],
)
def test_no_aggregation_where_none_is_exact_or_useful(family, change):
    design = bm.prepare(FORMULA, change(binary_data()), family).design
    assert aggregate(design) is None


def _logp_difference(family: str, link: str, points: int = 6) -> tuple[np.ndarray, object]:
    df = binary_data()
    if family == "binomial":
        df = df.assign(n=3, y=lambda d: d["y"] + d["trt"] + d["sex"])
        formula = "y | trials(n) ~ trt + sex + (1 | g)"
    else:
        formula = FORMULA
    cells = bm.prepare(formula, df, family, link=link, centered=False)
    rows = bm.prepare(formula, df, family, link=link, centered=False, aggregate=False)
    assert cells.aggregation is not None and rows.aggregation is None
    assert [v.name for v in cells.model.free_RVs] == [v.name for v in rows.model.free_RVs]
    f_cells, f_rows = cells.model.compile_logp(), rows.model.compile_logp()
    rng = np.random.default_rng(0)
    start = rows.model.initial_point(random_seed=1)
    diffs = []
    for _ in range(points):
        point = {k: v + rng.normal(0, 0.7, np.shape(v)) for k, v in start.items()}
        diffs.append(f_cells(point) - f_rows(point))
    return np.array(diffs), cells.aggregation


def test_logit_log_likelihood_is_identical():
    diffs, _ = _logp_difference("bernoulli", "logit")
    np.testing.assert_allclose(diffs, 0.0, atol=1e-8)


@pytest.mark.parametrize("family", ["bernoulli", "binomial"])
def test_full_binomial_density_differs_by_the_binomial_coefficients(family):
    diffs, agg = _logp_difference(family, "probit")
    cells = agg.design
    if family == "bernoulli":
        expected = special.gammaln(cells.trials + 1) - special.gammaln(cells.y + 1) - special.gammaln(
            cells.trials - cells.y + 1)
    else:  # cells of binomial rows: log C(sum n, sum s) - sum over rows of log C(n_i, s_i)
        rows = bm.prepare("y | trials(n) ~ trt + sex + (1 | g)", binary_data().assign(
            n=3, y=lambda d: d["y"] + d["trt"] + d["sex"]), family).design
        lc = lambda n, s: special.gammaln(n + 1) - special.gammaln(s + 1) - special.gammaln(n - s + 1)  # noqa: E731
        expected = np.array([lc(cells.trials, cells.y).sum() - lc(rows.trials, rows.y).sum()])
    np.testing.assert_allclose(diffs, np.sum(expected), rtol=1e-9, atol=1e-7)


@pytest.fixture(scope="module")
def pair():
    df = binary_data(seed=5, groups=15, per=60)
    kw = dict(chains=2, draws=800, tune=500, progress=False)
    cells = bm.fit(FORMULA, df, "bernoulli", seed=11, **kw)
    rows = bm.fit(FORMULA, df, "bernoulli", seed=12, aggregate=False, **kw)
    return df, cells, rows


def test_aggregated_fit_describes_the_original_rows(pair):
    df, cells, rows = pair
    assert cells.meta["n_rows_original"] == len(df) == cells.meta["n_obs"]
    assert cells.meta["n_cells"] < len(df) and "n_cells" not in rows.meta
    assert len(cells.data) == len(df) and cells.design.n_obs == len(df)
    assert cells.idata["log_likelihood"]["y"].sizes["obs"] == len(df)
    assert "aggregated cells" in str(cells)


def test_aggregated_posterior_matches_row_level_posterior(pair):
    from arviz_stats import mcse

    _, cells, rows = pair
    names = ["Intercept", "b", "sd__g"]
    for name in names:
        a, b = internal(cells.idata)[name], internal(rows.idata)[name]
        mean_a, mean_b = a.mean(("chain", "draw")).values, b.mean(("chain", "draw")).values
        se_mean = np.hypot(mcse(a.to_dataset(), method="mean")[name].values,
                           mcse(b.to_dataset(), method="mean")[name].values)
        assert np.all(np.abs(mean_a - mean_b) <= 4 * se_mean), (name, mean_a, mean_b, se_mean)
        sd_a, sd_b = a.std(("chain", "draw")).values, b.std(("chain", "draw")).values
        se_sd = np.hypot(mcse(a.to_dataset(), method="sd")[name].values,
                         mcse(b.to_dataset(), method="sd")[name].values)
        assert np.all(np.abs(sd_a - sd_b) <= 4 * se_sd), (name, sd_a, sd_b, se_sd)


def test_prior_predictive_is_per_original_row():
    df = binary_data()
    prior = bm.prior_predictive(FORMULA, df, "bernoulli", draws=20, seed=1)
    assert prior["prior_predictive"]["y"].shape[-1] == len(df)


# -- gaussian: random effects integrated out (bayesmixed.graph.marginal) ---------------------


def gaussian_data(seed: int = 4, groups: int = 14, per: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = rng.normal(size=g.size)
    u = rng.multivariate_normal([0, 0], [[1.0, 0.3], [0.3, 0.5]], groups)
    y = 2.0 + 0.7 * x + u[g, 0] + u[g, 1] * x + rng.normal(0, 0.8, g.size)
    return pd.DataFrame({"y": y, "x": x, "w": rng.normal(size=g.size), "g": [f"g{j}" for j in g]})


@pytest.mark.parametrize("block", ["(1 | g)", "(1 + x | g)", "(1 + x || g)"])
def test_marginal_likelihood_equals_the_multivariate_normal_density(block):
    from scipy import stats

    df = gaussian_data()
    built = bm.prepare(f"y ~ x + w + {block}", df)
    assert built.marginal and [v.name for v in built.model.observed_RVs] == []
    model = built.model
    names = ["y_marginal", "Intercept", "b", "sigma", "sd__g"]
    names += ["cor__g"] if "cor__g" in model.named_vars else []
    outs = model.replace_rvs_by_values([model[n] for n in names])  # functions of the point
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    rng = np.random.default_rng(1)
    design = built.design
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point(random_seed=2).items()}
        pot, intercept, b, sigma, sd, *cor = fn(point)
        cor = cor[0] if cor else np.eye(len(sd))
        S = np.outer(sd, sd) * cor
        mean = design.X @ np.r_[intercept, b]
        blk = design.blocks[0]
        expected = 0.0
        for j in range(blk.n_levels):
            rows = blk.index == j
            Zj = blk.Z[rows]
            V = Zj @ S @ Zj.T + sigma**2 * np.eye(rows.sum())
            expected += stats.multivariate_normal.logpdf(design.y[rows], mean[rows], V)
        assert float(pot) == pytest.approx(expected, rel=1e-10, abs=1e-8)


@pytest.fixture(scope="module")
def gaussian_pair():
    df = gaussian_data(seed=6, groups=20, per=10)
    kw = dict(chains=2, draws=1000, tune=500, progress=False)
    marginal = bm.fit("y ~ x + (1 + x | g)", df, seed=21, **kw)
    rows = bm.fit("y ~ x + (1 + x | g)", df, seed=22, aggregate=False, **kw)
    return marginal, rows


def test_marginal_fit_is_reported_like_any_fit(gaussian_pair):
    marginal, rows = gaussian_pair
    assert marginal.meta["parameterization"]["g"]["marginal"] is True
    assert "marginal" not in rows.meta["parameterization"]["g"]
    assert "g: integrated out" in str(marginal)
    r = internal(marginal.idata)["r__g"]
    assert r.dims == ("chain", "draw", "g", "g__term") and r.sizes["g"] == 20
    assert marginal.idata["log_likelihood"]["y"].sizes["obs"] == 200


def test_marginal_posterior_matches_row_level_posterior(gaussian_pair):
    from arviz_stats import mcse

    marginal, rows = gaussian_pair
    for name in ["Intercept", "b", "sd__g", "cor__g", "sigma", "r__g"]:
        a, b = internal(marginal.idata)[name], internal(rows.idata)[name]
        if name == "cor__g":  # the off-diagonal element; the diagonal is 1
            a, b = a.isel(g__term=1, g__term_b=0), b.isel(g__term=1, g__term_b=0)
        dims = ("chain", "draw")
        se = np.hypot(mcse(a.to_dataset(name="v"), method="mean")["v"].values,
                      mcse(b.to_dataset(name="v"), method="mean")["v"].values)
        diff = np.abs(a.mean(dims).values - b.mean(dims).values)
        # 4.5 MC standard errors: a two-sided 1-in-150,000 band per element, over ~50 elements
        assert np.all(diff <= 4.5 * se), (name, diff.max(), se)
        se_sd = np.hypot(mcse(a.to_dataset(name="v"), method="sd")["v"].values,
                         mcse(b.to_dataset(name="v"), method="sd")["v"].values)
        assert np.all(np.abs(a.std(dims).values - b.std(dims).values) <= 4.5 * se_sd), name


def test_user_parameterization_keeps_the_sampled_effects():
    built = bm.prepare("y ~ x + (1 + x | g)", gaussian_data(), centered={"g": True})
    assert not built.marginal and "r_raw__g" in built.model.named_vars
