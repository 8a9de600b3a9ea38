"""Tidy outputs (issue 16, point 5): broom.mixed's layout for fixed effects, random-effect
parameters and values; marginaleffects-style data grids; effects averaged ``by`` subgroups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.errors import PredictionError
from bayesmixed.report.predict.effects import effects_table
from bayesmixed.report.tables.tidy import TIDY_COLUMNS
from tests.fixtures_report import fit_fixture, parts

bern_fit = fit_fixture("bern")
gauss_fit = fit_fixture("gauss")


def test_fixed_and_ran_pars_match_the_summary(bern_fit):
    fit = bern_fit
    tidy = fit.tidy(["fixed", "ran_pars"])
    assert tidy.columns.tolist() == [c for c in TIDY_COLUMNS if c != "level"]
    s = fit.summary()
    assert tidy["term"].tolist() == ["(Intercept)", "x", "trt[B]", "sd__(Intercept)", "sd__x",
                                     "cor__(Intercept).x"]
    assert tidy["effect"].tolist() == ["fixed"] * 3 + ["ran_pars"] * 3
    assert tidy["group"].iloc[3:].tolist() == ["school"] * 3 and tidy["group"].iloc[:3].isna().all()
    np.testing.assert_allclose(tidy["estimate"], s["mean"], rtol=1e-12)
    np.testing.assert_allclose(tidy["std.error"], s["sd"], rtol=1e-12)
    np.testing.assert_allclose(tidy["conf.low"], s["2.5%"], rtol=1e-12)
    np.testing.assert_allclose(tidy["conf.high"], s["97.5%"], rtol=1e-12)


def test_residual_sd_is_sd_observation_in_group_residual(gauss_fit):
    tidy = gauss_fit.tidy("ran_pars")
    row = tidy[tidy["term"] == "sd__Observation"]
    assert row["group"].tolist() == ["Residual"]
    assert row["estimate"].iloc[0] == pytest.approx(gauss_fit.summary().loc["sigma", "mean"])
    assert set(tidy["group"]) == {"plate", "sample", "Residual"}


def test_ran_vals_are_the_random_effects_per_level(bern_fit):
    fit = bern_fit
    vals = fit.tidy("ran_vals")
    assert vals.columns.tolist() == TIDY_COLUMNS
    r = fit.ranef()
    assert len(vals) == len(r) == fit.levels["school"] * 2
    np.testing.assert_allclose(vals["estimate"], r["mean"], rtol=1e-12)
    assert vals["level"].tolist() == r["level"].tolist()
    assert set(vals["term"]) == {"(Intercept)", "x"}


def test_exponentiated_fixed_effects_are_odds_ratios(bern_fit):
    fit = bern_fit
    tidy = fit.tidy("fixed", exponentiate=True)
    s = fit.summary(exponentiate=True)
    np.testing.assert_allclose(tidy["estimate"], s["mean"].iloc[:3], rtol=1e-12)
    assert tidy["term"].tolist() == ["(Intercept)", "x", "trt[B]"]


def test_unknown_effect_kind_is_refused(bern_fit):
    with pytest.raises(PredictionError, match="ran_var"):
        bern_fit.tidy("ran_var")


def test_datagrid_all_combinations_others_typical(bern_fit):
    fit = bern_fit
    grid = bm.datagrid(fit, x=[-1.0, 0.0, 1.0], trt=["A", "B"])
    assert len(grid) == 6 and set(grid.columns) == {"x", "trt", "school"}
    assert grid[["x", "trt"]].drop_duplicates().shape[0] == 6
    assert grid["school"].nunique() == 1
    assert grid["school"].iloc[0] == fit.data["school"].mode().iloc[0]
    only = bm.datagrid(fit, trt="B")
    assert only["x"].iloc[0] == pytest.approx(fit.data["x"].mean())
    pred = fit.predict(grid, seed=1)  # ready for predictions
    assert len(pred) == 6


def test_datagrid_refuses_a_column_the_model_does_not_use(bern_fit):
    with pytest.raises(PredictionError, match="'age'"):
        bm.datagrid(bern_fit, age=[30, 40])


def test_effects_by_subgroup_average_over_each_subgroup(bern_fit):
    fit = bern_fit
    by = fit.effects("x", by="trt", types=("conditional",), draws=200)
    assert by["trt"].tolist() == ["A", "B"]
    for level in ("A", "B"):
        rows = fit.data[fit.data["trt"] == level]
        alone = effects_table(*parts(fit), "x", data=rows, types=("conditional",), draws=200)
        got = by[by["trt"] == level].drop(columns="trt").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone)
    with pytest.raises(PredictionError, match="by='nope'"):
        fit.effects("x", by="nope")
