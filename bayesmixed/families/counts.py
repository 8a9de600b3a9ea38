"""The count families: poisson and negative binomial (NB2, ``var = mu + mu^2 / alpha``), log link.

The latent-scale residual variance is the log-normal approximation of Nakagawa, Johnson &
Schielzeth (2017): ``log(1 + 1/lambda)`` for the poisson, ``log(1 + 1/lambda + 1/alpha)`` for the
negative binomial, with ``lambda`` the mean rate.
"""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, CellRule, Family, LeanLikelihood

__all__ = ["NEGBINOMIAL", "POISSON"]


def _alpha_prior(design):
    from bayesmixed.formula.priors import Prior

    return Prior("Gamma", {"alpha": 2.0, "beta": 0.1})


def _poisson_observed(eta, link, aux, y, trials=None):
    import pymc as pm
    import pytensor.tensor as pt

    return pm.Poisson("y", mu=pt.exp(eta), observed=y)


def _negbinomial_observed(eta, link, aux, y, trials=None):
    import pymc as pm
    import pytensor.tensor as pt

    return pm.NegativeBinomial("y", mu=pt.exp(eta), alpha=aux["alpha"], observed=y)


def _poisson_loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    return stats.poisson.logpmf(y[None, :], np.exp(eta))


def _negbinomial_loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    mu, alpha = np.exp(eta), aux["alpha"]
    return stats.nbinom.logpmf(y[None, :], alpha, alpha / (alpha + mu))


def _poisson_density(y, mu, aux, trials=None):
    from scipy import stats

    return stats.poisson.pmf(y, mu)


def _negbinomial_density(y, mu, aux, trials=None):
    from scipy import stats

    alpha = aux["alpha"]
    return stats.nbinom.pmf(y, alpha, alpha / (alpha + mu))


def _poisson_cdf(y, mu, aux, trials=None):
    from scipy import stats

    return stats.poisson.cdf(y, mu)


def _negbinomial_cdf(y, mu, aux, trials=None):
    from scipy import stats

    alpha = aux["alpha"]
    return stats.nbinom.cdf(y, alpha, alpha / (alpha + mu))


def _poisson_variance(mu, aux, trials=None):
    return mu


def _negbinomial_variance(mu, aux, trials=None):
    return mu + mu**2 / aux["alpha"]


def _poisson_draw(rng, mu, aux, trials=None):
    return rng.poisson(mu)


def _negbinomial_draw(rng, mu, aux, trials=None):
    alpha = aux["alpha"]
    return rng.negative_binomial(alpha, alpha / (alpha + mu))


def _poisson_latent(link, n_draws, aux, mean_rate):
    return np.log1p(1.0 / mean_rate())


def _negbinomial_latent(link, n_draws, aux, mean_rate):
    return np.log1p(1.0 / mean_rate() + 1.0 / aux["alpha"])


def _poisson_logp(value, eta):
    import pytensor.tensor as pt

    return value * eta - pt.exp(eta)


def _poisson_dist(eta, size):
    import pymc as pm
    import pytensor.tensor as pt

    return pm.Poisson.dist(mu=pt.exp(eta), size=size)


POISSON = Family(
    "poisson",
    ("log",),
    "count",
    exp_label="RR",
    observed=_poisson_observed,
    loglik=_poisson_loglik,
    density=_poisson_density,
    cdf=_poisson_cdf,
    variance=_poisson_variance,
    draw=_poisson_draw,
    latent_variance=_poisson_latent,
    lean={"log": LeanLikelihood(_poisson_dist, _poisson_logp)},
    cells=CellRule(
        "poisson -> poisson (offset + log count)", "poisson", log_count_offset=True, links=("log",)
    ),
)

NEGBINOMIAL = Family(
    "negbinomial",
    ("log",),
    "count",
    aux_params=(AuxParam("alpha", _alpha_prior, truth=5.0),),
    exp_label="RR",
    aliases=("negative_binomial", "negbin", "nb", "neg_binomial_2"),
    observed=_negbinomial_observed,
    loglik=_negbinomial_loglik,
    density=_negbinomial_density,
    cdf=_negbinomial_cdf,
    variance=_negbinomial_variance,
    draw=_negbinomial_draw,
    latent_variance=_negbinomial_latent,
)
