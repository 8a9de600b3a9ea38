"""Fit one hard case at default settings and measure it the way the goal is stated: max R-hat
and min bulk ESS over every parameter (population-level, sd, correlation, auxiliary and every
random effect), divergences after warm-up and wall time."""

from __future__ import annotations

import time
import warnings

import numpy as np
import xarray as xr

RHAT_MAX = 1.01
ESS_MIN = 400


def all_parameters(fit) -> xr.Dataset:
    """Summary parameters and every random effect, as one Dataset of (chain, draw, ...)."""
    from bayesmixed.report.core.params import parameter_dataset

    ds = parameter_dataset(fit.idata, fit.meta)
    post = fit.idata["posterior"]
    extra = {n: post[n].reset_coords(drop=True) for n in post.data_vars if str(n).startswith("r__")}
    return xr.merge([ds, xr.Dataset(extra)])


def measure(fit, wall: float) -> dict:
    """The figures of one fit (see the module docstring)."""
    from arviz_stats import ess, rhat

    ds = all_parameters(fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = rhat(ds)
        e = ess(ds, method="bulk")
    worst_r = max(ds.data_vars, key=lambda n: np.nanmax(r[n].values))
    worst_e = min(ds.data_vars, key=lambda n: np.nanmin(e[n].values))
    div = int(fit.idata["sample_stats"]["diverging"].values.sum())
    max_rhat = float(np.nanmax(r[worst_r].values))
    min_ess = float(np.nanmin(e[worst_e].values))
    par = {f: f"integrated into {c['integrated_into']}" if c.get("integrated_into")
           else "PC" if c.get("partial") else "C" if c.get("centered") else "NC"
           for f, c in fit.meta.get("parameterization", {}).items()}
    return {
        "max_rhat": max_rhat, "rhat_where": str(worst_r),
        "min_ess_bulk": min_ess, "ess_where": str(worst_e),
        "divergences": div, "wall_s": wall,
        "ok": bool(max_rhat <= RHAT_MAX and div == 0 and min_ess >= ESS_MIN),
        "parameterization": par,
        "adaptation": fit.meta.get("sampler_run", {}).get("adaptation", "?"),
        "attempts": len(fit.meta.get("retries", []) or [None]),
    }


def fit_case(name: str, seed: int, chains: int = 4, draws: int = 1000, tune: int = 1000,
             **kwargs) -> tuple[object, dict]:
    """Fit case ``name`` with ``seed`` at default settings; returns (fit, figures)."""
    import bayesmixed as bm
    from benchmarks.hard.cases import CASES

    case = CASES[name]
    data = case.data()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit(case.formula, data, family=case.family, seed=seed, chains=chains,
                     draws=draws, tune=tune, progress=False, **kwargs)
    wall = time.perf_counter() - t0
    return fit, measure(fit, wall)
