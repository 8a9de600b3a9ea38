"""ICC, VPC, median odds ratio and VarCorr against their closed forms on the posterior draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesmixed.errors import FamilyError, PredictionError
from bayesmixed.report.core.draws import internal
from bayesmixed.report.tables import variance as V
from tests.fixtures_report import fit_fixture

bern_fit = fit_fixture("bern")
bern_ri_fit = fit_fixture("bern_ri")
gauss_fit = fit_fixture("gauss")
pois_fit = fit_fixture("pois")


def draws(fit, name):
    v = np.asarray(internal(fit.idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


def sd_of(fit, factor):
    """Draws of the random-effect sds of ``factor`` (labels may differ from factor names)."""
    label = next(b["label"] for b in fit.meta["blocks"] if b["factor"] == factor)
    return draws(fit, f"sd__{label}")


def beta_draws(fit):
    cols = []
    for n in fit.meta["x_names"]:
        cols.append(
            draws(fit, "Intercept")
            if n == "Intercept"
            else internal(fit.idata)["b"].sel(coef=n).values.reshape(-1)
        )
    return np.stack(cols, axis=1)


def test_icc_random_intercept_logit_closed_form(bern_ri_fit):
    fit = bern_ri_fit
    sd = draws(fit, "sd__school")[:, 0]
    expected = sd**2 / (sd**2 + np.pi**2 / 3)
    got = V.icc_draws(fit.idata, fit.meta, fit.design, "adjusted")["school"]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    table = fit.icc()
    assert table.loc["school", "mean"] == pytest.approx(expected.mean(), rel=1e-12)
    assert table.loc["school", "2.5%"] == pytest.approx(np.quantile(expected, 0.025), rel=1e-12)
    assert table.loc["school", "scale"] == "latent"


def test_conditional_icc_adds_fixed_variance(bern_ri_fit):
    fit = bern_ri_fit
    sd = draws(fit, "sd__school")[:, 0]
    var_f = (beta_draws(fit) @ fit.design.X.T).var(axis=1, ddof=1)
    expected = sd**2 / (var_f + sd**2 + np.pi**2 / 3)
    got = fit.icc(kind="conditional")
    assert got.loc["school", "mean"] == pytest.approx(expected.mean(), rel=1e-10)
    assert (got["mean"] < fit.icc()["mean"]).all()
    with pytest.raises(PredictionError, match="kind"):
        fit.icc(kind="marginal")


def test_icc_with_random_slope_uses_johnson_variance(bern_fit):
    """sigma2 = mean_i z_i' Sigma z_i, computed row by row for a few draws."""
    fit = bern_fit
    sd, cor = draws(fit, "sd__school"), draws(fit, "cor__school")
    Z = fit.design.blocks[0].Z
    got = V.icc_draws(fit.idata, fit.meta, fit.design)["school"]
    for s in (0, 77, 599):
        Sigma = np.diag(sd[s]) @ cor[s] @ np.diag(sd[s])
        var = np.mean([z @ Sigma @ z for z in Z])
        assert got[s] == pytest.approx(var / (var + np.pi**2 / 3), rel=1e-10)


def test_icc_crossed_factors_share_one_denominator(gauss_fit):
    fit = gauss_fit
    vp, vs = sd_of(fit, "plate")[:, 0] ** 2, sd_of(fit, "sample")[:, 0] ** 2
    sigma2 = draws(fit, "sigma") ** 2
    got = V.icc_draws(fit.idata, fit.meta, fit.design)
    np.testing.assert_allclose(got["plate"], vp / (vp + vs + sigma2), rtol=1e-12)
    np.testing.assert_allclose(got["sample"], vs / (vp + vs + sigma2), rtol=1e-12)
    assert set(got) == {"plate", "sample"}  # crossed: no cumulative row
    # no fixed predictors: conditional == adjusted
    np.testing.assert_allclose(
        V.icc_draws(fit.idata, fit.meta, fit.design, "conditional")["plate"],
        got["plate"],
        rtol=1e-12,
    )


def test_icc_nested_poisson_lognormal_closed_form(pois_fit):
    fit = pois_fit
    vl = sd_of(fit, "site")[:, 0] ** 2
    vb = sd_of(fit, "site:brood")[:, 0] ** 2
    eta_bar = beta_draws(fit) @ fit.design.X.mean(axis=0)
    lam = np.exp(eta_bar + (vl + vb) / 2)
    total = vl + vb + np.log1p(1 / lam)
    got = V.icc_draws(fit.idata, fit.meta, fit.design)
    np.testing.assert_allclose(got["site"], vl / total, rtol=1e-10)
    np.testing.assert_allclose(got["site:brood"], vb / total, rtol=1e-10)
    np.testing.assert_allclose(got["site:brood (cumulative)"], (vl + vb) / total, rtol=1e-10)


def test_vpc_random_slope_goldstein(bern_fit):
    fit = bern_fit
    sd, cor = draws(fit, "sd__school"), draws(fit, "cor__school")
    values = [-1.0, 0.0, 2.0]
    table = fit.vpc("x", values=values)
    assert list(table["x"]) == values
    for i, v in enumerate(values):
        row = table.iloc[i]
        s2 = sd[:, 0] ** 2 + 2 * v * cor[:, 0, 1] * sd[:, 0] * sd[:, 1] + v**2 * sd[:, 1] ** 2
        vpc = s2 / (s2 + np.pi**2 / 3)
        assert row["mean"] == pytest.approx(vpc.mean(), rel=1e-10)
        assert row["variance"] == pytest.approx(s2.mean(), rel=1e-10)
        assert row["2.5%"] == pytest.approx(np.quantile(vpc, 0.025), rel=1e-10)
    # at x = 0 the VPC is the random-intercept ICC
    sd0 = sd[:, 0] ** 2
    assert table["mean"].iloc[1] == pytest.approx(np.mean(sd0 / (sd0 + np.pi**2 / 3)), rel=1e-10)
    with pytest.raises(PredictionError, match="not a varying"):
        fit.vpc("trt[B]")


def test_median_odds_ratio_closed_form(bern_ri_fit, pois_fit, gauss_fit):
    fit = bern_ri_fit
    sd = draws(fit, "sd__school")[:, 0]
    mor = np.exp(np.sqrt(2 * sd**2) * stats.norm.ppf(0.75))
    table = fit.mor()
    assert table.loc["school", "mean"] == pytest.approx(mor.mean(), rel=1e-12)
    assert table.loc["school", "97.5%"] == pytest.approx(np.quantile(mor, 0.975), rel=1e-12)
    assert table.loc["school", "measure"] == "MOR"
    # about exp(0.954 sd): the Larsen & Merlo approximation
    assert table.loc["school", "mean"] == pytest.approx(np.mean(np.exp(0.9539 * sd)), rel=1e-3)
    t2 = pois_fit.mor()
    assert set(t2.index) == {"site", "site:brood", "total"}
    assert (t2["measure"] == "MRR").all()
    assert t2.loc["total", "mean"] > t2.loc["site", "mean"]
    with pytest.raises(FamilyError, match="identity"):
        gauss_fit.mor()


def test_varcorr_layout_and_intervals(bern_fit, gauss_fit):
    vc = bern_fit.varcorr()
    sd = draws(bern_fit, "sd__school")
    cor = draws(bern_fit, "cor__school")
    row = vc[(vc["group"] == "school") & (vc["name"] == "x")].iloc[0]
    assert row["std_dev"] == pytest.approx(sd[:, 1].mean())
    assert row["variance"] == pytest.approx((sd[:, 1] ** 2).mean())
    assert row["variance_hi"] == pytest.approx(np.quantile(sd[:, 1] ** 2, 0.975))
    crow = vc[vc["name"] == "cor(Intercept,x)"].iloc[0]
    assert crow["corr"] == pytest.approx(cor[:, 0, 1].mean())
    assert np.isnan(crow["std_dev"])
    gv = gauss_fit.varcorr()
    assert list(gv["group"]) == ["plate", "sample", "Residual"]
    assert gv.iloc[-1]["std_dev"] == pytest.approx(draws(gauss_fit, "sigma").mean())
    text = V.format_varcorr(gv)
    assert "Residual" in text and "plate" in text
