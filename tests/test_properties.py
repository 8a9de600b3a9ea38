"""Property-based tests (hypothesis) of the formula parser and the input validator.

Each property states what must hold for every input of a kind: the parser round-trips its own
output, never fails with anything but a bayesmixed error, and the validator accepts exactly the
responses a family allows and names the column at fault otherwise.
"""

from __future__ import annotations

import keyword

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bayesmixed.design.matrices import build_design
from bayesmixed.design.validate import clean_rows
from bayesmixed.errors import BayesmixedError, DataError, PriorError
from bayesmixed.formula.parse import expand_factor, parse_formula, split_top_level
from bayesmixed.formula.priors import DISTRIBUTIONS, Prior, as_prior

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESERVED = {
    "I",
    "C",
    "np",
    "log",
    "exp",
    "sqrt",
    "abs",
    "round",
    "scale",
    "center",
    "offset",
    "cbind",
    "trials",
    "p",
    "prop",
    "True",
    "False",
    "None",
}

names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in RESERVED and not keyword.iskeyword(s)
)


@st.composite
def formulas(draw):
    """Well-formed lme4-style formulas over distinct names."""
    pool = draw(st.lists(names, min_size=5, max_size=8, unique=True))
    y, factors, preds = pool[0], pool[1:3], pool[3:]
    fixed = draw(st.lists(st.sampled_from(preds), min_size=0, max_size=len(preds), unique=True))
    rhs = [*fixed] if fixed else ["1"]
    if draw(st.booleans()):
        rhs.insert(0, "0" if draw(st.booleans()) else "1")
    for f in draw(st.lists(st.sampled_from(factors), min_size=0, max_size=2, unique=True)):
        terms = draw(st.lists(st.sampled_from(preds), max_size=2, unique=True))
        bar = draw(st.sampled_from(["|", "||"]))
        rhs.append(f"({' + '.join(['1', *terms])} {bar} {f})")
    return f"{y} ~ {' + '.join(rhs)}"


@SETTINGS
@given(formulas())
def test_parser_round_trips_its_own_output(formula):
    spec = parse_formula(formula)
    again = parse_formula(spec.formula)
    assert again == spec
    assert again.formula == spec.formula


@SETTINGS
@given(st.text(alphabet="yx g~+-()|1:*/, ab", max_size=30))
def test_parser_fails_only_with_formula_errors(text):
    try:
        spec = parse_formula(text)
    except BayesmixedError:
        return
    assert "~" in text and spec.response.expr


@SETTINGS
@given(st.lists(names, min_size=1, max_size=4, unique=True))
def test_nested_factor_expands_to_prefixes(parts):
    out = expand_factor("/".join(parts))
    assert out == [":".join(parts[: k + 1]) for k in range(len(parts))]


@SETTINGS
@given(
    st.lists(st.sampled_from(["a", "b1", "(c + d)", "I(e - f)", "g:h"]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["+", "-"]), min_size=6, max_size=6),
)
def test_split_top_level_respects_parentheses(pieces, signs):
    text = pieces[0] + "".join(f" {s} {p}" for s, p in zip(signs, pieces[1:], strict=False))
    out = split_top_level(text, "+-")
    assert [p for _, p in out] == pieces
    assert [s for s, _ in out[1:]] == signs[: len(pieces) - 1]


def frame(y, seed=0):
    rng = np.random.default_rng(seed)
    n = len(y)
    return pd.DataFrame({"y": y, "x": rng.normal(size=n), "g": [f"g{i % 3}" for i in range(n)]})


@SETTINGS
@given(st.lists(st.integers(-3, 3), min_size=6, max_size=30))
def test_bernoulli_accepts_exactly_zero_one(values):
    df = frame(values)
    spec = parse_formula("y ~ x + (1 | g)", "bernoulli")
    if set(values) <= {0, 1}:
        assert build_design(spec, df).y.tolist() == values
    else:
        try:
            build_design(spec, df)
        except DataError as exc:
            assert "'y'" in str(exc) and "0/1" in str(exc)
        else:
            raise AssertionError("non 0/1 response accepted")


@SETTINGS
@given(
    st.lists(
        st.one_of(st.integers(-5, 50), st.floats(-5, 50, allow_nan=False)), min_size=6, max_size=30
    ),
    st.sampled_from(["poisson", "negbinomial"]),
)
def test_count_families_accept_exactly_non_negative_integers(values, family):
    df = frame(np.asarray(values, dtype=float))
    spec = parse_formula("y ~ x + (1 | g)", family)
    ok = all(float(v).is_integer() and v >= 0 for v in values)
    if ok:
        assert build_design(spec, df).y.tolist() == [int(v) for v in values]
    else:
        try:
            build_design(spec, df)
        except DataError as exc:
            assert "'y'" in str(exc)
        else:
            raise AssertionError(f"bad counts accepted: {values}")


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=6, max_size=20))
def test_binomial_needs_successes_within_positive_trials(rows):
    s, n = map(list, zip(*rows, strict=True))
    df = frame(s).assign(n=n)
    spec = parse_formula("y | trials(n) ~ x + (1 | g)", "binomial")
    if all(0 < t and k <= t for k, t in rows):
        d = build_design(spec, df)
        assert d.y.tolist() == s and d.trials.tolist() == n
    else:
        try:
            build_design(spec, df)
        except DataError as exc:
            assert "'y'" in str(exc) or "'n'" in str(exc)
        else:
            raise AssertionError("bad binomial rows accepted")


@SETTINGS
@given(st.lists(st.booleans(), min_size=5, max_size=40), st.sampled_from(["y", "x", "g"]))
def test_missing_values_are_named_or_dropped_and_counted(missing, column):
    assume(not all(missing))
    n = len(missing)
    df = frame(np.zeros(n))
    values = df[column].astype(object).to_numpy().copy()
    values[np.asarray(missing)] = None
    df[column] = values
    used = {"y": "response y", "x": "term 'x'", "g": "grouping factor"}
    if any(missing):
        try:
            clean_rows(df, used, dropna=False)
        except DataError as exc:
            assert f"column {column!r}" in str(exc)
            assert f"{sum(missing)} missing" in str(exc)
        else:
            raise AssertionError("missing values accepted")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept, dropped = clean_rows(df, used, dropna=True)
    assert dropped == sum(missing) and len(kept) == n - sum(missing)


@SETTINGS
@given(
    st.sampled_from(sorted(DISTRIBUTIONS)),
    st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=3),
)
def test_prior_parameters_are_validated(dist, values):
    params = dict(zip(DISTRIBUTIONS[dist][0], values, strict=False))
    if dist == "Uniform":  # bounds: any reals with lower < upper
        valid = params["lower"] < params["upper"]
    else:
        valid = all(v > 0 or k == "mu" for k, v in params.items())
    text = f"{dist}({', '.join(f'{k}={v!r}' for k, v in params.items())})"
    if valid:
        p = as_prior(text)
        assert isinstance(p, Prior) and p.dist == dist
        assert as_prior(p.to_dict()) == p
    else:
        try:
            as_prior(text)
        except PriorError as exc:
            if dist == "Uniform":
                assert "lower" in str(exc) and "upper" in str(exc)
            else:
                bad = next(k for k, v in params.items() if not (v > 0 or k == "mu"))
                assert bad in str(exc)
        else:
            raise AssertionError(f"invalid prior accepted: {text}")


@SETTINGS
@given(st.text(max_size=20))
def test_prior_strings_fail_only_with_prior_errors(text):
    try:  # any other exception type fails the test
        assert isinstance(as_prior(text, "b"), Prior)
    except PriorError as exc:
        assert "prior" in str(exc)
