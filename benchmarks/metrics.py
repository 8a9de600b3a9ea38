"""Convergence and efficiency figures from a posterior, the same way for every tool.

The parameters judged are the population-level coefficients (intercept included), the
group-level standard deviations and (bayesmixed only: bambi has none) the group-level
correlations. Auxiliary parameters (``sigma``, ``alpha``) and the level effects are left out.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

_AUX = {"sigma", "alpha"}


def bayesmixed_hyper(idata) -> dict[str, np.ndarray]:
    """(chain, draw) arrays of a bayesmixed fit's population, sd and correlation parameters."""
    post = idata["posterior"]
    out: dict[str, np.ndarray] = (
        {"Intercept": post["Intercept"].values} if "Intercept" in post else {}
    )
    if "b" in post:
        for c in post["b"]["coef"].values:
            out[str(c)] = post["b"].sel(coef=c).values
    for name in post.data_vars:
        if name.startswith("sd__"):
            dim = next(d for d in post[name].dims if d not in ("chain", "draw"))
            for t in post[name][dim].values:
                out[f"sd({t}|{name[4:]})"] = post[name].sel({dim: t}).values
        if name.startswith("cor__"):
            v = post[name].values
            k = v.shape[-1]
            for i in range(k):
                for j in range(i + 1, k):
                    out[f"cor{i}{j}({name[5:]})"] = v[..., i, j]
    return out


def bambi_hyper(idata) -> dict[str, np.ndarray]:
    """(chain, draw) arrays of a bambi fit's common terms and group-level sigmas."""
    post = idata["posterior"]
    return {
        str(n): post[n].values
        for n in post.data_vars
        if set(post[n].dims) == {"chain", "draw"} and n not in _AUX
    }


def summarize(hyper: dict[str, np.ndarray], idata) -> dict:
    """min bulk ESS (and where), max R-hat (and where), divergences."""
    from arviz_stats import ess, rhat

    ds = xr.Dataset(
        {k.replace("|", "_"): (("chain", "draw"), np.asarray(v, float)) for k, v in hyper.items()}
    )
    names = dict(zip([k.replace("|", "_") for k in hyper], hyper, strict=True))
    e = ess(ds, method="bulk")
    r = rhat(ds)
    ess_v = {names[k]: float(e[k]) for k in ds.data_vars}
    rhat_v = {names[k]: float(r[k]) for k in ds.data_vars}
    worst_e = min(ess_v, key=ess_v.get)
    worst_r = max(rhat_v, key=rhat_v.get)
    div = (
        idata["sample_stats"]["diverging"].values.sum()
        if "diverging" in idata["sample_stats"]
        else 0
    )
    return {
        "min_ess_bulk": ess_v[worst_e],
        "min_ess_param": worst_e,
        "max_rhat": rhat_v[worst_r],
        "max_rhat_param": worst_r,
        "divergences": int(div),
        "n_params": len(hyper),
    }
