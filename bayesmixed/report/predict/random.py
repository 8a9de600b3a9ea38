"""The random-effects parts of a prediction: effects drawn for new groups and the
population-averaged mean integrated over the random-effects distribution (see
:mod:`bayesmixed.report.predict.predict` for ``groups="new"`` and ``groups="marginal"``)."""

from __future__ import annotations

import numpy as np

from bayesmixed.errors import PredictionError
from bayesmixed.report.core.draws import block_cholesky, block_covariance
from bayesmixed.report.core.linpred import inverse_link
from bayesmixed.report.predict.inputs import PredictionInputs

__all__ = ["marginal_mean", "new_effects", "re_variance"]


def new_effects(idata, meta, inputs: PredictionInputs, which: list[np.ndarray], rng, idx_draws):
    """Per block: effects (S, rows, terms) for the rows flagged in ``which`` (one draw per new
    level, shared by the rows of that level) and the index with those rows set to -1.

    Examples
    --------
    >>> from bayesmixed.report.predict.inputs import prediction_inputs
    >>> inputs = prediction_inputs(fit.idata, fit.meta, fit.design)
    >>> which = [np.ones(inputs.n, dtype=bool)]  # every row a new subject
    >>> effects, groups = new_effects(fit.idata, fit.meta, inputs, which,
    ...                               np.random.default_rng(0), None)
    >>> effects[0].shape, int(groups[0][0].max())  # draws x rows x terms; no fitted level used
    ((400, 180, 2), -1)
    """
    effects, groups = [], []
    for blk, (idx, Z), keys, mask in zip(
        meta["blocks"], inputs.groups, inputs.keys, which, strict=True
    ):
        if not mask.any():
            effects.append(None)
            groups.append((idx, Z))
            continue
        chol = block_cholesky(idata, blk)
        if idx_draws is not None:
            chol = chol[idx_draws]
        levels, inverse = np.unique(keys[mask], return_inverse=True)
        e = rng.standard_normal((chol.shape[0], len(levels), chol.shape[1]))
        u = np.einsum("skl,sjl->sjk", chol, e)  # (S, new levels, terms)
        full = np.zeros((chol.shape[0], inputs.n, chol.shape[1]))
        full[:, np.flatnonzero(mask), :] = u[:, inverse, :]
        new_idx = idx.copy()
        new_idx[mask] = -1
        effects.append(full)
        groups.append((new_idx, Z))
    return effects, groups


def re_variance(idata, meta, inputs: PredictionInputs, idx_draws) -> np.ndarray:
    """Draws of ``v_i = sum_b z_ib' Sigma_b z_ib``, shape (S, rows).

    Examples
    --------
    >>> from bayesmixed.report.predict.inputs import prediction_inputs
    >>> inputs = prediction_inputs(fit.idata, fit.meta, fit.design)
    >>> v = re_variance(fit.idata, fit.meta, inputs, None)
    >>> v.shape, bool((v > 0).all())
    ((400, 180), True)
    """
    total = 0.0
    for blk, (_, Z) in zip(meta["blocks"], inputs.groups, strict=True):
        cov = block_covariance(idata, blk)
        if idx_draws is not None:
            cov = cov[idx_draws]
        total = total + np.einsum("ik,skl,il->si", Z, cov, Z)
    return np.asarray(total)


def marginal_mean(
    link: str,
    eta: np.ndarray,
    v: np.ndarray,
    *,
    integration: str = "quadrature",
    n_nodes: int = 60,
    n_mc: int = 1000,
    rng=None,
    response=None,
) -> np.ndarray:
    """``E[h(g^-1(eta + sqrt(v) e))]``, ``e ~ N(0, 1)``, elementwise; ``h`` is ``response``
    (the response mean given the inverse link, e.g. ``(1 - zi) mu``; lognormal's
    ``exp(mu + sigma^2 / 2)``) or the identity.

    Examples
    --------
    >>> round(float(marginal_mean("logit", np.array([0.0]), np.array([4.0]))[0]), 6)  # symmetric
    0.5
    >>> bool(marginal_mean("logit", np.array([2.0]), np.array([4.0]))[0] < 1 / (1 + np.exp(-2)))
    True
    """
    if link == "identity" and response is None:
        return eta
    h = response if response is not None else (lambda m: m)
    sd = np.sqrt(np.maximum(v, 0.0))
    total = np.zeros_like(eta)
    if integration == "quadrature":
        nodes, weights = np.polynomial.hermite.hermgauss(n_nodes)
        if response is None and link in ("logit", "probit", "cloglog"):  # a mean in [0, 1]:
            keep = weights / np.sqrt(np.pi) >= 1e-18  # 18 of 60 nodes move it < the rounding
            nodes, weights = nodes[keep], weights[keep]
        for t, w in zip(nodes, weights, strict=True):
            total += w * h(inverse_link(link, eta + np.sqrt(2.0) * sd * t))
        return total / np.sqrt(np.pi)
    if integration != "monte_carlo":
        raise PredictionError(
            f"integration must be 'quadrature' or 'monte_carlo', got {integration!r}"
        )
    rng = np.random.default_rng(rng)
    for _ in range(n_mc):
        total += h(inverse_link(link, eta + sd * rng.standard_normal(eta.shape)))
    return total / n_mc
