"""Hierarchical (dict / YAML) specs are equivalent to formulas."""

from __future__ import annotations

import pytest
import yaml

from bayesmixed.api import make_spec
from bayesmixed.errors import PriorError, SpecError
from bayesmixed.formula.parse import parse_formula
from bayesmixed.formula.priors import Prior
from bayesmixed.formula.yaml_spec import load_spec, spec_from_dict, spec_to_dict

EQUIVALENT = [
    (
        {
            "response": "y",
            "family": "bernoulli",
            "fixed": "x + treatment",
            "groups": [{"factor": "school", "slopes": ["x"]}],
        },
        "y ~ x + treatment + (1 + x | school)",
    ),
    (
        {
            "response": "y",
            "fixed": "x",
            "groups": [{"factor": "g", "slopes": ["x"], "correlated": False}],
        },
        "y ~ x + (x || g)",
    ),
    (
        {"response": "strength", "groups": [{"factor": "batch/cask"}]},
        "strength ~ 1 + (1 | batch/cask)",
    ),
    (
        {
            "response": {"successes": "incidence", "failures": "size - incidence"},
            "family": "binomial",
            "fixed": "period",
            "groups": [{"factor": "herd"}],
        },
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
    ),
    (
        {"response": {"successes": "s", "trials": "n"}, "family": "binomial", "fixed": "x"},
        "s | trials(n) ~ x",
    ),
    (
        {
            "response": "y",
            "family": "poisson",
            "fixed": "x",
            "offset": "log(t)",
            "groups": [{"factor": "a"}, {"factor": "b"}],
        },
        "y ~ x + offset(log(t)) + (1 | a) + (1 | b)",
    ),
    (
        {
            "response": "y",
            "fixed": "0 + x",
            "groups": [{"factor": "g", "intercept": False, "slopes": "x"}],
        },
        "y ~ 0 + x + (0 + x | g)",
    ),
]


@pytest.mark.parametrize(("d", "formula"), EQUIVALENT)
def test_dict_spec_equals_formula(d, formula):
    spec = spec_from_dict(d)
    expected = parse_formula(formula, d.get("family", "gaussian"))
    assert spec == expected


@pytest.mark.parametrize(("d", "formula"), EQUIVALENT)
def test_dict_round_trip(d, formula):
    spec = spec_from_dict(d)
    assert spec_from_dict(spec_to_dict(spec)) == spec


def test_yaml_file_with_priors_and_centering(tmp_path):
    text = """
name: demo
description: a teaching example
response: y
family: bernoulli
link: probit
fixed: x
groups:
  - factor: school
    slopes: [x]
    centered: false
priors:
  b: normal(0, 1)
  sd(school): {dist: HalfNormal, sigma: 0.5}
"""
    path = tmp_path / "m.yaml"
    path.write_text(text)
    spec, meta = load_spec(path)
    assert spec.link == "probit" and spec.family == "bernoulli"
    assert spec.priors["b"] == Prior("Normal", {"mu": 0, "sigma": 1})
    assert spec.priors["sd(school)"] == Prior("HalfNormal", {"sigma": 0.5})
    assert spec.centered == {"school": False}
    assert meta["name"] == "demo"
    # make_spec accepts the path, and the formula route gives the same model
    assert make_spec(str(path)) == parse_formula("y ~ x + (1 + x | school)", "bernoulli", "probit")
    # and the dict written back is valid YAML that loads to the same spec
    again = spec_from_dict(yaml.safe_load(yaml.safe_dump(spec_to_dict(spec))))
    assert again == spec and again.priors == spec.priors


@pytest.mark.parametrize(
    ("d", "err", "msg"),
    [
        ({"family": "gaussian"}, SpecError, "needs a 'response'"),
        ({"response": "y", "groupz": []}, SpecError, "unknown spec key 'groupz'"),
        ({"response": "y", "groups": [{"level": "g"}]}, SpecError, "'factor'"),
        ({"response": "y", "groups": [{"factor": "g", "intercept": False}]}, SpecError, "neither"),
        (
            {"response": "y", "groups": [{"factor": "g", "centered": "maybe"}]},
            SpecError,
            "centered",
        ),
        ({"response": "y", "fixed": "x + (1|g)"}, SpecError, "population-level terms only"),
        ({"response": "y", "formula": "y ~ x"}, SpecError, "not both"),
        ({"response": "y", "priors": {"b": "normal(0)"}}, PriorError, "sigma"),
        (
            {"response": "y", "priors": {"b": "wibble(0, 1)"}},
            PriorError,
            "unknown prior distribution",
        ),
        (
            {"response": "y", "priors": {"b": {"dist": "Normal", "mu": 0, "sigma": -1}}},
            PriorError,
            "positive",
        ),
    ],
)
def test_bad_dict_specs(d, err, msg):
    with pytest.raises(err, match=msg):
        spec_from_dict(d)


def test_missing_yaml_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml")
