"""Posteriors of classic models contain lme4's estimates.

Reference: lme4 fits recorded in ``tests/data/lme4_reference.json`` (provenance in
``tests/data/README.md``). For each data set every lme4 estimate (fixed effects, standard
deviations, correlations, residual sd) must lie inside the posterior 95% interval, and every
parameter must have converged (R-hat <= 1.01). With weakly informative priors the posterior mode
sits near the ML/REML estimate, so an estimate outside the central 95% interval would signal a
wrong model (coding, link, nesting) rather than Monte Carlo noise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import bayesmixed as bm

HERE = Path(__file__).parent
REF = json.loads((HERE / "data" / "lme4_reference.json").read_text())
SHARED = HERE.parents[1] / "shared" / "reference" / "lme4_reference.json"

CASES = {
    # key: (data set, family, formula in bayesmixed syntax, sampler settings)
    "sleepstudy": ("sleepstudy", "gaussian", "Reaction ~ Days + (Days | Subject)", {}),
    "cbpp": ("cbpp", "binomial", "cbind(incidence, size - incidence) ~ period + (1 | herd)", {}),
    "penicillin": ("penicillin", "gaussian", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),
    # 10 batches with a small between-batch sd: a funnel that needs smaller steps (as in brms)
    "pastes": (
        "pastes",
        "gaussian",
        "strength ~ 1 + (1 | batch/cask)",
        {"target_accept": 0.95, "draws": 2000},
    ),
    "epil": ("epil", "poisson", "y ~ lbase * trt + lage + V4 + (1 | subject)", {}),
}


def r_name_to_ours(name: str) -> str:
    """lme4 coefficient names -> formulae/bayesmixed names (period2 -> period[2])."""
    if name == "(Intercept)":
        return "Intercept"
    parts = []
    for p in name.split(":"):
        m = re.match(r"^(period|trt)(.+)$", p)
        parts.append(f"{m.group(1)}[{m.group(2)}]" if m else p)
    return ":".join(parts)


def r_group_to_ours(grp: str) -> str:
    """lme4 writes nested factors inner:outer (cask:batch); bayesmixed outer:inner."""
    return ":".join(reversed(grp.split(":"))) if ":" in grp else grp


def expected_rows(ref: dict) -> dict[str, float]:
    rows = {r_name_to_ours(k): v for k, v in ref["fixef"].items()}
    for vc in ref["varcorr"]:
        if vc["grp"] == "Residual":
            rows["sigma"] = vc["sdcor"]
            continue
        grp = r_group_to_ours(vc["grp"])
        v1 = r_name_to_ours(vc["var1"])
        if vc["var2"] is None:
            rows[f"sd({v1}|{grp})"] = vc["sdcor"]
        else:
            rows[f"cor({v1},{r_name_to_ours(vc['var2'])}|{grp})"] = vc["sdcor"]
    return rows


def test_reference_copy_matches_shared():
    if not SHARED.exists():
        pytest.skip("shared/reference is not beside this clone")
    assert json.loads(SHARED.read_text()) == REF


@pytest.mark.parametrize("key", list(CASES))
def test_lme4_estimates_inside_posterior_interval(key):
    data_name, family, formula, settings = CASES[key]
    ref = REF[key]
    df = bm.datasets.load(data_name)
    assert len(df) == ref["nobs"]
    options = {"chains": 4, "draws": 1000, "tune": 1000, "seed": 20261124, **settings}
    fit = bm.fit(formula, df, family, progress=False, **options)
    table = fit.summary()
    expected = expected_rows(ref)
    assert set(expected) <= set(table.index), set(expected) - set(table.index)
    outside = {
        name: (value, table.loc[name, "2.5%"], table.loc[name, "97.5%"])
        for name, value in expected.items()
        if not table.loc[name, "2.5%"] <= value <= table.loc[name, "97.5%"]
    }
    assert not outside, f"lme4 estimates outside the 95% interval: {outside}"
    rhat = table["r_hat"].dropna()
    assert (rhat <= 1.01).all(), rhat[rhat > 1.01]
    assert fit.diagnostics().divergences == 0
