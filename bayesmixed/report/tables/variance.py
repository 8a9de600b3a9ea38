"""Variance partition of a multilevel model, draw by draw: ICC, VPC, median odds ratio, VarCorr.

Every quantity is computed on each posterior draw and summarized afterwards, so intervals are
posterior intervals of the quantity itself (not functions of point estimates).

Variance components (Nakagawa & Schielzeth 2010, 2013; Johnson 2014; Nakagawa, Johnson &
Schielzeth 2017, J. R. Soc. Interface 14: 20170213):

- random-effect variance of factor ``g``: ``sigma2_g = mean_i z_i' Sigma_g z_i`` with ``z_i`` the
  row's varying-term values and ``Sigma_g`` the block covariance (Johnson 2014). With a random
  intercept only this is ``sd(Intercept|g)^2``.
- fixed-effect variance: ``sigma2_f = var_i(x_i' beta)`` over the rows of the data.
- distribution-specific (residual) variance ``sigma2_e`` on the latent / link scale:
  gaussian ``sigma^2``; logit ``pi^2/3``; probit ``1``; cloglog ``pi^2/6`` (latent-variable
  approach); poisson (log) ``log(1 + 1/lambda)`` and negative binomial (log)
  ``log(1 + 1/lambda + 1/alpha)`` (log-normal approximation, Nakagawa et al. 2017, Table 1),
  where ``lambda = exp(eta_bar + sum_g sigma2_g / 2)`` and ``eta_bar`` is the mean of the
  population-level linear predictor (offset included).
- latent AR(1) process of an ``ar()`` term with a non-gaussian family (component ``"ar"``):
  its stationary variance ``sigma2_ar = sigma_ar^2 / (1 - ar[1]^2)``, a latent normal term of
  every row's linear predictor. It joins every denominator below (and ``lambda`` above, as a
  random-effect variance does) but no numerator: like an observation-level random effect
  (Nakagawa et al. 2017) it is row-level variation, not variation between clusters.

ICCs (Nakagawa et al. 2017, eqs. 21-22, per factor):

- adjusted: ``ICC_g = sigma2_g / (sum_h sigma2_h + sigma2_ar + sigma2_e)``
- conditional: ``ICC_g = sigma2_g / (sigma2_f + sum_h sigma2_h + sigma2_ar + sigma2_e)``

For nested factors (``a`` and ``a:b``) the ICC of two rows sharing the inner cluster also adds
the outer variance: ``(sigma2_a + sigma2_{a:b}) / total`` (row ``"a:b (cumulative)"``).

VPC with random slopes (Goldstein, Browne & Rasbash 2002, Understanding Statistics 1:223-231):
``sigma2_g(x) = z(x)' Sigma_g z(x)`` with ``z(x) = (1, x, ...)``, and
``VPC_g(x) = sigma2_g(x) / (sum_h sigma2_h(x) + sigma2_e(x))``; latent-variable residual for
binary links, log-normal approximation (at ``x``) for counts.

Median odds ratio (Larsen et al. 2000; Larsen & Merlo 2005, Am. J. Epidemiol. 161:81-88):
``MOR_g = exp(sqrt(2 sigma2_g) * Phi^-1(0.75))`` with ``sigma2_g`` the random-intercept
variance; under a log link the same expression is the median rate ratio (MRR), under cloglog
the median hazard ratio (MHR).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from bayesmixed.errors import FamilyError, PredictionError
from bayesmixed.families import get_family
from bayesmixed.families.links import mean_over_normal
from bayesmixed.report.core.draws import (
    block_covariance,
    flat,
    n_samples,
    summarize_draws,
    summary_row,
)
from bayesmixed.report.core.linpred import fixed_coefficients
from bayesmixed.report.tables.icc import mean_fixed_linpred
from bayesmixed.report.tables.varcorr import format_varcorr, varcorr_table

__all__ = [
    "fixed_variance",
    "format_varcorr",
    "icc_draws",
    "icc_table",
    "mor_draws",
    "mor_table",
    "random_variances",
    "residual_variance",
    "varcorr_table",
    "variance_components",
    "vpc_table",
]

_MOR_LABEL = {"logit": "MOR", "log": "MRR", "cloglog": "MHR"}


def _blocks_with_design(meta: dict, design) -> list[tuple[dict, np.ndarray | None]]:
    blocks = meta["blocks"]
    if design is None:
        return [(b, None) for b in blocks]
    return [(b, np.asarray(d.Z, dtype=float)) for b, d in zip(blocks, design.blocks, strict=True)]


def random_variances(idata, meta: dict, design=None) -> dict[str, np.ndarray]:
    """Random-effect variance draws per grouping factor (Johnson 2014).

    ``sigma2_g = mean_i z_i' Sigma_g z_i``, summed over the blocks of a factor. Without a
    ``design`` only the random-intercept variance is used.

    Examples
    --------
    >>> v = random_variances(fit.idata, fit.meta, fit.design)["Subject"]  # mean of z' Sigma z
    >>> v.shape
    (400,)
    """
    out: dict[str, np.ndarray] = {}
    for blk, Z in _blocks_with_design(meta, design):
        cov = block_covariance(idata, blk)
        if Z is None:
            if "Intercept" not in blk["terms"]:
                continue
            j = blk["terms"].index("Intercept")
            v = cov[:, j, j]
        else:
            M = Z.T @ Z / Z.shape[0]
            v = np.einsum("skl,kl->s", cov, M)
        out[blk["factor"]] = out.get(blk["factor"], 0.0) + v
    return out


def _fixed_linpred(idata, meta: dict, design) -> np.ndarray:
    return fixed_coefficients(idata, meta) @ np.asarray(design.X, dtype=float).T


def fixed_variance(idata, meta: dict, design) -> np.ndarray:
    """Draws of the variance of the population-level linear predictor over the rows.

    Examples
    --------
    >>> v = fixed_variance(fit.idata, fit.meta, fit.design)  # var over rows of x'beta
    >>> v.shape, bool(np.all(v > 0))
    ((400,), True)
    """
    return _fixed_linpred(idata, meta, design).var(axis=1, ddof=1)


def _mean_linpred(idata, meta: dict, design) -> np.ndarray:
    if design is not None:
        eta = fixed_coefficients(idata, meta) @ np.asarray(design.X, dtype=float).mean(axis=0)
        return eta + float(meta.get("offset_mean", 0.0))
    return mean_fixed_linpred(idata, meta)


def residual_variance(idata, meta: dict, eta_bar: np.ndarray, var_total: np.ndarray) -> np.ndarray:
    """Distribution-specific variance draws on the latent / link scale (see module docstring).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> residual_variance(bfit.idata, bfit.meta, np.zeros(2), np.zeros(2))  # logit: pi^2 / 3
    array([3.28986813, 3.28986813])
    """
    family = get_family(meta["family"])
    S = np.shape(var_total)[0] if np.ndim(var_total) else np.shape(eta_bar)[0]
    aux = {name: flat(idata, name).reshape(-1) for name in family.aux}
    return family.latent_variance(
        meta["link"], S, aux, lambda: mean_over_normal(meta["link"], eta_bar, var_total)
    )


def variance_components(idata, meta: dict, design=None) -> dict[str, np.ndarray]:
    """Draws of every variance component: ``fixed`` (needs ``design``), one per factor,
    ``residual`` (latent / link scale for non-gaussian families).

    Examples
    --------
    >>> list(variance_components(fit.idata, fit.meta, fit.design))
    ['fixed', 'Subject', 'residual']
    """
    from bayesmixed.names import AR_LATENT_SD, ar_label

    rand = random_variances(idata, meta, design)
    total = np.sum(list(rand.values()), axis=0) if rand else np.zeros(n_samples(idata))
    out: dict[str, np.ndarray] = {}
    if design is not None:
        out["fixed"] = fixed_variance(idata, meta, design)
    out.update(rand)
    if meta.get("latent_ar"):  # the stationary variance of the latent AR(1) process
        phi, sd = (flat(idata, v).reshape(-1) for v in (ar_label(1), AR_LATENT_SD))
        out["ar"] = sd**2 / (1.0 - phi**2)
        total = total + out["ar"]  # a latent normal term: it moves lambda as the factors do
    out["residual"] = residual_variance(idata, meta, _mean_linpred(idata, meta, design), total)
    return out


def _components(factor: str) -> frozenset[str]:
    return frozenset(c.strip() for c in factor.split(":"))


def icc_draws(idata, meta: dict, design=None, kind: str = "adjusted") -> dict[str, np.ndarray]:
    """ICC draws per factor (and cumulative ones for nested factors).

    Parameters
    ----------
    kind
        ``"adjusted"`` (random over random + residual) or ``"conditional"`` (random over
        fixed + random + residual; needs ``design``).

    Examples
    --------
    >>> adjusted = icc_draws(fit.idata, fit.meta, fit.design)["Subject"]
    >>> conditional = icc_draws(fit.idata, fit.meta, fit.design, "conditional")["Subject"]
    >>> bool(np.all(conditional <= adjusted))  # the fixed-effect variance joins the denominator
    True
    """
    if kind not in ("adjusted", "conditional"):
        raise PredictionError(f"kind must be 'adjusted' or 'conditional', got {kind!r}")
    if kind == "conditional" and design is None:
        raise PredictionError("the conditional ICC needs the design (fixed-effect variance)")
    comp = variance_components(idata, meta, design)
    rand = {k: v for k, v in comp.items() if k not in ("fixed", "residual", "ar")}
    if not rand:
        return {}
    total = np.sum(list(rand.values()), axis=0) + comp["residual"] + comp.get("ar", 0.0)
    if kind == "conditional":
        total = total + comp["fixed"]
    out = {f: v / total for f, v in rand.items()}
    for f in rand:
        inner = [g for g in rand if g != f and _components(g) < _components(f)]
        if inner:
            out[f"{f} (cumulative)"] = (rand[f] + np.sum([rand[g] for g in inner], axis=0)) / total
    return out


def icc_table(
    idata, meta: dict, design=None, kind: str = "adjusted", prob: float = 0.95
) -> pd.DataFrame:
    """Posterior summary of the ICC per grouping factor.

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; columns mean, sd, interval, ``kind`` and ``scale`` (``latent`` for
        non-gaussian families, ``data`` for gaussian).

    Examples
    --------
    >>> table = icc_table(fit.idata, fit.meta, fit.design, kind="conditional")
    >>> table.loc["Subject", ["kind", "scale"]].tolist()
    ['conditional', 'data']
    """
    table = summarize_draws(icc_draws(idata, meta, design, kind), prob, index_name="factor")
    table["kind"] = kind
    table["scale"] = "latent" if get_family(meta["family"]).latent_scale else "data"
    return table


def _z_at(block: Mapping, Z: np.ndarray | None, x: str, value: float) -> np.ndarray:
    terms = list(block["terms"])
    z = Z.mean(axis=0) if Z is not None else np.zeros(len(terms))
    z = np.where(np.array([t == "Intercept" for t in terms]), 1.0, z)
    if x in terms:
        z[terms.index(x)] = value
    return z


def vpc_table(
    idata,
    meta: dict,
    design,
    x: str,
    values: Sequence[float] | None = None,
    prob: float = 0.95,
) -> pd.DataFrame:
    """Variance partition coefficient per factor as a function of the slope variable ``x``.

    Parameters
    ----------
    x
        A varying term (``"Days"``, ``"trt[B]"``): its random slope makes the cluster variance
        depend on ``x`` (Goldstein et al. 2002). Other varying terms are held at their means.
    values
        Values of ``x``; default 25 points over its observed range.

    Returns
    -------
    pandas.DataFrame
        Columns factor, ``x`` (the value), variance (posterior mean of ``sigma2_g(x)``), mean,
        sd and interval of the VPC.

    Examples
    --------
    >>> table = vpc_table(fit.idata, fit.meta, fit.design, "Days", [0, 9])
    >>> bool(table["mean"].iloc[1] > table["mean"].iloc[0])  # subjects diverge over the days
    True
    """
    pairs = _blocks_with_design(meta, design)
    if not any(x in b["terms"] for b, _ in pairs):
        varying = sorted({t for b, _ in pairs for t in b["terms"] if t != "Intercept"})
        raise PredictionError(
            f"{x!r} is not a varying (random-slope) term; varying terms: {varying}"
        )
    if values is None:
        col = next(Z[:, list(b["terms"]).index(x)] for b, Z in pairs if x in b["terms"])
        values = np.linspace(col.min(), col.max(), 25)
    beta = fixed_coefficients(idata, meta)
    xbar = np.asarray(design.X, dtype=float).mean(axis=0)
    covs = [block_covariance(idata, b) for b, _ in pairs]
    # the stationary variance of a latent AR(1) process (ar() with a non-gaussian family)
    v_ar = variance_components(idata, meta)["ar"] if meta.get("latent_ar") else 0.0
    rows = []
    for v in np.asarray(values, dtype=float):
        per: dict[str, np.ndarray] = {}
        for (b, Z), cov in zip(pairs, covs, strict=True):
            z = _z_at(b, Z, x, v)
            per[b["factor"]] = per.get(b["factor"], 0.0) + np.einsum("k,skl,l->s", z, cov, z)
        xrow = xbar.copy()
        if x in meta["x_names"]:
            xrow[meta["x_names"].index(x)] = v
        total = np.sum(list(per.values()), axis=0) + v_ar
        eta = beta @ xrow + float(meta.get("offset_mean", 0.0))
        resid = residual_variance(idata, meta, eta, total)
        for f, var in per.items():
            rows.append(
                {
                    "factor": f,
                    x: v,
                    "variance": float(var.mean()),
                    **summary_row(var / (total + resid), prob),
                }
            )
    return pd.DataFrame(rows)


def mor_draws(idata, meta: dict) -> dict[str, np.ndarray]:
    """Median odds / rate / hazard ratio draws per factor with a random intercept, plus
    ``"total"`` (all intercept variances summed) when there are several factors.

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> mor = mor_draws(bfit.idata, bfit.meta)["ID"]
    >>> sd = bfit.idata["posterior"]["sd(Intercept|ID)"].values.reshape(-1)
    >>> bool(np.allclose(mor, np.exp(np.sqrt(2) * sd * 0.6744897501960817)))
    True
    """
    link = meta["link"]
    if link not in _MOR_LABEL:
        raise FamilyError(
            f"the median odds/rate ratio needs a logit, log or cloglog link; the model has {link!r}"
        )
    var = random_variances(idata, meta, None)
    q = stats.norm.ppf(0.75)
    out = {f: np.exp(np.sqrt(2.0 * v) * q) for f, v in var.items()}
    if len(var) > 1:
        out["total"] = np.exp(np.sqrt(2.0 * np.sum(list(var.values()), axis=0)) * q)
    return out


def mor_table(idata, meta: dict, prob: float = 0.95) -> pd.DataFrame:
    """Posterior summary of the median odds ratio (logit), rate ratio (log) or hazard ratio
    (cloglog) per factor; column ``measure`` says which.

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> table = mor_table(bfit.idata, bfit.meta)
    >>> table.loc["ID", "measure"], bool(table.loc["ID", "mean"] > 1)
    ('MOR', True)
    """
    table = summarize_draws(mor_draws(idata, meta), prob, index_name="factor")
    table["measure"] = _MOR_LABEL[meta["link"]]
    return table
