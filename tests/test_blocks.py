"""The registry of random-effects block forms (graph/blocks.py) and the names module.

Every form in the registry is picked by some model, plans are keyed by block label, and the
names formatted by :mod:`bayesmixed.names` parse back to what they were made from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed import names
from bayesmixed.design.default_priors import resolve_priors
from bayesmixed.graph.blocks import FORMS, plan_blocks
from bayesmixed.graph.mean_plan import hier_target
from bayesmixed.graph.pivot import pivot_block

SLEEP = "Reaction ~ Days + (Days | Subject)"


def unbalanced(seed: int = 13) -> pd.DataFrame:
    """One level with 400 rows and 24 with 1-4 rows: its level becomes the pivot."""
    rng = np.random.default_rng(seed)
    sizes = np.r_[400, rng.integers(1, 5, 24)]
    g = np.repeat(np.arange(sizes.size), sizes)
    x = rng.normal(size=g.size)
    eta = -0.3 + 0.8 * x + rng.normal(0, 0.7, sizes.size)[g]
    y = (rng.random(g.size) < special.expit(eta)).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j:02d}" for j in g]})


def forms_of(built) -> dict[str, str]:
    d = built.design
    pivot = pivot_block(d, built.choices, built.priors.get("Intercept"), hier_target(d, built.choices))
    return {k: p.form for k, p in plan_blocks(d, built.priors, built.choices, pivot).items()}


@pytest.mark.parametrize(
    "formula, data, family, kwargs, expected",
    [
        (SLEEP, "sleepstudy", None, {"centered": True}, "centered-correlated"),
        ("Reaction ~ Days + (Days || Subject)", "sleepstudy", None, {"centered": True}, "centered"),
        (SLEEP, "sleepstudy", None, {"centered": False}, "non-centered"),
        (SLEEP, "sleepstudy", None, {"centered": "partial"}, "partial"),
        ("y ~ x + (1 | g)", None, "bernoulli", {}, "pivot"),
    ],
)
def test_every_form_is_picked_by_some_model(formula, data, family, kwargs, expected):
    df = bm.datasets.load(data) if data else unbalanced()
    built = bm.prepare(formula, df, family, aggregate=False, **kwargs)
    label = built.design.blocks[0].label
    assert forms_of(built)[label] == expected
    assert expected in FORMS
    free = {v.name for v in built.model.free_RVs}
    sampled = {"centered-correlated": "r_raw", "centered": "r_raw", "non-centered": "z",
               "partial": "p", "pivot": "pivot"}[expected]
    assert f"{sampled}__{label}" in free


def test_registry_has_exactly_the_forms_models_pick():
    assert set(FORMS) == {"non-centered", "centered", "centered-correlated", "partial", "pivot"}


def test_centered_correlated_block_uses_the_linear_time_density():
    built = bm.prepare(SLEEP, bm.datasets.load("sleepstudy"), centered=True, aggregate=False)
    rv = built.model["r_raw__Subject"]
    assert "MvNormal" not in type(rv.owner.op).__name__  # the CustomDist of fast_mvnormal
    assert built.model.rvs_to_values[rv] is not None


def test_plans_are_keyed_by_block_label():
    df = bm.datasets.load("sleepstudy")
    built = bm.prepare("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", df,
                       centered=False, aggregate=False)
    plans = plan_blocks(built.design, built.priors, built.choices)
    assert list(plans) == ["Subject", "Subject_2"]
    assert plans["Subject_2"].sd_priors == (built.priors["sd(Days|Subject)"],)


@pytest.mark.parametrize("term, factor", [("Intercept", "g"), ("x:z", "a:b"), ("I(x ** 2)", "g")])
def test_names_parse_back(term, factor):
    assert names.parse_prior_key(names.sd_label(term, factor)) == ("sd", (term,), factor)
    assert names.parse_prior_key(names.cor_label(term, "x", factor)) == ("cor", (term, "x"), factor)
    assert names.parse_prior_key(names.cor_prior_key(factor)) == ("cor", (), factor)
    assert names.parse_prior_key(names.sd_factor_key(factor)) == ("sd", (), factor)
    assert names.factor_of(names.sd_label(term, factor)) == factor
    assert names.parse_prior_key(term) is None


def test_prior_keys_match_the_default_priors():
    design = bm.prepare(SLEEP, bm.datasets.load("sleepstudy")).design
    keys = set(resolve_priors(design))
    assert {names.sd_label("Intercept", "Subject"), names.sd_label("Days", "Subject"),
            names.cor_prior_key("Subject")} <= keys
