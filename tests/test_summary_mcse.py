"""Monte Carlo standard errors in the summary (issue 16, point 3), checked against known truth:
for independent draws the MCSE of the mean is sd / sqrt(N) and that of the sd is close to
sd / sqrt(2 N) (normal draws); for an AR(1) chain with coefficient rho the MCSE of the mean is
sd * sqrt((1 + rho) / ((1 - rho) N)). E-BFMI comes from arviz-stats."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayesmixed.report.tables.summary import COLUMNS, summarize

CHAINS, DRAWS = 4, 2000
N = CHAINS * DRAWS


def _ar1(rng, rho: float, sd: float) -> np.ndarray:
    """(chain, draw) AR(1) draws with stationary sd ``sd``."""
    x = np.empty((CHAINS, DRAWS))
    x[:, 0] = rng.normal(0, sd, CHAINS)
    eps = rng.normal(0, sd * np.sqrt(1 - rho**2), (CHAINS, DRAWS))
    for t in range(1, DRAWS):
        x[:, t] = rho * x[:, t - 1] + eps[:, t]
    return x


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(20261201)
    ds = xr.Dataset({
        "iid": (("chain", "draw"), rng.normal(3.0, 2.0, (CHAINS, DRAWS))),
        "ar": (("chain", "draw"), _ar1(rng, 0.8, 1.5)),
        "vec": (("chain", "draw", "k"), rng.normal(0.0, [1.0, 4.0], (CHAINS, DRAWS, 2))),
    })
    return summarize(ds)


def test_columns_in_order(table):
    assert list(table.columns) == COLUMNS


def test_mcse_of_independent_draws(table):
    # the ESS behind the MCSE is estimated: over 40 seeds (100-139) the ratio to the truth had
    # sd 0.020 (mean) and 0.019 (sd), so 10% is 5 standard deviations
    assert table.loc["iid", "mcse_mean"] == pytest.approx(2.0 / np.sqrt(N), rel=0.10)
    assert table.loc["iid", "mcse_sd"] == pytest.approx(2.0 / np.sqrt(2 * N), rel=0.10)


def test_mcse_of_an_autocorrelated_chain(table):
    rho, sd = 0.8, 1.5
    want = sd * np.sqrt((1 + rho) / ((1 - rho) * N))
    # over 40 seeds (100-139) the ratio to the truth had mean 0.988, sd 0.054: 4 sd = 0.22
    assert table.loc["ar", "mcse_mean"] == pytest.approx(want, rel=0.22)
    # the naive sd / sqrt(N) is 3 times too small here; 2 is 5 sd below the ratio's mean
    assert table.loc["ar", "mcse_mean"] > 2.0 * table.loc["ar", "sd"] / np.sqrt(N)


def test_a_vector_variable_shows_its_largest_mcse(table):
    assert table.loc["vec", "mcse_mean"] == pytest.approx(4.0 / np.sqrt(N), rel=0.10)


def test_ebfmi_is_arviz_stats_bfmi():
    import arviz_stats as azs

    from bayesmixed.report.tables.diagnostics import _ebfmi

    rng = np.random.default_rng(3)
    energy = rng.gamma(3.0, size=(CHAINS, DRAWS)).cumsum(axis=1) * 0.01 + rng.normal(
        size=(CHAINS, DRAWS))
    idata = xr.DataTree.from_dict(
        {"sample_stats": xr.Dataset({"energy": (("chain", "draw"), energy)})})
    assert _ebfmi(idata) == pytest.approx(float(np.min(azs.bfmi(energy))), rel=1e-12)
    num = np.mean(np.diff(energy, axis=1) ** 2, axis=1)  # the textbook formula (Betancourt)
    assert _ebfmi(idata) == pytest.approx(float(np.min(num / np.var(energy, axis=1, ddof=1))))
