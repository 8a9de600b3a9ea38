"""The gaussian family: normal response, auxiliary residual sd ``sigma``."""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.links import LINKS

__all__ = ["GAUSSIAN"]


def _sigma_prior(design):
    from bayesmixed.formula.priors import Prior

    sd_y = float(np.std(design.y, ddof=1)) if design.n_obs > 1 else 1.0
    return Prior("Exponential", {"lam": 1.0 / (sd_y if sd_y > 0 else 1.0)})


def _observed(eta, link, aux, y, trials=None):
    import pymc as pm

    return pm.Normal("y", mu=LINKS[link].inverse_pt(eta), sigma=aux["sigma"], observed=y)


def _loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    return stats.norm.logpdf(y[None, :], loc=LINKS[link].inverse(eta), scale=aux["sigma"])


def _density(y, mu, aux, trials=None):
    from scipy import stats

    return stats.norm.pdf(y, mu, aux["sigma"])


def _cdf(y, mu, aux, trials=None):
    from scipy import stats

    return stats.norm.cdf(y, mu, aux["sigma"])


def _variance(mu, aux, trials=None):
    return np.broadcast_to(aux["sigma"] ** 2, np.shape(mu))


def _draw(rng, mu, aux, trials=None):
    return rng.normal(mu, aux["sigma"])


def _latent_variance(link, n_draws, aux, mean_rate):
    return aux["sigma"] ** 2


def _response_scale(y, link):
    if link != "identity":
        return 1.0
    s = float(np.std(y, ddof=1)) if y.shape[0] > 1 else 1.0
    return s if s > 0 else 1.0


GAUSSIAN = Family(
    "gaussian",
    ("identity", "log"),
    "real",
    aux_params=(AuxParam("sigma", _sigma_prior, truth=1.0),),
    aliases=("normal",),
    observed=_observed,
    loglik=_loglik,
    density=_density,
    cdf=_cdf,
    variance=_variance,
    draw=_draw,
    latent_variance=_latent_variance,
    response_scale=_response_scale,
    latent_scale=False,
)
