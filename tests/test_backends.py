"""Sampling backends: nutpie (default), PyMC's NUTS, and JAX-based NUTS (numpyro)."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.report.core.draws import internal
from bayesmixed.sample.backends import SamplerConfig


@pytest.fixture(scope="module")
def df():
    return bm.datasets.load("sleepstudy")


FORMULA = "Reaction ~ Days + (1 | Subject)"


@pytest.mark.parametrize("backend", ["pymc", "numpyro"])
def test_other_backends_agree_with_nutpie(df, backend):
    ref = bm.fit(FORMULA, df, chains=2, draws=500, tune=500, seed=5, progress=False)
    other = bm.fit(
        FORMULA, df, chains=2, draws=500, tune=500, seed=5, progress=False, backend=backend
    )
    assert other.config["backend"] == backend
    a, b = ref.summary(), other.summary()
    # posterior means agree within Monte Carlo error (4 combined MCSE-like sds)
    for name in ["Intercept", "Days", "sd(Intercept|Subject)", "sigma"]:
        se = np.hypot(
            a.loc[name, "sd"] / np.sqrt(a.loc[name, "ess_bulk"]),
            b.loc[name, "sd"] / np.sqrt(b.loc[name, "ess_bulk"]),
        )
        assert abs(a.loc[name, "mean"] - b.loc[name, "mean"]) < 4 * se, name
    assert internal(other.idata).sizes["chain"] == 2


def test_same_seed_same_draws_different_seed_different_draws(df):
    f1 = bm.fit(FORMULA, df, chains=2, draws=100, tune=100, seed=9, progress=False)
    f2 = bm.fit(FORMULA, df, chains=2, draws=100, tune=100, seed=9, progress=False)
    f3 = bm.fit(FORMULA, df, chains=2, draws=100, tune=100, seed=10, progress=False)
    a, b, c = (internal(f.idata)["b"].values for f in (f1, f2, f3))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert f2.timings["cached"]  # the second fit reused the compiled model


def test_seed_is_recorded_when_not_given(df):
    f = bm.fit(FORMULA, df, chains=1, draws=50, tune=50, progress=False)
    assert isinstance(f.config["seed"], int)


def test_config_aliases():
    assert SamplerConfig(backend="jax").backend == "numpyro"
    assert SamplerConfig(backend="NUTPIE").backend == "nutpie"


def test_draw_variance_adaptation_samples_the_same_posterior(df):
    """``adaptation="draw_diag"`` changes how the mass matrix is learned, not the posterior:
    means agree with the default within Monte Carlo error; the choice is recorded."""
    ref = bm.fit(FORMULA, df, chains=2, draws=500, tune=500, seed=5, progress=False)
    alt = bm.fit(FORMULA, df, chains=2, draws=500, tune=500, seed=5, progress=False,
                 adaptation="draw_diag")
    assert ref.config["adaptation"] == "auto" and alt.config["adaptation"] == "draw_diag"
    assert ref.meta["sampler_run"]["adaptation"] == "diag"  # integrated out: nothing non-centered
    assert alt.meta["sampler_run"]["adaptation"] == "draw_diag"
    assert not np.array_equal(internal(ref.idata)["b"].values, internal(alt.idata)["b"].values)
    a, b = ref.summary(), alt.summary()
    for name in ["Intercept", "Days", "sd(Intercept|Subject)", "sigma"]:
        se = np.hypot(a.loc[name, "sd"] / np.sqrt(a.loc[name, "ess_bulk"]),
                      b.loc[name, "sd"] / np.sqrt(b.loc[name, "ess_bulk"]))
        assert abs(a.loc[name, "mean"] - b.loc[name, "mean"]) < 4 * se, name


def test_auto_adaptation_follows_the_parameterization(df):
    """The default ``adaptation="auto"`` learns the mass matrix from draw variances when a
    factor is sampled non-centered, from gradients otherwise (docs/parameterization.md, "The
    hard suite"); an explicit choice is kept."""
    nc = bm.fit("Reaction ~ Days + (1 | Subject)", df, chains=1, draws=30, tune=30, seed=1,
                progress=False, centered=False, aggregate=False)
    c = bm.fit("Reaction ~ Days + (1 | Subject)", df, chains=1, draws=30, tune=30, seed=1,
               progress=False, centered=True, aggregate=False)
    kept = bm.fit("Reaction ~ Days + (1 | Subject)", df, chains=1, draws=30, tune=30, seed=1,
                  progress=False, centered=False, aggregate=False, adaptation="diag")
    assert nc.meta["sampler_run"]["adaptation"] == "draw_diag"
    assert c.meta["sampler_run"]["adaptation"] == "diag"
    assert kept.meta["sampler_run"]["adaptation"] == "diag"


def test_unknown_adaptation_is_refused():
    from bayesmixed.errors import SamplerError

    with pytest.raises(SamplerError, match="adaptation must be one of auto, diag, draw_diag"):
        SamplerConfig(adaptation="dense")
