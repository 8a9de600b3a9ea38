"""Intraclass correlation per grouping factor, computed draw by draw.

ICC_g = var_g / (sum_h var_h + residual variance), with var_g the random-intercept variance of
factor g. The residual variance is on the latent (link) scale for non-gaussian families
(Nakagawa & Schielzeth 2010; Nakagawa, Johnson & Schielzeth 2017):

- gaussian: sigma^2
- logit: pi^2 / 3; probit: 1; cloglog: pi^2 / 6
- poisson (log): log(1 + 1 / lambda), lambda = exp(eta_bar + var_total / 2) (log-normal approx.)
- negative binomial (log): log(1 + 1 / lambda + 1 / alpha)

eta_bar is the mean population-level linear predictor over the data (the intercept at centered
predictors, plus the mean offset).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixed.families import get_family
from bayesmixed.families.links import mean_over_normal
from bayesmixed.names import sd_var, term_dim
from bayesmixed.report.core.draws import internal

__all__ = ["icc_draws", "icc_table", "residual_variance"]


def _post(idata):
    return internal(idata)


def intercept_variances(idata, meta: dict) -> dict[str, np.ndarray]:
    """Random-intercept variance draws per factor (flattened over chains)."""
    post = _post(idata)
    out = {}
    for blk in meta["blocks"]:
        if "Intercept" not in blk["terms"]:
            continue
        sd = post[sd_var(blk["label"])].sel({term_dim(blk["label"]): "Intercept"}).values
        out[blk["factor"]] = sd.reshape(-1) ** 2
    return out


def mean_fixed_linpred(idata, meta: dict) -> np.ndarray:
    """Draws of the population-level linear predictor averaged over the data."""
    post = _post(idata)
    means = np.asarray(meta["x_means"])
    total = np.zeros(post.sizes["chain"] * post.sizes["draw"])
    for j, name in enumerate(meta["x_names"]):
        if name == "Intercept":
            total = total + post["Intercept"].values.reshape(-1)
        else:
            total = total + means[j] * post["b"].sel(coef=name).values.reshape(-1)
    return total + float(meta.get("offset_mean", 0.0))


def residual_variance(idata, meta: dict, var_total: np.ndarray) -> np.ndarray:
    """Draws of the (latent-scale) residual variance.

    Examples
    --------
    >>> draws = residual_variance(fit.idata, fit.meta, np.zeros(400))  # gaussian: sigma^2
    >>> bool(np.allclose(draws, fit.idata["posterior"]["sigma"].values.reshape(-1) ** 2))
    True
    """
    family = get_family(meta["family"])
    post = _post(idata)
    aux = {name: post[name].values.reshape(-1) for name in family.aux}
    return family.latent_variance(
        meta["link"],
        var_total.shape[0],
        aux,
        lambda: mean_over_normal(meta["link"], mean_fixed_linpred(idata, meta), var_total),
    )


def icc_draws(idata, meta: dict) -> dict[str, np.ndarray]:
    """ICC draws per grouping factor with a random intercept.

    Examples
    --------
    >>> draws = icc_draws(fit.idata, fit.meta)
    >>> list(draws), draws["Subject"].shape
    (['Subject'], (400,))
    """
    variances = intercept_variances(idata, meta)
    if not variances:
        return {}
    total = np.sum(list(variances.values()), axis=0)
    resid = residual_variance(idata, meta, total)
    return {f: v / (total + resid) for f, v in variances.items()}


def icc_table(idata, meta: dict, prob: float = 0.95) -> pd.DataFrame:
    """Posterior mean and central interval of the ICC per grouping factor.

    Examples
    --------
    >>> table = icc_table(fit.idata, fit.meta)
    >>> bool(0 < table.loc["Subject", "mean"] < 1)
    True
    """
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    rows = {}
    for f, d in icc_draws(idata, meta).items():
        rows[f] = {"mean": d.mean(), "sd": d.std(ddof=1), f"{100 * lo:g}%": np.quantile(d, lo),
                   f"{100 * hi:g}%": np.quantile(d, hi)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "factor"
    scale = "latent" if get_family(meta["family"]).latent_scale else "data"
    table["scale"] = scale
    return table
