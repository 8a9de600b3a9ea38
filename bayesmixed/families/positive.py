"""Families for positive continuous responses: gamma and lognormal (parameterized as brms).

* ``gamma``: mean ``mu`` (links log, inverse, identity) and ``shape``; ``Var(y) = mu^2 / shape``
  (``y ~ Gamma(shape, rate = shape / mu)``; glmmTMB's ``sigma`` is ``1 / sqrt(shape)``).
* ``lognormal``: ``log(y) ~ Normal(eta, sigma)``: the linear predictor is the mean of ``log y``
  (identity link on the log scale), the mean of ``y`` is ``exp(eta + sigma^2 / 2)``.

Latent-scale (ICC, variance partition) residual variance:

* gamma, log link: ``trigamma(shape)``, the exact variance of ``log y`` (Nakagawa, Johnson &
  Schielzeth 2017, J. R. Soc. Interface 14:20170213, who give it next to the log-normal
  approximation ``log(1 + 1/shape)``);
* gamma, inverse / identity link: the delta-method variance on the link scale at the mean
  ``m`` of the response: ``1 / (m^2 shape)`` (inverse) and ``m^2 / shape`` (identity);
* lognormal: ``sigma^2``, the residual variance of ``log y``.

Default priors: ``shape ~ Gamma(2, 0.1 / k)`` with ``k`` the moment estimate ``mean(y)^2 /
var(y)`` of the shape of the marginal response (clipped to ``[0.1, 100]``), prior mean ``20 k``;
``sigma ~ Exponential(1 / sd(log y))`` (as the gaussian ``sigma`` on the log scale).
"""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.links import LINKS

__all__ = ["GAMMA", "LOGNORMAL", "moment_precision"]


def moment_precision(y: np.ndarray, kind: str) -> float:
    """Moment estimate of a family's precision from the marginal response, clipped to
    ``[0.1, 100]``: gamma shape ``mean^2 / var``, beta precision ``mean (1 - mean) / var - 1``.

    Examples
    --------
    >>> moment_precision(np.array([1.0, 2.0, 3.0]), "gamma")  # 4 / 1
    4.0
    """
    y = np.asarray(y, dtype=float)
    m, v = (float(np.mean(y)), float(np.var(y, ddof=1))) if y.size > 1 else (1.0, 0.0)
    if v <= 0:
        return 100.0
    k = m * m / v if kind == "gamma" else m * (1.0 - m) / v - 1.0
    return float(np.clip(k, 0.1, 100.0))


def _shape_prior(design):
    from bayesmixed.formula.priors import Prior

    k = moment_precision(design.y, "gamma") if design is not None else 1.0
    return Prior("Gamma", {"alpha": 2.0, "beta": round(0.1 / k, 6)})


def _gamma_observed(eta, link, aux, y, trials=None):
    import pymc as pm

    mu, shape = LINKS[link].inverse_pt(eta), aux["shape"]
    return pm.Gamma("y", alpha=shape, beta=shape / mu, observed=y)


def _gamma_loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    mu, shape = LINKS[link].inverse(eta), aux["shape"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = stats.gamma.logpdf(y[None, :], shape, scale=mu / shape)
    return np.where(mu > 0, out, -np.inf)


def _gamma_density(y, mu, aux, trials=None):
    from scipy import stats

    return stats.gamma.pdf(y, aux["shape"], scale=mu / aux["shape"])


def _gamma_cdf(y, mu, aux, trials=None):
    from scipy import stats

    return stats.gamma.cdf(y, aux["shape"], scale=mu / aux["shape"])


def _gamma_variance(mu, aux, trials=None):
    return mu**2 / aux["shape"]


def _gamma_draw(rng, mu, aux, trials=None):
    shape = aux["shape"]
    return rng.gamma(np.broadcast_to(shape, np.shape(mu)), np.maximum(mu, 1e-300) / shape)


def _gamma_latent(link, n_draws, aux, mean_rate):
    from scipy import special

    shape = np.broadcast_to(np.asarray(aux["shape"], dtype=float), (n_draws,))
    if link == "log":
        return special.polygamma(1, shape)
    m = mean_rate()
    if link == "inverse":
        return 1.0 / (m**2 * shape)
    return m**2 / shape


def _gamma_scale(y, link):
    if link == "log":
        return 1.0
    t = y if link == "identity" else 1.0 / y
    s = float(np.std(t, ddof=1)) if t.shape[0] > 1 else 1.0
    return s if np.isfinite(s) and s > 0 else 1.0


GAMMA = Family(
    "gamma",
    ("log", "inverse", "identity"),
    "positive",
    aux_params=(AuxParam("shape", _shape_prior, truth=5.0),),
    observed=_gamma_observed,
    loglik=_gamma_loglik,
    density=_gamma_density,
    cdf=_gamma_cdf,
    variance=_gamma_variance,
    draw=_gamma_draw,
    latent_variance=_gamma_latent,
    response_scale=_gamma_scale,
)


def _sd_log(y) -> float:
    y = np.asarray(y, dtype=float)
    s = float(np.std(np.log(y), ddof=1)) if y.size > 1 and np.all(y > 0) else 1.0
    return s if np.isfinite(s) and s > 0 else 1.0


def _sigma_prior(design):
    from bayesmixed.formula.priors import Prior

    return Prior("Exponential", {"lam": 1.0 / (_sd_log(design.y) if design is not None else 1.0)})


def _lognormal_observed(eta, link, aux, y, trials=None):
    import pymc as pm

    return pm.LogNormal("y", mu=eta, sigma=aux["sigma"], observed=y)


def _lognormal_loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    return stats.norm.logpdf(np.log(y)[None, :], eta, aux["sigma"]) - np.log(y)[None, :]


def _lognormal_density(y, mu, aux, trials=None):
    from scipy import stats

    return stats.lognorm.pdf(y, aux["sigma"], scale=np.exp(mu))


def _lognormal_cdf(y, mu, aux, trials=None):
    from scipy import stats

    return stats.lognorm.cdf(y, aux["sigma"], scale=np.exp(mu))


def _lognormal_variance(mu, aux, trials=None):
    s2 = np.asarray(aux["sigma"]) ** 2
    return np.expm1(s2) * np.exp(2.0 * mu + s2)


def _lognormal_draw(rng, mu, aux, trials=None):
    return np.exp(rng.normal(mu, aux["sigma"]))


def _lognormal_latent(link, n_draws, aux, mean_rate):
    return np.broadcast_to(np.asarray(aux["sigma"], dtype=float) ** 2, (n_draws,))


def _lognormal_mean(mu, aux, trials=None):
    return np.exp(mu + np.asarray(aux["sigma"]) ** 2 / 2.0)


LOGNORMAL = Family(
    "lognormal",
    ("identity",),
    "positive",
    aux_params=(AuxParam("sigma", _sigma_prior, truth=0.5),),
    aliases=("log_normal",),
    observed=_lognormal_observed,
    loglik=_lognormal_loglik,
    density=_lognormal_density,
    cdf=_lognormal_cdf,
    variance=_lognormal_variance,
    draw=_lognormal_draw,
    latent_variance=_lognormal_latent,
    response_scale=lambda y, link: _sd_log(y),
    response_mean=_lognormal_mean,
    transform=np.log,
)
