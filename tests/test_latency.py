"""Latency: lazy imports and no second compilation of a model structure."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm

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
    from bayesmixed.sample.backends import clear_cache

    clear_cache()
    first = bm.fit("y ~ x + (1 | g)", data(1), "bernoulli", seed=1, centered=True, **QUICK)
    again = bm.fit("y ~ x + (1 | g)", data(1), "bernoulli", seed=2, centered=True, **QUICK)
    new_y = bm.fit("y ~ x + (1 | g)", data(2), "bernoulli", seed=3, centered=True, **QUICK)
    other = bm.fit("y ~ x + (1 + x | g)", data(1), "bernoulli", seed=4, **QUICK)
    return first, again, new_y, other


def test_second_fit_of_the_same_structure_does_not_compile(fits):
    first, again, _, _ = fits
    assert first.timings["cached"] is False
    assert again.timings["cached"] is True
    assert again.timings["compile"] < 0.25 * first.timings["compile"]
    for key in ("build", "compile", "sample"):
        assert again.timings[key] >= 0


def test_new_data_with_the_same_structure_reuses_the_compiled_model(fits):
    first, _, new_y, _ = fits
    assert new_y.timings["cached"] is True
    # the swapped-in data are the ones sampled: the posterior follows the new responses
    a = first.idata["posterior"]["r__g"].mean(("chain", "draw")).values
    b = new_y.idata["posterior"]["r__g"].mean(("chain", "draw")).values
    assert not np.allclose(a, b, atol=0.05)


def test_a_different_structure_compiles(fits):
    assert fits[3].timings["cached"] is False
