"""Reproducibility: the same seed gives bit-identical draws on the same backend; different
seeds and different chains give different, independent draws."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.report.core.draws import internal
from bayesmixed.sample.backends import clear_cache

FORMULA = "Reaction ~ Days + (Days | Subject)"
SETTINGS = {"chains": 2, "draws": 400, "tune": 300, "progress": False}


@pytest.fixture(scope="module")
def data():
    return bm.datasets.load("sleepstudy")


def draws_of(fit) -> dict[str, np.ndarray]:
    post = internal(fit.idata)
    return {name: np.asarray(post[name].values) for name in post.data_vars}


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), f"{name} differs between runs with one seed"


@pytest.mark.parametrize("backend", ["nutpie", "pymc"])
def test_same_seed_gives_identical_draws(data, backend):
    first = bm.fit(FORMULA, data, seed=123, backend=backend, **SETTINGS)
    if backend == "nutpie":
        clear_cache()  # the second run compiles afresh: the draws must not depend on the cache
    second = bm.fit(FORMULA, data, seed=123, backend=backend, **SETTINGS)
    assert_identical(draws_of(first), draws_of(second))
    other = bm.fit(FORMULA, data, seed=124, backend=backend, **SETTINGS)
    assert not np.array_equal(draws_of(first)["Intercept"], draws_of(other)["Intercept"])


def test_chains_differ_and_are_uncorrelated(data):
    fit = bm.fit(FORMULA, data, seed=7, **SETTINGS)
    s = fit.summary()
    ds = internal(fit.idata)
    names = {
        "Intercept": ds["Intercept"],
        "Days": ds["b"].sel(coef="Days"),
        "sd(Intercept|Subject)": ds["sd__Subject"].isel(Subject__term=0),
    }
    for label, da in names.items():
        a, b = np.asarray(da.isel(chain=0).values), np.asarray(da.isel(chain=1).values)
        assert not np.array_equal(a, b)
        assert a[0] != b[0]  # different starting points
        # for independent chains the sample correlation of the two draw sequences is ~ 0
        # with sd about 1/sqrt(ESS per chain); 5 such sds is a generous bound
        ess_chain = float(s.loc[label, "ess_bulk"]) / 2
        bound = 5.0 / np.sqrt(ess_chain)
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) < bound, f"{label}: chains correlate (r = {r:.3f}, bound {bound:.3f})"


# -- fresh processes, cold and warm compilation caches -----------------------------------------


def _logistic_csv(path):
    """A small logistic data set with a correlated random slope (the flagship model's shape)."""
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(12), 15)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=[0.8, 0.4], size=(12, 2))
    eta = -0.3 + 0.7 * x + u[g, 0] + u[g, 1] * x
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    import pandas as pd

    pd.DataFrame({"y": y, "x": x, "g": g}).to_csv(path, index=False)


def _cli_fit(work, out: str, cache: str, **extra_env: str) -> dict:
    """Fit in a fresh process with PyTensor's and bayesmixed's caches under ``cache``; returns
    the fit's timings from the run folder's manifest."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache}",
           "BAYESMIXED_CACHE_DIR": f"{cache}/bayesmixed", **extra_env}
    res = subprocess.run(
        [sys.executable, "-m", "bayesmixed", "fit", "--data", "d.csv", "--formula",
         "y ~ x + (1 + x | g)", "--family", "bernoulli", "--chains", "2", "--draws", "150",
         "--tune", "150", "--seed", "11", "--out", out, "--quiet", "--no-report"],
        cwd=work, env=env, capture_output=True, text=True, timeout=900,
    )
    assert res.returncode in (0, 3), res.stderr
    return json.loads((work / out / "manifest.json").read_text())["timings"]


def test_same_seed_same_draws_from_a_cold_and_a_warm_compile_cache(tmp_path):
    """Two fresh processes, the first with empty PyTensor/numba and bayesmixed caches, the
    second loading the compiled model the first stored: every draw equal (before the fix,
    numba's fast-math kernels rounded differently when compiled afresh than when loaded from
    the cache, and every draw differed)."""
    _logistic_csv(tmp_path / "d.csv")
    cache = tmp_path / "pytensor-cache"  # empty: the first process compiles everything
    cold = _cli_fit(tmp_path, "cold", str(cache))
    assert any((cache / "numba").iterdir()), "the first process filled the numba cache"
    assert cold["disk_cache"] == "stored"
    warm = _cli_fit(tmp_path, "warm", str(cache))
    assert warm["disk_cache"] == "hit", "a fresh process loads the compiled model"
    assert warm["compile"] < cold["compile"]
    _assert_same_run_draws(tmp_path / "cold", tmp_path / "warm", "a cold and a warm cache")
    from bayesmixed._blas import _cpu_flags

    if "avx2" in _cpu_flags() and os.environ.get("OPENBLAS_CORETYPE", "Haswell") == "Haswell":
        # OpenBLAS's AVX-512 kernels round differently from the AVX2 ones (CI's AVX2 machine
        # and an AVX-512 one gave other draws for one seed): bayesmixed asks for the AVX2
        # kernels, which every AVX2 machine uses anyway, before numpy loads them
        manifest = json.loads((tmp_path / "cold" / "manifest.json").read_text())
        assert manifest["sampler_run"]["blas"] and all(
            k.endswith(":Haswell") for k in manifest["sampler_run"]["blas"])


def _assert_same_run_draws(run_a, run_b, what: str) -> None:
    import xarray as xr

    with xr.open_datatree(run_a / "posterior.nc", engine="h5netcdf") as a, \
            xr.open_datatree(run_b / "posterior.nc", engine="h5netcdf") as b:
        for group in ("posterior", "sample_stats"):
            assert set(a[group].data_vars) == set(b[group].data_vars)
            for name in a[group].data_vars:
                va, vb = a[group][name].values, b[group][name].values
                nan_ok = va.dtype.kind == "f"  # e.g. divergence messages: NaN where none
                assert np.array_equal(va, vb, equal_nan=nan_ok), (
                    f"{group}/{name} differs between {what}"
                )


_REUSED = """
import sys, numpy as np, pandas as pd, bayesmixed as bm
from bayesmixed.sample.backends import reuse_compiled
from bayesmixed.report.core.draws import internal
df = pd.read_csv(sys.argv[1])
with reuse_compiled():  # the swappable-data form used by K-fold, SBC and simulation loops
    fit = bm.fit("y ~ x + (1 + x | g)", df, "bernoulli", chains=2, draws=150, tune=150,
                 seed=11, progress=False, log_likelihood=False)
assert fit.timings["cached"] is False
post = internal(fit.idata)
np.savez(sys.argv[2], **{k: np.asarray(post[k].values) for k in post.data_vars})
"""


@pytest.mark.slow  # two more cold compilations (about a minute); the frozen form runs always
def test_reused_compiled_form_gives_the_same_draws_from_a_cold_and_a_warm_cache(tmp_path):
    """The swappable-data form of ``reuse_compiled()``, compiled in a fresh process with an empty
    cache and then in a second process from the filled cache: every draw equal."""
    import os
    import subprocess
    import sys

    _logistic_csv(tmp_path / "d.csv")
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path / 'cache'}"}
    for name in ("cold", "warm"):
        res = subprocess.run([sys.executable, "-c", _REUSED, str(tmp_path / "d.csv"),
                              str(tmp_path / f"{name}.npz")], env=env, capture_output=True,
                             text=True, timeout=900)
        assert res.returncode == 0, res.stderr[-3000:]
    a, b = np.load(tmp_path / "cold.npz"), np.load(tmp_path / "warm.npz")
    assert set(a.files) == set(b.files)
    for name in a.files:
        assert np.array_equal(a[name], b[name]), f"{name} differs between a cold and a warm cache"
