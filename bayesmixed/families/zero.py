"""Zero-inflated and hurdle count families, with a second linear predictor for the zeros.

``mu`` is the mean of the count part (poisson or NB2, log link) and ``aux["zi"]`` /
``aux["hu"]`` the probability of the zero part, per draw and row (logit link; its own
formula, :func:`bayesmixed.formula.parse.bf`). With ``p0`` the count part's probability of 0:

* zero-inflated: ``P(0) = zi + (1 - zi) p0``, ``P(y) = (1 - zi) f(y)`` for ``y > 0``; mean
  ``(1 - zi) mu``;
* hurdle: ``P(0) = hu``, ``P(y) = (1 - hu) f(y) / (1 - p0)`` for ``y > 0``; mean
  ``(1 - hu) mu / (1 - p0)``.

The latent-scale residual variance (ICC, variance partition) is that of the count part
(log-normal approximation, :mod:`bayesmixed.families.counts`); the zero part is left out, so
these ICCs describe the counts given that they come from the count process.
"""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.counts import NEGBINOMIAL, POISSON

__all__ = ["HURDLE_NEGBINOMIAL", "HURDLE_POISSON", "ZI_NEGBINOMIAL", "ZI_POISSON"]


def _alpha_prior(design):
    return NEGBINOMIAL.aux_params[0].default_prior(design)


_ALPHA = AuxParam("alpha", _alpha_prior, truth=5.0)


def _count_parts(nb: bool):
    """(log pmf, pmf at 0, cdf, variance, draw) of the count part, numpy."""
    from scipy import stats

    if nb:

        def logpmf(y, mu, aux):
            a = aux["alpha"]
            return stats.nbinom.logpmf(y, a, a / (a + mu))

        def logp0(mu, aux):
            a = aux["alpha"]
            return a * (np.log(a) - np.log(a + mu))

        def cdf(y, mu, aux):
            a = aux["alpha"]
            return stats.nbinom.cdf(y, a, a / (a + mu))

        def ppf(u, mu, aux):
            a = aux["alpha"]
            return stats.nbinom.ppf(u, a, a / (a + mu))

        def var(mu, aux):
            return mu + mu**2 / aux["alpha"]

        return logpmf, logp0, cdf, ppf, var

    def logpmf(y, mu, aux):
        return stats.poisson.logpmf(y, mu)

    def logp0(mu, aux):
        return -mu

    def cdf(y, mu, aux):
        return stats.poisson.cdf(y, mu)

    def ppf(u, mu, aux):
        return stats.poisson.ppf(u, mu)

    def var(mu, aux):
        return mu

    return logpmf, logp0, cdf, ppf, var


def _log1mexp(x):
    """``log(1 - exp(x))`` for ``x < 0``, accurately."""
    x = np.asarray(x, dtype=float)
    return np.where(x > -0.693, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _make(nb: bool, hurdle: bool):
    """The behaviour functions of one family of the four."""
    logpmf, logp0, cdf_c, ppf_c, var_c = _count_parts(nb)
    dpar = "hu" if hurdle else "zi"

    def loglik(y, eta, link, aux, trials=None):
        mu = np.exp(eta)
        p = np.clip(aux[dpar], 1e-300, 1 - 1e-16)
        y = np.broadcast_to(y, np.broadcast_shapes(np.shape(y), mu.shape))
        lp0 = logp0(mu, aux)
        if hurdle:
            pos = np.log1p(-p) + logpmf(y, mu, aux) - _log1mexp(lp0)
            return np.where(y == 0, np.log(p) + 0 * mu, pos)
        zero = np.logaddexp(np.log(p), np.log1p(-p) + lp0)
        return np.where(y == 0, zero, np.log1p(-p) + logpmf(y, mu, aux))

    def density(y, mu, aux, trials=None):
        return np.exp(loglik(np.asarray(y, dtype=float), np.log(mu), "log", aux))

    def cdf(y, mu, aux, trials=None):
        p = aux[dpar]
        y = np.asarray(y, dtype=float)
        f = cdf_c(y, mu, aux)
        if hurdle:
            p0 = np.exp(logp0(mu, aux))
            f = (f - p0) / np.maximum(1.0 - p0, 1e-300)
        return np.where(y < 0, 0.0, p + (1.0 - p) * f)

    def mean(mu, aux, trials=None):
        p = aux[dpar]
        if hurdle:
            return (1.0 - p) * mu / np.maximum(-np.expm1(logp0(mu, aux)), 1e-300)
        return (1.0 - p) * mu

    def variance(mu, aux, trials=None):
        p = aux[dpar]
        second = var_c(mu, aux) + mu**2  # E[Y^2] of the count part
        if hurdle:
            second = second / np.maximum(-np.expm1(logp0(mu, aux)), 1e-300)
        m = mean(mu, aux)
        return (1.0 - p) * second - m**2

    def draw(rng, mu, aux, trials=None):
        mu = np.asarray(mu, dtype=float)
        p = np.broadcast_to(aux[dpar], mu.shape)
        zero = rng.random(mu.shape) < p
        if hurdle:  # zero-truncated count by inversion: u ~ U(p0, 1)
            p0 = np.exp(logp0(mu, aux))
            u = p0 + (1.0 - p0) * rng.random(mu.shape)
            counts = np.maximum(ppf_c(np.minimum(u, 1 - 1e-16), mu, aux), 1.0)
        else:
            counts = (NEGBINOMIAL if nb else POISSON).draw(rng, mu, aux)
        return np.where(zero, 0, counts).astype(np.int64)

    def observed(eta, link, aux, y, trials=None):
        import pymc as pm
        import pytensor.tensor as pt

        mu, psi = pt.exp(eta), 1.0 - aux[dpar]
        kw = {"alpha": aux["alpha"]} if nb else {}
        if hurdle:
            cls = pm.HurdleNegativeBinomial if nb else pm.HurdlePoisson
        else:
            cls = pm.ZeroInflatedNegativeBinomial if nb else pm.ZeroInflatedPoisson
        return cls("y", psi=psi, mu=mu, observed=y, **kw)

    return {
        "observed": observed,
        "loglik": loglik,
        "density": density,
        "cdf": cdf,
        "variance": variance,
        "draw": draw,
        "response_mean": mean,
        "latent_variance": (NEGBINOMIAL if nb else POISSON).latent_variance,
        "dpars": (dpar,),
    }


ZI_POISSON = Family(
    "zero_inflated_poisson",
    ("log",),
    "count",
    exp_label="RR",
    aliases=("zip", "zeroinflatedpoisson"),
    **_make(nb=False, hurdle=False),
)

ZI_NEGBINOMIAL = Family(
    "zero_inflated_negbinomial",
    ("log",),
    "count",
    aux_params=(_ALPHA,),
    exp_label="RR",
    aliases=("zinb", "zero_inflated_negative_binomial", "zeroinflatednegativebinomial"),
    **_make(nb=True, hurdle=False),
)

HURDLE_POISSON = Family(
    "hurdle_poisson",
    ("log",),
    "count",
    exp_label="RR",
    aliases=("hurdlepoisson",),
    **_make(nb=False, hurdle=True),
)

HURDLE_NEGBINOMIAL = Family(
    "hurdle_negbinomial",
    ("log",),
    "count",
    aux_params=(_ALPHA,),
    exp_label="RR",
    aliases=("hurdle_negative_binomial", "hurdlenegativebinomial"),
    **_make(nb=True, hurdle=True),
)
