"""Linear predictor and pointwise log-likelihood from posterior draws, in numpy.

These read the posterior and the design matrices; they never build a model, so they work on a
fit loaded from disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy import special, stats

from bayesmixed.names import r_var

__all__ = ["add_log_likelihood", "inverse_link", "linpred", "log_likelihood", "posterior_matrix"]


def posterior_matrix(idata, name: str) -> np.ndarray:
    """Draws of variable ``name`` flattened to (draws, ...).

    Examples
    --------
    >>> posterior_matrix(fit.idata, "b").shape  # (draws, coefficients)
    (400, 1)
    """
    v = idata["posterior"][name].values
    return v.reshape((-1, *v.shape[2:]))


def fixed_coefficients(idata, meta: dict) -> np.ndarray:
    """(draws, p) population-level coefficients on the user's scale, in design order."""
    cols = []
    for name in meta["x_names"]:
        if name == "Intercept":
            cols.append(posterior_matrix(idata, "Intercept"))
        else:
            b = idata["posterior"]["b"].sel(coef=name).values
            cols.append(b.reshape(-1))
    n = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0))


def linpred(
    idata,
    meta: dict,
    X: np.ndarray,
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    offset: np.ndarray | None = None,
    *,
    include: Sequence[bool] | None = None,
    new_effects: Sequence[np.ndarray | None] | None = None,
    draws: np.ndarray | None = None,
) -> np.ndarray:
    """Linear predictor draws, shape (draws, rows).

    Parameters
    ----------
    X
        Population-level design (user scale, intercept column included).
    groups
        Per block of ``meta["blocks"]``: (level index per row, varying-term columns). Index
        ``-1`` marks a level not seen in fitting.
    offset
        Offset per row.
    include
        Per block, whether to add its effects (default all).
    new_effects
        Per block, effects for unseen levels, shape (draws, rows, terms); rows with index -1
        take them. ``None`` gives unseen levels zero effects.
    draws
        Indexes of the posterior draws to use (default all).

    Examples
    --------
    >>> d = fit.design
    >>> eta = linpred(fit.idata, fit.meta, d.X, [(b.index, b.Z) for b in d.blocks], d.offset)
    >>> eta.shape  # (draws, rows)
    (400, 180)
    """
    beta = fixed_coefficients(idata, meta)
    if draws is not None:
        beta = beta[draws]
    eta = beta @ X.T
    if offset is not None:
        eta = eta + offset[None, :]
    for k, blk in enumerate(meta["blocks"]):
        if include is not None and not include[k]:
            continue
        idx, Z = groups[k]
        r = posterior_matrix(idata, r_var(blk["label"]))  # (draws, levels, terms)
        if draws is not None:
            r = r[draws]
        seen = idx >= 0
        contrib = np.zeros_like(eta)
        if seen.any():
            contrib[:, seen] = np.sum(r[:, idx[seen], :] * Z[None, seen, :], axis=2)
        if new_effects is not None and new_effects[k] is not None and (~seen).any():
            contrib[:, ~seen] = np.sum(new_effects[k][:, ~seen, :] * Z[None, ~seen, :], axis=2)
        eta = eta + contrib
    return eta


def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """Mean of the response given the linear predictor.

    Examples
    --------
    >>> inverse_link("logit", np.array([0.0, 2.0]))
    array([0.5       , 0.88079708])
    """
    if link == "identity":
        return eta
    if link == "log":
        return np.exp(eta)
    if link == "logit":
        return special.expit(eta)
    if link == "probit":
        return special.ndtr(eta)
    if link == "cloglog":
        return -np.expm1(-np.exp(eta))
    raise ValueError(link)


def log_likelihood(
    idata, meta: dict, eta: np.ndarray, y: np.ndarray, trials: np.ndarray | None
) -> np.ndarray:
    """Pointwise log-likelihood, shape (draws, rows).

    Examples
    --------
    >>> d = fit.design
    >>> eta = linpred(fit.idata, fit.meta, d.X, [(b.index, b.Z) for b in d.blocks], d.offset)
    >>> log_likelihood(fit.idata, fit.meta, eta, d.y, d.trials).shape
    (400, 180)
    """
    fam, link = meta["family"], meta["link"]
    if fam == "gaussian":
        sigma = posterior_matrix(idata, "sigma")[:, None]
        return stats.norm.logpdf(y[None, :], loc=inverse_link(link, eta), scale=sigma)
    if fam in ("bernoulli", "binomial"):
        n = np.ones_like(y) if trials is None else trials
        if link == "logit":
            logp, log1mp = -np.logaddexp(0, -eta), -np.logaddexp(0, eta)
        else:
            p = np.clip(inverse_link(link, eta), 1e-12, 1 - 1e-12)
            logp, log1mp = np.log(p), np.log1p(-p)
        comb = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
        return comb[None, :] + y[None, :] * logp + (n - y)[None, :] * log1mp
    mu = np.exp(eta)
    if fam == "poisson":
        return stats.poisson.logpmf(y[None, :], mu)
    alpha = posterior_matrix(idata, "alpha")[:, None]
    return stats.nbinom.logpmf(y[None, :], alpha, alpha / (alpha + mu))


def add_log_likelihood(
    idata, meta: dict, eta: np.ndarray, y: np.ndarray, trials: np.ndarray | None
):
    """Attach the ``log_likelihood`` and ``observed_data`` groups to ``idata`` (in place).

    Examples
    --------
    >>> d = fit.design
    >>> eta = linpred(fit.idata, fit.meta, d.X, [(b.index, b.Z) for b in d.blocks], d.offset)
    >>> idata = add_log_likelihood(fit.idata.copy(), fit.meta, eta, d.y, d.trials)
    >>> idata["log_likelihood"]["y"].shape
    (2, 200, 180)
    """
    post = idata["posterior"]
    c, d = post.sizes["chain"], post.sizes["draw"]
    ll = log_likelihood(
        idata, meta, eta, y.astype(float), None if trials is None else trials.astype(float)
    )
    idata["log_likelihood"] = xr.Dataset(
        {"y": (("chain", "draw", "obs"), ll.reshape(c, d, -1))},
        coords={"chain": post["chain"].values, "draw": post["draw"].values},
    )
    obs = {"y": (("obs",), y)}
    if trials is not None:
        obs["trials"] = (("obs",), trials)
    idata["observed_data"] = xr.Dataset(obs)
    return idata
