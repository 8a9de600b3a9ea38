"""Issue 16 points 2 and 7: ``fit.idata`` is ArviZ-native, run folders are small.

arviz-stats and arviz-plots are called directly on ``fit.idata`` and on a loaded run folder.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import arviz_plots as azp
import arviz_stats as azs
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesmixed as bm
from bayesmixed.report.core.draws import INTERNAL_GROUP
from bayesmixed.runfolder import write_run_folder

FORMULA = "y ~ x + (1 + x | g)"


@pytest.fixture(scope="module")
def fit():
    df = bm.simulate(FORMULA, n_groups=8, n_per_group=10, family="gaussian", seed=1)
    df.index = [f"row{i}" for i in range(len(df))]  # row labels become the obs coordinate
    return bm.fit(FORMULA, df, "gaussian", chains=2, draws=100, tune=100, seed=1,
                  progress=False)


@pytest.fixture(scope="module")
def folder(fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("native") / "run"
    write_run_folder(fit, path, report=False, command=["test"])
    return path


@pytest.fixture(scope="module")
def loaded(folder):
    return bm.load(folder)


def test_layout(fit):
    tree = fit.idata
    assert {"posterior", INTERNAL_GROUP, "sample_stats", "log_likelihood",
            "observed_data"} <= set(tree.children)
    post = tree["posterior"]
    assert "Intercept_c" not in post and "z__g" not in post and "b" not in post
    assert "Intercept_c" in tree[INTERNAL_GROUP]
    r = post["r(x|g)"]
    assert r.dims == ("chain", "draw", "g")
    assert list(r["g"].values) == [f"g{i}" for i in range(1, 9)]
    for group in ("log_likelihood", "observed_data"):
        assert list(tree[group]["obs"].values[:2]) == ["row0", "row1"]


def test_posterior_names_are_summary_rows(fit):
    rows = list(fit.summary().index)
    params = [v for v in fit.idata["posterior"].data_vars if not v.startswith("r(")]
    assert params == rows
    table = azs.summary(fit.idata, var_names=rows)
    assert list(table.index) == rows
    np.testing.assert_allclose(table["mean"].astype(float), fit.summary()["mean"], rtol=1e-6)


def _arviz_calls(tree):
    azs.summary(tree)
    assert np.isfinite(azs.loo(tree).elpd)
    azp.plot_trace(tree, var_names=["Intercept", "sigma"])
    azp.plot_forest(tree, var_names=["Intercept", "x", "sd(Intercept|g)"])
    azp.plot_ppc_dist(tree, num_samples=20)
    pit = azs.loo_pit(tree)
    assert pit["y"].dims == ("obs",)


def test_arviz_on_fit(fit):
    tree = fit.ppc(seed=2)
    assert tree is fit.idata
    ppd = tree["posterior_predictive"]["y"]
    assert ppd.dims == ("chain", "draw", "obs")
    assert list(ppd["obs"].values) == list(tree["observed_data"]["obs"].values)
    _arviz_calls(fit.idata)


def test_arviz_on_loaded_run_folder(loaded):
    assert list(loaded.idata["observed_data"]["obs"].values[:2]) == ["row0", "row1"]
    loaded.ppc(seed=2)
    _arviz_calls(loaded.idata)


def test_loaded_run_same_loo(fit, loaded):
    a = azs.loo(fit.idata, pointwise=True)
    b = azs.loo(loaded.idata, pointwise=True)
    assert abs(a.elpd - b.elpd) < 1e-10
    np.testing.assert_allclose(loaded.idata["log_likelihood"]["y"],
                               fit.idata["log_likelihood"]["y"], rtol=0, atol=1e-10)
    assert abs(fit.loo(warn=False).elpd - loaded.loo(warn=False).elpd) < 1e-10


def test_run_folder_is_small(fit, folder):
    with xr.open_datatree(folder / "posterior.nc", engine="h5netcdf") as stored:
        assert "log_likelihood" not in stored.children
        assert "posterior_predictive" not in stored.children
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    n_draws = 2 * 100
    # the stored log-likelihood alone would be 8 bytes x draws x rows
    assert size < 8 * n_draws * fit.meta["n_obs"] + 400_000


def test_old_layout_converted_on_load(fit, tmp_path):
    """A folder written before the native layout (sampler names in ``posterior``) loads."""
    path = fit.save(tmp_path / "old")
    old = fit.idata[INTERNAL_GROUP].to_dataset()
    xr.DataTree.from_dict({"/posterior": old,
                           "/sample_stats": fit.idata["sample_stats"].to_dataset()}).to_netcdf(
        path / "posterior.nc", engine="h5netcdf")
    again = bm.load(path)
    assert "sd(Intercept|g)" in again.idata["posterior"]
    assert again.summary().equals(fit.summary())


def test_aggregated_fit_round_trip(tmp_path):
    """Rows collapsed to cells for sampling: observed data and log-likelihood stay per row."""
    rng = np.random.default_rng(3)
    n = 240
    df = pd.DataFrame({"g": np.repeat([f"s{i}" for i in range(8)], n // 8),
                       "trt": rng.integers(0, 2, n)})
    df["y"] = rng.binomial(1, 1 / (1 + np.exp(-(0.5 * df["trt"] - 0.2))))
    fit = bm.fit("y ~ trt + (1 | g)", df, "bernoulli", chains=2, draws=100, tune=100, seed=2,
                 progress=False)
    assert fit.meta["n_cells"] < n
    for group in ("log_likelihood", "observed_data"):
        assert fit.idata[group].sizes["obs"] == n
    again = bm.load(fit.save(tmp_path / "cells"))
    assert abs(azs.loo(fit.idata).elpd - azs.loo(again.idata).elpd) < 1e-10
    assert azs.loo_pit(again.ppc()).sizes["obs"] == n
