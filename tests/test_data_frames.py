"""Every kind of data frame in (issue 16, point 1): pandas, polars (eager and lazy), pyarrow
Tables and dicts of arrays give the same design, the same draws and the same errors naming the
column at fault; predictions take new data of each kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import bayesmixed as bm
from bayesmixed.design.frames import as_pandas
from bayesmixed.design.matrices import build_design
from bayesmixed.errors import DataError, PredictionError
from bayesmixed.formula.parse import parse_formula
from bayesmixed.report.core.draws import internal

RNG = np.random.default_rng(4)
N = 60
BASE = pd.DataFrame({
    "y": RNG.integers(0, 2, N),
    "x": RNG.normal(size=N),
    "trt": pd.Categorical(RNG.choice(["lo", "mid", "hi"], N), categories=["lo", "mid", "hi"],
                          ordered=True),
    "g": RNG.choice([f"s{i}" for i in range(8)], N),
})
FORMULA = "y ~ x + trt + (1 | g)"


def _kinds(df: pd.DataFrame) -> dict:
    """The same data as every kind of frame the entry accepts."""
    polars = pl.from_pandas(df).with_columns(  # an ordered factor is a polars Enum
        pl.col(c).cast(pl.Enum(list(df[c].cat.categories)))
        for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype))
    return {
        "pandas": df,
        "polars": polars,
        "polars-lazy": polars.lazy(),
        "pyarrow": pa.Table.from_pandas(df, preserve_index=False),
        "dict": {c: df[c].array for c in df.columns},  # numpy arrays, a pandas Categorical
    }


KINDS = list(_kinds(BASE))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_gives_the_same_design(kind):
    spec = parse_formula(FORMULA, "bernoulli")
    want = build_design(spec, BASE)
    got = build_design(spec, _kinds(BASE)[kind])
    np.testing.assert_array_equal(got.X, want.X)
    np.testing.assert_array_equal(got.y, want.y)
    assert got.x_names == want.x_names
    for a, b in zip(got.blocks, want.blocks, strict=True):
        assert list(a.levels) == list(b.levels)
        np.testing.assert_array_equal(a.index, b.index)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_names_the_missing_column(kind):
    with pytest.raises(DataError, match="'w'"):
        bm.prepare("y ~ w + (1 | g)", _kinds(BASE)[kind], "bernoulli")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_names_the_column_with_a_missing_value(kind):
    bad = BASE.copy()
    bad.loc[5, "x"] = np.nan  # polars and pyarrow hold it as null
    with pytest.raises(DataError, match="'x'"):
        bm.prepare(FORMULA, _kinds(bad)[kind], "bernoulli")


def test_ordered_categories_survive_the_conversion():
    for kind in ("polars", "polars-lazy", "pyarrow"):
        got = as_pandas(_kinds(BASE)[kind])["trt"]
        assert list(got.cat.categories) == ["lo", "mid", "hi"], kind


def test_not_a_frame_is_refused_naming_the_type():
    with pytest.raises(DataError, match=r"data frame.*got list"):
        bm.prepare(FORMULA, [1, 2, 3], "bernoulli")
    with pytest.raises(DataError, match="got Series"):
        bm.prepare(FORMULA, pl.Series("y", [1, 0]), "bernoulli")


@pytest.fixture(scope="module")
def fits():
    """The same model and seed fitted from pandas and from a lazy polars frame."""
    kw = dict(family="bernoulli", chains=2, draws=150, tune=150, seed=5, progress=False)
    return bm.fit(FORMULA, BASE, **kw), bm.fit(FORMULA, _kinds(BASE)["polars-lazy"], **kw)


def test_a_polars_fit_gives_the_draws_of_the_pandas_fit(fits):
    a, b = fits
    for name, var in internal(a.idata).data_vars.items():
        np.testing.assert_array_equal(var.values, internal(b.idata)[name].values, err_msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_takes_new_data_of_every_kind(fits, kind):
    fit = fits[0]
    new = BASE.iloc[:5].drop(columns="y").reset_index(drop=True)
    want = fit.predict(new, seed=1)
    got = fit.predict(_kinds(new)[kind], seed=1)
    pd.testing.assert_frame_equal(got, want)


def test_predict_refuses_a_non_frame_naming_newdata(fits):
    with pytest.raises(PredictionError, match="newdata must be"):
        fits[0].predict([1, 2], seed=1)
