"""The beta family for proportions ``0 < y < 1``: mean ``mu`` (logit link) and precision ``phi``.

``y ~ Beta(mu phi, (1 - mu) phi)`` as brms' ``Beta()``, so ``Var(y) = mu (1 - mu) / (1 + phi)``.
Responses equal to 0 or 1 are rejected (a zero/one-inflated beta would be a distributional
family).

Latent scale: a beta regression has no latent variable whose logistic threshold gives ``y``, so
no exact latent residual variance exists. For the ICC / variance partition the report uses the
variance of ``logit(y)`` for ``y ~ Beta(m phi, (1 - m) phi)`` at the mean ``m`` of the response:
``trigamma(m phi) + trigamma((1 - m) phi)`` (exact for that beta distribution, an approximation
for the model, as the log-normal approximation for counts of Nakagawa, Johnson & Schielzeth
2017); the ICC is then labelled ``latent``.

Default prior: ``phi ~ Gamma(2, 0.1 / k)`` with ``k = mean(y) (1 - mean(y)) / var(y) - 1`` the
moment estimate of the precision of the marginal response (clipped to ``[0.1, 100]``), prior
mean ``20 k`` (brms: ``gamma(0.01, 0.01)``).
"""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.links import LINKS
from bayesmixed.families.positive import moment_precision

__all__ = ["BETA"]

_EPS = 1e-12


def _phi_prior(design):
    from bayesmixed.formula.priors import Prior

    k = moment_precision(design.y, "beta") if design is not None else 1.0
    return Prior("Gamma", {"alpha": 2.0, "beta": round(0.1 / k, 6)})


def _ab(mu, phi):
    mu = np.clip(mu, _EPS, 1.0 - _EPS)
    return mu * phi, (1.0 - mu) * phi


def _observed(eta, link, aux, y, trials=None):
    import pymc as pm
    import pytensor.tensor as pt

    mu = pt.clip(LINKS[link].inverse_pt(eta), _EPS, 1.0 - _EPS)
    phi = aux["phi"]
    return pm.Beta("y", alpha=mu * phi, beta=(1.0 - mu) * phi, observed=y)


def _loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    a, b = _ab(LINKS[link].inverse(eta), aux["phi"])
    return stats.beta.logpdf(y[None, :], a, b)


def _density(y, mu, aux, trials=None):
    from scipy import stats

    return stats.beta.pdf(y, *_ab(mu, aux["phi"]))


def _cdf(y, mu, aux, trials=None):
    from scipy import stats

    return stats.beta.cdf(y, *_ab(mu, aux["phi"]))


def _variance(mu, aux, trials=None):
    return mu * (1.0 - mu) / (1.0 + aux["phi"])


def _draw(rng, mu, aux, trials=None):
    a, b = _ab(np.asarray(mu, dtype=float), aux["phi"])
    return np.clip(rng.beta(a, b), 1e-15, 1.0 - 1e-15)


def _latent(link, n_draws, aux, mean_rate):
    from scipy import special

    m = np.clip(np.broadcast_to(mean_rate(), (n_draws,)), 1e-6, 1.0 - 1e-6)
    a, b = _ab(m, np.asarray(aux["phi"], dtype=float))
    return special.polygamma(1, a) + special.polygamma(1, b)


BETA = Family(
    "beta",
    ("logit", "probit", "cloglog"),
    "unit",
    aux_params=(AuxParam("phi", _phi_prior, truth=10.0),),
    exp_label="OR",
    aliases=("beta_regression",),
    observed=_observed,
    loglik=_loglik,
    density=_density,
    cdf=_cdf,
    variance=_variance,
    draw=_draw,
    latent_variance=_latent,
)
