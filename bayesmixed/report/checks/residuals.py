"""Residuals and influence: Pearson and randomized-quantile residuals, pointwise
log-likelihood, influential clusters by leave-one-cluster-out PSIS.

- Pearson residual: ``(y_i - mu_i) / sqrt(V(mu_i))`` at the posterior mean ``mu_i`` of the
  expected response (observed groups) and the posterior mean of ``sigma`` / ``alpha``, with
  ``V`` the family's variance function (counts out of the trials for binomial).
- Randomized quantile residual (Dunn & Smyth 1996, J. Comput. Graph. Stat. 5:236-244):
  ``Phi^-1(u_i)`` with ``u_i ~ Uniform(F_i(y_i - 1), F_i(y_i))`` for discrete families and
  ``u_i = F_i(y_i)`` for continuous families, where ``F_i`` is the posterior predictive CDF (the average
  over draws of the model CDF). Under a correct model they are standard normal.
- Influential clusters (leave-one-cluster-out PSIS): the log-likelihood of each cluster's rows
  is computed per draw, then Pareto-smoothed importance sampling is run on these cluster
  log-likelihoods (:func:`arviz_stats.loo`); the Pareto ``k`` of a cluster says whether leaving
  the whole cluster out moves the posterior too far for importance sampling (``k > good_k``,
  about 0.7): such clusters are influential (Vehtari, Gelman & Gabry 2017; Vehtari et al.
  2024). Two cluster log-likelihoods:

  - ``method="conditional"``: the sum of the pointwise log-likelihood over the cluster's rows,
    given the cluster's own effects. Leaving a cluster out removes the only data on its
    effects, so ``k`` is high for most clusters of a well-fitting model: it flags clusters
    whose effects are well identified rather than clusters that are unusual.
  - ``method="integrated"`` (default): the cluster's random effects of that factor are
    integrated out, ``log int prod_i p(y_i | theta_s, u) N(u | 0, Sigma_s) du``, by adaptive
    Gauss-Hermite quadrature centered at the integrand's mode for every draw and cluster
    (Pinheiro & Bates 1995; Merkle, Furr & Rabe-Hesketh 2019, J. Educ. Behav. Stat.
    44:702-725, on marginal likelihoods for leave-cluster-out CV). ``k`` then measures how much the
    hyperparameters depend on the cluster. Effects of other factors (including factors nested
    in it) stay at their draws.

  ``k`` is ``NaN`` when the tail of the weights cannot be fitted (e.g. tied draws).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from bayesmixed.errors import PredictionError
from bayesmixed.families import get_family
from bayesmixed.names import r_var
from bayesmixed.report.core.draws import block_cholesky, flat, internal, score_and_weight
from bayesmixed.report.core.linpred import (
    aux_draws,
    fitted_process,
    inverse_link,
    linpred,
    log_likelihood,
)

__all__ = [
    "cluster_log_likelihood",
    "fitted_mean",
    "influential_clusters",
    "integrated_cluster_log_likelihood",
    "pearson_residuals",
    "pointwise_log_likelihood",
    "quantile_residuals",
]


def fitted_mean(idata, meta, design, draws=None) -> np.ndarray:
    """Draws x rows inverse link, observed groups: the expected response (probability for
    bernoulli/binomial; the mean of ``log y`` for lognormal, whose mean is ``family.mean``).

    Examples
    --------
    >>> fitted_mean(fit.idata, fit.meta, fit.design).shape
    (400, 180)
    """
    groups = [(b.index, b.Z) for b in design.blocks]
    eta = linpred(idata, meta, design.X, groups, design.offset, draws=draws,
                  process=fitted_process(idata, meta, design.ar_codes, draws))
    return inverse_link(meta["link"], eta)


def pearson_residuals(idata, meta, design, mu: np.ndarray | None = None) -> np.ndarray:
    """Pearson residual per row (see the module docstring); ``mu``: :func:`fitted_mean` when
    already computed.

    Examples
    --------
    >>> r = pearson_residuals(fit.idata, fit.meta, fit.design)
    >>> r.shape, bool(abs(r.mean()) < 0.5)
    ((180,), True)
    """
    design, family = design, get_family(meta["family"])
    y = np.asarray(design.y, dtype=float)
    mu = (fitted_mean(idata, meta, design) if mu is None else mu).mean(axis=0)
    aux = {
        k: np.mean(v, axis=0) if isinstance(v, np.ndarray) else v
        for k, v in aux_draws(
            idata, family, column=False, meta=meta, dpar_X=design.dpar_X
        ).items()
    }
    n = None
    if family.uses_trials:
        n = np.ones_like(y) if design.trials is None else np.asarray(design.trials, dtype=float)
    mean, var = family.expected(mu, aux, n), family.variance(mu, aux, n)
    return (y - np.reshape(mean, y.shape)) / np.sqrt(np.reshape(var, y.shape))


def _cdf(idata, meta, design, mu: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Model CDF at ``y`` for every draw (draws x rows)."""
    family, design = get_family(meta["family"]), design
    n = None
    if family.uses_trials:
        n = np.ones_like(y) if design.trials is None else np.asarray(design.trials, dtype=float)
        n = n[None, :]
    elif meta.get("ar"):  # conditional on the previous row of the series: independent PITs
        n = design.trials
    return family.cdf(y[None, :], mu, aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X), n)


def quantile_residuals(idata, meta, design, seed=0, mu: np.ndarray | None = None) -> np.ndarray:
    """Randomized quantile residual per row (see the module docstring); ``mu``:
    :func:`fitted_mean` when already computed.

    Examples
    --------
    >>> r = quantile_residuals(fit.idata, fit.meta, fit.design, seed=1)
    >>> r.shape, bool(0.5 < r.std() < 1.5)  # about standard normal when the model fits
    ((180,), True)
    """
    y = np.asarray(design.y, dtype=float)
    mu = fitted_mean(idata, meta, design) if mu is None else mu
    upper = _cdf(idata, meta, design, mu, y).mean(axis=0)
    if not get_family(meta["family"]).discrete:
        u = upper
    else:
        lower = _cdf(idata, meta, design, mu, y - 1).mean(axis=0)
        u = lower + np.random.default_rng(seed).uniform(size=y.shape) * (upper - lower)
    return stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))


def pointwise_log_likelihood(idata, meta, design) -> np.ndarray:
    """Draws x rows pointwise log-likelihood (stored one if present, else recomputed).

    Examples
    --------
    >>> pointwise_log_likelihood(fit.idata, fit.meta, fit.design).shape
    (400, 180)
    """
    if "log_likelihood" in idata.children and "y" in idata["log_likelihood"]:
        v = np.asarray(idata["log_likelihood"]["y"].values)
        return v.reshape(-1, v.shape[-1])
    groups = [(b.index, b.Z) for b in design.blocks]
    eta = linpred(idata, meta, design.X, groups, design.offset,
                  process=fitted_process(idata, meta, design.ar_codes))
    return log_likelihood(
        idata,
        meta,
        eta,
        np.asarray(design.y, float),
        None if design.trials is None else np.asarray(design.trials, float),
        design.dpar_X,
    )


def cluster_log_likelihood(ll: np.ndarray, index: np.ndarray, n_levels: int) -> np.ndarray:
    """Sum draws x rows log-likelihood over the rows of each cluster: draws x clusters.

    Examples
    --------
    >>> ll = np.log(np.full((4, 6), 0.5))  # 4 draws x 6 rows
    >>> cluster_log_likelihood(ll, np.array([0, 0, 1, 1, 2, 2]), 3).shape  # 4 draws x 3 clusters
    (4, 3)
    """
    out = np.zeros((ll.shape[0], n_levels))
    for j in range(n_levels):  # loops over clusters, vectorized over draws
        out[:, j] = ll[:, index == j].sum(axis=1)
    return out


def _gauss_hermite_grid(k: int, max_nodes: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal product Gauss-Hermite nodes (m, k) and log weights (m,)."""
    per = max(3, min(15, int(np.floor(max_nodes ** (1.0 / k)))))
    t, w = np.polynomial.hermite.hermgauss(per)
    x, lw = np.sqrt(2.0) * t, np.log(w / np.sqrt(np.pi))
    grids = np.meshgrid(*([np.arange(per)] * k), indexing="ij")
    idx = np.stack([g.reshape(-1) for g in grids], axis=1)
    return x[idx], lw[idx].sum(axis=1)


def _mvn_logpdf(u: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """log N(u | 0, L L') for u (..., k) and chol (..., k, k) broadcasting over leading dims."""
    k = u.shape[-1]
    z = np.linalg.solve(chol, u[..., None])[..., 0]
    logdet = np.log(np.abs(np.diagonal(chol, axis1=-2, axis2=-1))).sum(axis=-1)
    return -0.5 * np.sum(z**2, axis=-1) - logdet - 0.5 * k * np.log(2 * np.pi)


#: Draws x rows elements per chunk of the quadrature (a few MB: the arrays stay in cache).
_CHUNK_ELEMENTS = 1 << 18


def _cluster_sum(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum draws x rows ``values`` over each cluster's rows (rows sorted by ``order``)."""
    if order.size and np.all(order[1:] > order[:-1]):  # rows already grouped: no copy
        return np.add.reduceat(values, starts, axis=1)
    return np.add.reduceat(values[:, order], starts, axis=1)


def _cluster_modes(
    idata, meta, design, eta0, y, trials, dblk, prec, order, starts, u, iters: int = 30
):
    """Mode and curvature of ``log p(y_c | u) + log N(u | 0, Sigma_s)`` for every draw and
    cluster, by Fisher scoring vectorized over (draws, clusters)."""
    S, L, k = u.shape
    Z = dblk.Z
    for _ in range(iters):
        eta = eta0 + np.einsum("sik,ik->si", u[:, dblk.index, :], Z)
        g, w = score_and_weight(idata, meta, eta, y, trials, design.dpar_X)
        G = np.stack([_cluster_sum(g * Z[:, a], order, starts) for a in range(k)], axis=-1)
        H = np.empty((S, L, k, k))
        for a in range(k):
            for b in range(a, k):
                H[..., a, b] = H[..., b, a] = _cluster_sum(w * (Z[:, a] * Z[:, b]), order, starts)
        G = G - np.einsum("skl,sjl->sjk", prec, u)
        H = H + prec[:, None, :, :]
        step = np.linalg.solve(H, G[..., None])[..., 0]
        norm = np.linalg.norm(step, axis=-1, keepdims=True)
        u = u + step * np.minimum(1.0, 3.0 / np.maximum(norm, 1e-300))  # damped Newton
        if np.max(np.abs(step)) < 1e-7:
            break
    return u, H


def integrated_cluster_log_likelihood(
    idata, meta: dict, design, block: int, max_nodes: int = 64
) -> np.ndarray:
    """Draws x clusters log-likelihood of each cluster of ``design.blocks[block]`` with the
    block's effects integrated out, ``log int prod_i p(y_i | theta_s, u) N(u | 0, Sigma_s) du``.

    Adaptive Gauss-Hermite quadrature (Pinheiro & Bates 1995): for every draw and cluster the
    product grid is centered at the mode of the integrand and scaled by its curvature there.

    Examples
    --------
    >>> integrated_cluster_log_likelihood(fit.idata, fit.meta, fit.design, block=0).shape
    (400, 18)
    """
    from scipy.special import logsumexp

    dblk, mblk = design.blocks[block], meta["blocks"][block]
    groups = [(b.index, b.Z) for b in design.blocks]
    include = [j != block for j in range(len(design.blocks))]
    eta0 = linpred(idata, meta, design.X, groups, design.offset, include=include,
                   process=fitted_process(idata, meta, design.ar_codes))
    y = np.asarray(design.y, dtype=float)
    trials = None if design.trials is None else np.asarray(design.trials, dtype=float)
    r = flat(idata, r_var(mblk["label"]))  # (S, L, k): starting values
    S, L, k = r.shape
    chol_prior = block_cholesky(idata, mblk)  # (S, k, k)
    eye = np.eye(k)
    prec = np.linalg.solve(chol_prior.transpose(0, 2, 1), np.linalg.solve(chol_prior, eye))
    order = np.argsort(dblk.index, kind="stable")
    starts = np.searchsorted(dblk.index[order], np.arange(L))
    mode, H = _cluster_modes(
        idata, meta, design, eta0, y, trials, dblk, prec, order, starts, r.copy()
    )
    A = np.linalg.cholesky(np.linalg.inv(H))  # (S, L, k, k): scale of the integrand
    x, lw = _gauss_hermite_grid(k, max_nodes)
    log_phi = -0.5 * np.sum(x**2, axis=1) - 0.5 * k * np.log(2 * np.pi)
    # node m: u = mode + A x_m, so eta = eta_mode + z_i' A x_m and L^-1 u = L^-1 mode + L^-1 A x_m
    eta_mode = eta0 + np.einsum("sik,ik->si", mode[:, dblk.index, :], dblk.Z)
    z_mode = np.linalg.solve(chol_prior[:, None, :, :], mode[..., None])[..., 0]  # (S, L, k)
    z_scale = np.linalg.solve(chol_prior[:, None, :, :], A)  # (S, L, k, k)
    # log N(u | 0, Sigma_s) = -|L^-1 u|^2 / 2 - log|L| - k log(2 pi) / 2; plus log|A| - log phi
    const = (np.log(np.diagonal(A, axis1=-2, axis2=-1)).sum(axis=-1)
             - np.log(np.abs(np.diagonal(chol_prior, axis1=-2, axis2=-1))).sum(axis=-1)[:, None]
             - 0.5 * k * np.log(2 * np.pi))  # (S, L)
    family = get_family(meta["family"])
    aux = aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X)
    step = max(1, _CHUNK_ELEMENTS // max(y.size, 1))
    out = np.empty((S, L))
    for lo in range(0, S, step):  # draws in chunks that stay in cache; nodes within a chunk
        sl = slice(lo, min(lo + step, S))
        aux_c = {n: v[sl] if isinstance(v, np.ndarray) else v for n, v in aux.items()}
        # (k, draws, rows): z_i' A_c(i) per draw, the change of eta per unit of each node axis
        za = np.einsum("sikl,ik->lsi", A[sl][:, dblk.index], dblk.Z)
        terms = np.empty((len(lw), sl.stop - sl.start, L))
        for m in range(len(lw)):
            eta = eta_mode[sl] + sum(x[m, a] * za[a] for a in range(k))
            ll = family.loglik(y, eta, meta["link"], aux_c, trials)
            z = z_mode[sl] + np.einsum("sjkl,l->sjk", z_scale[sl], x[m])
            terms[m] = _cluster_sum(ll, order, starts) - 0.5 * np.sum(z**2, axis=-1)
            terms[m] += lw[m] - log_phi[m] + const[sl]
        out[sl] = logsumexp(terms, axis=0)
    return out


def _thinned(idata, draws: int | None):
    """``idata`` on at most ``draws`` posterior draws, thinned evenly within each chain (the
    same tree when it has no more)."""
    from bayesmixed.report.core.tree import INTERNAL_GROUP

    post = internal(idata)
    total = post.sizes["chain"] * post.sizes["draw"]
    if draws is None or total <= draws:
        return idata
    step = int(np.ceil(total / draws))
    return xr.DataTree.from_dict({INTERNAL_GROUP: post.isel(draw=slice(None, None, step))
                                  .to_dataset()})


def influential_clusters(
    idata,
    meta,
    design,
    factor: str | None = None,
    method: str = "integrated",
    draws: int | None = 1000,
) -> pd.DataFrame:
    """Leave-one-cluster-out PSIS per cluster of every (or one) grouping factor.

    Parameters
    ----------
    draws
        With the integrated method, the quadrature (draws x clusters x nodes x rows) runs on at
        most this many posterior draws, thinned evenly within each chain (``None``: all):
        ``elpd_loco`` and ``k`` are Monte Carlo estimates from the draws used, and ``good_k``
        follows their number. ``attrs["draws"]`` and ``attrs["total_draws"]`` say how many.

    Returns
    -------
    pandas.DataFrame
        Columns factor, level, n (rows), elpd_loco (leave-cluster-out log predictive density),
        pareto_k, good_k (threshold) and influential (``k > good_k``); sorted by k. With the
        integrated method, an outer factor of a nested design is not assessed (its inner
        factors' effects cannot stay conditioned on): ``attrs["skipped"]`` says which and why.

    Examples
    --------
    >>> table = influential_clusters(fit.idata, fit.meta, fit.design)
    >>> {"level", "pareto_k", "influential"} <= set(table.columns), len(table)
    (True, 18)
    """
    import arviz_stats as azs

    if method not in ("integrated", "conditional"):
        raise PredictionError(f"method must be 'integrated' or 'conditional', got {method!r}")
    ll = pointwise_log_likelihood(idata, meta, design) if method == "conditional" else None
    total = internal(idata).sizes["chain"] * internal(idata).sizes["draw"]
    if method == "integrated":
        idata = _thinned(idata, draws)
    post = internal(idata)
    c, d = post.sizes["chain"], post.sizes["draw"]
    parts, done, skipped = [], set(), {}
    comps = {b.factor: frozenset(c.strip() for c in b.factor.split(":")) for b in design.blocks}
    for j, blk in enumerate(design.blocks):
        if blk.factor in done or (factor is not None and blk.factor != factor):
            continue
        done.add(blk.factor)
        inner = [g for g in comps if comps[blk.factor] < comps[g]]
        if method == "integrated" and inner:
            skipped[blk.factor] = (
                f"not assessed: factor(s) {', '.join(inner)} are nested in it and their effects "
                "would stay conditioned on; see the inner factor's clusters"
            )
            continue
        if method == "conditional":
            cl = cluster_log_likelihood(ll, blk.index, blk.n_levels)
        else:
            cl = integrated_cluster_log_likelihood(idata, meta, design, j)
        cl = cl.reshape(c, d, -1)
        dt = xr.DataTree.from_dict(
            {
                "posterior": post.to_dataset(),
                "log_likelihood": xr.Dataset(
                    {"y": (("chain", "draw", "cluster"), cl)}, coords={"cluster": list(blk.levels)}
                ),
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = azs.loo(dt, pointwise=True)
        k = np.asarray(res.pareto_k.values, dtype=float)
        parts.append(
            pd.DataFrame(
                {
                    "factor": blk.factor,
                    "level": list(blk.levels),
                    "n": np.bincount(blk.index, minlength=blk.n_levels),
                    "elpd_loco": np.asarray(res.elpd_i.values, dtype=float),
                    "pareto_k": k,
                    "good_k": float(res.good_k),
                    "influential": k > float(res.good_k),
                }
            )
        )
    cols = ["factor", "level", "n", "elpd_loco", "pareto_k", "good_k", "influential"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    out = out.sort_values("pareto_k", ascending=False, na_position="last").reset_index(drop=True)
    out.attrs["skipped"] = skipped
    out.attrs["draws"], out.attrs["total_draws"] = c * d, total
    return out
