"""Hypotheses (brms-style) against closed forms: a conjugate normal model with known posterior
and prior densities at the point, evidence ratio p / (1 - p), share inside a ROPE; the parser's
safety; the Fit method and the command line on a small fit."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import bayesmixed as bm
from bayesmixed.cli import main
from bayesmixed.report.compare.hypothesis import (
    HypothesisError,
    density_at,
    hypothesis_table,
    parse_hypothesis,
)

N = 40_000
META = {"x_names": ["Intercept", "x", "btype[scold]", "btype[shout]"], "blocks": [],
        "family": "gaussian"}


def draws_tree(rng, group_values: dict[str, np.ndarray]) -> xr.Dataset:
    """A (chain, draw) Dataset with Intercept and b[coef] as the fit's posterior holds them."""
    names = META["x_names"][1:]
    b = np.stack([group_values[n] for n in names], axis=-1)[None]
    return xr.Dataset(
        {"Intercept": (("chain", "draw"), group_values["Intercept"][None]),
         "b": (("chain", "draw", "coef"), b)},
        coords={"chain": [0], "draw": np.arange(b.shape[1]), "coef": names},
    )


@pytest.fixture(scope="module")
def conjugate():
    """y_i ~ N(mu, 1), i = 1..n, mu ~ N(0, tau0): posterior N(m, s) in closed form; the other
    coefficients are independent normals with known moments."""
    rng = np.random.default_rng(42)
    n, tau0, ybar = 10, 2.0, 0.45
    s2 = 1 / (n + 1 / tau0**2)
    m, s = s2 * n * ybar, np.sqrt(s2)
    post = {"Intercept": rng.normal(1.0, 0.5, N), "x": rng.normal(m, s, N),
            "btype[scold]": rng.normal(0.3, 0.2, N), "btype[shout]": rng.normal(0.1, 0.2, N)}
    prior = {"Intercept": rng.normal(0, 5, N), "x": rng.normal(0, tau0, N),
             "btype[scold]": rng.normal(0, 1, N), "btype[shout]": rng.normal(0, 1, N)}
    idata = xr.DataTree.from_dict({"posterior": draws_tree(rng, post)})
    return idata, draws_tree(rng, prior), {"m": m, "s": s, "tau0": tau0}


def test_savage_dickey_matches_the_conjugate_closed_form(conjugate):
    idata, prior, k = conjugate
    table = hypothesis_table(idata, META, ["x = 0"], prior=prior)
    bf01 = stats.norm.pdf(0, k["m"], k["s"]) / stats.norm.pdf(0, 0, k["tau0"])
    row = table.loc["x = 0"]
    assert row["evid_ratio"] == pytest.approx(bf01, rel=0.05)  # KDE smoothing + MC error
    assert row["post_prob"] == pytest.approx(bf01 / (1 + bf01), rel=0.03)
    assert row["estimate"] == pytest.approx(k["m"], abs=4 * k["s"] / np.sqrt(N))
    assert row["est_error"] == pytest.approx(k["s"], rel=0.02)
    lo, hi = stats.norm.ppf([0.025, 0.975], k["m"], k["s"])
    assert (row["2.5%"], row["97.5%"]) == pytest.approx((lo, hi), abs=0.02)
    assert row["note"] == ""


def test_difference_of_coefficients_point_hypothesis(conjugate):
    idata, prior, _ = conjugate
    table = hypothesis_table(idata, META, ["btype[scold] - btype[shout] = 0"], prior=prior)
    # difference: posterior N(0.2, sqrt(0.08)), prior N(0, sqrt(2))
    bf01 = stats.norm.pdf(0, 0.2, np.sqrt(0.08)) / stats.norm.pdf(0, 0, np.sqrt(2))
    assert table["evid_ratio"].iloc[0] == pytest.approx(bf01, rel=0.05)


def test_one_sided_evidence_ratio_is_posterior_odds(conjugate):
    idata, _, k = conjugate
    table = hypothesis_table(idata, META, ["x > 0", "x < 0.1", "btype[scold] > btype[shout]"])
    x = idata["posterior"]["b"].sel(coef="x").values.ravel()
    p = np.mean(x > 0)
    assert table.loc["x > 0", "post_prob"] == p
    assert table.loc["x > 0", "evid_ratio"] == pytest.approx(p / (1 - p))
    assert p == pytest.approx(stats.norm.sf(0, k["m"], k["s"]), abs=0.01)
    p2 = stats.norm.cdf(0.1, k["m"], k["s"])
    assert table.loc["x < 0.1", "post_prob"] == pytest.approx(p2, abs=0.01)
    p3 = stats.norm.sf(0, 0.2, np.sqrt(0.08))
    assert table.loc["btype[scold] > btype[shout]", "post_prob"] == pytest.approx(p3, abs=0.01)
    assert table.loc["btype[scold] > btype[shout]", "star"] == ""  # p3 = 0.76 < 0.95


def test_rope_share(conjugate):
    idata, _, k = conjugate
    table = hypothesis_table(idata, META, ["x = 0"], rope=(-0.1, 0.1))
    share = stats.norm.cdf(0.1, k["m"], k["s"]) - stats.norm.cdf(-0.1, k["m"], k["s"])
    assert table["rope"].iloc[0] == pytest.approx(share, abs=0.01)
    assert np.isnan(table["evid_ratio"].iloc[0])  # no prior draws: no Bayes factor
    assert "no prior" in table["note"].iloc[0]


def test_prior_callable_only_called_for_point_hypotheses(conjugate):
    idata, prior, _ = conjugate
    calls = []

    def make_prior():
        calls.append(1)
        return prior

    hypothesis_table(idata, META, ["x > 0"], prior=make_prior)
    assert calls == []
    hypothesis_table(idata, META, ["x = 0", "x > 0"], prior=make_prior)
    assert calls == [1]


def test_boundary_density_is_reflected():
    rng = np.random.default_rng(3)
    dens, note = density_at(np.abs(rng.normal(0, 2, N)))
    assert dens == pytest.approx(2 * stats.norm.pdf(0, 0, 2), rel=0.1) and "boundary" in note
    dens, note = density_at(rng.normal(10, 1, N))
    assert "beyond all draws" in note
    _, note = density_at(rng.normal(2.7, 1, N))
    assert "tail" in note


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true') = 0", "unknown name"),
        ("x", "exactly one comparison"),
        ("0 < x < 1", "exactly one comparison"),
        ("x ** 2 > 0", "only + - * /"),
        ("x.real > 0", "unknown name"),
        ("y > 0", "unknown name 'y'"),
        ("x > 'a'", "only numbers"),
        ("x >= 0", "exactly one comparison"),
        ("x(1) > 0", "not allowed"),
        ("x[0] > 0", "not allowed"),
        ("", "non-empty"),
    ],
)
def test_parser_rejects_anything_but_arithmetic(text, message):
    with pytest.raises(HypothesisError, match=message.replace("*", r"\*").replace("+", r"\+")):
        parse_hypothesis(text, ["x", "sd(Intercept|g)", "btype[scold]"])


def test_parser_names_with_brackets_and_parentheses():
    names = ["Intercept", "x", "x:z", "sd(Intercept|g)", "cor(Intercept,x|g)", "btype[scold]"]
    h = parse_hypothesis("-sd(Intercept|g) + 2*cor(Intercept,x|g) - x:z/4 = Intercept", names)
    vals = {n: np.array([float(i + 1)]) for i, n in enumerate(names)}
    assert h.op == "="
    got = h.evaluate(vals)[0]
    assert got == pytest.approx(-4 + 2 * 5 - 3 / 4 - 1)


# -- the Fit method and the command line -----------------------------------------------------
@pytest.fixture(scope="module")
def small_fit():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(8), 10)
    df = {"y": 1 + 0.5 * (x := rng.normal(size=80)) + rng.normal(0, 0.7, 8)[g]
          + rng.normal(size=80), "x": x, "g": [f"g{i}" for i in g]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd

        return bm.fit("y ~ x + (1 | g)", pd.DataFrame(df), chains=2, draws=200, tune=200,
                      seed=3, progress=False)


def test_fit_hypothesis_with_prior_draws_of_the_model(small_fit):
    table = small_fit.hypothesis("x > 0", "x = 0.5", "sd(Intercept|g) = 0",
                                 rope=(-0.1, 0.1), prior_draws=2000)
    assert list(table.index) == ["x > 0", "x = 0.5", "sd(Intercept|g) = 0"]
    assert table.loc["x > 0", "post_prob"] > 0.99
    assert np.isfinite(table.loc["x = 0.5", "evid_ratio"])
    assert table.loc["x = 0.5", "evid_ratio"] > 1  # truth 0.5: evidence for the point value
    assert "boundary" in table.loc["sd(Intercept|g) = 0", "note"]


def test_cli_hypothesis(small_fit, tmp_path, capsys):
    folder = small_fit.save(tmp_path / "run")
    code = main(["hypothesis", str(folder), "x > 0", "x - Intercept = 0", "--rope", "-0.1",
                 "0.1", "--prior-draws", "1000", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)["hypotheses"]
    assert set(out) == {"x > 0", "x - Intercept = 0"}
    assert out["x > 0"]["post_prob"] > 0.99 and "rope" in out["x > 0"]
    assert main(["hypothesis", str(folder), "nope > 0"]) == 2
    assert "unknown name 'nope'" in capsys.readouterr().err


def test_report_with_hypotheses(small_fit, tmp_path):
    path = small_fit.report(tmp_path / "report.html", hypotheses=["x > 0"], rope=(-0.1, 0.1))
    assert "Hypotheses" in path.read_text() and "x &gt; 0" in path.read_text()
    payload = json.loads(path.with_suffix(".json").read_text())
    assert payload["hypotheses"]["x > 0"]["post_prob"] > 0.99
