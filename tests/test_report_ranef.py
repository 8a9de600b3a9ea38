"""ranef, coef (fixed + random, as lme4) and the no-pooling estimates of the shrinkage plot."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from bayesmixed.errors import PredictionError
from bayesmixed.report.core.draws import internal
from bayesmixed.report.tables.ranef import no_pooling_fit, shrinkage_table
from tests.fixtures_report import fit_fixture, parts

bern_fit = fit_fixture("bern")
gauss_fit = fit_fixture("gauss")


def flat(fit, name):
    v = np.asarray(internal(fit.idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


def test_ranef_tidy_table(bern_fit):
    t = bern_fit.ranef()
    r = flat(bern_fit, "r__school")
    assert list(t.columns) == ["factor", "level", "term", "mean", "sd", "2.5%", "97.5%"]
    assert len(t) == 30 * 2
    j = list(bern_fit.design.blocks[0].levels).index("s07")
    got = t[(t["level"] == "s07") & (t["term"] == "x")].iloc[0]
    assert got["mean"] == pytest.approx(r[:, j, 1].mean())
    assert got["97.5%"] == pytest.approx(np.quantile(r[:, j, 1], 0.975))
    with pytest.raises(PredictionError, match="grouping factor"):
        bern_fit.ranef("class")


def test_coef_is_fixed_plus_random(bern_fit):
    t = bern_fit.coef()
    r = flat(bern_fit, "r__school")
    b = internal(bern_fit.idata)["b"]
    j = list(bern_fit.design.blocks[0].levels).index("s12")
    slope = b.sel(coef="x").values.reshape(-1) + r[:, j, 1]
    row = t[(t["level"] == "s12") & (t["term"] == "x")].iloc[0]
    assert row["mean"] == pytest.approx(slope.mean())
    assert row["2.5%"] == pytest.approx(np.quantile(slope, 0.025))
    # a coefficient that does not vary by school is the same for every school
    trt = t[t["term"] == "trt[B]"]
    assert trt["mean"].nunique() == 1
    wide = bern_fit.coef(wide=True)["school"]
    assert wide.shape == (30, 3) and list(wide.columns) == ["Intercept", "x", "trt[B]"]
    assert wide.loc["s12", "x"] == pytest.approx(slope.mean())


def test_shrinkage_gaussian_no_pooling_is_the_group_mean(gauss_fit):
    t = shrinkage_table(*parts(gauss_fit), "plate")
    d = gauss_fit.design
    blk = next(b for b in d.blocks if b.factor == "plate")
    other = next(b for b in d.blocks if b.factor == "sample")
    r_sample = flat(gauss_fit, "r__sample_")[:, :, 0].mean(axis=0)[other.index]
    means = np.bincount(blk.index, d.y - r_sample) / np.bincount(blk.index)
    np.testing.assert_allclose(t["no_pooling"], means, rtol=1e-10)
    assert t["population"].iloc[0] == pytest.approx(flat(gauss_fit, "Intercept").mean())
    # partial pooling pulls each level toward the population mean
    dist_np = np.abs(t["no_pooling"] - t["population"])
    dist_pp = np.abs(t["partial_pooling"] - t["population"])
    assert np.mean(dist_pp < dist_np + 1e-9) > 0.9


def test_no_pooling_logit_matches_penalized_likelihood():
    rng = np.random.default_rng(1)
    Z = np.column_stack([np.ones(25), rng.normal(size=25)])
    y = rng.binomial(1, special.expit(0.4 + 0.9 * Z[:, 1])).astype(float)
    off = rng.normal(0, 0.2, 25)
    got = no_pooling_fit("bernoulli", "logit", y, np.ones(25), off, Z, ridge=0.01)

    def nll(th):
        eta = off + Z @ th
        return -np.sum(y * eta - np.logaddexp(0, eta)) + 0.005 * th @ th

    ref = optimize.minimize(nll, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(got, ref, atol=1e-5)
    # separated data stay finite thanks to the ridge
    sep = no_pooling_fit("bernoulli", "logit", np.ones(5), np.ones(5), np.zeros(5), np.ones((5, 1)))
    assert np.isfinite(sep).all() and sep[0] > 2


def test_shrinkage_of_a_slope(bern_fit):
    t = shrinkage_table(*parts(bern_fit), term="x")
    assert t.attrs == {"factor": "school", "term": "x"}
    assert len(t) == 30 and np.isfinite(t["no_pooling"]).all()
    # the spread of the pooled slopes is smaller than that of the per-school fits
    assert t["partial_pooling"].std() < t["no_pooling"].std()
