"""Issue 18 (point 3): post-processing proportional to what is asked.

``bm.fit`` leaves the pointwise log-likelihood for its first use: ``fit.idata`` (hence
``arviz_stats.loo(fit.idata)``), LOO, the report. Its values are those of the eager computation
and of an independent one (scipy's normal density of the posterior draws); summaries,
diagnostics and saving never compute it. Also: xarray does not import dask to build the tree.
"""

from __future__ import annotations

import subprocess
import sys

import arviz_stats as azs
import numpy as np
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.report.core.native import pending_log_likelihood

FORMULA = "y ~ x + (1 + x | g)"
CALL = dict(chains=2, draws=100, tune=100, seed=3, progress=False)


@pytest.fixture(scope="module")
def data():
    return bm.simulate(FORMULA, n_groups=8, n_per_group=10, family="gaussian", seed=1)


@pytest.fixture(scope="module")
def lazy(data):
    return bm.fit(FORMULA, data, "gaussian", **CALL)


@pytest.fixture(scope="module")
def eager(data):
    return bm.fit(FORMULA, data, "gaussian", log_likelihood=True, **CALL)


def test_deferred_until_asked(lazy, tmp_path):
    assert pending_log_likelihood(lazy.base_idata)
    assert "observed_data" in lazy.base_idata.children  # cheap: kept eager
    lazy.summary()
    lazy.diagnostics()
    lazy.save(tmp_path / "fit")
    assert "log_likelihood" not in lazy.base_idata.children
    back = bm.load(tmp_path / "fit")
    assert pending_log_likelihood(back.base_idata)  # loading defers it too
    np.testing.assert_array_equal(back.idata["log_likelihood"]["y"],
                                  lazy.idata["log_likelihood"]["y"])


def test_same_values_as_eager_and_as_scipy(lazy, eager, data):
    assert not pending_log_likelihood(eager.base_idata)
    ll = lazy.idata["log_likelihood"]["y"]  # first access computes it
    assert "log_likelihood" in lazy.timings and not pending_log_likelihood(lazy.base_idata)
    np.testing.assert_array_equal(ll.values, eager.idata["log_likelihood"]["y"].values)
    assert list(lazy.idata.children) == list(eager.idata.children)
    # independent: normal density of y given the user-facing posterior draws
    post = lazy.idata["posterior"]
    g = data["g"].astype(str).to_numpy()
    r0 = post["r(Intercept|g)"].sel(g=g).values
    r1 = post["r(x|g)"].sel(g=g).values
    mu = (post["Intercept"].values[..., None] + r0
          + (post["x"].values[..., None] + r1) * data["x"].to_numpy())
    ref = stats.norm.logpdf(data["y"].to_numpy(), mu, post["sigma"].values[..., None])
    np.testing.assert_allclose(ll.values, ref, rtol=0, atol=1e-9)


def test_arviz_loo_on_lazy_fit(lazy, eager):
    res = azs.loo(lazy.idata)
    assert res.elpd == pytest.approx(azs.loo(eager.idata).elpd, abs=1e-12)
    assert lazy.loo(warn=False).elpd == pytest.approx(res.elpd, abs=1e-12)


def test_add_log_likelihood_when_not_stored(data, lazy):
    off = bm.fit(FORMULA, data, "gaussian", log_likelihood=False, **CALL)
    assert "log_likelihood" not in off.idata.children  # not wanted: never added on access
    tree = off.add_log_likelihood()
    np.testing.assert_array_equal(tree["log_likelihood"]["y"], lazy.idata["log_likelihood"]["y"])


def test_defer_dask_check(monkeypatch):
    from xarray.namedarray import pycompat

    from bayesmixed.sample.imports import defer_dask_check

    monkeypatch.setattr(pycompat, "_cached_duck_array_modules", {})
    assert defer_dask_check()
    assert not defer_dask_check()  # already in place
    import dask.array as da

    assert pycompat.array_type("dask") == (da.Array,)  # xarray's own entry once dask is in
    import xarray as xr

    assert xr.DataArray(da.ones(4, chunks=2)).chunks == ((2, 2),)  # dask arrays stay lazy


def test_tree_building_imports_no_dask():
    code = ("import sys, numpy as np\n"
            "from bayesmixed.sample.imports import defer_dask_check\n"
            "defer_dask_check()\n"
            "import xarray as xr\n"
            "xr.DataTree.from_dict({'/posterior': xr.Dataset({'a': (('chain', 'draw'), "
            "np.zeros((2, 3)))})})\n"
            "print('dask.array' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
