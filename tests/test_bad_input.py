"""Malformed input: each case raises a specific bayesmixed error naming the culprit, before any
model is compiled or sampled (the sampler entry point is replaced by a trap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesmixed as bm
from bayesmixed.errors import (
    DataError,
    FamilyError,
    FormulaError,
    PredictionError,
    PriorError,
    SamplerError,
    SpecError,
)

RNG = np.random.default_rng(0)
N = 40
BASE = pd.DataFrame(
    {
        "y": RNG.normal(size=N),
        "x": RNG.normal(size=N),
        "g": np.repeat(list("abcd"), 10),
        "b": RNG.integers(0, 2, N),
        "k": RNG.poisson(3, N),
        "t": np.full(N, 10),
        "c": np.tile(list("pq"), 20),
    }
)
F = "y ~ x + (1 | g)"


def data(**cols):
    d = BASE.copy()
    for k, v in cols.items():
        d[k] = v
    return d


def first_nan(col):
    v = BASE[col].to_numpy(dtype=float).copy()
    v[0] = np.nan
    return v


def first(col, value):
    v = BASE[col].to_numpy().copy()
    v[0] = value
    return v


# id, fit kwargs, error class, substrings the message must contain
CASES = [
    # -- data --------------------------------------------------------------------------
    ("data-not-frame", dict(model=F, data=[1, 2, 3]), DataError, ["data frame", "list"]),
    ("data-no-rows", dict(model=F, data=BASE.iloc[:0]), DataError, ["no rows"]),
    ("data-dict-ragged", dict(model=F, data={"y": [1.0, 2.0], "x": [1.0]}), DataError, ["dict"]),
    ("missing-response", dict(model="z ~ x + (1 | g)", data=BASE), DataError, ["'z'", "response"]),
    ("missing-predictor", dict(model="y ~ w + (1 | g)", data=BASE), DataError, ["'w'"]),
    ("missing-group", dict(model="y ~ x + (1 | h)", data=BASE), DataError, ["'h'", "grouping"]),
    ("case-hint", dict(model="Y ~ x + (1 | g)", data=BASE), DataError, ["'Y'", "did you mean 'y'"]),
    ("nan-predictor", dict(model=F, data=data(x=first_nan("x"))), DataError, ["'x'", "missing"]),
    (
        "inf-response",
        dict(model=F, data=data(y=first("y", np.inf))),
        DataError,
        ["'y'", "infinite"],
    ),
    ("nan-group", dict(model=F, data=data(g=[None, *BASE.g[1:]])), DataError, ["'g'", "missing"]),
    ("all-nan-dropna", dict(model=F, data=data(x=np.nan), dropna=True), DataError, ["every row"]),
    (
        "duplicate-column",
        dict(model=F, data=pd.concat([BASE, BASE[["x"]]], axis=1)),
        DataError,
        ["'x'", "2 times"],
    ),
    ("mixed-types", dict(model=F, data=data(x=["a", 1.0] * 20)), DataError, ["'x'", "mixes text"]),
    (
        "date-predictor",
        dict(model=F, data=data(x=pd.date_range("2020", periods=N))),
        DataError,
        ["'x'", "datetime"],
    ),
    (
        "date-response",
        dict(model=F, data=data(y=pd.date_range("2020", periods=N))),
        DataError,
        ["'y'", "datetime"],
    ),
    ("text-gaussian-response", dict(model="g ~ x", data=BASE), DataError, ["'g'", "numeric"]),
    (
        "bernoulli-2",
        dict(model="k ~ x + (1 | g)", data=BASE, family="bernoulli"),
        DataError,
        ["'k'", "0/1", "found"],
    ),
    (
        "bernoulli-4-levels",
        dict(model="g ~ x", data=BASE, family="bernoulli"),
        DataError,
        ["'g'", "two levels", "found 4"],
    ),
    (
        "poisson-negative",
        dict(model="k ~ x", data=data(k=BASE.k - 5), family="poisson"),
        DataError,
        ["'k'", "non-negative", "-"],
    ),
    (
        "poisson-fraction",
        dict(model="y ~ x", data=data(y=BASE.y.abs() + 0.5), family="poisson"),
        DataError,
        ["'y'", "whole numbers"],
    ),
    (
        "binomial-over",
        dict(model="k | trials(b) ~ x", data=BASE, family="binomial"),
        DataError,
        ["'k'", "exceed trials 'b'"],
    ),
    (
        "binomial-zero-trials",
        dict(model="b | trials(t) ~ x", data=data(t=first("t", 0)), family="binomial"),
        DataError,
        ["'t'", "at least 1"],
    ),
    ("single-level-group", dict(model=F, data=data(g="a")), DataError, ["'g'", "single level"]),
    (
        "offset-log-zero",
        dict(model="k ~ x + offset(log(t))", data=data(t=first("t", 0)), family="poisson"),
        DataError,
        ["log(t)", "non-finite"],
    ),
    # -- formula -----------------------------------------------------------------------
    ("formula-not-string", dict(model=123, data=BASE), SpecError, ["int"]),
    ("formula-no-tilde", dict(model="y x", data=BASE), FormulaError, ["'~'", "'y x'"]),
    ("formula-two-tildes", dict(model="y ~ x ~ g", data=BASE), FormulaError, ["'~'"]),
    ("formula-empty-rhs", dict(model="y ~ ", data=BASE), FormulaError, ["right of '~'"]),
    ("formula-no-response", dict(model=" ~ x", data=BASE), FormulaError, ["no response"]),
    ("formula-unbalanced", dict(model="y ~ (x + (1|g)", data=BASE), FormulaError, ["unbalanced"]),
    (
        "formula-bare-bar",
        dict(model="y ~ x + 1 | g", data=BASE),
        FormulaError,
        ["parentheses", "1 | g"],
    ),
    (
        "formula-empty-factor",
        dict(model="y ~ x + (1 | )", data=BASE),
        FormulaError,
        ["grouping factor"],
    ),
    ("formula-factor-sum", dict(model="y ~ x + (1 | g + c)", data=BASE), FormulaError, ["'g + c'"]),
    ("formula-dangling-plus", dict(model="y ~ x +", data=BASE), FormulaError, ["dangling"]),
    (
        "formula-duplicate-block",
        dict(model="y ~ x + (1|g) + (1|g)", data=BASE),
        FormulaError,
        ["(1 | g)", "twice"],
    ),
    (
        "formula-same-term-twice",
        dict(model="y ~ x + (1|g) + (1 + x|g)", data=BASE),
        FormulaError,
        ["'Intercept'", "'g'"],
    ),
    (
        "formula-cbind-one-arg",
        dict(model="cbind(k) ~ x", data=BASE, family="binomial"),
        FormulaError,
        ["cbind", "two arguments"],
    ),
    (
        "formula-bad-trials",
        dict(model="k | foo(t) ~ x", data=BASE, family="binomial"),
        FormulaError,
        ["trials(n)"],
    ),
    (
        "formula-unknown-function",
        dict(model="y ~ foo(x) + (1|g)", data=BASE),
        FormulaError,
        ["foo"],
    ),
    (
        "formula-minus-block",
        dict(model="y ~ x - (1|g)", data=BASE),
        FormulaError,
        ["subtract", "(1|g)"],
    ),
    ("formula-syntax", dict(model="y ~ x + * g", data=BASE), FormulaError, ["'*'"]),
    # -- family ------------------------------------------------------------------------
    ("family-unknown", dict(model=F, data=BASE, family="weibull"), FamilyError, ["'weibull'"]),
    ("family-not-string", dict(model=F, data=BASE, family=1), FamilyError, ["int"]),
    (
        "link-unsupported",
        dict(model="k ~ x", data=BASE, family="poisson", link="logit"),
        FamilyError,
        ["'logit'", "'poisson'"],
    ),
    (
        "bernoulli-cbind",
        dict(model="cbind(b, t) ~ x", data=BASE, family="bernoulli"),
        DataError,
        ["binomial"],
    ),
    # -- priors ------------------------------------------------------------------------
    (
        "prior-unknown-dist",
        dict(model=F, data=BASE, priors={"b": "normal2(0, 1)"}),
        PriorError,
        ["'normal2'"],
    ),
    (
        "prior-negative-scale",
        dict(model=F, data=BASE, priors={"b": "normal(0, -1)"}),
        PriorError,
        ["sigma=-1", "positive"],
    ),
    (
        "prior-unknown-key",
        dict(model=F, data=BASE, priors={"zzz": "normal(0, 1)"}),
        PriorError,
        ["'zzz'", "valid names"],
    ),
    (
        "prior-wrong-support",
        dict(model=F, data=BASE, priors={"sd": "normal(0, 1)"}),
        PriorError,
        ["sd(Intercept|g)", "positive"],
    ),
    (
        "prior-lkj-on-sd",
        dict(model=F, data=BASE, priors={"sd": "lkj(2)"}),
        PriorError,
        ["correlation support"],
    ),
    (
        "prior-unparsable",
        dict(model=F, data=BASE, priors={"b": "normal(0,,1)"}),
        PriorError,
        ["normal(0,,1)"],
    ),
    ("prior-not-dict", dict(model=F, data=BASE, priors=["normal(0,1)"]), PriorError, ["list"]),
    (
        "prior-dict-no-dist",
        dict(model=F, data=BASE, priors={"b": {"mu": 0}}),
        PriorError,
        ["'dist'"],
    ),
    (
        "prior-unknown-param",
        dict(model=F, data=BASE, priors={"b": "normal(0, 1, foo=2)"}),
        PriorError,
        ["'foo'"],
    ),
    (
        "prior-not-number",
        dict(model=F, data=BASE, priors={"b": "normal(0, 'a')"}),
        PriorError,
        ["'a'", "not a number"],
    ),
    ("prior-wrong-type", dict(model=F, data=BASE, priors={"b": 3.0}), PriorError, ["float"]),
    (
        "prior-infinite",
        dict(model=F, data=BASE, priors={"b": {"dist": "normal", "mu": 0, "sigma": float("inf")}}),
        PriorError,
        ["sigma=inf", "finite"],
    ),
    (
        "prior-nan-location",
        dict(model=F, data=BASE, priors={"b": {"dist": "normal", "mu": float("nan"), "sigma": 1}}),
        PriorError,
        ["mu=nan", "finite"],
    ),
    (
        "prior-too-many-args",
        dict(model=F, data=BASE, priors={"b": "normal(0, 1, 2)"}),
        PriorError,
        ["at most 2"],
    ),
    # -- sampler options ---------------------------------------------------------------
    ("chains-zero", dict(model=F, data=BASE, chains=0), SamplerError, ["chains", "0"]),
    ("chains-string", dict(model=F, data=BASE, chains="4"), SamplerError, ["chains", "'4'"]),
    ("draws-negative", dict(model=F, data=BASE, draws=-5), SamplerError, ["draws", "-5"]),
    ("tune-float", dict(model=F, data=BASE, tune=1.5), SamplerError, ["tune", "1.5"]),
    (
        "target-accept-high",
        dict(model=F, data=BASE, target_accept=1.5),
        SamplerError,
        ["target_accept", "1.5"],
    ),
    (
        "target-accept-nan",
        dict(model=F, data=BASE, target_accept=float("nan")),
        SamplerError,
        ["target_accept", "nan"],
    ),
    ("backend-unknown", dict(model=F, data=BASE, backend="stan"), SamplerError, ["'stan'"]),
    ("seed-negative", dict(model=F, data=BASE, seed=-1), SamplerError, ["seed", "-1"]),
    ("seed-string", dict(model=F, data=BASE, seed="abc"), SamplerError, ["seed", "'abc'"]),
    (
        "centered-unknown-factor",
        dict(model=F, data=BASE, centered={"zz": True}),
        SpecError,
        ["'zz'"],
    ),
    ("centered-bad-value", dict(model=F, data=BASE, centered="yes"), SpecError, ["'yes'", "'g'"]),
]


@pytest.fixture
def no_sampling(monkeypatch):
    """Fail the test if anything reaches the sampler (compilation happens there)."""
    import bayesmixed.sample.backends as backends

    def trap(*args, **kwargs):
        raise AssertionError("bad input reached the sampler")

    monkeypatch.setattr(backends, "run", trap)


def test_matrix_is_large_enough():
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("kwargs", "error", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_fit_input(no_sampling, kwargs, error, needles):
    with pytest.raises(error) as info:
        bm.fit(progress=False, **kwargs)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


# -- prediction data: a Fit with a placeholder posterior (errors come before draws are used) --


@pytest.fixture(scope="module")
def small_fit():
    data = BASE.assign(c=np.tile(list("pq"), 20))
    built = bm.prepare("y ~ x + c + (1 | g)", data)
    design = built.design
    zeros = np.zeros((1, 4))
    post = xr.Dataset(
        {
            "Intercept": (("chain", "draw"), zeros),
            "b": (("chain", "draw", "coef"), np.zeros((1, 4, 2))),
            "sd__g": (("chain", "draw", "g__term"), np.ones((1, 4, 1))),
            "r__g": (("chain", "draw", "g", "g__term"), np.zeros((1, 4, 4, 1))),
            "sigma": (("chain", "draw"), np.ones((1, 4))),
        },
        coords={"coef": ["x", "c[q]"], "g": list("abcd"), "g__term": ["Intercept"]},
    )
    idata = xr.DataTree.from_dict({"posterior": post})
    from bayesmixed.result import Fit

    return Fit(idata, built.meta(), design.spec, design.data, {}, {}, design)


ND = BASE.head(3)
PREDICTION_CASES = [
    ("newdata-not-frame", dict(newdata=[1, 2]), ["data frame", "list"]),
    ("newdata-no-rows", dict(newdata=ND.iloc[:0]), ["no rows"]),
    ("newdata-missing-predictor", dict(newdata=ND.drop(columns="x")), ["'x'"]),
    ("newdata-missing-group", dict(newdata=ND.drop(columns="g")), ["'g'", "grouping"]),
    ("newdata-nan", dict(newdata=ND.assign(x=[np.nan, 1.0, 2.0])), ["'x'", "missing"]),
    ("newdata-inf", dict(newdata=ND.assign(x=[np.inf, 1.0, 2.0])), ["'x'", "infinite"]),
    ("newdata-unseen-category", dict(newdata=ND.assign(c=["p", "zz", "q"])), ["zz", "'c'"]),
    ("newdata-text-predictor", dict(newdata=ND.assign(x=["a", "b", "c"])), ["'a'"]),
    ("predict-kind", dict(newdata=ND, kind="foo"), ["kind", "'foo'"]),
    ("predict-groups", dict(newdata=ND, groups="bar"), ["groups", "'bar'"]),
    ("predict-prob", dict(newdata=ND, prob=2.0), ["prob", "2.0"]),
    ("predict-draws", dict(newdata=ND, draws=-1), ["draws", "-1"]),
]


@pytest.mark.parametrize(
    ("kwargs", "needles"), [c[1:] for c in PREDICTION_CASES], ids=[c[0] for c in PREDICTION_CASES]
)
def test_bad_prediction_input(small_fit, kwargs, needles):
    with pytest.raises(PredictionError) as info:
        small_fit.predict(**kwargs)
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {info.value}"


def test_good_prediction_input_passes_the_checks(small_fit):
    """The placeholder fit predicts for valid new data (so the cases above fail for their
    stated reason, not because the fixture is broken)."""
    out = small_fit.predict(ND.assign(g=["a", "zz", "b"]))
    assert len(out) == 3
    assert np.isfinite(out["mean"].to_numpy()).all()


def test_errors_are_value_errors_naming_the_class():
    """Every bayesmixed error is a ValueError, catchable as BayesmixedError."""
    for _, _kwargs, error, _ in CASES:
        assert issubclass(error, bm.BayesmixedError) and issubclass(error, ValueError)
