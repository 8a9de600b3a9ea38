"""Small fits shared by the report-layer tests (``tests/test_report_*.py``).

Each fit is made once per test process (cached here, so sharing works across modules and under
pytest-xdist workers), with 2 chains x 300 draws. Test modules import the fixtures they need.
"""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesmixed as bm
from bayesmixed.report.core.draws import internal

QUICK = {"chains": 2, "draws": 300, "tune": 300, "progress": False}

#: truth of the simulated bernoulli data
BERN_TRUTH = {"Intercept": -0.3, "x": 0.8, "trt[B]": 0.6, "sd0": 1.0, "sd1": 0.5, "cor": 0.0}


def simulate_bernoulli(seed: int = 3, n_groups: int = 30, n_per: int = 20) -> pd.DataFrame:
    """Binary data with a random intercept and a random slope on ``x`` (numpy only)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per)
    x = rng.normal(size=g.size)
    trt = rng.integers(0, 2, g.size)
    u0 = rng.normal(0, BERN_TRUTH["sd0"], n_groups)
    u1 = rng.normal(0, BERN_TRUTH["sd1"], n_groups)
    eta = (
        BERN_TRUTH["Intercept"]
        + BERN_TRUTH["x"] * x
        + BERN_TRUTH["trt[B]"] * trt
        + u0[g]
        + u1[g] * x
    )
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame(
        {"y": y, "x": x, "trt": np.where(trt == 1, "B", "A"), "school": [f"s{i:02d}" for i in g]}
    )


def simulate_zi_counts(seed: int = 5, n_groups: int = 20, n_per: int = 20) -> pd.DataFrame:
    """Zero-inflated, overdispersed counts (a poisson model of them is misspecified)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per)
    x = rng.normal(size=g.size)
    mu = np.exp(1.2 + 0.3 * x + rng.normal(0, 0.3, n_groups)[g])
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + mu))
    y[rng.uniform(size=g.size) < 0.35] = 0
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


def simulate_nested_counts(seed: int = 7, n_sites: int = 15, n_broods: int = 4, n_per: int = 5):
    """Poisson counts with broods nested in sites (numpy only)."""
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(n_sites), n_broods * n_per)
    brood = np.repeat(np.arange(n_sites * n_broods), n_per)
    x = rng.normal(size=site.size)
    year = rng.choice(["a", "b", "c"], size=site.size)
    eta = (
        0.5
        + 0.3 * x
        + np.where(year == "b", 0.5, 0)
        + np.where(year == "c", -0.4, 0)
        + rng.normal(0, 0.6, n_sites)[site]
        + rng.normal(0, 0.5, n_sites * n_broods)[brood]
    )
    return pd.DataFrame(
        {
            "y": rng.poisson(np.exp(eta)),
            "x": x,
            "year": year,
            "site": [f"L{i:02d}" for i in site],
            "brood": [f"b{i % n_broods}" for i in brood],
        }
    )


def simulate_int_groups(seed: int = 9, n_sites: int = 8, n_broods: int = 3, n_per: int = 5):
    """Gaussian data whose grouping columns hold integers: broods 1..3 nested in sites 1..8."""
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(n_sites), n_broods * n_per)
    brood = np.tile(np.repeat(np.arange(n_broods), n_per), n_sites)
    x = rng.normal(size=site.size)
    u_site = rng.normal(0, 1.0, n_sites)[site]
    u_brood = rng.normal(0, 0.5, n_sites * n_broods)[site * n_broods + brood]
    y = 1.0 + 0.5 * x + u_site + u_brood + rng.normal(0, 0.3, site.size)
    return pd.DataFrame({"y": y, "x": x, "site": site + 1, "brood": brood + 1})


@functools.cache
def _fit(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "bern":
            return bm.fit(
                "y ~ x + trt + (1 + x | school)",
                simulate_bernoulli(),
                family="bernoulli",
                seed=11,
                **QUICK,
            )
        if name == "bern_ri":
            return bm.fit(
                "y ~ x + trt + (1 | school)",
                simulate_bernoulli(),
                family="bernoulli",
                seed=12,
                **QUICK,
            )
        if name == "gauss":  # crossed factors
            return bm.fit(
                "diameter ~ 1 + (1 | plate) + (1 | sample)",
                bm.datasets.load("penicillin"),
                seed=13,
                **QUICK,
            )
        if name == "pois":  # nested factors: site/brood
            return bm.fit(
                "y ~ x + year + (1 | site/brood)",
                simulate_nested_counts(),
                family="poisson",
                seed=14,
                **QUICK,
            )
        if name == "binom":  # successes out of trials
            return bm.fit(
                "cbind(incidence, size - incidence) ~ period + (1 | herd)",
                bm.datasets.load("cbpp"),
                family="binomial",
                seed=15,
                **QUICK,
            )
        if name == "int_nested":  # integer grouping columns, nested factors site/brood
            return bm.fit(
                "y ~ x + (1 | site/brood)", simulate_int_groups(), seed=17, **QUICK
            )
        if name == "zi":
            return bm.fit(
                "y ~ x + (1 | g)", simulate_zi_counts(), family="poisson", seed=16, **QUICK
            )
    raise KeyError(name)


def fit_fixture(name: str):
    """A pytest fixture giving the cached fit ``name``; use as ``bern_fit = fit_fixture("bern")``
    in a test module.

    ``bern``: bernoulli, correlated random intercept and slope (simulated, known truth);
    ``bern_ri``: the same data, random intercept only; ``gauss``: gaussian with crossed random
    intercepts (penicillin); ``pois``: poisson with nested random intercepts (simulated,
    site/brood); ``binom``: binomial with trials (cbpp, herd as text); ``int_nested``: gaussian
    with nested factors whose columns hold integers (site/brood); ``zi``: poisson fitted to
    zero-inflated overdispersed counts.
    """

    @pytest.fixture
    def _fixture():
        return _fit(name)

    return _fixture


def parts(fit) -> tuple:
    """``(idata, meta, design)`` of a fit (or fit-like object): the arguments of a report
    function."""
    return fit.idata, fit.meta, fit.design


def known_posterior_fit(fit, values: dict[str, np.ndarray], n_draws: int):
    """A fit-like object whose posterior holds ``n_draws`` copies of known parameter values
    (for testing predictions against simulation from known parameters)."""
    post = internal(fit.idata)
    data_vars = {}
    for name, val in values.items():
        da = post[name]
        dims = da.dims[2:]
        arr = np.broadcast_to(np.asarray(val, dtype=float), (1, n_draws, *da.shape[2:])).copy()
        data_vars[name] = (("chain", "draw", *dims), arr)
    coords = {k: post[k].values for k in post.coords if k not in ("chain", "draw")}
    ds = xr.Dataset(data_vars, coords={"chain": [0], "draw": np.arange(n_draws), **coords})
    idata = xr.DataTree.from_dict({"posterior": ds})
    return SimpleNamespace(
        idata=idata, meta=fit.meta, design=fit.design, spec=fit.spec, data=fit.data
    )
