"""The bernoulli and binomial families: success probability through a logit/probit/cloglog link.

The mean of a binomial response is ``trials * mu``; a bernoulli response has one trial. Under the
logit link both use ``logit_p=eta`` in the graph and a lean log-density (see
``graph/lean_likelihood.py``).
"""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import CellRule, Family, LeanLikelihood
from bayesmixed.families.links import LINKS

__all__ = ["BERNOULLI", "BINOMIAL"]

_EPS = 1e-12


def _clip_p_pt(p):
    import pytensor.tensor as pt

    return pt.clip(p, _EPS, 1 - _EPS)


def _bernoulli_observed(eta, link, aux, y, trials=None):
    import pymc as pm

    if link == "logit":
        return pm.Bernoulli("y", logit_p=eta, observed=y)
    return pm.Bernoulli("y", p=_clip_p_pt(LINKS[link].inverse_pt(eta)), observed=y)


def _binomial_observed(eta, link, aux, y, trials=None):
    import pymc as pm

    if link == "logit":
        return pm.Binomial("y", n=trials, logit_p=eta, observed=y)
    return pm.Binomial("y", n=trials, p=_clip_p_pt(LINKS[link].inverse_pt(eta)), observed=y)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(1 / (1 + exp(-x)))`` elementwise, stable for any ``x``.

    Equal to ``-np.logaddexp(0, -x)`` up to rounding (one or two units in the last place) and
    about three times faster: numpy's ``logaddexp`` is a scalar loop, ``exp`` and ``log1p`` are
    vectorized.

    Examples
    --------
    >>> log_sigmoid(np.array([-800.0, 0.0, 40.0]))
    array([-8.00000000e+02, -6.93147181e-01, -4.24835426e-18])
    """
    x = np.asarray(x, dtype=float)
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    return np.subtract(np.minimum(x, 0.0), out, out=out)


def _bernoulli_loglik(y: np.ndarray, eta: np.ndarray, link: str) -> np.ndarray:
    """Log-likelihood of 0/1 responses, draws x rows: ``log p`` where ``y = 1``, ``log(1 - p)``
    where ``y = 0``, without the binomial coefficient (zero) or the product with ``y``."""
    yes = np.asarray(y, dtype=bool)[None, :]
    if link == "logit":  # log p = log_sigmoid(eta), log(1 - p) = log_sigmoid(-eta)
        return log_sigmoid(np.where(yes, eta, -eta))
    p = np.clip(LINKS[link].inverse(eta), _EPS, 1 - _EPS)
    return np.where(yes, np.log(p), np.log1p(-p))


def _loglik(y, eta, link, aux, trials=None):
    from scipy import special

    y_arr = np.asarray(y)
    if _one_trial(trials) and np.all((y_arr == 0) | (y_arr == 1)):
        return _bernoulli_loglik(y_arr, eta, link)
    n = np.ones_like(y) if trials is None else trials
    if link == "logit":
        logp, log1mp = -np.logaddexp(0, -eta), -np.logaddexp(0, eta)
    else:
        p = np.clip(LINKS[link].inverse(eta), _EPS, 1 - _EPS)
        logp, log1mp = np.log(p), np.log1p(-p)
    comb = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    return comb[None, :] + y[None, :] * logp + (n - y)[None, :] * log1mp


def _n(trials, y):
    return np.ones_like(y) if trials is None else trials


def _one_trial(trials) -> bool:
    return trials is None or bool(np.all(np.asarray(trials) == 1))


def _density(y, mu, aux, trials=None):
    from scipy import stats

    if _one_trial(trials):  # P(y = 1) = p, P(y = 0) = 1 - p, else 0: scipy's pmf with n = 1
        y, p = np.asarray(y, dtype=float), np.clip(mu, 0, 1)
        out = np.where(y == 1, p, np.where(y == 0, 1 - p, 0.0))
        return np.where(np.isnan(y), np.nan, out)
    return stats.binom.pmf(y, _n(trials, y), np.clip(mu, 0, 1))


def _cdf(y, mu, aux, trials=None):
    from scipy import stats

    if _one_trial(trials):  # 0 below 0, 1 - p on [0, 1), 1 from 1: scipy's cdf with n = 1
        y, p = np.asarray(y, dtype=float), np.clip(mu, 0, 1)
        out = np.where(y < 0, 0.0, np.where(y < 1, 1 - p, 1.0))
        return np.where(np.isnan(y), np.nan, out)
    return stats.binom.cdf(y, _n(trials, y), np.clip(mu, 0, 1))


def _variance(mu, aux, trials=None):
    return (1.0 if trials is None else trials) * mu * (1 - mu)


def _bernoulli_draw(rng, mu, aux, trials=None):
    return rng.binomial(1, np.clip(mu, 0.0, 1.0))


def _binomial_draw(rng, mu, aux, trials=None):
    return rng.binomial(1 if trials is None else trials, np.clip(mu, 0.0, 1.0))


def _bernoulli_simulate(rng, mu, aux, trials=None):
    return rng.uniform(size=mu.shape[0]) < mu


def _latent_variance(link, n_draws, aux, mean_rate):
    return np.full(n_draws, LINKS[link].latent_variance)


def _bernoulli_logp(value, eta):
    import pytensor.tensor as pt

    return value * eta - pt.softplus(eta)


def _bernoulli_dist(eta, size):
    import pymc as pm

    return pm.Bernoulli.dist(logit_p=eta, size=size)


def _binomial_logp(value, eta, n):
    import pytensor.tensor as pt

    return value * eta - n * pt.softplus(eta)


def _binomial_dist(eta, n, size):
    import pymc as pm

    return pm.Binomial.dist(n=n, logit_p=eta, size=size)


_COMMON = dict(
    exp_label="OR",
    loglik=_loglik,
    density=_density,
    cdf=_cdf,
    variance=_variance,
    latent_variance=_latent_variance,
)

BERNOULLI = Family(
    "bernoulli",
    ("logit", "probit", "cloglog"),
    "binary",
    aliases=("binary", "logistic"),
    observed=_bernoulli_observed,
    draw=_bernoulli_draw,
    simulate_draw=_bernoulli_simulate,
    cells=CellRule("bernoulli -> binomial", "binomial", trials="count"),
    lean={"logit": LeanLikelihood(_bernoulli_dist, _bernoulli_logp)},
    **_COMMON,
)

BINOMIAL = Family(
    "binomial",
    ("logit", "probit", "cloglog"),
    "binomial",
    observed=_binomial_observed,
    draw=_binomial_draw,
    cells=CellRule("binomial -> binomial", "binomial", trials="sum"),
    lean={"logit": LeanLikelihood(_binomial_dist, _binomial_logp, uses_trials=True)},
    **_COMMON,
)
