"""Spec + data -> design: coding, response handling and the errors raised before sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design.matrices import build_design
from bayesmixed.errors import DataError, FamilyError, FormulaError, PriorError, SamplerError
from bayesmixed.formula.parse import parse_formula


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "cnt": rng.poisson(3, n),
            "z": rng.normal(size=n),
            "x": rng.normal(size=n),
            "treatment": np.array(["A", "B", "C"])[rng.integers(0, 3, n)],
            "school": np.array([f"s{i}" for i in range(6)])[np.arange(n) % 6],
            "a": np.arange(n) % 3,
            "b": np.arange(n) % 2,
            "s": rng.integers(0, 5, n),
            "n": np.full(n, 5),
        }
    )


def design(formula, df, family="gaussian", **kw):
    return build_design(parse_formula(formula, family, kw.pop("link", None)), df, **kw)


def test_treatment_coding_and_reference_level(df):
    d = design("z ~ x + treatment + (1 | school)", df)
    assert d.x_names == ("Intercept", "x", "treatment[B]", "treatment[C]")
    assert d.reference_levels == {"treatment": "A"}
    assert d.blocks[0].n_levels == 6
    # integer level index, never a one-hot matrix over levels
    assert d.blocks[0].index.dtype == np.int64 and d.blocks[0].Z.shape == (len(df), 1)


def test_interaction_transform_and_no_intercept(df):
    d = design("z ~ 0 + x:treatment + I(x**2)", df)
    assert "Intercept" not in d.x_names
    assert "I(x ** 2)" in d.x_names
    np.testing.assert_allclose(d.X[:, d.x_names.index("I(x ** 2)")], df.x**2)


def test_nested_and_crossed_factors(df):
    d = design("z ~ 1 + (1 | a/b) + (1 | school)", df)
    assert [b.factor for b in d.blocks] == ["a", "a:b", "school"]
    assert d.blocks[1].n_levels == 6  # 3 x 2 combinations
    assert d.blocks[1].levels[0] == "0:0"


def test_correlated_slope_block(df):
    d = design("z ~ x + (1 + x | school)", df)
    blk = d.blocks[0]
    assert blk.terms == ("Intercept", "x") and blk.correlated
    np.testing.assert_allclose(blk.Z[:, 1], df.x)
    d2 = design("z ~ x + (x || school)", df)
    assert not d2.blocks[0].correlated


@pytest.mark.parametrize(
    ("values", "note"),
    [
        (lambda n: np.arange(n) % 2 == 0, "True coded as 1"),
        (lambda n: np.where(np.arange(n) % 2 == 0, "yes", "no"), "'yes' coded as 1, 'no' as 0"),
    ],
)
def test_bernoulli_accepts_bool_and_two_level_strings(df, values, note):
    df = df.assign(resp=values(len(df)))
    d = design("resp ~ x + (1 | school)", df, "bernoulli")
    assert d.response_note == note
    assert set(np.unique(d.y)) == {0, 1}


def test_aggregated_binomial_forms_agree(df):
    d1 = design("cbind(s, n - s) ~ x + (1 | school)", df, "binomial")
    d2 = design("s | trials(n) ~ x + (1 | school)", df, "binomial")
    np.testing.assert_array_equal(d1.trials, d2.trials)
    np.testing.assert_array_equal(d1.y, d2.y)


def test_offset_evaluated(df):
    df = df.assign(expo=np.linspace(1, 2, len(df)))
    d = design("cnt ~ x + offset(log(expo)) + (1 | school)", df, "poisson")
    np.testing.assert_allclose(d.offset, np.log(df.expo))


ERRORS = [
    # (formula, family, data mutation, error type, message fragment)
    ("z ~ missing_col + (1 | school)", "gaussian", None, DataError, "'missing_col'"),
    ("z ~ x + (1 | nosuch)", "gaussian", None, DataError, "'nosuch'"),
    (
        "z ~ x + (1 | school)",
        "gaussian",
        lambda d: d.assign(x=d.x.where(d.index != 3)),
        DataError,
        "column 'x' has 1 missing",
    ),
    (
        "z ~ x + (1 | school)",
        "gaussian",
        lambda d: d.assign(z=d.z.where(d.index != 4)),
        DataError,
        "column 'z' has 1 missing",
    ),
    (
        "z ~ x + (1 | school)",
        "gaussian",
        lambda d: d.assign(x=np.where(d.index == 2, np.inf, d.x)),
        DataError,
        "infinite",
    ),
    ("cnt ~ x + (1 | school)", "bernoulli", None, DataError, "must be 0/1"),
    ("treatment ~ x + (1 | school)", "bernoulli", None, DataError, "exactly two levels"),
    ("z ~ x + (1 | school)", "poisson", None, DataError, "whole numbers"),
    (
        "cnt ~ x + (1 | school)",
        "poisson",
        lambda d: d.assign(cnt=-d.cnt),
        DataError,
        "non-negative",
    ),
    (
        "cnt ~ x + (1 | school)",
        "negbinomial",
        lambda d: d.assign(cnt=d.cnt + 0.5),
        DataError,
        "truncate",
    ),
    (
        "cbind(s, n - s) ~ x + (1 | school)",
        "binomial",
        lambda d: d.assign(s=d.n + 1),
        DataError,
        "must be non-negative",
    ),
    (
        "s | trials(n) ~ x + (1 | school)",
        "binomial",
        lambda d: d.assign(s=d.n + 1),
        DataError,
        "exceed trials",
    ),
    ("cbind(s, n - s) ~ x + (1 | school)", "bernoulli", None, DataError, "use family='binomial'"),
    ("z ~ x + (1 | one)", "gaussian", lambda d: d.assign(one="only"), DataError, "single level"),
    ("z ~ x + (1 | school)", "gaussianx", None, FamilyError, "unknown family 'gaussianx'"),
    ("y ~ x + (1 | school)", "bernoulli", "link=identity", FamilyError, "link 'identity'"),
    ("z ~ x + (1 | school", "gaussian", None, FormulaError, "unbalanced"),
]


@pytest.mark.parametrize(("formula", "family", "mutate", "err", "msg"), ERRORS)
def test_bad_input_raises_named_error_before_sampling(df, formula, family, mutate, err, msg):
    kw = {}
    if isinstance(mutate, str):
        kw["link"] = mutate.split("=")[1]
    elif mutate is not None:
        df = mutate(df)
    with pytest.raises(err, match=msg.replace("(", r"\(").replace(")", r"\)")):
        # prepare() validates and builds the graph but never compiles or samples
        bm.prepare(formula, df, family, **kw)


def test_dropna_drops_and_says_how_many(df):
    df = df.assign(x=df.x.where(df.index % 10 != 0))
    with pytest.warns(UserWarning, match="dropped 6 of 60 rows"):
        d = build_design(parse_formula("z ~ x + (1 | school)"), df, dropna=True)
    assert d.n_obs == 54 and d.n_dropped == 6


def test_nan_in_unused_column_is_ignored(df):
    df = df.assign(unused=np.nan)
    assert build_design(parse_formula("z ~ x + (1 | school)"), df).n_obs == len(df)


def test_bad_prior_and_sampler_options(df):
    with pytest.raises(PriorError, match="'nope'"):
        bm.prepare("z ~ x + (1 | school)", df, priors={"nope": "normal(0, 1)"})
    with pytest.raises(PriorError, match="positive"):
        bm.prepare("z ~ x + (1 | school)", df, priors={"sd": "normal(0, 1)"})
    with pytest.raises(SamplerError, match="target_accept"):
        bm.fit("z ~ x + (1 | school)", df, target_accept=1.5)
    with pytest.raises(SamplerError, match="backend"):
        bm.fit("z ~ x + (1 | school)", df, backend="stan")
    with pytest.raises(SamplerError, match="chains"):
        bm.fit("z ~ x + (1 | school)", df, chains=0)
