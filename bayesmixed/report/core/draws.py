"""Small helpers shared by the report modules: flattening draws, interval summaries, covariance
matrices of random-effects blocks and the families' observation-level variances.

Everything here is numpy on posterior draws; nothing builds a model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bayesmixed.names import cor_var, sd_var
from bayesmixed.report.core.tree import INTERNAL_GROUP, internal  # re-exported

__all__ = [
    "INTERNAL_GROUP",
    "block_cholesky",
    "block_covariance",
    "flat",
    "internal",
    "interval_columns",
    "mean_and_slope",
    "n_samples",
    "score_and_weight",
    "summarize_draws",
    "summary_row",
    "thin_indexes",
]


#: the group holding the draws under the sampler's own names (see :mod:`bayesmixed.report.core.native`)
def n_samples(idata) -> int:
    """Number of posterior draws (chains x draws).

    Examples
    --------
    >>> n_samples(fit.idata)
    400
    """
    post = internal(idata)
    return int(post.sizes["chain"] * post.sizes["draw"])


def flat(idata, name: str) -> np.ndarray:
    """Draws of posterior variable ``name`` flattened to shape ``(draws, ...)``.

    Examples
    --------
    >>> flat(fit.idata, "sigma").shape  # 2 chains x 200 draws
    (400,)
    """
    v = np.asarray(internal(idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


def thin_indexes(total: int, draws: int | None) -> np.ndarray | None:
    """Evenly spaced indexes of ``draws`` out of ``total`` draws (``None``: all).

    Examples
    --------
    >>> thin_indexes(10, 4)
    array([0, 3, 6, 9])
    >>> thin_indexes(10, None) is None
    True
    """
    if draws is None or draws >= total:
        return None
    return np.unique(np.linspace(0, total - 1, int(draws)).round().astype(int))


def interval_columns(prob: float) -> tuple[str, str]:
    """Names of the lower and upper quantile columns, e.g. ``("2.5%", "97.5%")``.

    Examples
    --------
    >>> interval_columns(0.9)
    ('5%', '95%')
    """
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    return f"{100 * lo:g}%", f"{100 * hi:g}%"


def summary_row(d: np.ndarray, prob: float = 0.95) -> dict[str, float]:
    """Posterior mean, sd and central interval of a vector of draws.

    Examples
    --------
    >>> {k: round(v, 1) for k, v in summary_row(np.arange(101.0), prob=0.9).items()}
    {'mean': 50.0, 'sd': 29.3, '5%': 5.0, '95%': 95.0}
    """
    d = np.asarray(d, dtype=float).reshape(-1)
    lo_name, hi_name = interval_columns(prob)
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    ok = d[np.isfinite(d)]
    if ok.size == 0:
        return {"mean": np.nan, "sd": np.nan, lo_name: np.nan, hi_name: np.nan}
    return {
        "mean": float(ok.mean()),
        "sd": float(ok.std(ddof=1)) if ok.size > 1 else 0.0,
        lo_name: float(np.quantile(ok, lo)),
        hi_name: float(np.quantile(ok, hi)),
    }


def summarize_draws(
    draws: Mapping[str, np.ndarray], prob: float = 0.95, index_name: str = "name"
) -> pd.DataFrame:
    """One summary row (mean, sd, interval) per named vector of draws.

    Examples
    --------
    >>> table = summarize_draws({"a": np.arange(10.0), "b": np.ones(10)})
    >>> table.loc["a", "mean"], table.loc["b", "sd"]
    (np.float64(4.5), np.float64(0.0))
    """
    rows = {k: summary_row(v, prob) for k, v in draws.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    if table.empty:
        lo, hi = interval_columns(prob)
        table = pd.DataFrame(columns=["mean", "sd", lo, hi])
    table.index.name = index_name
    return table


def block_covariance(idata, block: Mapping) -> np.ndarray:
    """Draws of a random-effects block's covariance matrix, shape ``(draws, terms, terms)``.

    ``Sigma = diag(sd) R diag(sd)`` with ``R`` the correlation matrix (identity for an
    uncorrelated block).

    Examples
    --------
    >>> cov = block_covariance(fit.idata, fit.meta["blocks"][0])
    >>> cov.shape, bool(np.allclose(cov, cov.transpose(0, 2, 1)))
    ((400, 2, 2), True)
    """
    L = block["label"]
    sd = flat(idata, sd_var(L))  # (S, k)
    if block.get("correlated") and cor_var(L) in internal(idata):
        R = flat(idata, cor_var(L))
    else:
        R = np.broadcast_to(np.eye(sd.shape[1]), (sd.shape[0], sd.shape[1], sd.shape[1]))
    return sd[:, :, None] * R * sd[:, None, :]


def block_cholesky(idata, block: Mapping) -> np.ndarray:
    """Draws of the lower Cholesky factor of a block's covariance, ``(draws, terms, terms)``.

    Examples
    --------
    >>> block_cholesky(fit.idata, fit.meta["blocks"][0]).shape  # (draws, terms, terms)
    (400, 2, 2)
    """
    cov = block_covariance(idata, block)
    k = cov.shape[-1]
    jitter = 1e-12 * np.maximum(np.trace(cov, axis1=1, axis2=2), 1e-300)[:, None, None] * np.eye(k)
    return np.linalg.cholesky(cov + jitter)


def mean_and_slope(link: str, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse link ``g^-1(eta)`` and its derivative ``d g^-1 / d eta``, elementwise.

    Examples
    --------
    >>> mu, slope = mean_and_slope("logit", np.array([0.0]))
    >>> mu, slope  # p = 1/2 and dp/deta = p (1 - p) = 1/4
    (array([0.5]), array([0.25]))
    """
    from bayesmixed.families import get_link

    return get_link(link).slope(eta)


def score_and_weight(
    idata,
    meta: Mapping,
    eta: np.ndarray,
    y: np.ndarray,
    trials: np.ndarray | None,
    dpar_X: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw and row: the score ``d log p(y | eta) / d eta`` and the Fisher weight
    ``E[-d2 log p / d eta2] = (dm/deta)^2 / Var(y)`` (the observed weight under canonical links).

    Examples
    --------
    >>> d = fit.design
    >>> from bayesmixed.report.core.linpred import linpred
    >>> eta = linpred(fit.idata, fit.meta, d.X, [(b.index, b.Z) for b in d.blocks], d.offset)
    >>> score, weight = score_and_weight(fit.idata, fit.meta, eta, d.y, d.trials)
    >>> score.shape, weight.shape
    ((400, 180), (400, 180))
    """
    from bayesmixed.families import get_family

    family = get_family(meta["family"])
    if family.ordinal:
        return _ordinal_score_and_weight(idata, meta, family, eta, y)
    mu, dmu = mean_and_slope(meta["link"], eta)
    aux = {name: flat(idata, name).reshape(-1, 1) for name in family.aux}
    if family.dpars:  # zero part: score and observed information by central differences
        from bayesmixed.report.core.linpred import dpar_draws

        aux.update(dpar_draws(idata, dict(meta), dict(dpar_X or {})))
        h, yb = 1e-4, np.asarray(y, dtype=float)
        lo, mid, hi = (family.loglik(yb, eta + d, meta["link"], aux, None) for d in (-h, 0.0, h))
        return (hi - lo) / (2 * h), np.maximum(-(hi - 2 * mid + lo) / h**2, 1e-12)
    n = None
    if family.uses_trials:
        n = np.ones(eta.shape[1]) if trials is None else np.asarray(trials, dtype=float)
    m, dm = family.mean_and_slope(mu, dmu, n, aux)
    var = np.broadcast_to(family.variance(mu, aux, n), eta.shape)
    var = np.maximum(var, 1e-12)
    return (y - m) * dm / var, dm**2 / var


def _ordinal_score_and_weight(idata, meta: Mapping, family, eta: np.ndarray, y: np.ndarray):
    """Score and expected Fisher weight of an ordinal model, from its log-likelihood:
    ``score_y = d log P(y) / d eta`` (central differences) and ``weight = sum_k P(k) score_k^2``.
    """
    from bayesmixed.report.core.linpred import aux_draws

    aux = aux_draws(idata, family, link=meta["link"])
    link, h = meta["link"], 1e-5
    n_cat = aux["Intercept"].shape[1] + 1

    def score(codes):
        up = family.loglik(codes, eta + h, link, aux)
        down = family.loglik(codes, eta - h, link, aux)
        return (up - down) / (2 * h)

    weight = np.zeros_like(eta)
    for k in range(n_cat):
        codes = np.full(eta.shape[1], k)
        weight += np.exp(family.loglik(codes, eta, link, aux)) * score(codes) ** 2
    return score(np.asarray(y).astype(np.int64)), np.maximum(weight, 1e-12)
