"""Many fits on Dask (issue 14.4): serial and a real LocalCluster give identical results.

The cluster tests start a ``LocalCluster`` of 2 worker processes (one thread each) and run
tiny fits (1 chain x 40 draws): most of their time is each worker compiling the model once
(or loading it from the test session's disk cache when the serial run compiled it first).
fit_many, power, K-fold and SBC each compare a serial run with a run on the cluster.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.parallel import ProgressBar, local_cluster_size, run_tasks

distributed = pytest.importorskip("distributed")

FORMULA = "y ~ x + (1 | g)"
PRIORS = {"Intercept": "normal(0, 5)", "b": "normal(0, 2)", "sd": "half_normal(2)",
          "sigma": "exponential(1)"}
SAMPLER = {"chains": 1, "draws": 40, "tune": 40}
#: one parameterization for every data set: one model structure (the automatic rule may pick
#: another parameterization for some simulated data sets, a second structure)
ONE_FORM = {**SAMPLER, "centered": False}


def _square(v: int) -> int:
    return v * v


def _pid(_: int) -> int:
    return os.getpid()


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        with distributed.Client(cluster) as c:
            yield c
        cluster.close()


@pytest.fixture(scope="module")
def datasets():
    return [bm.simulate(FORMULA, n_groups=6, n_per_group=4, truth={"x": 1.0}, seed=s)
            for s in range(4)]


def test_serial_run_keeps_order_and_reports_progress():
    seen = []
    assert run_tasks(_square, [3, 1, 2], progress=lambda d, n: seen.append((d, n))) == [9, 1, 4]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    out = io.StringIO()
    bar = ProgressBar(4, "fits", stream=out)
    bar.update(2)
    assert "fits 2/4" in out.getvalue() and "50%" in out.getvalue()


def test_bad_client_is_refused():
    with pytest.raises(bm.BayesmixedError, match="client must be"):
        run_tasks(_square, [1], client=3)


def test_local_cluster_runs_tasks_in_order_in_other_processes():
    assert local_cluster_size() >= 1
    out = run_tasks(_square, list(range(6)), client="local", n_workers=2)
    assert out == [v * v for v in range(6)]
    pids = run_tasks(_pid, [0, 1], client="local", n_workers=2)
    assert os.getpid() not in pids


def test_fit_many_is_identical_on_two_workers_and_compiles_once_per_worker(client, datasets):
    serial = bm.fit_many(FORMULA, datasets, priors=PRIORS, seed=3, **ONE_FORM)
    remote = bm.fit_many(FORMULA, datasets, priors=PRIORS, seed=3, client=client, **ONE_FORM)
    assert [s.error for s in serial] == [""] * 4
    for a, b in zip(serial, remote, strict=True):
        assert (a.model_index, a.data_index) == (b.model_index, b.data_index)
        pd.testing.assert_frame_equal(a.summary, b.summary)  # bit-identical draws
    # one structure: a process compiles it once, then swaps the data of later fits in
    compiled = pd.DataFrame({"worker": [r.worker for r in remote],
                             "compiled": [not r.timings["cached"] for r in remote]})
    assert (compiled.groupby("worker")["compiled"].sum() <= 1).all()
    assert sum(not s.timings["cached"] for s in serial) <= 1


def test_fit_many_models_by_data_and_whole_fits(datasets):
    out = bm.fit_many([FORMULA, "y ~ 1 + (1 | g)"], datasets[:2], priors=PRIORS, seed=1,
                      **SAMPLER)
    assert [(r.model_index, r.data_index) for r in out] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert "x" in out[0].summary.index and "x" not in out[2].summary.index
    fits = bm.fit_many(FORMULA, datasets[0], priors=PRIORS, seed=1, keep="fit", **SAMPLER)
    assert isinstance(fits[0], bm.Fit)
    with pytest.raises(bm.SpecError, match="keep"):
        bm.fit_many(FORMULA, datasets[0], keep="all")


@pytest.mark.slow  # 60-90 s on 2 cores; fit_many and K-fold on the cluster stay in the fast suite
def test_power_is_identical_on_two_workers(client):
    kw = dict(n_groups=[6], n_per_group=[4], sims=4, seed=5, **SAMPLER)
    serial = bm.power(FORMULA, {"x": 1.0}, **kw)
    remote = bm.power(FORMULA, {"x": 1.0}, client=client, **kw)
    cols = ["data_seed", "fit_seed", "estimate", "lower", "upper", "excludes_zero", "covers"]
    pd.testing.assert_frame_equal(serial.sims[cols], remote.sims[cols])
    pd.testing.assert_frame_equal(serial.table, remote.table)


def test_on_result_sees_every_task_with_its_index():
    seen = {}
    out = run_tasks(_square, [3, 1, 2], on_result=lambda i, r: seen.__setitem__(i, r))
    assert out == [9, 1, 4] and seen == {0: 9, 1: 1, 2: 4}


def test_kfold_is_identical_on_two_workers(client, datasets):
    """Folds refitted on two worker processes give bit for bit the serial result: the refit
    callable travels pickled, every fold carries its own seeds."""
    # keep="fit": the structure test_fit_many compiled (in this process or the disk cache)
    fit = bm.fit_many(FORMULA, datasets[0], priors=PRIORS, seed=2, keep="fit", **ONE_FORM)[0]
    kw = dict(k=3, by="g", seed=4, n_new=5, chains=1, draws=40, tune=40)
    serial = fit.kfold(**kw)
    remote = fit.kfold(client=client, **kw)
    assert serial.n_folds == remote.n_folds == 3
    assert (serial.folds == remote.folds).all()
    assert serial.elpd == remote.elpd and serial.se == remote.se and serial.p == remote.p
    assert serial.elpd_fold.tolist() == remote.elpd_fold.tolist()
    assert serial.elpd_i.values.tolist() == remote.elpd_i.values.tolist()
    clusters = sorted(datasets[0]["g"].astype(str).unique())
    assert serial.elpd_i.coords["cluster"].values.tolist() == clusters
    assert np.isfinite(serial.elpd_i.values).all()
    assert serial.elpd == pytest.approx(serial.elpd_fold.sum())


@pytest.mark.slow  # 40 s on 2 cores; fit_many and K-fold on the cluster stay in the fast suite
def test_sbc_ranks_are_identical_on_two_workers(client):
    """SBC on two workers: the same ranks, truths and per-simulation rows as a serial run,
    and the checkpoint callback sees every simulation."""
    from bayesmixed.validate import sbc

    priors = {"Intercept": "normal(0, 1)", "sd": "half_normal(1)", "sigma": "gamma(4, 4)"}
    kw = dict(priors=priors, n_groups=4, n_per_group=3, chains=1, draws=40, tune=40, n_rank_draws=9,
              centered=False, seed=7)
    done = []
    serial = sbc("y ~ 1 + (1 | g)", 4, **kw)
    remote = sbc("y ~ 1 + (1 | g)", 4, client=client, callback=lambda i, r: done.append(i), **kw)
    assert sorted(done) == [0, 1, 2, 3]
    assert serial.n_done == 4
    pd.testing.assert_frame_equal(serial.ranks, remote.ranks)
    pd.testing.assert_frame_equal(serial.truths, remote.truths)
    cols = ["seed", "error", "centered", "divergences", "min_ess_bulk", "max_rhat"]
    pd.testing.assert_frame_equal(serial.sims[cols], remote.sims[cols])
