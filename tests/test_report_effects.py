"""Average marginal effects and contrasts against direct computations on the draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from bayesmixed.errors import PredictionError
from bayesmixed.report.core.draws import internal
from bayesmixed.report.predict.effects import effect_curve, effects_table
from tests.fixtures_report import fit_fixture, parts

bern_fit = fit_fixture("bern")
pois_fit = fit_fixture("pois")
int_fit = fit_fixture("int_nested")


def flat(fit, name):
    v = np.asarray(internal(fit.idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


def coefs(fit):
    b = internal(fit.idata)["b"]
    return (
        flat(fit, "Intercept"),
        b.sel(coef="x").values.reshape(-1),
        b.sel(coef="trt[B]").values.reshape(-1),
    )


def row(table, measure, kind):
    return table[(table["measure"] == measure) & (table["type"] == kind)].iloc[0]


def pa_prob(eta: np.ndarray, v: np.ndarray) -> np.ndarray:
    """E[expit(eta + sqrt(v) e)] by dense trapezoid integration (independent of the package)."""
    e = np.linspace(-9, 9, 241)  # the trapezoid rule is spectrally accurate here
    w = np.exp(-(e**2) / 2) / np.sqrt(2 * np.pi)
    out = np.empty_like(eta)
    for s in range(0, eta.shape[0], 25):  # chunks of draws keep memory small
        vals = special.expit(eta[s : s + 25, :, None] + np.sqrt(v[s : s + 25, :, None]) * e)
        out[s : s + 25] = np.trapezoid(vals * w, e, axis=-1)
    return out


def test_treatment_contrasts_conditional_and_population_averaged(bern_fit):
    fit = bern_fit
    a, bx, bt = coefs(fit)
    x = fit.data["x"].to_numpy()
    table = effects_table(*parts(fit), "trt")
    # conditional: random effects at zero, averaged over the rows
    p0 = special.expit(a[:, None] + bx[:, None] * x).mean(axis=1)
    p1 = special.expit(a[:, None] + bx[:, None] * x + bt[:, None]).mean(axis=1)
    assert row(table, "difference", "conditional")["mean"] == pytest.approx(
        (p1 - p0).mean(), rel=1e-8
    )
    assert row(table, "ratio", "conditional")["mean"] == pytest.approx((p1 / p0).mean(), rel=1e-8)
    odds = (p1 / (1 - p1)) / (p0 / (1 - p0))
    assert row(table, "odds_ratio", "conditional")["97.5%"] == pytest.approx(
        np.quantile(odds, 0.975), rel=1e-8
    )
    # population-averaged: integrate over u0 + u1 x ~ N(0, z' Sigma z)
    sd, cor = flat(fit, "sd__school"), flat(fit, "cor__school")
    v = (
        sd[:, :1] ** 2
        + 2 * x * (cor[:, 0, 1] * sd[:, 0] * sd[:, 1])[:, None]
        + x**2 * sd[:, 1:] ** 2
    )
    q0 = pa_prob(a[:, None] + bx[:, None] * x, v).mean(axis=1)
    q1 = pa_prob(a[:, None] + bx[:, None] * x + bt[:, None], v).mean(axis=1)
    assert row(table, "difference", "population-averaged")["mean"] == pytest.approx(
        (q1 - q0).mean(), rel=1e-6
    )
    # the population-averaged odds ratio is attenuated toward 1 (logit link)
    assert (
        row(table, "odds_ratio", "population-averaged")["mean"]
        < row(table, "odds_ratio", "conditional")["mean"]
    )


def test_average_marginal_effect_of_numeric_variable(bern_fit):
    fit = bern_fit
    a, bx, bt = coefs(fit)
    x, trt = fit.data["x"].to_numpy(), (fit.data["trt"] == "B").to_numpy()
    p = special.expit(a[:, None] + bx[:, None] * x + bt[:, None] * trt)
    ame = (bx[:, None] * p * (1 - p)).mean(axis=1)
    got = row(effects_table(*parts(fit), "x", types=["conditional"]), "ame", "conditional")
    assert got["mean"] == pytest.approx(ame.mean(), rel=1e-5)
    assert got["2.5%"] == pytest.approx(np.quantile(ame, 0.025), rel=1e-4)


def test_log_link_rate_ratio_is_exp_coefficient(pois_fit):
    # log link, random effects at zero: the ratio of average rates is exp(b) exactly
    t = effects_table(*parts(pois_fit), "year", types=["conditional"])
    b = internal(pois_fit.idata)["b"]
    ratio = row(t[t["contrast"] == "b / a"], "ratio", "conditional")
    assert ratio["mean"] == pytest.approx(np.exp(b.sel(coef="year[b]").values).mean(), rel=1e-8)
    assert "odds_ratio" not in set(t["measure"])


def test_at_grid_and_curve(bern_fit):
    t = effects_table(*parts(bern_fit), "x", values=(0, 1), at={"trt": ["A", "B"]}, types=["conditional"])
    assert list(t["trt"].unique()) == ["A", "B"]
    bx = coefs(bern_fit)[1]
    # every row at x=1 vs x=0 with trt fixed and u = 0: the odds ratio is exp(b_x) exactly
    ors = t[t["measure"] == "odds_ratio"]
    for r in ors.itertuples():
        assert r.mean == pytest.approx(np.exp(bx).mean(), rel=1e-8)
    c = effect_curve(*parts(bern_fit), "x", n_points=7, draws=200)
    assert len(c) == 14 and set(c["type"]) == {"conditional", "population-averaged"}
    cond = c[c["type"] == "conditional"]["mean"].to_numpy()
    assert np.all(np.diff(cond) > 0)  # b_x > 0 in the truth and the posterior
    with pytest.raises(PredictionError):
        effects_table(*parts(bern_fit), "nope")
    with pytest.raises(PredictionError):
        effects_table(*parts(bern_fit), "x", values=(0, 1, 2))


def test_at_a_grouping_column_takes_levels_of_any_type(int_fit):
    """Fitted integer sites held at 2, "2", 2.0 (one level) or a new text level."""
    at = {"site": [2, "2", np.float64(2.0), "new-person"]}
    t = effects_table(*parts(int_fit), "x", at=at, types=["observed"], draws=100)
    assert t["site"].tolist() == at["site"] and t["measure"].eq("ame").all()
    assert t["mean"].iloc[0] == t["mean"].iloc[1] == t["mean"].iloc[2]
    assert np.isfinite(t["mean"]).all()
    c = effect_curve(*parts(int_fit), "x", values=[0.0, 1.0], at={"site": "new-person"}, draws=100)
    assert len(c) == 4 and np.isfinite(c["mean"]).all()
