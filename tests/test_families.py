"""The family table: every row carries every behaviour, and the behaviours agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.families import (
    AUX_NAMES,
    FAMILIES,
    LINKS,
    AuxParam,
    Family,
    get_family,
    get_link,
    resolve_link,
)

BEHAVIOUR = ("observed", "loglik", "density", "cdf", "variance", "draw", "latent_variance")
AUX_VALUES = {
    "sigma": 1.3, "alpha": 2.5, "shape": 2.2, "phi": 8.0, "zi": 0.3, "hu": 0.4,
    "Intercept": np.array([-1.0, 0.2, 1.5]),
}
CASES = [(f.name, link) for f in FAMILIES.values() for link in f.links]


def _params(family: Family) -> tuple[str, ...]:
    """Auxiliary and distributional parameter names of a row."""
    return family.aux + family.dpars


def _aux(family: Family, link: str, n_draws: int | None = None) -> dict:
    """Auxiliary and distributional values: ``(n_draws, 1)`` scalars / ``(n_draws, K-1)``
    vectors, or plain values; an ordinal family also gets its link."""
    vector = {a.name for a in family.aux_params if a.vector}
    out: dict = {}
    for a in _params(family):
        v = AUX_VALUES[a]
        if n_draws is not None:
            v = np.tile(v, (n_draws, 1)) if a in vector else np.full((n_draws, 1), v)
        out[a] = v
    if family.ordinal:
        out["link"] = link
    return out


def _data(family: Family, rng, n: int = 12, link: str | None = None):
    """Response, trials, eta and aux values at a random point."""
    eta = rng.normal(0.0, 0.7, size=(3, n)) + (1.0 if "log" in family.links else 0.0)
    if family.response == "positive" and link in ("identity", "inverse") and not family.transform:
        eta = 0.2 + np.abs(eta)  # a positive mean
    trials = rng.integers(1, 8, size=n).astype(float) if family.response == "binomial" else None
    if family.response == "real":
        y = rng.normal(2.0, 1.5, size=n)
    elif family.ordinal:
        y = rng.integers(0, len(AUX_VALUES["Intercept"]) + 1, size=n).astype(float)
    elif family.response == "positive":
        y = rng.gamma(2.0, 1.5, size=n)
    elif family.response == "unit":
        y = rng.beta(2.0, 3.0, size=n)
    elif family.uses_trials:
        y = np.minimum(rng.integers(0, 8, size=n), 1 if trials is None else trials).astype(float)
    else:
        y = rng.poisson(3.0, size=n).astype(float)
    return y, trials, eta


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
def test_every_row_has_every_behaviour(family):
    for attr in BEHAVIOUR:
        assert callable(getattr(family, attr)), attr
    assert family.links and all(link in LINKS for link in family.links)
    assert set(family.lean) <= set(family.links)
    assert family.response in ("real", "positive", "unit", "binary", "binomial", "count", "ordinal")
    assert get_family(family.name) is family
    assert all(get_family(a) is family for a in family.aliases)
    assert resolve_link(family, None) == family.default_link
    for aux in family.aux_params:
        assert isinstance(aux, AuxParam) and (aux.vector or aux.name in AUX_NAMES)
        assert aux.truth > 0
    if family.cells is not None:
        assert family.cells.family in FAMILIES and set(family.cells.links) <= set(family.links)


def test_default_aux_priors_are_scaled_as_before():
    import bayesmixed as bm

    df = bm.datasets.load("sleepstudy")
    design = bm.prepare("Reaction ~ Days", df).design
    (sigma,) = design.family.aux_params
    assert sigma.default_prior(design).params["lam"] == pytest.approx(1 / df["Reaction"].std())
    nb = get_family("negbinomial").aux_params[0].default_prior(None)
    assert (nb.dist, nb.params) == ("Gamma", {"alpha": 2.0, "beta": 0.1})


@pytest.mark.parametrize("name", list(LINKS))
def test_numpy_and_pytensor_inverse_links_agree(name):
    import pytensor.tensor as pt

    link = get_link(name)
    eta = np.linspace(-4.0, 3.0, 29) if name != "inverse" else np.linspace(0.1, 3.0, 29)
    got = link.inverse_pt(pt.as_tensor(eta)).eval()
    np.testing.assert_allclose(got, link.inverse(eta), rtol=1e-10)
    mu, slope = link.slope(eta)
    np.testing.assert_allclose(mu, link.inverse(eta))
    h = 1e-6
    numeric = (link.inverse(eta + h) - link.inverse(eta - h)) / (2 * h)
    np.testing.assert_allclose(slope, numeric, rtol=1e-5, atol=1e-9)


def test_unknown_link_raises():
    with pytest.raises(ValueError):
        get_link("sqrt")


@pytest.mark.parametrize(("name", "link"), CASES)
def test_numpy_loglik_equals_pymc_logp(name, link):
    import pymc as pm
    import pytensor.tensor as pt

    family = FAMILIES[name]
    rng = np.random.default_rng(7)
    y, trials, eta = _data(family, rng, link=link)
    aux = {a: AUX_VALUES[a] for a in _params(family)}
    expected = family.loglik(y, eta, link, _aux(family, link, 3), trials)
    for s in range(eta.shape[0]):
        with pm.Model() as model:
            aux_t = {a: pt.as_tensor(v) for a, v in aux.items()}
            obs = family.observed(pt.as_tensor(eta[s]), link, aux_t, y, trials)
        got = model.logp(vars=[obs], sum=False)[0].eval()
        np.testing.assert_allclose(got, expected[s], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("name", "link"), [(f.name, lk) for f in FAMILIES.values() for lk in f.lean])
def test_lean_logp_differs_from_the_full_one_by_a_constant(name, link):
    family = FAMILIES[name]
    lean = family.lean[link]
    rng = np.random.default_rng(3)
    y, trials, eta = _data(family, rng)
    args = (trials,) if lean.uses_trials else ()
    diffs = [
        lean.logp(y, eta[s], *args).eval() - family.loglik(y, eta[s : s + 1], link, {}, trials)[0]
        for s in range(eta.shape[0])
    ]
    np.testing.assert_allclose(diffs[0], diffs[1], atol=1e-8)
    np.testing.assert_allclose(diffs[0], diffs[2], atol=1e-8)


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
def test_draws_have_the_mean_and_variance_the_table_says(family):
    rng = np.random.default_rng(11)
    link = get_link(family.default_link)
    mu = link.inverse(np.array([-0.5, 0.3, 1.2]))
    trials = np.array([1, 4, 9]) if family.response == "binomial" else None
    aux = _aux(family, family.default_link)
    if family.name == "lognormal":  # a lighter tail, for a sample variance to check against
        aux["sigma"] = 0.4
    n_draws = 40_000
    draws = np.stack([family.draw(rng, mu, aux, trials) for _ in range(n_draws)])
    mean = np.reshape(family.expected(mu, aux, trials), mu.shape)
    var = np.broadcast_to(np.reshape(family.variance(mu, aux, trials), np.shape(mu) or (1,)), mu.shape)
    tol = 5 * float(np.sqrt(np.max(var) / n_draws))
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=tol)
    np.testing.assert_allclose(draws.var(axis=0), var, rtol=0.05)
    if family.simulate_draw is not None:
        sim = np.stack([family.simulate_draw(rng, mu, aux, trials) for _ in range(n_draws)])
        np.testing.assert_allclose(sim.mean(axis=0), mean, atol=tol)


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
def test_cdf_and_density_agree(family):
    rng = np.random.default_rng(5)
    y, trials, eta = _data(family, rng)
    mu = get_link(family.default_link).inverse(eta[0])
    aux = _aux(family, family.default_link)
    if family.discrete:
        jump = family.cdf(y, mu, aux, trials) - family.cdf(y - 1, mu, aux, trials)
        np.testing.assert_allclose(jump, family.density(y, mu, aux, trials), atol=1e-12)
    else:
        h = 1e-5
        slope = (family.cdf(y + h, mu, aux, trials) - family.cdf(y - h, mu, aux, trials)) / (2 * h)
        np.testing.assert_allclose(slope, family.density(y, mu, aux, trials), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize(("name", "link"), CASES)
def test_latent_variance(name, link):
    family = FAMILIES[name]
    from scipy import special

    aux = {a: np.full(4, AUX_VALUES[a]) for a in family.aux if np.ndim(AUX_VALUES[a]) == 0}
    rate = np.full(4, 0.3 if family.response == "unit" else 2.0)
    got = family.latent_variance(link, 4, aux, lambda: rate)
    assert got.shape == (4,) and np.all(got > 0)
    if name == "gamma":  # trigamma(shape) under the log link, else the delta method at the mean
        shape = AUX_VALUES["shape"]
        want = {"log": special.polygamma(1, shape), "inverse": 1 / (rate**2 * shape)}
        np.testing.assert_allclose(got, want.get(link, rate**2 / shape))
    elif name == "beta":  # Var(logit y) of Beta(m phi, (1 - m) phi) at the mean m = 0.3
        y = np.random.default_rng(1).beta(0.3 * 8.0, 0.7 * 8.0, size=400_000)
        np.testing.assert_allclose(got, np.var(special.logit(y)), rtol=0.02)
    elif name == "lognormal":
        np.testing.assert_allclose(got, AUX_VALUES["sigma"] ** 2)
    elif LINKS[link].latent_variance is not None:
        np.testing.assert_allclose(got, LINKS[link].latent_variance)
    elif family.latent_scale:  # log-normal approximation of the count families
        extra = 1.0 / aux["alpha"] if "alpha" in aux else 0.0
        np.testing.assert_allclose(got, np.log1p(1.0 / rate + extra))
    else:
        np.testing.assert_allclose(got, AUX_VALUES["sigma"] ** 2)


def test_simulated_data_fit_the_table():
    """simulate() reads aux truths and draws from the table (one row per family)."""
    from bayesmixed.simulation import simulate

    for family in FAMILIES.values():
        resp = "cbind(s, f)" if family.response == "binomial" else "y"
        df = simulate(f"{resp} ~ x + (1 | g)", family=family.name, n_groups=4, n_per_group=5,
                      seed=1)
        assert isinstance(df, pd.DataFrame)
        truth = df.attrs["truth"]["params"]
        scalars = {a.name: a.truth for a in family.aux_params if not a.vector}
        assert scalars.items() <= truth.items()


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_bernoulli_loglik_shortcut_equals_the_binomial_formula(link):
    """0/1 responses with one trial take a shortcut (``log p`` or ``log(1 - p)`` picked per row);
    it equals ``log C(n, y) + y log p + (n - y) log(1 - p)`` to rounding, far into the tails."""
    from bayesmixed.families.binomial import log_sigmoid

    rng = np.random.default_rng(11)
    eta = np.concatenate([rng.normal(0, 3, (5, 40)), np.full((1, 40), 35.0),
                          np.full((1, 40), -700.0)])
    y = (rng.uniform(size=40) < 0.5).astype(float)
    if link == "logit":
        logp, log1mp = -np.logaddexp(0, -eta), -np.logaddexp(0, eta)
    else:
        p = np.clip(LINKS[link].inverse(eta), 1e-12, 1 - 1e-12)
        logp, log1mp = np.log(p), np.log1p(-p)
    ref = y * logp + (1 - y) * log1mp
    for fam, trials in ((get_family("bernoulli"), None), (get_family("binomial"), np.ones(40))):
        got = fam.loglik(y, eta, link, {}, trials)
        assert got.shape == eta.shape
        np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-300)
    x = np.array([-700.0, -40.0, -1e-3, 0.0, 2.5, 40.0, np.inf, -np.inf])
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(log_sigmoid(x), -np.logaddexp(0.0, -x), rtol=1e-14)
    # more than one trial: the binomial coefficient is kept
    y2, n2 = np.array([0.0, 1.0, 2.0]), np.array([2.0, 2.0, 2.0])
    two = get_family("binomial").loglik(y2, np.zeros((1, 3)), "logit", {}, n2)
    np.testing.assert_allclose(np.exp(two[0]), [0.25, 0.5, 0.25], rtol=1e-14)


def test_one_trial_density_and_cdf_equal_scipy():
    """Bernoulli (and binomial with one trial) pmf and cdf, computed directly, equal scipy's
    binomial with ``n = 1`` at integer, fractional, out-of-range and missing values."""
    from scipy import stats

    rng = np.random.default_rng(2)
    mu = rng.uniform(size=(30, 7))
    mu[0, :2] = 0.0, 1.0
    y = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, np.nan])[None, :]
    for fam, trials in ((get_family("bernoulli"), None), (get_family("binomial"), np.ones(7))):
        np.testing.assert_allclose(fam.density(y, mu, {}, trials), stats.binom.pmf(y, 1, mu),
                                   rtol=0, atol=1e-15)
        np.testing.assert_allclose(fam.cdf(y, mu, {}, trials), stats.binom.cdf(y, 1, mu),
                                   rtol=0, atol=1e-15)
    three = get_family("binomial").cdf(np.array([1.0]), np.array([[0.5]]), {}, np.array([3]))
    np.testing.assert_allclose(three, 0.5, rtol=1e-14)  # (1 + 3) / 8 with three trials
