"""Gaussian models with one grouping factor: the random effects integrated out exactly.

For ``y = W theta + Z_j u_j + e`` with ``u_j ~ Normal(0, S)`` (one block, ``k <= 2`` terms) and
``e ~ Normal(0, sigma^2)``, the rows of level ``j`` are jointly normal with covariance
``V_j = Z_j S Z_j' + sigma^2 I``. With ``M_j = S^-1 + Z_j'Z_j / sigma^2`` (Woodbury),

    log p(y_j) = -(n_j log 2 pi + n_j log sigma^2 + log|S| + log|M_j|
                   + r_j'r_j / sigma^2 - t_j' M_j^-1 t_j) / 2,   t_j = Z_j' r_j / sigma^2,

where ``r_j = y_j - W_j theta``. Everything depends on the data only through per-level sums
(``Z'Z``, ``Z'W``, ``Z'y``) and global ones (``W'W``, ``W'y``, ``y'y``, the number of rows), so a gradient costs
``O(levels)``, whatever the number of rows. NUTS samples only the coefficients, the sds, the
correlation and ``sigma``: a handful of nearly independent parameters, where the centered or
non-centered forms of the effects both mix far worse.

The effects themselves are drawn afterwards, draw by draw, from their exact conditional
posterior ``u_j | theta, S, sigma, y ~ Normal(M_j^-1 t_j, M_j^-1)``, and stored as ``r__L`` like
any other fit. The joint draws are exact posterior draws of the same model: the posterior is
unchanged, only the sampler's work is.

Used when the family is gaussian with the identity link, the model has exactly one
random-effects block with one or two terms, and the factor's parameterization is automatic
(a user's ``centered=`` asks for the sampled effects).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import Design
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.correlation import correlation_cholesky
from bayesmixed.graph.distributions import prior_rv, vector_rv
from bayesmixed.graph.qr import population_coefficients, qr_factors
from bayesmixed.names import (
    cor_prior_key,
    cor_var,
    marginal_data,
    r_var,
    sd_label,
    sd_var,
    term_dim,
)

__all__ = ["build_marginal_model", "can_marginalize"]


def can_marginalize(design: Design, choices: dict) -> bool:
    """Whether ``design``'s random effects can be integrated out (see the module docstring).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import choose_parameterization
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    >>> can_marginalize(design, choose_parameterization(design))
    True
    >>> can_marginalize(design, choose_parameterization(design, {"Subject": True}))  # user choice
    False
    """
    return (
        design.family.name == "gaussian"
        and design.link == "identity"
        and len(design.blocks) == 1
        and design.blocks[0].n_terms <= 2
        and all(c.rule == "auto" for c in choices.values())
    )


def _stats(design: Design, W: np.ndarray) -> dict[str, np.ndarray]:
    """Sufficient statistics of the rows: global and per level."""
    b = design.blocks[0]
    y = design.y.astype(float) - (0.0 if design.offset is None else design.offset)
    J, k, q = b.n_levels, b.n_terms, W.shape[1]
    ztz = np.zeros((J, k, k))
    for a in range(k):
        for c in range(a, k):
            ztz[:, a, c] = ztz[:, c, a] = np.bincount(b.index, weights=b.Z[:, a] * b.Z[:, c], minlength=J)
    ztw = np.zeros((J, k, q))
    for a in range(k):
        for c in range(q):
            ztw[:, a, c] = np.bincount(b.index, weights=b.Z[:, a] * W[:, c], minlength=J)
    zty = np.stack([np.bincount(b.index, weights=b.Z[:, a] * y, minlength=J) for a in range(k)], axis=1)
    return {
        "wtw": W.T @ W,
        "wty": W.T @ y,
        "yty": np.array(float(y @ y)),
        "ztz": ztz,
        "ztw": ztw,
        "zty": zty,
        "n_total": np.array(float(design.n_obs)),
    }


def _posterior_effects(stats, theta, sigma, sd, rho, rng) -> np.ndarray:
    """Draws of the effects, (draws, levels, terms), from their conditional posterior."""
    s2 = sigma[:, None] ** 2  # (D, 1)
    t = (stats["zty"][None] - np.einsum("jkq,dq->djk", stats["ztw"], theta)) / s2[..., None]
    ztz = stats["ztz"]
    D, J, k = t.shape
    z = rng.standard_normal((D, J, k))
    if k == 1:
        m = 1.0 / sd[:, :1] ** 2 + ztz[None, :, 0, 0] / s2
        return (t[..., 0] / m + z[..., 0] / np.sqrt(m))[..., None]
    s1, s2_ = sd[:, 0:1], sd[:, 1:2]
    det_s = (s1 * s2_) ** 2 * (1 - rho[:, None] ** 2)
    m11 = s2_**2 / det_s + ztz[None, :, 0, 0] / s2
    m22 = s1**2 / det_s + ztz[None, :, 1, 1] / s2
    m12 = -rho[:, None] * s1 * s2_ / det_s + ztz[None, :, 0, 1] / s2
    det_m = m11 * m22 - m12**2
    c11, c12, c22 = m22 / det_m, -m12 / det_m, m11 / det_m  # covariance M^-1
    mean0 = c11 * t[..., 0] + c12 * t[..., 1]
    mean1 = c12 * t[..., 0] + c22 * t[..., 1]
    l11 = np.sqrt(c11)
    l21 = c12 / l11
    l22 = np.sqrt(np.maximum(c22 - l21**2, 0.0))
    return np.stack([mean0 + l11 * z[..., 0], mean1 + l21 * z[..., 0] + l22 * z[..., 1]], axis=-1)


def store_effects(idata, post, blk, u: np.ndarray) -> None:
    """Put effects drawn after sampling into the posterior as ``r__L`` (levels x terms).

    Parameters
    ----------
    idata : xarray.DataTree
        The fit's tree; its posterior group is replaced by ``post`` with the effects added.
    post : xarray.Dataset
        The posterior as a dataset (chain, draw first).
    blk : RandomBlock
        The factor's block (label, levels, terms).
    u : numpy.ndarray
        Effects with shape (chain * draw, levels, terms).
    """
    import xarray as xr

    L = blk.label
    c, dr = post.sizes["chain"], post.sizes["draw"]
    post[r_var(L)] = xr.DataArray(
        u.reshape(c, dr, blk.n_levels, len(blk.terms)),
        dims=("chain", "draw", L, term_dim(L)),
        coords={L: list(blk.levels), term_dim(L): list(blk.terms)},
    )
    idata["posterior"] = post


def build_marginal_model(
    design: Design, priors: dict[str, Prior], means: np.ndarray, coords: dict
) -> tuple[pm.Model, Callable]:
    """The marginal model and the function that adds the effects' draws to a posterior.

    Returns
    -------
    (pymc.Model, complete)
        ``complete(idata, seed)`` adds ``r__L`` (draws of the effects) to ``idata["posterior"]``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"))
    >>> sorted(v.name for v in built.model.free_RVs)  # no per-subject parameters
    ['Intercept_c', 'b', 'cor_u__Subject', 'sd__Subject', 'sigma']
    """
    blk = design.blocks[0]
    names = design.x_names
    has_int = design.has_intercept
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    Xc = (design.X - means)[:, slope_idx]
    W = np.column_stack([np.ones(design.n_obs), Xc]) if has_int else Xc
    L, k = blk.label, blk.n_terms
    with pm.Model(coords=coords) as model:
        parts = []
        if has_int:
            intercept = prior_rv("Intercept_c", priors["Intercept"])
            parts.append(intercept[None])
        b, qr = None, False
        if slope_idx:
            b, _, qr = population_coefficients(
                [priors[names[j]] for j in slope_idx], Xc, list(range(len(slope_idx))), row_term=False
            )
            if qr:  # collinear predictors: theta = R* b is sampled, W holds Q*
                W[:, int(has_int):] = qr_factors(Xc).Q
        if b is not None:
            parts.append(model["b_qr"] if qr else b)
        if has_int:
            shift = pt.dot(pm.Data("x_means", means[slope_idx]), b) if slope_idx else 0.0
            pm.Deterministic("Intercept", intercept - shift)
        # theta = (intercept, coefficients) kept in pieces with their columns of W: no
        # Join / Split in the graph (each costs numba compile time, measured)
        pieces = list(zip(parts, ([slice(0, 1)] if has_int else []) + [slice(int(has_int), None)], strict=False))
        sd = vector_rv(sd_var(L), [priors[sd_label(t, blk.factor)] for t in blk.terms], dims=term_dim(L))
        rho = pt.as_tensor(0.0)
        if blk.correlated:
            corr_chol = correlation_cholesky(L, k, float(priors[cor_prior_key(blk.factor)].params["eta"]))
            rho = corr_chol[1, 0]  # k == 2 here
        sigma = prior_rv("sigma", priors["sigma"])
        stats = _stats(design, W)
        # one data vector per component: indexing a sigma-dependent (J, k, k) tensor puts
        # IncSubtensor ops in the gradient, which take numba seconds to compile
        d = {key: pm.Data(marginal_data(key), stats[key]) for key in ("wtw", "wty", "yty", "n_total")}
        for a in range(k):
            d[f"zty{a}"] = pm.Data(marginal_data(f"zty{a}"), stats["zty"][:, a])
            d[f"ztw{a}"] = pm.Data(marginal_data(f"ztw{a}"), stats["ztw"][:, a, :])
            for c in range(a, k):
                d[f"ztz{a}{c}"] = pm.Data(marginal_data(f"ztz{a}{c}"), stats["ztz"][:, a, c])
        s2 = sigma**2
        # elementwise products and sums (no BLAS calls): cheaper to compile, as fast here
        quad_w = sum(
            pt.sum(d["wtw"][s1, s2] * v1[:, None] * v2[None, :]) for v1, s1 in pieces for v2, s2 in pieces
        )
        rtr = d["yty"] - 2 * sum(pt.sum(v * d["wty"][sl]) for v, sl in pieces) + quad_w
        t = [
            (d[f"zty{a}"] - sum(pt.sum(d[f"ztw{a}"][:, sl] * v[None, :], axis=1) for v, sl in pieces)) / s2
            for a in range(k)
        ]
        if k == 1:
            m = 1.0 / sd[0] ** 2 + d["ztz00"] / s2
            logdet = pt.sum(pt.log(m)) + blk.n_levels * 2 * pt.log(sd[0])
            quad = pt.sum(t[0] ** 2 / m)
        else:
            sd0, sd1 = sd[0], sd[1]
            det_s = (sd0 * sd1) ** 2 * (1 - rho**2)
            m11 = sd1**2 / det_s + d["ztz00"] / s2
            m22 = sd0**2 / det_s + d["ztz11"] / s2
            m12 = -rho * sd0 * sd1 / det_s + d["ztz01"] / s2
            det_m = m11 * m22 - m12**2
            logdet = pt.sum(pt.log(det_m)) + blk.n_levels * pt.log(det_s)
            quad = pt.sum((m22 * t[0] ** 2 - 2 * m12 * t[0] * t[1] + m11 * t[1] ** 2) / det_m)
        n_total = d["n_total"]
        loglik = -0.5 * (n_total * np.log(2 * np.pi) + n_total * pt.log(s2) + logdet + rtr / s2 - quad)
        pm.Potential("y_marginal", loglik)

    def complete(idata, seed: int | None) -> None:
        """Add ``r__L``: the effects drawn from their conditional posterior, draw by draw."""

        post = idata["posterior"].to_dataset()
        c, dr = post.sizes["chain"], post.sizes["draw"]
        flat = {v: post[v].values.reshape((c * dr, *post[v].shape[2:])) for v in post.data_vars}
        coef = flat["b_qr"] if qr else flat.get("b")
        cols = ([flat["Intercept_c"][:, None]] if has_int else []) + ([coef] if slope_idx else [])
        th = np.concatenate(cols, axis=1)
        r = flat[cor_var(L)][:, 1, 0] if blk.correlated else np.zeros(c * dr)
        rng = np.random.default_rng(None if seed is None else [int(seed), 5])
        u = _posterior_effects(stats, th, flat["sigma"], flat[sd_var(L)], r, rng)
        store_effects(idata, post, blk, u)

    return model, complete
