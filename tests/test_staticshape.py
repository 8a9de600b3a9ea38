"""Fits of one model shape with new data outside ``reuse_compiled()`` (issue 16, point 6: no
leaks): the second data set compiles one input form, checked against the frozen form, and
later data sets swap their data into it; the draws are the frozen form's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.report.core.draws import internal

QUICK = {"chains": 2, "draws": 100, "tune": 100, "progress": False, "log_likelihood": False,
         "centered": True}
FORMULA = "y ~ x + (1 | g)"


def data(seed: int) -> pd.DataFrame:
    """Same shape (15 groups x 20 rows), new x and y: the default prior of ``b`` differs."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(15), 20)
    x = rng.normal(0, 1 + seed, size=g.size)
    y = rng.binomial(1, special.expit(0.5 * x / (1 + seed) + rng.normal(0, 1, 15)[g]))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


@pytest.fixture(scope="module")
def loop():
    """Three data sets of one shape fitted in turn: two compilations (frozen, input form)."""
    from bayesmixed.sample.backends import clear_cache

    clear_cache()
    fits = [bm.fit(FORMULA, data(s), "bernoulli", seed=s, **QUICK) for s in (1, 2, 3)]
    clear_cache()
    return fits


def test_the_priors_of_the_coefficients_differ_between_the_data_sets(loop):
    priors = {f.meta["priors"]["x"] for f in loop}
    assert len(priors) == 3, priors  # data-scaled: no two fits share a constant


def test_a_shape_compiles_its_input_form_once_and_swaps_later_data_in(loop):
    first, second, third = loop
    assert first.timings["compiled_form"] == "frozen" and first.timings["cached"] is False
    # second data set: the input form is compiled and passes the bit-identity check
    assert second.timings["compiled_form"] == "input (compiled)"
    assert second.timings["cached"] is False
    # third: no compilation, the data swapped into the same input form
    assert third.timings["compiled_form"] == "input" and third.timings["cached"] is True
    assert third.timings["compile"] < 0.25 * second.timings["compile"]
    # the swapped-in data are the ones sampled: the posterior follows the new responses
    a = internal(second.idata)["r__g"].mean(("chain", "draw")).values
    b = internal(third.idata)["r__g"].mean(("chain", "draw")).values
    assert not np.allclose(a, b, atol=0.05)


@pytest.mark.slow  # one more compilation (10-30 s)
def test_a_swapped_in_data_set_gives_the_draws_of_its_own_frozen_compilation(loop):
    """Same seed, same data, same draws whatever was fitted before: the third data set swapped
    into the input form and fitted alone in a fresh cache (its own frozen form)."""
    from bayesmixed.sample.backends import clear_cache

    third = loop[2]
    clear_cache()
    fresh = bm.fit(FORMULA, data(3), "bernoulli", seed=3, **QUICK)
    clear_cache()
    assert fresh.timings["compiled_form"] == "frozen" and fresh.timings["cached"] is False
    post, ref = internal(third.idata), internal(fresh.idata)
    assert set(post.data_vars) == set(ref.data_vars)
    for name in post.data_vars:
        np.testing.assert_array_equal(post[name].values, ref[name].values, err_msg=name)
    assert third.summary().index.tolist() == fresh.summary().index.tolist()


def test_the_shape_key_ignores_data_values_but_not_structure():
    from bayesmixed.sample.staticshape import shape_key

    one, two = (bm.prepare(FORMULA, data(s), "bernoulli", centered=True) for s in (1, 2))
    assert shape_key(one) == shape_key(two)
    assert "b__prior_sigma" in {v.name for v in one.model.data_vars}
    other = bm.prepare("y ~ x + (1 + x | g)", data(1), "bernoulli", centered=True)
    assert shape_key(other) != shape_key(one)
    fewer = bm.prepare(FORMULA, data(1).iloc[:280], "bernoulli", centered=True)
    assert shape_key(fewer) != shape_key(one)  # another array shape
    user = bm.prepare(FORMULA, data(1), "bernoulli", centered=True,
                      priors={"b": "normal(1, 2)"})
    assert shape_key(user) != shape_key(one)  # another prior location (a constant)
