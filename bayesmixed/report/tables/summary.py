"""The summary table: posterior mean, sd, 95% interval, Monte Carlo standard errors, R-hat and
ESS per parameter (every diagnostic from arviz-stats)."""

from __future__ import annotations

import warnings

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from bayesmixed.report.core.params import parameter_dataset, parameter_kinds

__all__ = ["approximate_note", "convergence", "summarize", "summarize_approximate",
           "summary_table"]

COLUMNS = ["mean", "sd", "2.5%", "97.5%", "mcse_mean", "mcse_sd", "r_hat", "ess_bulk", "ess_tail"]


def convergence(ds: xr.Dataset) -> pd.DataFrame:
    """R-hat (rank-normalized), bulk and tail ESS of every variable of ``ds``.

    Examples
    --------
    >>> from bayesmixed.report.core.params import parameter_dataset
    >>> list(convergence(parameter_dataset(fit.idata, fit.meta)).columns)
    ['r_hat', 'ess_bulk', 'ess_tail']
    """
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = azs.rhat(ds)
        bulk = azs.ess(ds, method="bulk")
        tail = azs.ess(ds, method="tail")
    for name in ds.data_vars:
        rows[name] = {
            "r_hat": float(rhat[name].max()) if rhat[name].size else np.nan,
            "ess_bulk": float(bulk[name].min()) if bulk[name].size else np.nan,
            "ess_tail": float(tail[name].min()) if tail[name].size else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _moments(ds: xr.Dataset, prob: float) -> pd.DataFrame:
    """Mean, sd and central interval of every variable of ``ds`` over all its draws."""
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    rows = {}
    for name, da in ds.data_vars.items():
        v = np.asarray(da.values, dtype=float).reshape(-1)
        rows[name] = {
            "mean": v.mean(),
            "sd": v.std(ddof=1),
            f"{100 * lo:g}%": np.quantile(v, lo),
            f"{100 * hi:g}%": np.quantile(v, hi),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def summarize(ds: xr.Dataset, prob: float = 0.95) -> pd.DataFrame:
    """Summary rows for every (chain, draw) variable of ``ds``.

    ``mcse_mean`` and ``mcse_sd`` are the Monte Carlo standard errors of the posterior mean and
    sd (``arviz_stats.mcse``); for a variable with several elements the largest is shown, as
    R-hat shows the largest and ESS the smallest.

    Examples
    --------
    >>> from bayesmixed.report.core.params import parameter_dataset
    >>> list(summarize(parameter_dataset(fit.idata, fit.meta)).columns)
    ['mean', 'sd', '2.5%', '97.5%', 'mcse_mean', 'mcse_sd', 'r_hat', 'ess_bulk', 'ess_tail']
    """
    table = _moments(ds, prob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for col, method in (("mcse_mean", "mean"), ("mcse_sd", "sd")):
            mcse = azs.mcse(ds, method=method)
            table[col] = [float(mcse[n].max()) if mcse[n].size else np.nan for n in table.index]
    conv = convergence(ds)
    table = table.join(conv)
    for col in ("ess_bulk", "ess_tail"):
        table[col] = table[col].round().astype("Int64")
    return table


def approximate_note(method: str) -> str:
    """The line that labels a table of approximate draws.

    Examples
    --------
    >>> approximate_note("pathfinder")[:37]
    'APPROXIMATE: pathfinder draws, no R-h'
    """
    return (f"APPROXIMATE: {method} draws, no R-hat/ESS/MCSE (importance-resampled draws of an "
            "approximation, not a Markov chain; NaN in those columns)")


def summarize_approximate(ds: xr.Dataset, prob: float = 0.95) -> pd.DataFrame:
    """:func:`summarize` without the MCMC figures: mcse, R-hat and ESS are NaN.

    Draws resampled from an approximation repeat and come from no chain: R-hat, ESS and the
    Monte Carlo standard errors computed from them would be meaningless numbers.

    Examples
    --------
    >>> from bayesmixed.report.core.params import parameter_dataset
    >>> t = summarize_approximate(parameter_dataset(fit.idata, fit.meta))
    >>> bool(t["r_hat"].isna().all()), list(t.columns) == COLUMNS
    (True, True)
    """
    table = _moments(ds, prob)
    for col in ("mcse_mean", "mcse_sd", "r_hat"):
        table[col] = np.nan
    for col in ("ess_bulk", "ess_tail"):
        table[col] = pd.array([pd.NA] * len(table), dtype="Int64")
    return table


def summary_table(
    idata, meta: dict, *, exponentiate: bool = False, prob: float = 0.95
) -> pd.DataFrame:
    """The summary DataFrame of a fit.

    Parameters
    ----------
    idata
        Posterior DataTree.
    meta
        Model description stored with the fit.
    exponentiate
        Report ``exp`` of the population-level coefficients (odds ratios for logit links, rate
        ratios for log links). Intervals are transformed draw by draw.
    prob
        Interval probability (0.95 gives the 2.5% and 97.5% columns).

    Returns
    -------
    pandas.DataFrame
        Index: parameter names; columns: mean, sd, quantiles, mcse_mean, mcse_sd, r_hat,
        ess_bulk, ess_tail; the
        column ``kind`` tells fixed, sd, cor or aux. For approximate draws (``meta["method"]``
        other than ``"nuts"``) the MCMC columns (mcse, r_hat, ess) are NaN and
        ``table.attrs["note"]`` says why.

    Examples
    --------
    >>> summary_table(fit.idata, fit.meta).index.tolist()
    ['Intercept', 'Days', 'sd(Intercept|Subject)', 'sd(Days|Subject)',
    'cor(Intercept,Days|Subject)', 'sigma']
    """
    ds = parameter_dataset(idata, meta, exponentiate=exponentiate)
    method = meta.get("method", "nuts")
    if method != "nuts":  # issue 14: no MCMC figures for importance-resampled draws
        table = summarize_approximate(ds, prob=prob)
        table.attrs["note"] = approximate_note(method)
    else:
        table = summarize(ds, prob=prob)
    kinds = parameter_kinds(meta)
    table.insert(0, "kind", [kinds.get(n, "aux") for n in table.index])
    if exponentiate:
        label = {"logit": "OR", "log": "RR"}.get(meta["link"], "exp")
        table = table.rename(index={n: f"{label}({n})" for n in meta["x_names"]})
    return table
