"""Gaussian AR(1) models with one grouping factor: the random effects integrated out exactly.

For ``y = W theta + Z_j u_j + e`` with ``u_j ~ Normal(0, S)`` (one block, ``k <= 2`` terms)
and ``e`` AR(1) within series (``gaussian_ar1``: marginal sd ``sigma``, lag-1 correlation
``phi``, ``phi^d`` over a gap of ``d`` steps), where every series lies within one level of the
factor (``ar(t, g)`` with ``(... | g)``), the rows of level ``j`` are jointly normal with
covariance ``V_j = Z_j S Z_j' + R_j``, ``R_j`` the AR(1) covariance of its series.

The AR(1) precision is ``R^-1 = L'L`` with ``L`` the whitening of the sequential factorization
(:mod:`bayesmixed.families.autocor`): row ``i`` following row ``i'`` by ``d`` steps maps ``x`` to
``(x_i - phi^d x_i') / (sigma sqrt(1 - phi^2d))`` (a first row: ``x_i / sigma``). With the
whitened residuals ``w = L r`` (``r = y - W theta``) and columns ``L Z``, Woodbury gives

    log p(y_j) = log N(r_j | 0, R_j) - (log|S| + log|M_j| - t_j' M_j^-1 t_j) / 2,
    M_j = S^-1 + (L Z)_j'(L Z)_j,   t_j = (L Z)_j' w_j,

the iid formula of :mod:`bayesmixed.graph.marginal` with ``Z / sigma`` replaced by ``L Z``.
Per-level sums are one product with the (levels, rows) indicator matrix. NUTS then samples only
``theta``, the sds, the correlation, ``ar[1]`` and the innovation sd; the effects are drawn
afterwards from their exact conditional ``Normal(M_j^-1 t_j, M_j^-1)``, draw by draw, as
``r__L``. The posterior is that of the row-level model; only the sampler's work changes (the
BodyWeight model, ``benchmarks/AR1.md``, needed ``target_accept=0.95`` and 2000 draws with
the effects sampled).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import Design
from bayesmixed.families.autocor import AR, decode_links
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.correlation import correlation_cholesky
from bayesmixed.graph.distributions import prior_rv, vector_rv
from bayesmixed.graph.marginal import store_effects
from bayesmixed.names import cor_prior_key, cor_var, sd_label, sd_var, term_dim

__all__ = ["build_marginal_ar_model", "can_marginalize_ar"]

#: largest (levels x rows) indicator matrix held for the per-level sums
MAX_INDICATOR = 5_000_000


def can_marginalize_ar(design: Design, choices: dict) -> bool:
    """Whether ``design`` is a ``gaussian_ar1`` model whose effects can be integrated out.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import choose_parameterization
    >>> m = bm.library.get("bodyweight")
    >>> design = bm.prepare(m.spec, m.load_data(), aggregate=False).design
    >>> can_marginalize_ar(design, choose_parameterization(design))
    True
    """
    if design.family.name != "gaussian_ar1" or len(design.blocks) != 1 or design.trials is None:
        return False
    blk = design.blocks[0]
    if blk.n_terms > 2 or blk.n_levels * design.n_obs > MAX_INDICATOR:
        return False
    if any(c.rule != "auto" for c in choices.values()):
        return False
    first, prev, _ = decode_links(design.trials)
    return bool(np.all(blk.index[prev[~first]] == blk.index[~first]))  # series within levels


def _m_inverse(a11, a12, a22, sd, rho_u, k):
    """``M = S^-1 + A`` per level, and its inverse's entries."""
    if k == 1:
        m = 1.0 / sd[0] ** 2 + a11
        return (m,), (1.0 / m,)
    det_s = (sd[0] * sd[1]) ** 2 * (1 - rho_u**2)
    m11 = sd[1] ** 2 / det_s + a11
    m22 = sd[0] ** 2 / det_s + a22
    m12 = -rho_u * sd[0] * sd[1] / det_s + a12
    det_m = m11 * m22 - m12**2
    return (m11, m12, m22, det_m, det_s), (m22 / det_m, -m12 / det_m, m11 / det_m)


def build_marginal_ar_model(
    design: Design, priors: dict[str, Prior], means: np.ndarray, coords: dict
) -> tuple[pm.Model, Callable]:
    """The marginal AR(1) model and the function that adds the effects' draws to a posterior.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> m = bm.library.get("bodyweight")
    >>> built = bm.prepare(m.spec, m.load_data())
    >>> sorted(v.name for v in built.model.free_RVs)
    ['Intercept_c', 'ar[1]', 'b', 'cor_u__Rat', 'sd__Rat', 'sigma_innovation']
    """
    blk = design.blocks[0]
    names = design.x_names
    has_int = design.has_intercept
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    Xc = (design.X - means)[:, slope_idx]
    L, k = blk.label, blk.n_terms
    first, prev, gap = decode_links(design.trials)
    y = design.y.astype(float) - (0.0 if design.offset is None else design.offset)
    onehot = np.zeros((blk.n_levels, design.n_obs))
    onehot[blk.index, np.arange(design.n_obs)] = 1.0
    with pm.Model(coords=coords) as model:
        mu = pt.zeros(design.n_obs)
        if has_int:
            intercept = prior_rv("Intercept_c", priors["Intercept"])
            mu = mu + intercept
        if slope_idx:
            b = vector_rv("b", [priors[names[j]] for j in slope_idx], dims="coef")
            mu = mu + pt.dot(pm.Data("Xc", Xc), b)
            if has_int:
                x_means = pm.Data("x_means", means[slope_idx])
                pm.Deterministic("Intercept", intercept - pt.dot(x_means, b))
        elif has_int:
            pm.Deterministic("Intercept", intercept + 0.0)
        sd = vector_rv(sd_var(L), [priors[sd_label(t, blk.factor)] for t in blk.terms],
                       dims=term_dim(L))
        rho_u = pt.as_tensor(0.0)
        if blk.correlated:
            eta = float(priors[cor_prior_key(blk.factor)].params["eta"])
            rho_u = correlation_cholesky(L, k, eta)[1, 0]
        aux = design.family.build_aux(priors, design)
        phi, sigma = aux[AR], aux["sigma"]
        fst = pm.Data("ar_first", first.astype(float))
        prv = pm.Data("ar_prev", prev)
        gp = pm.Data("ar_gap", np.maximum(gap, 1).astype(float))
        rho = pt.switch(fst > 0, 0.0, phi**gp)
        sd_row = sigma * pt.sqrt(1.0 - rho**2)
        r = pm.Data("y_obs", y) - mu
        w = (r - rho * r[prv]) / sd_row
        Z = pm.Data("Z_ar", blk.Z)
        wz = (Z - rho[:, None] * Z[prv]) / sd_row[:, None]
        H = pm.Data("level_rows", onehot)
        a11 = pt.dot(H, wz[:, 0] ** 2)
        t0 = pt.dot(H, wz[:, 0] * w)
        if k == 1:
            (m,), _ = _m_inverse(a11, None, None, sd, rho_u, 1)
            logdet = pt.sum(pt.log(m)) + blk.n_levels * 2 * pt.log(sd[0])
            quad = pt.sum(t0**2 / m)
        else:
            a12, a22 = pt.dot(H, wz[:, 0] * wz[:, 1]), pt.dot(H, wz[:, 1] ** 2)
            t1 = pt.dot(H, wz[:, 1] * w)
            (m11, m12, m22, det_m, det_s), _ = _m_inverse(a11, a12, a22, sd, rho_u, 2)
            logdet = pt.sum(pt.log(det_m)) + blk.n_levels * pt.log(det_s)
            quad = pt.sum((m22 * t0**2 - 2 * m12 * t0 * t1 + m11 * t1**2) / det_m)
        ll_r = pt.sum(-0.5 * w**2 - pt.log(sd_row)) - 0.5 * design.n_obs * np.log(2 * np.pi)
        pm.Potential("y_marginal", ll_r - 0.5 * (logdet - quad))

    def complete(idata, seed: int | None) -> None:
        """Add ``r__L``: the effects drawn from their conditional posterior, draw by draw."""

        post = idata["posterior"].to_dataset()
        c, dr = post.sizes["chain"], post.sizes["draw"]
        flat = {v: post[v].values.reshape((c * dr, *post[v].shape[2:])) for v in post.data_vars}
        mu = np.zeros((c * dr, design.n_obs))
        if has_int:
            mu += flat["Intercept_c"][:, None]
        if slope_idx:
            mu += flat["b"] @ Xc.T
        ph, sg = flat[AR][:, None], flat["sigma"][:, None]
        rh = np.where(first[None, :], 0.0, ph ** np.maximum(gap, 1)[None, :])
        sdr = sg * np.sqrt(1.0 - rh**2)
        res = y[None, :] - mu
        w = (res - rh * res[:, prev]) / sdr
        wz = (blk.Z[None, :, :] - rh[..., None] * blk.Z[prev][None]) / sdr[..., None]
        sd = flat[sd_var(L)].T[:, :, None]  # (k, D, 1)
        ru = flat[cor_var(L)][:, 1, 0][:, None] if blk.correlated else 0.0
        t = np.einsum("jn,dnk->djk", onehot, wz * w[..., None])
        a = np.einsum("jn,dnk,dnl->djkl", onehot, wz, wz)
        rng = np.random.default_rng(None if seed is None else [int(seed), 5])
        z = rng.standard_normal(t.shape)
        if k == 1:
            _, (c11,) = _m_inverse(a[..., 0, 0], None, None, sd, ru, 1)
            u = (c11 * t[..., 0] + np.sqrt(c11) * z[..., 0])[..., None]
        else:
            _, (c11, c12, c22) = _m_inverse(a[..., 0, 0], a[..., 0, 1], a[..., 1, 1], sd, ru, 2)
            l11 = np.sqrt(c11)
            l21 = c12 / l11
            l22 = np.sqrt(np.maximum(c22 - l21**2, 0.0))
            u0 = c11 * t[..., 0] + c12 * t[..., 1] + l11 * z[..., 0]
            u1 = c12 * t[..., 0] + c22 * t[..., 1] + l21 * z[..., 0] + l22 * z[..., 1]
            u = np.stack([u0, u1], axis=-1)
        store_effects(idata, post, blk, u)

    return model, complete
