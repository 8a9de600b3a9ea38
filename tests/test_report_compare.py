"""LOO / WAIC / compare and grouped K-fold cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

import bayesmixed as bm
from bayesmixed.design.matrices import factor_codes
from bayesmixed.errors import DataError, PredictionError
from bayesmixed.report.compare import kfold as KFOLD
from bayesmixed.report.compare import loo as CMP
from bayesmixed.report.core.draws import internal
from tests.fixtures_report import fit_fixture

bern_fit = fit_fixture("bern")
bern_ri_fit = fit_fixture("bern_ri")
gauss_fit = fit_fixture("gauss")


def test_loo_and_waic(bern_fit):
    res = bern_fit.loo(warn=False)
    assert res.elpd == pytest.approx(float(res.elpd_i.sum()))
    ll = bern_fit.idata["log_likelihood"]["y"].values.reshape(600, -1)
    w = bern_fit.waic(warn=False)
    lppd = logsumexp(ll, axis=0) - np.log(600)
    p = ll.var(axis=0, ddof=1)
    assert w.elpd == pytest.approx(np.sum(lppd - p))
    assert w.p == pytest.approx(p.sum())
    assert w.se == pytest.approx(np.sqrt(ll.shape[1] * np.var(lppd - p, ddof=1)))
    assert w.waic == pytest.approx(-2 * w.elpd)
    # both estimate the same elpd for a well-behaved model
    assert abs(w.elpd - res.elpd) < 3
    assert res.elpd < np.sum(lppd)  # out-of-sample is worse than in-sample


def test_loo_warns_naming_high_pareto_k_rows(bern_fit):
    rng = np.random.default_rng(0)
    ll = bern_fit.idata["log_likelihood"]["y"].values.copy()
    # importance ratios (1 + |cauchy|)^1.5: a power-law tail with Pareto k about 1.5
    ll[..., 7] = -1.5 * np.log1p(np.abs(rng.standard_cauchy(ll.shape[:2])))
    tree = xr.DataTree.from_dict(
        {
            "posterior": internal(bern_fit.idata).to_dataset(),
            "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), ll)}),
        }
    )
    with pytest.warns(CMP.ParetoKWarning, match="row 7"):
        res = CMP.loo(tree, None, None)  # the log-likelihood is given: no meta or design
    assert float(res.pareto_k.values[7]) > 1.0


def test_compare_table(bern_fit, bern_ri_fit, gauss_fit):
    table = bm.compare([bern_fit, bern_ri_fit])
    assert set(table.index) == {bern_fit.formula, bern_ri_fit.formula}
    assert table["weight"].sum() == pytest.approx(1.0)
    best = table.index[0]
    assert table.loc[best, "elpd_diff"] == 0
    other = table.index[1]
    e = {
        bern_fit.formula: bern_fit.loo(warn=False).elpd,
        bern_ri_fit.formula: bern_ri_fit.loo(warn=False).elpd,
    }
    assert table.loc[other, "elpd_diff"] == pytest.approx(e[other] - e[best])
    assert table.loc[other, "dse"] > 0
    named = bm.compare({"slopes": bern_fit, "intercepts": bern_ri_fit})
    assert set(named.index) == {"slopes", "intercepts"}
    with pytest.raises(DataError, match="same observations"):
        bm.compare([bern_fit, gauss_fit])
    with pytest.raises(PredictionError):
        bm.compare([bern_fit])


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=2, max_size=40),
    k=st.integers(2, 12),
    seed=st.integers(0, 10_000),
)
def test_group_folds_never_split_a_cluster(sizes, k, seed):
    keys = np.repeat([f"c{i}" for i in range(len(sizes))], sizes)
    keys = np.random.default_rng(seed).permutation(keys)
    if k > len(sizes):
        with pytest.raises(DataError):
            CMP.group_folds(keys, k, seed)
        return
    folds = CMP.group_folds(keys, k, seed)
    per_cluster = pd.Series(folds).groupby(keys).nunique()
    assert (per_cluster == 1).all()  # every cluster in exactly one fold
    assert set(folds) == set(range(k))  # no empty fold
    load = np.bincount(folds, minlength=k)
    assert load.max() - load.min() <= max(sizes)  # greedy balance


@pytest.mark.slow
def test_kfold_refits_without_whole_clusters():
    df = bm.datasets.load("sleepstudy")
    fit = bm.fit(
        "Reaction ~ Days + (Days | Subject)",
        df,
        chains=2,
        draws=200,
        tune=200,
        seed=3,
        progress=False,
    )
    res = fit.kfold(k=3, by="Subject", seed=1)
    keys = df["Subject"].astype(str).to_numpy()
    assert (pd.Series(res.folds).groupby(keys).nunique() == 1).all()
    assert res.n_folds == 3 and res.elpd_i.sizes["cluster"] == 18
    assert np.isfinite(res.elpd_i.values).all()
    assert res.elpd == pytest.approx(float(res.elpd_i.sum()))
    # held-out clusters predicted as new groups are worse than in-sample, and than PSIS-LOO
    assert res.p > 0
    assert res.elpd < fit.loo(warn=False).elpd
    table = bm.compare({"kfold": res, "again": res})
    assert len(table) == 2


def test_kfold_clusters_are_levels_equal_as_text():
    """3, "3", 3.0 and np.int64(3) in one column are one cluster, named as in fitting."""
    data = pd.DataFrame({"g": pd.Series([3, "3", 3.0, np.int64(3), "a", "a"], dtype=object)})
    keys = KFOLD._cluster_keys(data, "g")
    assert keys.tolist() == ["3", "3", "3", "3", "a", "a"]
    folds = CMP.group_folds(keys, k=2, seed=0)
    assert len(set(folds[:4])) == 1 and len(set(folds)) == 2
    both = pd.DataFrame({"a": [1.0, 1.0, 2.0], "b": ["x", "x", "y"]})
    codes, labels = factor_codes(both, "a:b")  # the fitted level labels: "1.0:x", "2.0:y"
    assert KFOLD._cluster_keys(both, "a:b").tolist() == [labels[c] for c in codes]
