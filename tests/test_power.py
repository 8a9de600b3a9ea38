"""Simulation-based power analysis (issue 14.5): known answers and the command line.

Tolerances come from the binomial Monte Carlo error of a share estimated from ``sims`` fits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.cli import main
from bayesmixed.power_analysis import plot_power, summarize

FORMULA = "y ~ x + (1 | g)"
# a large effect: 40 rows, slope 1.5 with residual sd 1 (standard error about 0.17)
BIG = {"x": 1.5, "sd(Intercept|g)": 0.5}
KW = dict(n_groups=[8], n_per_group=[5], sims=10, seed=11, chains=2, draws=150, tune=150)


@pytest.fixture(scope="module")
def big():
    return bm.power(FORMULA, BIG, **KW)


def test_large_effect_has_power_near_one(big):
    row = big.table.iloc[0]
    assert (row["n_groups"], row["n_per_group"], row["n_obs"], row["sims"]) == (8, 5, 40, 10)
    # true power > 0.999 here: 10 of 10 unless something is wrong (P(<= 8 of 10) < 1e-4)
    assert row["power"] >= 0.9 and row["errors"] == 0
    assert 0.5 <= row["coverage"] <= 1 and row["mean_width"] > 0
    assert np.isclose(row["power_mcse"], np.sqrt(row["power"] * (1 - row["power"]) / 10))
    assert set(big.sims["sim"]) == set(range(10))
    assert big.sims["compiled"].sum() == 1  # one structure per design, compiled once


def test_power_table_summarizes_and_plots(big):
    assert summarize(big.sims).equals(big.table)
    fig = plot_power(big)
    assert fig.axes[0].get_ylabel() == "power"
    json.dumps(big.to_dict(), default=str)


def test_bad_arguments_are_refused():
    with pytest.raises(bm.SpecError, match="target"):
        bm.power(FORMULA, BIG, n_groups=5, n_per_group=3, sims=1, target="z")
    with pytest.raises(bm.SpecError, match="sims"):
        bm.power(FORMULA, BIG, sims=0)
    with pytest.raises(bm.SpecError, match="n_groups"):
        bm.power(FORMULA, BIG, n_groups=[5.5], sims=1)


def test_cli_power_writes_json(capsys, big, tmp_path):
    # the same design, seed and sampler as the fixture: the compiled model is reused
    argv = ["power", "--formula", FORMULA, "--set", "x=1.5", "--set", "sd(Intercept|g)=0.5",
            "--n-groups", "8", "--n-per-group", "5", "--sims", "10", "--seed", "11",
            "--chains", "2", "--draws", "150", "--tune", "150", "--json",
            "--out", str(tmp_path / "power.csv"), "--plot", str(tmp_path / "power.png")]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["table"][0]["power"] == big.table.iloc[0]["power"]
    assert len(out["sims"]) == 10 and out["settings"]["target"] == "x"
    assert (tmp_path / "power.csv").is_file() and (tmp_path / "power.png").is_file()


def test_cli_power_progress_bar(capsys):
    argv = ["power", "--formula", FORMULA, "--set", "x=1.5", "--set", "sd(Intercept|g)=0.5",
            "--n-groups", "8", "--n-per-group", "5", "--sims", "2", "--seed", "11",
            "--chains", "2", "--draws", "150", "--tune", "150"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "power 2/2" in err and "n_groups" in err


def test_cli_power_refuses_bad_worker_count(capsys):
    assert main(["power", "--formula", FORMULA, "--workers", "0", "--json"]) == 2


@pytest.mark.slow  # 120 fits
def test_zero_effect_is_detected_at_the_nominal_rate():
    # the project's settings for a usable fit (4 chains x 1000 after 1000): the false-positive
    # rate is a property of converged fits, so nearly all of them must converge
    res = bm.power(FORMULA, {"x": 0.0}, n_groups=[8], n_per_group=[5], sims=120, seed=2,
                   chains=4, draws=1000, tune=1000)
    assert res.table.iloc[0]["converged"] >= 0.95, res.sims["verdict"].value_counts()
    rate, n = res.table.iloc[0]["power"], res.table.iloc[0]["fits"]
    mcse = np.sqrt(0.05 * 0.95 / n)
    assert abs(rate - 0.05) <= 3.5 * mcse  # 1 - prob = 0.05 false positives
    assert abs(res.table.iloc[0]["coverage"] - 0.95) <= 3.5 * mcse
