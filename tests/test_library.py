"""The model library: every entry is complete, builds, and carries faithful reference values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed import library
from bayesmixed.datasets import DATASETS
from bayesmixed.design.matrices import build_design
from bayesmixed.errors import SpecError
from bayesmixed.formula.yaml_spec import spec_from_dict, spec_to_dict
from bayesmixed.report.core.params import parameter_kinds

NAMES = library.names()
LME4 = json.loads((Path(__file__).parent / "data" / "lme4_reference.json").read_text())

#: lme4's names of non-intercept coefficients -> bayesmixed's (treatment-coded factor levels)
LME4_FIXEF = {"period2": "period[2]", "period3": "period[3]", "period4": "period[4]",
              "trtprogabide": "trt[progabide]", "lbase:trtprogabide": "lbase:trt[progabide]"}
#: lme4's grouping names -> bayesmixed's (lme4 writes the nested factor cask:batch)
LME4_GROUP = {"cask:batch": "batch:cask"}


def test_library_has_at_least_eight_models_with_files():
    assert len(NAMES) >= 8
    assert {"sleepstudy", "cbpp", "penicillin", "pastes", "epil", "contraception", "radon",
            "verbagg", "bacteria", "grouseticks"} <= set(NAMES)
    assert all((library.models_dir() / f"{n}.yaml").is_file() for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_entry_is_complete(name):
    m = library.get(name)
    assert m.name == name and m.title and len(m.description) > 200
    assert m.data in DATASETS
    assert set(m.sampler) <= library.SAMPLER_KEYS and m.sampler["chains"] >= 1
    assert m.references, "each entry cites its literature"
    if m.reference is not None:
        assert m.reference["source"] and m.reference["method"] and m.reference_estimates()


@pytest.mark.parametrize("name", NAMES)
def test_every_model_builds(name):
    """prepare() validates the data and builds the PyMC graph (no compilation, no sampling)."""
    m = library.get(name)
    data = m.load_data()
    built = bm.prepare(m.spec, data)
    assert built.design.n_obs == len(data)
    assert built.model.free_RVs, "the model has parameters"
    assert [b.factor for b in built.design.blocks] == [g.factor for g in m.spec.groups]
    kinds = parameter_kinds(built.meta())
    for key in m.reference_estimates():
        assert key in kinds, f"reference value {key!r} names no parameter of {name}"


@pytest.mark.parametrize("name", NAMES)
def test_spec_round_trips_through_dict(name):
    """What a run folder stores (spec_to_dict) rebuilds the same design."""
    m = library.get(name)
    spec = m.spec
    again = spec_from_dict(spec_to_dict(spec))
    assert (again.response, again.fixed, again.family, again.link, again.offset) == \
        (spec.response, spec.fixed, spec.family, spec.link, spec.offset)
    data = m.load_data()
    d1, d2 = build_design(spec, data), build_design(again, data)
    assert d1.x_names == d2.x_names
    assert [(b.factor, b.terms, b.levels, b.correlated) for b in d1.blocks] == \
        [(b.factor, b.terms, b.levels, b.correlated) for b in d2.blocks]
    for b1, b2 in zip(d1.blocks, d2.blocks, strict=True):
        np.testing.assert_array_equal(b1.Z, b2.Z)


def _lme4_expected(entry: dict) -> dict[str, float]:
    out = {("Intercept" if k == "(Intercept)" else LME4_FIXEF.get(k, k)): v
           for k, v in entry["fixef"].items()}
    for row in entry["varcorr"]:
        grp = LME4_GROUP.get(row["grp"], row["grp"])
        if grp == "Residual":
            out["sigma"] = row["sdcor"]
        elif row["var2"] is None:
            term = "Intercept" if row["var1"] == "(Intercept)" else row["var1"]
            out[f"sd({term}|{grp})"] = row["sdcor"]
        else:
            t1, t2 = ("Intercept" if v == "(Intercept)" else v for v in (row["var1"], row["var2"]))
            out[f"cor({t1},{t2}|{grp})"] = row["sdcor"]
    return out


@pytest.mark.parametrize("name", sorted(LME4))
def test_reference_values_copied_faithfully_from_lme4(name):
    m = library.get(name)
    entry = LME4[name]
    assert m.reference_estimates() == pytest.approx(_lme4_expected(entry), rel=1e-12)
    ses = {("Intercept" if k == "(Intercept)" else LME4_FIXEF.get(k, k)): v
           for k, v in entry["fixef_se"].items()}
    assert m.reference["std_errors"] == pytest.approx(ses, rel=1e-12)
    assert m.reference["method"] == entry["method"] and m.reference["nobs"] == entry["nobs"]
    assert bm.make_spec(entry["formula"], "gaussian").formula.replace(" ", "") == \
        bm.make_spec(m.reference["lme4_formula"], "gaussian").formula.replace(" ", "")


def test_dyestuff_reference_equals_closed_form_reml():
    """Balanced one-way design: REML = ANOVA estimator, computed here from the data."""
    m = library.get("dyestuff")
    d = m.load_data()
    g = d.groupby("Batch")["Yield"]
    n, k = int(g.size().iloc[0]), g.ngroups
    msw = float(((d["Yield"] - g.transform("mean")) ** 2).sum() / (k * (n - 1)))
    msb = float(n * ((g.mean() - d["Yield"].mean()) ** 2).sum() / (k - 1))
    est = m.reference_estimates()
    assert est["Intercept"] == pytest.approx(d["Yield"].mean(), abs=1e-9)
    assert est["sigma"] == pytest.approx(np.sqrt(msw), abs=1e-4)
    assert est["sd(Intercept|Batch)"] == pytest.approx(np.sqrt((msb - msw) / n), abs=1e-4)
    assert m.reference["std_errors"]["Intercept"] == pytest.approx(np.sqrt(msb / (n * k)), abs=1e-4)


def test_table_lists_every_model():
    t = library.table()
    assert list(t.index) == NAMES
    assert t.loc["contraception", "family"] == "bernoulli"
    assert t.loc["sleepstudy", "reference_values"] == 6


def test_unknown_model_names_the_available_ones():
    with pytest.raises(SpecError, match=r"no library model named 'nope'.*sleepstudy"):
        library.get("nope")
    assert library.get("SleepStudy").name == "sleepstudy"


GOOD = """\
name: tiny
title: Tiny
description: A tiny model.
data: sleepstudy
formula: Reaction ~ Days + (1 | Subject)
family: gaussian
sampler: {chains: 2}
"""


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (("title: Tiny\n", ""), "lacks 'title'"),
        (("data: sleepstudy", "data: nosuchdata"), "unknown data set"),
        (("{chains: 2}", "{chanes: 2}"), "unknown sampler setting 'chanes'"),
        (("name: tiny", "name: other"), "name it like its file"),
        (("formula: Reaction ~ Days + (1 | Subject)", "formula: Reaction ~ (1 |"), "tiny"),
    ],
)
def test_malformed_entries_are_refused(tmp_path, monkeypatch, change, match):
    (tmp_path / "tiny.yaml").write_text(GOOD.replace(*change))
    monkeypatch.setenv("BAYESMIXED_MODELS", str(tmp_path))
    with pytest.raises(SpecError, match=match):
        library.get("tiny")


def test_models_dir_can_be_redirected(tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(GOOD)
    monkeypatch.setenv("BAYESMIXED_MODELS", str(tmp_path))
    assert library.names() == ["tiny"]
    assert library.get("tiny").spec.formula == "Reaction ~ Days + (1 | Subject)"
