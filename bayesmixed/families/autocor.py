"""Gaussian response with AR(1) residuals within series: the family of ``ar(time, gr)``.

Chosen by the design for ``family="gaussian"`` with an ``ar()`` term (never named by users).
Reported as nlme's ``corAR1``: ``sigma`` is the marginal residual sd and ``ar[1]`` (``phi``)
the correlation of consecutive residuals of a series; two observations ``d`` time steps apart
correlate ``phi^d``. The sampler draws ``phi`` (prior ``Uniform(-1, 1)``) and the innovation
sd ``sigma * sqrt(1 - phi^2)`` (``sigma_innovation``, which the ``sigma`` prior applies to,
as in brms); ``sigma`` is derived. Given the random effects, the residuals ``e = y - mu`` of a
series follow the sequential (conditional) factorization

* first observation: ``y ~ N(mu, sigma)``;
* later ones, ``d`` steps after the previous: ``y ~ N(mu + phi^d e_prev, sigma sqrt(1 - phi^2d))``

which is the exact multivariate normal likelihood of the series. The pointwise
log-likelihood is that of each conditional factor, so LOO over its rows is approximate (as in
brms: leaving a row out also changes the conditional density of the next row).

The series structure reaches every function of the row through the ``trials`` slot (one
number per row, as ``gaussian_se`` passes its standard errors there): :func:`link_codes`
encodes, per row, the previous row of its series and the gap to it.
"""

from __future__ import annotations

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.gaussian import _response_scale, _sigma_prior
from bayesmixed.families.links import LINKS
from bayesmixed.names import AR_INNOVATION_SD, ar_label

__all__ = ["AR", "GAUSSIAN_AR1", "decode_links", "link_codes"]

#: name of the autocorrelation parameter (model variable, prior key, summary row)
AR = ar_label(1)


def link_codes(prev: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """One number per row: -1 for the first row of a series, else ``prev + n * (gap - 1)``.

    Parameters
    ----------
    prev
        Index of the previous row of the same series (any value where ``gap`` is 0).
    gap
        Time steps since that row (0 for the first row of a series).

    Examples
    --------
    >>> link_codes(np.array([0, 0, 1]), np.array([0, 1, 2])).tolist()
    [-1.0, 0.0, 4.0]
    """
    n = len(prev)
    gap = np.asarray(gap, dtype=np.int64)
    return np.where(gap > 0, np.asarray(prev) + n * (gap - 1), -1).astype(float)


def decode_links(codes, n: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(first, prev, gap)`` from :func:`link_codes` (``gap`` is 0 on first rows).

    Examples
    --------
    >>> [a.tolist() for a in decode_links(np.array([-1.0, 0.0, 4.0]))]
    [[True, False, False], [0, 0, 1], [0, 1, 2]]
    """
    if codes is None:
        from bayesmixed.errors import FamilyError

        raise FamilyError(
            "this quantity needs the series of the ar() term (time and group columns)")
    c = np.asarray(codes, dtype=float).reshape(-1)
    n = c.shape[0] if n is None else n
    first = c < 0
    k = np.where(first, 0, c).astype(np.int64)
    return first, k % n, np.where(first, 0, k // n + 1)


def _conditional(y, mu, aux, trials):
    """Mean and sd of each row given the previous row of its series, ``(draws, rows)``."""
    mu = np.asarray(mu, dtype=float)
    y = np.broadcast_to(np.asarray(y, dtype=float), np.broadcast_shapes(np.shape(y), mu.shape))
    first, prev, gap = decode_links(trials, mu.shape[-1])
    phi = np.asarray(aux[AR], dtype=float)
    rho = phi ** gap  # gap 0 on first rows: rho 1, masked below
    m = mu + np.where(first, 0.0, rho * (y[..., prev] - mu[..., prev]))
    sd = aux["sigma"] * np.sqrt(np.where(first, 1.0, 1.0 - rho**2))
    return m, sd


def _loglik(y, eta, link, aux, trials=None):
    from scipy import stats

    m, sd = _conditional(y[None, :], LINKS[link].inverse(eta), aux, trials)
    return stats.norm.logpdf(y[None, :], m, sd)


def _density(y, mu, aux, trials=None):
    from scipy import stats

    m, sd = _conditional(y, mu, aux, trials)
    return stats.norm.pdf(y, m, sd)


def _cdf(y, mu, aux, trials=None):
    from scipy import stats

    m, sd = _conditional(y, mu, aux, trials)
    return stats.norm.cdf(y, m, sd)


def _variance(mu, aux, trials=None):
    return np.broadcast_to(aux["sigma"] ** 2, np.shape(mu))


def _depths(first: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Position of each row in its series (0 for the first row)."""
    depth = np.where(first, 0, -1)
    while (depth < 0).any():
        todo = depth < 0
        ready = todo & (depth[prev] >= 0)
        if not ready.any():
            raise ValueError("the series links form a cycle")
        depth[ready] = depth[prev[ready]] + 1
    return depth


def draw_process(rng, shape, phi, sigma, trials) -> np.ndarray:
    """Draws of the stationary AR(1) residual process of every series, ``shape`` (.., rows).

    Examples
    --------
    >>> e = draw_process(np.random.default_rng(1), (20000, 2), 0.6, 2.0,
    ...                  link_codes(np.array([0, 0]), np.array([0, 1])))
    >>> np.round(np.corrcoef(e.T)[0, 1], 1), np.round(e.std(axis=0), 1).tolist()
    (np.float64(0.6), [2.0, 2.0])
    """
    first, prev, gap = decode_links(trials, shape[-1])
    phi = np.asarray(phi, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    z = rng.standard_normal(shape)
    e = np.zeros(shape)
    depth = _depths(first, prev)
    e[..., first] = (sigma * z)[..., first] if sigma.ndim else sigma * z[..., first]
    for k in range(1, int(depth.max(initial=0)) + 1):
        rows = np.flatnonzero(depth == k)
        rho = phi ** gap[rows]
        innov = np.sqrt(1.0 - rho**2) * z[..., rows]
        e[..., rows] = rho * e[..., prev[rows]] + sigma * innov
    return e


def _draw(rng, mu, aux, trials=None):
    mu = np.asarray(mu, dtype=float)
    return mu + draw_process(rng, mu.shape, aux[AR], aux["sigma"], trials)


def _latent_variance(link, n_draws, aux, mean_rate):
    return aux["sigma"] ** 2


def _ar_logp(value, mu, phi, sigma, codes):
    import pytensor.tensor as pt

    n = value.shape[0]
    first = pt.lt(codes, 0)
    k = pt.switch(first, 0, codes).astype("int64")
    prev, gap = k % n, k // n + 1
    rho = phi ** gap
    e = value - mu
    m = mu + pt.switch(first, 0.0, rho * e[prev])
    sd = sigma * pt.sqrt(pt.switch(first, 1.0, 1.0 - rho**2))
    return -0.5 * ((value - m) / sd) ** 2 - pt.log(sd) - 0.5 * np.log(2.0 * np.pi)


def _ar_random(mu, phi, sigma, codes, rng=None, size=None):
    mu = np.asarray(mu, dtype=float)
    shape = tuple(size) if size is not None else mu.shape
    return mu + draw_process(rng, shape, phi, sigma, codes)


def _observed(eta, link, aux, y, trials=None):
    import pymc as pm

    mu = LINKS[link].inverse_pt(eta)
    return pm.CustomDist(
        "y", mu, aux[AR], aux["sigma"], trials, logp=_ar_logp, random=_ar_random,
        observed=y,
    )


def _build_aux(priors, design) -> dict:
    """``ar[1]`` and the innovation sd from their priors; ``sigma`` (marginal) derived.

    Sampling the innovation sd ``sigma * sqrt(1 - phi^2)`` rather than ``sigma`` removes the
    ridge along which ``phi -> 1`` and ``sigma`` grows (a series' level then drifts like a
    random intercept): with ``sigma`` sampled, the BodyWeight model mixed poorly (R-hat 1.04).
    The ``sigma`` prior therefore applies to the innovation sd, as brms's ``sigma`` of an
    ``ar()`` term does.
    """
    import pymc as pm
    import pytensor.tensor as pt

    def prior_rv(name, prior):
        return getattr(pm, prior.dist)(name, **{k: float(v) for k, v in prior.params.items()})

    phi = prior_rv(AR, priors[AR])
    innovation = prior_rv(AR_INNOVATION_SD, priors["sigma"])
    sigma = pm.Deterministic("sigma", innovation / pt.sqrt(1.0 - phi**2))
    return {AR: phi, "sigma": sigma}


def _ar_prior(design):
    from bayesmixed.formula.priors import Prior

    return Prior("Uniform", {"lower": -1.0, "upper": 1.0})


#: gaussian with AR(1) residuals within series, chosen by an ``ar()`` term with family gaussian
GAUSSIAN_AR1 = Family(
    "gaussian_ar1",
    ("identity",),
    "real",
    aux_params=(
        AuxParam("sigma", _sigma_prior, truth=1.0),
        AuxParam(AR, _ar_prior, truth=0.5, positive=False),
    ),
    observed=_observed,
    loglik=_loglik,
    density=_density,
    cdf=_cdf,
    variance=_variance,
    draw=_draw,
    latent_variance=_latent_variance,
    response_scale=_response_scale,
    latent_scale=False,
    build_aux=_build_aux,
)
