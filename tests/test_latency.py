"""Latency: lazy imports and no second compilation of a model structure."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.report.core.draws import internal

QUICK = {"chains": 2, "draws": 100, "tune": 100, "progress": False, "log_likelihood": False}


def test_import_does_not_load_the_modelling_stack():
    code = (
        "import sys, bayesmixed\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'nutpie', 'numba', 'arviz_stats', 'formulae')"
        " if m in sys.modules]\n"
        "print(','.join(heavy) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none"


def data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(15), 20)
    x = np.random.default_rng(0).normal(size=g.size)  # same x every time: same default priors
    y = rng.binomial(1, special.expit(0.5 * x + rng.normal(0, 1, 15)[g]))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


@pytest.fixture(scope="module")
def fits():
    from bayesmixed.sample.backends import clear_cache, reuse_compiled

    clear_cache()
    kw = {"seed": 1, "centered": True, **QUICK}
    first = bm.fit("y ~ x + (1 | g)", data(1), "bernoulli", **kw)
    again = bm.fit("y ~ x + (1 | g)", data(1), "bernoulli", **{**kw, "seed": 2})
    with reuse_compiled():
        second_data = bm.fit("y ~ x + (1 | g)", data(2), "bernoulli", **{**kw, "seed": 3})
        third_data = bm.fit("y ~ x + (1 | g)", data(3), "bernoulli", **{**kw, "seed": 4})
    other = bm.fit("y ~ x + (1 + x | g)", data(1), "bernoulli", seed=4, **QUICK)
    return first, again, second_data, third_data, other


def test_refit_of_the_same_data_does_not_compile(fits):
    first, again, *_ = fits
    assert first.timings["cached"] is False
    assert again.timings["cached"] is True
    assert again.timings["compile"] < 0.25 * first.timings["compile"]
    for key in ("build", "compile", "sample"):
        assert again.timings[key] >= 0


def test_reuse_block_compiles_a_structure_once_for_all_data(fits):
    # inside reuse_compiled() the structure is compiled once with swappable data, and every
    # later data set is swapped in (simulation studies, SBC, K-fold)
    _, _, second_data, third_data, _ = fits
    assert second_data.timings["cached"] is False
    assert third_data.timings["cached"] is True
    assert third_data.timings["compile"] < 0.25 * second_data.timings["compile"]
    # the swapped-in data are the ones sampled: the posterior follows the new responses
    a = internal(second_data.idata)["r__g"].mean(("chain", "draw")).values
    b = internal(third_data.idata)["r__g"].mean(("chain", "draw")).values
    assert not np.allclose(a, b, atol=0.05)


def test_same_seed_same_draws_whatever_was_fitted_before():
    from bayesmixed.sample.backends import clear_cache, reuse_compiled

    kw = {"seed": 7, "centered": True, **QUICK}
    clear_cache()
    fresh = bm.fit("y ~ x + (1 | g)", data(1), "bernoulli", **kw)
    clear_cache()
    with reuse_compiled():  # the structure compiled swappable with other data first
        bm.fit("y ~ x + (1 | g)", data(2), "bernoulli", **kw)
    later = bm.fit("y ~ x + (1 | g)", data(1), "bernoulli", **kw)
    assert later.timings["cached"] is False  # outside the block: its own compilation
    for name in ("b", "sd__g", "r__g"):
        np.testing.assert_array_equal(internal(fresh.idata)[name].values,
                                      internal(later.idata)[name].values)


def test_frozen_compilation_has_the_model_log_density():
    from bayesmixed.sample.backends import _compiled_nutpie, clear_cache

    clear_cache()
    built = bm.prepare("y ~ x + (1 | g)", data(1), "bernoulli", centered=True)
    frozen, cached = _compiled_nutpie(built)
    assert not cached
    model = built.model
    names, slices, shapes = frozen.shape_info
    by_name = {v.name: rv for rv, v in model.rvs_to_values.items() if rv in model.free_RVs}
    values = [n for n in names if n in by_name]  # nutpie's order of the flat point
    logp = model.compile_logp()
    dlogp = model.compile_dlogp(vars=[by_name[n] for n in values])
    rng = np.random.default_rng(0)
    for _ in range(5):
        flat = rng.normal(0, 0.5, frozen.n_dim)
        point = {n: flat[s].reshape(sh) for n, s, sh in zip(names, slices, shapes, strict=True) if n in values}
        got, grad = frozen.logp_func(flat)
        assert float(got) == pytest.approx(float(logp(point)), rel=1e-12)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-10, atol=1e-12)


def test_a_different_structure_compiles(fits):
    assert fits[4].timings["cached"] is False


def nested_data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(6), 40)
    cls = np.repeat(np.arange(24), 10)  # 4 classes per school
    x = np.random.default_rng(0).normal(size=school.size)
    eta = 0.5 * x + rng.normal(0, 0.8, 6)[school] + rng.normal(0, 0.8, 24)[cls]
    return pd.DataFrame({"y": rng.binomial(1, special.expit(eta)), "x": x,
                         "school": [f"s{j}" for j in school], "cls": [f"c{j % 4}" for j in cls]})


def test_reuse_when_an_outer_factor_enters_through_the_nested_mean():
    # the centered classes take the schools' effects into their mean, so the school index is
    # not in the compiled graph; swapping in new data must skip it (found by SBC, issue 5)
    from bayesmixed.sample.backends import clear_cache, reuse_compiled

    clear_cache()
    kw = {"centered": {"school": False, "school:cls": True}, **QUICK}
    with reuse_compiled():
        first = bm.fit("y ~ x + (1 | school/cls)", nested_data(1), "bernoulli", seed=1, **kw)
        second = bm.fit("y ~ x + (1 | school/cls)", nested_data(2), "bernoulli", seed=2, **kw)
    assert "(1 | school)" in first.meta["hierarchical_centering"]["school:cls"]
    assert first.timings["cached"] is False and second.timings["cached"] is True
    assert np.isfinite(internal(second.idata)["r__school"].values).all()
