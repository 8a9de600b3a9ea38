"""Parameter recovery on simulated data, for every family x link.

Each model has random intercepts and correlated random slopes, ``y ~ x + (1 + x | g)``. Data
are simulated here in numpy, independently of the package's own simulator, from known
parameters. Every population-level coefficient, group-level sd and the correlation must be
recovered: ``|posterior mean - truth| <= 3.5 posterior sd`` (on the log scale for standard
deviations, sigma and alpha, whose posteriors are skewed; a two-sided 99.95% band for a
well-calibrated posterior). Priors are fixed (not scaled to each simulated data set), so every
seed fits the same model.

One case per family (its canonical link) on one seed: 27 parameters, so the chance of a false
alarm is about 1.3%, and the seed is fixed so a run is reproducible; the fast suite runs the
bernoulli case (the flagship) of these, the slow suite all of them.
Every family x link on two seeds (106 parameters, about 5%) and on five more seeds with longer
chains are statistical checks of minutes: they are marked slow (``make test-all``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm

J, N_PER = 40, 25
TRUTH = {"sd0": 0.6, "sd1": 0.4, "cor": 0.3}
Z_MAX = 3.5

# family, link, intercept, slope, extra truths
CASES = [
    ("gaussian", "identity", 1.0, 0.5, {"sigma": 1.0}),
    ("gaussian", "log", 1.5, 0.3, {"sigma": 0.5}),
    ("bernoulli", "logit", -0.3, 0.8, {}),
    ("bernoulli", "probit", -0.2, 0.5, {}),
    ("bernoulli", "cloglog", -0.5, 0.5, {}),
    ("binomial", "logit", -0.3, 0.8, {}),
    ("binomial", "probit", -0.2, 0.5, {}),
    ("binomial", "cloglog", -0.5, 0.5, {}),
    ("poisson", "log", 1.0, 0.4, {}),
    ("negbinomial", "log", 1.0, 0.4, {"alpha": 5.0}),
]


def inverse_link(link, eta):
    return {
        "identity": lambda e: e,
        "log": np.exp,
        "logit": special.expit,
        "probit": special.ndtr,
        "cloglog": lambda e: -np.expm1(-np.exp(e)),
    }[link](eta)


def simulate(family, link, b0, b1, extra, seed):
    rng = np.random.default_rng(seed)
    sd = np.array([TRUTH["sd0"], TRUTH["sd1"]])
    cov = np.outer(sd, sd) * np.array([[1, TRUTH["cor"]], [TRUTH["cor"], 1]])
    u = rng.multivariate_normal(np.zeros(2), cov, size=J)
    g = np.repeat(np.arange(J), N_PER)
    x = rng.normal(size=J * N_PER)
    eta = b0 + u[g, 0] + (b1 + u[g, 1]) * x
    mu = inverse_link(link, eta)
    df = pd.DataFrame({"x": x, "g": [f"g{i:02d}" for i in g]})
    if family == "gaussian":
        df["y"] = rng.normal(mu, extra["sigma"])
    elif family == "bernoulli":
        df["y"] = rng.binomial(1, mu)
    elif family == "binomial":
        df["n"] = 10
        df["y"] = rng.binomial(10, mu)
    elif family == "poisson":
        df["y"] = rng.poisson(mu)
    else:
        a = extra["alpha"]
        df["y"] = rng.negative_binomial(a, a / (a + mu))
    return df


def priors_for(family):
    p = {"Intercept": "normal(0, 5)", "b": "normal(0, 2.5)", "sd": "half_student_t(3, 1)"}
    if family == "gaussian":
        p["sigma"] = "exponential(1)"
    return p


def parameter_draws(fit, name):
    from bayesmixed.report.core.params import parameter_dataset

    return parameter_dataset(fit.idata, fit.meta)[name].values.ravel()


def check_recovery(case, seed, draws=500):
    family, link, b0, b1, extra = case
    df = simulate(family, link, b0, b1, extra, seed)
    lhs = "y | trials(n)" if family == "binomial" else "y"
    fit = bm.fit(
        f"{lhs} ~ x + (1 + x | g)",
        df,
        family,
        link=link,
        priors=priors_for(family),
        # 4 chains, the default: with 2 chains of 500 draws R-hat itself is too noisy for the
        # 1.02 check (bernoulli-probit seed 12: 1.026 with 2 chains, 1.011 with 4; measured)
        chains=4,
        draws=draws,
        tune=500,
        seed=seed,
        progress=False,
    )
    table = fit.summary()
    truth = {
        "Intercept": b0,
        "x": b1,
        "sd(Intercept|g)": TRUTH["sd0"],
        "sd(x|g)": TRUTH["sd1"],
        "cor(Intercept,x|g)": TRUTH["cor"],
        **extra,
    }
    z = {}
    for k, v in truth.items():
        if table.loc[k, "kind"] in ("sd", "aux"):
            # positive parameters: normal approximation on the log scale (skewed posteriors)
            draws = np.log(parameter_draws(fit, k))
            z[k] = abs(draws.mean() - np.log(v)) / draws.std()
        else:
            z[k] = abs(table.loc[k, "mean"] - v) / table.loc[k, "sd"]
    bad = {k: round(v, 2) for k, v in z.items() if v > Z_MAX}
    assert not bad, f"{family}/{link} seed {seed}: truth outside {Z_MAX} sd: {bad}\n{table}"
    assert table["r_hat"].dropna().max() < 1.02, table["r_hat"]
    return fit


#: one case per family, with its canonical link
FAST = [c for c in CASES if c[1] == {"gaussian": "identity", "poisson": "log",
                                     "negbinomial": "log"}.get(c[0], "logit")]


#: the flagship (bernoulli) runs in the fast suite; the other families' single-seed cases (20-40
#: s each on 2 cores, almost all of it compilation) run in the slow suite beside their two- and
#: seven-seed checks, and the fast suite keeps their published references (test_reference_*)
FAST_PARAMS = [pytest.param(c, marks=() if c[0] == "bernoulli" else pytest.mark.slow) for c in FAST]


@pytest.mark.parametrize("case", FAST_PARAMS, ids=[c[0] for c in FAST])
def test_recovery_per_family(case):
    check_recovery(case, 11)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_recovery_two_seeds(case):
    for seed in (11, 12):
        check_recovery(case, seed)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_recovery_more_seeds(case):
    for seed in range(13, 18):
        check_recovery(case, seed, draws=1000)
