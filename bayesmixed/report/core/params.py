"""Read named parameters out of a posterior, the brms/lme4 way.

The report layer knows the model only through ``meta`` (the JSON description the builder
stores with the posterior) and the posterior draws; it never builds a model.

Row names: fixed effects by column name (``Intercept``, ``x``, ``treatment[B]``),
``sd(term|factor)``, ``cor(term1,term2|factor)``, ``sigma``, ``alpha``, the thresholds of an
ordinal model ``Intercept[1]``, ..., ``Intercept[K-1]``; coefficients of a zero part
``zi_Intercept``, ``zi_x`` (kind ``"zi"``; ``hu_...``, kind ``"hu"``, for hurdles), on the logit
scale; with an ``ar()`` term on a non-gaussian family, ``ar[1]`` and the innovation sd
``sigma_ar`` of its latent AR(1) process (kind ``"aux"``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayesmixed.families import get_family
from bayesmixed.names import (
    AR_LATENT_SD,
    ar_label,
    cor_label,
    cor_var,
    dpar_b_var,
    dpar_coef_dim,
    dpar_label,
    sd_label,
    sd_var,
    term_b_dim,
    term_dim,
)
from bayesmixed.report.core.draws import internal

__all__ = ["fixed_names", "group_levels", "parameter_dataset", "parameter_kinds"]


#: summary rows of the latent AR(1) process of an ``ar()`` term (non-gaussian families)
LATENT_AR_ROWS = (ar_label(1), AR_LATENT_SD)


def _post(idata) -> xr.Dataset:
    post = internal(idata)
    return post.to_dataset() if hasattr(post, "to_dataset") else post


def group_levels(meta: dict) -> dict[str, int]:
    """Number of levels per grouping factor, in the order of the blocks.

    Examples
    --------
    >>> group_levels(fit.meta)
    {'Subject': 18}
    """
    out: dict[str, int] = {}
    for b in meta["blocks"]:
        out.setdefault(b["factor"], b["n_levels"])
    return out


def fixed_names(meta: dict) -> list[str]:
    """Population-level coefficient names in design order.

    Examples
    --------
    >>> fixed_names(fit.meta)
    ['Intercept', 'Days']
    """
    return list(meta["x_names"])


def fixed_draws(idata, meta: dict) -> xr.DataArray:
    """Population-level coefficients on the user's scale, dims (chain, draw, coef)."""
    post = _post(idata)
    parts = []
    for name in meta["x_names"]:
        if name == "Intercept":
            parts.append(post["Intercept"])
        else:
            parts.append(post["b"].sel(coef=name, drop=True))
    da = xr.concat(parts, dim="coef") if parts else xr.DataArray(np.zeros((0,)), dims="coef")
    return da.assign_coords(coef=list(meta["x_names"])).transpose("chain", "draw", "coef")


def parameter_dataset(
    idata, meta: dict, *, fixed: bool = True, exponentiate: bool = False
) -> xr.Dataset:
    """All summary parameters as one Dataset of (chain, draw) variables named by row name.

    Examples
    --------
    >>> list(parameter_dataset(fit.idata, fit.meta).data_vars)
    ['Intercept', 'Days', 'sd(Intercept|Subject)', 'sd(Days|Subject)',
    'cor(Intercept,Days|Subject)', 'sigma']
    """
    post = _post(idata)
    out: dict[str, xr.DataArray] = {}
    if fixed:
        for name in meta["x_names"]:
            da = post["Intercept"] if name == "Intercept" else post["b"].sel(coef=name, drop=True)
            out[name] = np.exp(da) if exponentiate else da
    for blk in meta["blocks"]:
        L, f = blk["label"], blk["factor"]
        sd = post[sd_var(L)]
        for t in blk["terms"]:
            out[sd_label(t, f)] = sd.sel({term_dim(L): t}, drop=True)
        if blk["correlated"]:
            cor = post[cor_var(L)]
            terms = blk["terms"]
            for i in range(len(terms)):
                for j in range(i + 1, len(terms)):
                    out[cor_label(terms[i], terms[j], f)] = cor.isel(
                        {term_dim(L): i, term_b_dim(L): j}, drop=True
                    )
    for a in get_family(meta["family"]).aux_params:
        if a.name not in post:
            continue
        if a.vector:  # thresholds: Intercept[1], ..., Intercept[K-1]
            da = post[a.name]
            dim = next(d for d in da.dims if d not in ("chain", "draw"))
            for k in range(da.sizes[dim]):
                out[f"{a.name}[{k + 1}]"] = da.isel({dim: k}, drop=True)
        else:
            out[a.name] = post[a.name]
    for dpar, info in (meta.get("dpars") or {}).items():
        for name in info["x_names"]:
            label = dpar_label(dpar, name)
            out[label] = (
                post[label] if name == "Intercept"
                else post[dpar_b_var(dpar)].sel({dpar_coef_dim(dpar): name}, drop=True)
            )
    for name in LATENT_AR_ROWS if meta.get("latent_ar") else ():  # ar() on a latent scale
        out[name] = post[name]
    return xr.Dataset({k: v.reset_coords(drop=True) for k, v in out.items()})


def parameter_kinds(meta: dict) -> dict[str, str]:
    """Row name -> ``"fixed"``, ``"sd"``, ``"cor"``, ``"aux"`` or ``"threshold"`` (ordinal).

    Examples
    --------
    >>> parameter_kinds(fit.meta)["sd(Days|Subject)"], parameter_kinds(fit.meta)["sigma"]
    ('sd', 'aux')
    """
    kinds = {n: "fixed" for n in meta["x_names"]}
    for blk in meta["blocks"]:
        f = blk["factor"]
        for t in blk["terms"]:
            kinds[sd_label(t, f)] = "sd"
        if blk["correlated"]:
            ts = blk["terms"]
            for i in range(len(ts)):
                for j in range(i + 1, len(ts)):
                    kinds[cor_label(ts[i], ts[j], f)] = "cor"
    for a in get_family(meta["family"]).aux_params:
        if a.vector:
            for k in range(1, len(meta.get("categories") or [None, None])):
                kinds[f"{a.name}[{k}]"] = "threshold"
        else:
            kinds[a.name] = "aux"
    for dpar, info in (meta.get("dpars") or {}).items():
        for name in info["x_names"]:
            kinds[dpar_label(dpar, name)] = dpar
    for name in LATENT_AR_ROWS if meta.get("latent_ar") else ():
        kinds[name] = "aux"
    return kinds
