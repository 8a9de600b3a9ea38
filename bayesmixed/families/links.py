"""Link functions as one table: numpy and pytensor inverses, slope and latent variance.

Each :class:`Link` carries the inverse link in numpy (reports, simulation) and in pytensor (the
model graph; imported lazily so that this module stays free of the modelling stack), the
derivative of the inverse link (score / Fisher weights, IRLS), and the variance of the latent
residual on the link scale where the link defines one (Nakagawa & Schielzeth 2010; 2017).

Examples
--------
>>> import numpy as np
>>> LINKS["logit"].inverse(np.array([0.0]))
array([0.5])
>>> round(LINKS["logit"].latent_variance, 4)  # pi^2 / 3
3.2899
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["LINKS", "LINK_LATENT_VARIANCE", "Link", "get_link", "mean_over_normal"]


@dataclass(frozen=True)
class Link:
    """One link function ``g``; the model writes ``g(mean) = eta``.

    Parameters
    ----------
    name
        Canonical name (``"logit"``).
    inverse
        Numpy ``g^-1(eta)``, elementwise.
    inverse_pt
        Pytensor ``g^-1(eta)``, for the model graph.
    slope
        Numpy ``(g^-1(eta), d g^-1 / d eta)``, elementwise.
    latent_variance
        Variance of the latent residual on the link scale (logistic pi^2/3, standard normal 1,
        Gumbel pi^2/6), or ``None`` when the link has none (the family then supplies it).

    Examples
    --------
    >>> import numpy as np
    >>> mu, slope = LINKS["log"].slope(np.array([0.0]))
    >>> mu, slope, LINKS["log"].latent_variance
    (array([1.]), array([1.]), None)
    """

    name: str
    inverse: Callable[[np.ndarray], np.ndarray]
    inverse_pt: Callable
    slope: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    latent_variance: float | None = None


def _identity(eta):
    return eta


def _identity_slope(eta):
    return eta, np.ones_like(eta)


def _exp(eta):
    return np.exp(eta)


def _exp_pt(eta):
    import pytensor.tensor as pt

    return pt.exp(eta)


def _exp_slope(eta):
    mu = np.exp(eta)
    return mu, mu


def _reciprocal(eta):
    return 1.0 / eta


def _reciprocal_slope(eta):
    mu = 1.0 / eta
    return mu, -(mu**2)


def _expit(eta):
    """scipy's ``expit`` (kept rather than a faster numpy form: simulated data draw against
    these probabilities, and a last-unit change alters data sets of fixed seeds)."""
    from scipy import special

    return special.expit(eta)


def _expit_pt(eta):
    import pytensor.tensor as pt

    return pt.sigmoid(eta)


def _expit_slope(eta):
    mu = _expit(eta)
    return mu, mu * (1 - mu)


def _ndtr(eta):
    from scipy import special

    return special.ndtr(eta)


def _ndtr_pt(eta):
    import pytensor.tensor as pt

    return 0.5 * pt.erfc(-eta / np.sqrt(2.0))


def _ndtr_slope(eta):
    from scipy import special, stats

    return special.ndtr(eta), stats.norm.pdf(eta)


def _cloglog_inv(eta):
    return -np.expm1(-np.exp(eta))


def _cloglog_inv_pt(eta):
    import pytensor.tensor as pt

    return -pt.expm1(-pt.exp(eta))


def _cloglog_slope(eta):
    e = np.exp(eta)
    return -np.expm1(-e), e * np.exp(-e)


LINKS: dict[str, Link] = {
    lk.name: lk
    for lk in (
        Link("identity", _identity, _identity, _identity_slope),
        Link("log", _exp, _exp_pt, _exp_slope),
        Link("inverse", _reciprocal, _reciprocal, _reciprocal_slope),
        Link("logit", _expit, _expit_pt, _expit_slope, math.pi**2 / 3.0),
        Link("probit", _ndtr, _ndtr_pt, _ndtr_slope, 1.0),
        Link("cloglog", _cloglog_inv, _cloglog_inv_pt, _cloglog_slope, math.pi**2 / 6.0),
    )
}

#: Variance of the latent residual on the link scale, for the links that define one.
LINK_LATENT_VARIANCE: dict[str, float] = {
    k: lk.latent_variance for k, lk in LINKS.items() if lk.latent_variance is not None
}


def get_link(name: str) -> Link:
    """The :class:`Link` called ``name``.

    Raises
    ------
    ValueError
        When no link has that name.

    Examples
    --------
    >>> get_link("probit").latent_variance
    1.0
    """
    try:
        return LINKS[name]
    except KeyError:
        raise ValueError(name) from None


def mean_over_normal(link: str, eta: np.ndarray, v: np.ndarray, n_nodes: int = 40) -> np.ndarray:
    """``E[g^-1(eta + sqrt(v) e)]`` with ``e ~ N(0, 1)``: the mean on the response scale of a
    linear predictor with normal spread ``v`` (exact ``exp(eta + v / 2)`` for the log link,
    Gauss-Hermite quadrature for bounded inverse links; the plug-in ``1 / eta`` for the inverse
    link, whose mean over a normal spread that reaches 0 does not exist).

    Examples
    --------
    >>> float(mean_over_normal("log", np.array(0.0), np.array(2.0)))  # e^1
    2.718281828459045
    >>> float(mean_over_normal("logit", np.array(0.0), np.array(4.0)))  # symmetric about 1/2
    0.5
    """
    eta, v = np.asarray(eta, dtype=float), np.maximum(np.asarray(v, dtype=float), 0.0)
    if link == "log":
        return np.exp(eta + v / 2.0)
    if link in ("identity", "inverse"):
        return LINKS[link].inverse(eta) + 0.0 * v
    nodes, weights = np.polynomial.hermite.hermgauss(n_nodes)
    sd = np.sqrt(2.0 * v)
    inv = LINKS[link].inverse
    with np.errstate(divide="ignore"):
        total = sum(w * inv(eta + sd * t) for t, w in zip(nodes, weights, strict=True))
    return total / np.sqrt(np.pi)

