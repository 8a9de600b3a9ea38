"""Table-driven tests of the formula layer: formula -> expected terms."""

from __future__ import annotations

import pytest

from bayesmixed.errors import FormulaError
from bayesmixed.formula.parse import expand_factor, parse_formula, split_top_level

# formula, response (kind, expr, other), fixed rhs, groups [(factor, expr, correlated)], offset
CASES = [
    ("y ~ x", ("single", "y", None), "x", [], None),
    ("y ~ x + treatment", ("single", "y", None), "x + treatment", [], None),
    ("y ~ x * z", ("single", "y", None), "x * z", [], None),
    ("y ~ x + I(x**2) + np.log(w)", ("single", "y", None), "x + I(x**2) + np.log(w)", [], None),
    ("y ~ 0 + x", ("single", "y", None), "0 + x", [], None),
    ("y ~ x - 1", ("single", "y", None), "x - 1", [], None),
    ("y ~ -1 + x", ("single", "y", None), "1 - 1 + x", [], None),
    ("y ~ 1", ("single", "y", None), "1", [], None),
    ("y ~ (1 | g)", ("single", "y", None), "1", [("g", "1", True)], None),
    ("y ~ x + (1 + x | school)", ("single", "y", None), "x", [("school", "1 + x", True)], None),
    ("y ~ x + (x | school)", ("single", "y", None), "x", [("school", "1 + x", True)], None),
    ("y ~ x + (x || school)", ("single", "y", None), "x", [("school", "1 + x", False)], None),
    ("y ~ x + (0 + x | g)", ("single", "y", None), "x", [("g", "0 + x", True)], None),
    ("y ~ 1 + (1 | a/b)", ("single", "y", None), "1", [("a", "1", True), ("a:b", "1", True)], None),
    (
        "y ~ 1 + (1 | a/b/c)",
        ("single", "y", None),
        "1",
        [("a", "1", True), ("a:b", "1", True), ("a:b:c", "1", True)],
        None,
    ),
    ("y ~ 1 + (1 | a:b)", ("single", "y", None), "1", [("a:b", "1", True)], None),
    (
        "y ~ 1 + (1 | plate) + (1 | sample)",
        ("single", "y", None),
        "1",
        [("plate", "1", True), ("sample", "1", True)],
        None,
    ),
    (
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        ("cbind", "incidence", "size - incidence"),
        "period",
        [("herd", "1", True)],
        None,
    ),
    ("s | trials(n) ~ x", ("trials", "s", "n"), "x", [], None),
    ("p(s, n) ~ x", ("trials", "s", "n"), "x", [], None),
    ("y ~ x + offset(log(exposure))", ("single", "y", None), "x", [], "log(exposure)"),
    ("y ~ offset(log(t)) + x + (1 | g)", ("single", "y", None), "x", [("g", "1", True)], "log(t)"),
    ("log(y) ~ x", ("single", "log(y)", None), "x", [], None),
]


@pytest.mark.parametrize(("formula", "response", "fixed", "groups", "offset"), CASES)
def test_formula_terms(formula, response, fixed, groups, offset):
    spec = parse_formula(formula)
    assert (spec.response.kind, spec.response.expr, spec.response.other) == response
    assert spec.fixed == fixed
    assert [(g.factor, g.expr, g.correlated) for g in spec.groups] == groups
    assert spec.offset == offset


@pytest.mark.parametrize("formula", [c[0] for c in CASES])
def test_formula_round_trip(formula):
    """The spec's formula parses back to the same spec."""
    spec = parse_formula(formula)
    assert parse_formula(spec.formula) == spec


BAD = [
    ("y x", "exactly one '~'"),
    ("~ x", "no response"),
    ("y ~", "no terms"),
    ("y ~ x +", "dangling"),
    ("y ~ x + (1|g", "unbalanced"),
    ("y ~ x + )(", "unbalanced"),
    ("y ~ x | g", "must be in parentheses"),
    ("y ~ (1|)", "no grouping factor"),
    ("y ~ (1|g+h)", "not supported"),
    ("y ~ (1|g) + (1|g)", "appears twice"),
    ("y ~ x +* z", "cannot parse"),
    ("y ~ x - (1|g)", "cannot subtract"),
    ("cbind(s) ~ x", "exactly two arguments"),
    ("s | n ~ x", "trials(n)"),
]


@pytest.mark.parametrize(("formula", "message"), BAD)
def test_formula_errors(formula, message):
    with pytest.raises(
        FormulaError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("+", r"\+")
        .replace("*", r"\*"),
    ):
        parse_formula(formula)


def test_split_top_level_respects_nesting_and_exponents():
    assert split_top_level("x + I(a - b) - 1", "+-") == [("", "x"), ("+", "I(a - b)"), ("-", "1")]
    assert split_top_level("x + 1e-3", "+-") == [("", "x"), ("+", "1e-3")]
    assert split_top_level("f('a+b') + c", "+") == [("", "f('a+b')"), ("+", "c")]


def test_expand_factor():
    assert expand_factor("a") == ["a"]
    assert expand_factor("a/b") == ["a", "a:b"]
    assert expand_factor("a:b") == ["a:b"]
    with pytest.raises(FormulaError):
        expand_factor("a/")
