"""The ``cumulative`` ordinal family: ``P(y <= k) = F(threshold_k - eta)``, links logit and probit.

The response is a category code ``0..K-1`` (:func:`bayesmixed.design.response.response_data`
turns ordered categoricals and integers into codes and remembers the labels). The thresholds are
one vector auxiliary parameter named ``Intercept`` (summary rows ``Intercept[1]`` ..
``Intercept[K-1]``, as in brms), ordered through PyMC's ordered transform; the population-level
design has no intercept column (the thresholds take its place). ``F`` is the logistic (logit) or
standard normal (probit) distribution function, so the latent residual variance is pi^2/3 or 1.

Conventions of the row's numpy functions (see :mod:`bayesmixed.families.base`): ``mu`` is
``F(eta)``, the inverse link of the linear predictor, from which ``eta`` is recovered through the
link function; ``aux["Intercept"]`` holds the thresholds, ``(draws, K-1)`` or ``(K-1,)``.

Examples
--------
>>> import numpy as np
>>> probs = category_probs(np.array([0.0]), "logit", np.array([-1.0, 1.0]))
>>> probs.round(3).tolist()  # three categories at eta = 0
[[0.269, 0.462, 0.269]]
"""

from __future__ import annotations

import re

import numpy as np

from bayesmixed.families.base import AuxParam, Family
from bayesmixed.families.links import LINKS

__all__ = [
    "CUMULATIVE",
    "THRESHOLDS",
    "category_probs",
    "threshold_names",
    "thresholds_in",
    "truth_categories",
]

#: Name of the thresholds' model variable, prior key and summary-row stem.
THRESHOLDS = "Intercept"
#: Default prior of every threshold (brms's ``student_t(3, 0, 2.5)`` on the intercepts).
THRESHOLD_PRIOR = {"nu": 3.0, "mu": 0.0, "sigma": 2.5}
_TINY = 1e-300
_THRESHOLD_KEY = re.compile(r"Intercept\[(\d+)\]")


def threshold_names(n_categories: int) -> list[str]:
    """Summary names of the thresholds of a ``K``-category response.

    Examples
    --------
    >>> threshold_names(3)
    ['Intercept[1]', 'Intercept[2]']
    """
    return [f"{THRESHOLDS}[{k}]" for k in range(1, n_categories)]


def thresholds_in(params) -> np.ndarray:
    """The thresholds ``Intercept[1]``, ``Intercept[2]``, ... of a name -> value mapping, in order.

    Examples
    --------
    >>> thresholds_in({"x": 1.0, "Intercept[2]": 0.5, "Intercept[1]": -1.0}).tolist()
    [-1.0, 0.5]
    """
    ks = sorted(int(m.group(1)) for k in params if (m := _THRESHOLD_KEY.fullmatch(str(k))))
    return np.array([float(params[f"{THRESHOLDS}[{k}]"]) for k in ks])


def truth_categories(truth) -> int:
    """``K`` of a simulated ordinal response: one more than the thresholds ``truth`` names,
    else 4.

    Examples
    --------
    >>> truth_categories({"Intercept[1]": 0.0, "Intercept[2]": 1.0}), truth_categories(None)
    (3, 4)
    """
    n = len(thresholds_in(truth or {}))
    return n + 1 if n else 4


def _cdf(link: str, x: np.ndarray) -> np.ndarray:
    return LINKS[link].inverse(x)


def _sf(link: str, x: np.ndarray) -> np.ndarray:
    return LINKS[link].inverse(-x)  # logistic and normal are symmetric


def _eta(mu: np.ndarray, link: str) -> np.ndarray:
    from scipy import special

    mu = np.clip(np.asarray(mu, dtype=float), 1e-15, 1 - 1e-15)
    return special.logit(mu) if link == "logit" else special.ndtri(mu)


def _thresholds(aux) -> np.ndarray:
    th = np.asarray(aux[THRESHOLDS], dtype=float)
    return th if th.ndim > 1 else th[None, :]


def category_probs(eta: np.ndarray, link: str, thresholds: np.ndarray) -> np.ndarray:
    """Category probabilities, shape ``eta.shape + (K,)``.

    Parameters
    ----------
    eta
        Linear predictor, ``(draws, rows)`` or ``(rows,)``.
    link
        ``"logit"`` or ``"probit"``.
    thresholds
        ``(draws, K-1)`` (with ``(draws, rows)`` eta) or ``(K-1,)``.

    Examples
    --------
    >>> category_probs(np.zeros((2, 1)), "probit", np.array([[0.0], [0.0]])).tolist()
    [[[0.5, 0.5]], [[0.5, 0.5]]]
    """
    eta = np.asarray(eta, dtype=float)
    th = np.asarray(thresholds, dtype=float)
    if th.ndim == 2 and eta.ndim == 2:
        th = th[:, None, :]
    cum = _cdf(link, th - eta[..., None])
    shape = (*cum.shape[:-1], 1)
    cum = np.concatenate([np.zeros(shape), cum, np.ones(shape)], axis=-1)
    return np.maximum(np.diff(cum, axis=-1), 0.0)


def _interval(y, eta, link, th):
    """Lower and upper thresholds of category ``y`` per (draw, row), -inf / +inf at the ends."""
    y = np.asarray(y).astype(np.int64)
    s = th.shape[0]
    pad = np.concatenate([np.full((s, 1), -np.inf), th, np.full((s, 1), np.inf)], axis=1)
    return pad[:, y] - eta, pad[:, y + 1] - eta


def _loglik(y, eta, link, aux, trials=None):
    eta = np.atleast_2d(np.asarray(eta, dtype=float))
    lo, hi = _interval(y, eta, link, _thresholds(aux))
    upper = (lo + hi) > 0  # both in the upper tail: use survival functions (no cancellation)
    with np.errstate(invalid="ignore"):
        p = np.where(upper, _sf(link, lo) - _sf(link, hi), _cdf(link, hi) - _cdf(link, lo))
    return np.log(np.maximum(p, _TINY))


def _probs_mu(mu, aux):
    """Category probabilities given ``mu = F(eta)``; the link is ``aux["link"]`` (default logit)."""
    link = aux.get("link", "logit")
    return category_probs(_eta(mu, link), link, _thresholds(aux))


def _density_mu(y, mu, aux, trials=None):
    probs = _probs_mu(np.atleast_2d(mu), aux)
    y = np.broadcast_to(np.asarray(y).astype(np.int64), probs.shape[:-1])
    return np.take_along_axis(probs, y[..., None], axis=-1)[..., 0]


def _cdf_mu(y, mu, aux, trials=None):
    cum = np.cumsum(_probs_mu(np.atleast_2d(mu), aux), axis=-1)
    y = np.broadcast_to(np.asarray(y).astype(np.int64), cum.shape[:-1])
    out = np.take_along_axis(cum, np.clip(y, 0, cum.shape[-1] - 1)[..., None], axis=-1)[..., 0]
    return np.where(y < 0, 0.0, np.minimum(out, 1.0))


def expected_code(mu, aux) -> np.ndarray:
    """Expected category code ``sum_k k P(y = k)`` (codes from 0) given ``mu = F(eta)``."""
    probs = _probs_mu(np.atleast_2d(mu), aux)
    return probs @ np.arange(probs.shape[-1], dtype=float)


def _response_mean(mu, aux, trials=None):
    return expected_code(mu, aux)


def _variance(mu, aux, trials=None):
    probs = _probs_mu(np.atleast_2d(mu), aux)
    k = np.arange(probs.shape[-1], dtype=float)
    m = probs @ k
    return probs @ k**2 - m**2


def _draw(rng, mu, aux, trials=None):
    probs = _probs_mu(np.atleast_2d(mu), aux)
    cum = np.cumsum(probs, axis=-1)[..., :-1]
    u = rng.uniform(size=probs.shape[:-1])
    y = (u[..., None] > cum).sum(axis=-1)
    return y.reshape(np.shape(mu)) if np.ndim(mu) == 1 else y


def _latent_variance(link, n_draws, aux, mean_rate):
    return np.full(n_draws, LINKS[link].latent_variance)


def _observed(eta, link, aux, y, trials=None):
    import pymc as pm

    cls = pm.OrderedLogistic if link == "logit" else pm.OrderedProbit
    return cls("y", eta=eta, cutpoints=aux[THRESHOLDS], compute_p=False, observed=y)


def _threshold_prior(design):
    from bayesmixed.formula.priors import Prior

    return Prior("StudentT", dict(THRESHOLD_PRIOR))


def n_categories(design) -> int:
    """Number of categories ``K`` of ``design``'s ordinal response (at least 2)."""
    cats = getattr(design, "categories", None)
    return len(cats) if cats else int(np.max(design.y)) + 1


#: numpy draws of the real-support priors a threshold may take: (rng, params, size) -> array
_PRIOR_DRAWS = {
    "Normal": lambda rng, p, size: rng.normal(p["mu"], p["sigma"], size),
    "StudentT": lambda rng, p, size: p["mu"] + p["sigma"] * rng.standard_t(p["nu"], size),
    "Cauchy": lambda rng, p, size: p["alpha"] + p["beta"] * rng.standard_cauchy(size),
    "Laplace": lambda rng, p, size: rng.laplace(p["mu"], p["b"], size),
}


def _build_thresholds(name: str, prior, design):
    """The ordered thresholds: ``K-1`` values with the prior's density on the ordered set.

    The prior restricted to increasing values is the distribution of the sorted values of
    ``K-1`` independent draws, so forward draws (prior predictive, SBC) sort independent draws,
    and sampling uses PyMC's ordered transform; the log-density is the prior's, summed.
    """
    import pymc as pm
    from pymc.distributions.transforms import ordered

    if prior.dist not in _PRIOR_DRAWS:
        raise ValueError(
            f"thresholds need a real-support prior ({', '.join(_PRIOR_DRAWS)}), got {prior}"
        )
    keys = list(prior.params)
    base = getattr(pm, prior.dist)

    def logp(value, *args):
        return pm.logp(base.dist(**dict(zip(keys, args, strict=True))), value)

    def random(*args, rng=None, size=None):
        params = dict(zip(keys, (np.asarray(a) for a in args), strict=True))
        draws = _PRIOR_DRAWS[prior.dist](rng, params, size)
        return np.sort(draws, axis=-1)

    k = n_categories(design)
    return pm.CustomDist(
        name,
        *[float(prior.params[key]) for key in keys],
        logp=logp,
        random=random,
        shape=k - 1,
        transform=ordered,
        initval=np.linspace(-2.0, 2.0, k - 1) if k > 2 else np.zeros(1),
        dtype="float64",
    )


CUMULATIVE = Family(
    "cumulative",
    ("logit", "probit"),
    "ordinal",
    aux_params=(
        # truth: simulated thresholds spread evenly on (-2, 2)
        AuxParam(THRESHOLDS, _threshold_prior, 2.0, positive=False, build=_build_thresholds),
    ),
    exp_label="OR",
    aliases=("ordinal", "ordered"),
    observed=_observed,
    loglik=_loglik,
    density=_density_mu,
    cdf=_cdf_mu,
    variance=_variance,
    draw=_draw,
    latent_variance=_latent_variance,
    response_mean=_response_mean,
)
