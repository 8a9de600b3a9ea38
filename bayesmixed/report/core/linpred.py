"""Linear predictor and pointwise log-likelihood from posterior draws, in numpy.

These read the posterior and the design matrices; they never build a model, so they work on a
fit loaded from disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from bayesmixed.design.latent_ar import latent_process
from bayesmixed.families import Family, get_family, get_link
from bayesmixed.names import (
    AR_LATENT_SD,
    AR_LATENT_Z,
    ar_label,
    dpar_b_var,
    dpar_coef_dim,
    dpar_label,
    r_var,
)
from bayesmixed.report.core.tree import internal

__all__ = [
    "add_log_likelihood",
    "add_observed_data",
    "aux_draws",
    "dpar_draws",
    "fitted_process",
    "inverse_link",
    "linpred",
    "log_likelihood",
    "posterior_matrix",
]


def posterior_matrix(idata, name: str) -> np.ndarray:
    """Draws of variable ``name`` flattened to (draws, ...).

    Examples
    --------
    >>> posterior_matrix(fit.idata, "b").shape  # (draws, coefficients)
    (400, 1)
    """
    v = internal(idata)[name].values
    return v.reshape((-1, *v.shape[2:]))


def fixed_coefficients(idata, meta: dict) -> np.ndarray:
    """(draws, p) population-level coefficients on the user's scale, in design order."""
    cols = []
    for name in meta["x_names"]:
        if name == "Intercept":
            cols.append(posterior_matrix(idata, "Intercept"))
        else:
            b = internal(idata)["b"].sel(coef=name).values
            cols.append(b.reshape(-1))
    n = internal(idata).sizes["chain"] * internal(idata).sizes["draw"]
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
    process: np.ndarray | None = None,
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
    process
        Draws of the latent AR(1) process of an ``ar()`` term (non-gaussian family), shape
        (draws, rows), added as is: :func:`fitted_process` on the fitted rows.

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
        if seen.all():  # term by term: no (draws, rows, terms) temporary, the same sum
            for t in range(Z.shape[1]):
                contrib += r[:, idx, t] * Z[None, :, t]
        elif seen.any():
            contrib[:, seen] = np.sum(r[:, idx[seen], :] * Z[None, seen, :], axis=2)
        if new_effects is not None and new_effects[k] is not None and (~seen).any():
            contrib[:, ~seen] = np.sum(new_effects[k][:, ~seen, :] * Z[None, ~seen, :], axis=2)
        eta = eta + contrib
    return eta if process is None else eta + process


def fitted_process(idata, meta: dict, codes: np.ndarray | None, draws=None) -> np.ndarray | None:
    """Posterior draws of the latent AR(1) process on the fitted rows, (draws, rows); None for
    a model without one (:mod:`bayesmixed.design.latent_ar`).

    Examples
    --------
    >>> fitted_process(fit.idata, fit.meta, None) is None  # no ar() term
    True
    """
    if not meta.get("latent_ar"):
        return None
    z, phi, sd = (posterior_matrix(idata, v) for v in (AR_LATENT_Z, ar_label(1), AR_LATENT_SD))
    if draws is not None:
        z, phi, sd = z[draws], phi[draws], sd[draws]
    return latent_process(z, phi, sd, codes)


def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """Mean of the response given the linear predictor.

    Examples
    --------
    >>> inverse_link("logit", np.array([0.0, 2.0]))
    array([0.5       , 0.88079708])
    """
    return get_link(link).inverse(eta)


def aux_draws(
    idata,
    family: Family | str,
    idx_draws: np.ndarray | None = None,
    column: bool = True,
    link: str | None = None,
    *,
    meta: dict | None = None,
    dpar_X: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Draws of ``family``'s auxiliary parameters, ``(draws, 1)`` (``(draws,)`` if not ``column``).

    A vector parameter (ordinal thresholds) is ``(draws, K-1)``; an ordinal family also gets
    ``aux["link"]`` (its numpy functions need it: ``link``, else ``meta["link"]``).
    With ``meta`` (and, for a distributional parameter with predictors, its matrix in
    ``dpar_X``), the family's distributional parameters too (:func:`dpar_draws`).

    Examples
    --------
    >>> aux_draws(fit.idata, "gaussian")["sigma"].shape
    (400, 1)
    """
    fam = get_family(family)
    out: dict = {}
    for a in fam.aux_params:
        v = posterior_matrix(idata, a.name)
        if a.vector:
            out[a.name] = v if idx_draws is None else v[idx_draws]
            continue
        v = v.reshape(-1)
        v = v if idx_draws is None else v[idx_draws]
        out[a.name] = v[:, None] if column else v
    if fam.ordinal:
        out["link"] = link or (meta or {}).get("link") or "logit"
    if fam.dpars:
        out.update(dpar_draws(idata, meta, dpar_X, idx_draws))
    return out


def dpar_draws(
    idata, meta: dict | None, dpar_X: dict[str, np.ndarray] | None, idx_draws=None
) -> dict[str, np.ndarray]:
    """Draws of each distributional parameter (probability, logit link), ``(draws, rows)``;
    ``(draws, 1)`` for an intercept-only one when no matrix is given.

    Examples
    --------
    >>> dpar_draws(fit.idata, fit.meta, None)
    {}
    """
    out = {}
    for dpar, info in ((meta or {}).get("dpars") or {}).items():
        names = info["x_names"]
        X = (dpar_X or {}).get(dpar)
        if X is None:
            if names != ["Intercept"]:
                raise ValueError(
                    f"the {dpar} part has predictors ({info['formula']}); pass its matrix"
                )
            X = np.ones((1, 1))
        post = internal(idata)
        cols = []
        for name in names:
            if name == "Intercept":
                cols.append(posterior_matrix(idata, dpar_label(dpar, name)).reshape(-1))
            else:
                v = post[dpar_b_var(dpar)].sel({dpar_coef_dim(dpar): name}).values
                cols.append(v.reshape(-1))
        beta = np.stack(cols, axis=1)
        if idx_draws is not None:
            beta = beta[idx_draws]
        out[dpar] = 1.0 / (1.0 + np.exp(-(beta @ np.asarray(X, dtype=float).T)))
    return out


def log_likelihood(
    idata,
    meta: dict,
    eta: np.ndarray,
    y: np.ndarray,
    trials: np.ndarray | None,
    dpar_X: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Pointwise log-likelihood, shape (draws, rows).

    Examples
    --------
    >>> d = fit.design
    >>> eta = linpred(fit.idata, fit.meta, d.X, [(b.index, b.Z) for b in d.blocks], d.offset)
    >>> log_likelihood(fit.idata, fit.meta, eta, d.y, d.trials).shape
    (400, 180)
    """
    family = get_family(meta["family"])
    aux = aux_draws(idata, family, meta=meta, dpar_X=dpar_X)
    return family.loglik(y, eta, meta["link"], aux, trials)


def add_log_likelihood(
    idata,
    meta: dict,
    eta: np.ndarray,
    y: np.ndarray,
    trials: np.ndarray | None,
    dpar_X: dict[str, np.ndarray] | None = None,
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
    post = internal(idata)
    c, d = post.sizes["chain"], post.sizes["draw"]
    ll = log_likelihood(
        idata, meta, eta, y.astype(float), None if trials is None else trials.astype(float),
        dpar_X,
    )
    idata["log_likelihood"] = xr.Dataset(
        {"y": (("chain", "draw", "obs"), ll.reshape(c, d, -1))},
        coords={"chain": post["chain"].values, "draw": post["draw"].values},
    )
    return add_observed_data(idata, y, trials)


def add_observed_data(idata, y: np.ndarray, trials: np.ndarray | None):
    """Attach the ``observed_data`` group (``y`` and ``trials`` per row) to ``idata`` (in place).

    Examples
    --------
    >>> d = fit.design
    >>> sorted(add_observed_data(fit.idata.copy(), d.y, d.trials)["observed_data"].data_vars)
    ['y']
    """
    obs = {"y": (("obs",), y)}
    if trials is not None:
        obs["trials"] = (("obs",), trials)
    idata["observed_data"] = xr.Dataset(obs)
    return idata
