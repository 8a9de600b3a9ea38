"""The gaussian family: normal response, auxiliary residual sd ``sigma``."""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.links import LINKS

__all__ = ["GAUSSIAN", "GAUSSIAN_SE"]


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
    exact_ar="gaussian_ar1",
)


# -- known standard errors: brms's ``y | se(s)`` (meta-analysis, eight schools) ---------------
# The per-row standard error travels in the ``trials`` slot of every family function (a
# per-row array the model, log-likelihood and draws already carry); there is no residual sigma.
def _se(trials) -> np.ndarray:
    if trials is None:
        from bayesmixed.errors import FamilyError

        raise FamilyError(
            "this quantity is not available for a response with known standard errors "
            "(y | se(s)): it needs a residual sd or the rows' standard errors")
    return np.asarray(trials, dtype=float)


def _se_observed(eta, link, aux, y, trials=None):
    import pymc as pm

    return pm.Normal("y", mu=LINKS[link].inverse_pt(eta), sigma=trials, observed=y)


def _se_loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    return stats.norm.logpdf(y[None, :], loc=LINKS[link].inverse(eta), scale=_se(trials))


def _se_density(y, mu, aux, trials=None):
    from scipy import stats

    return stats.norm.pdf(y, mu, _se(trials))


def _se_cdf(y, mu, aux, trials=None):
    from scipy import stats

    return stats.norm.cdf(y, mu, _se(trials))


def _se_variance(mu, aux, trials=None):
    return np.broadcast_to(_se(trials) ** 2, np.shape(mu))


def _se_draw(rng, mu, aux, trials=None):
    return rng.normal(mu, _se(trials))


def _se_latent_variance(link, n_draws, aux, mean_rate):
    return np.full(n_draws, np.nan)  # no single residual variance: it differs by row


#: gaussian with a known standard error per row, chosen by ``y | se(s)`` with family gaussian
GAUSSIAN_SE = Family(
    "gaussian_se",
    ("identity",),
    "real",
    observed=_se_observed,
    loglik=_se_loglik,
    density=_se_density,
    cdf=_se_cdf,
    variance=_se_variance,
    draw=_se_draw,
    latent_variance=_se_latent_variance,
    response_scale=_response_scale,
    latent_scale=False,
)
