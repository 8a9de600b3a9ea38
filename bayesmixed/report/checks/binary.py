"""Checks of binary / binomial models (binned residuals, calibration, accuracy, AUC, Brier) and
the observed vs predicted mean per cluster (any family). See :mod:`bayesmixed.report.checks.checks`
for the definitions and references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse, stats

from bayesmixed.families import get_family
from bayesmixed.report.checks.residuals import fitted_mean
from bayesmixed.report.core.draws import summary_row

__all__ = ["binned_residuals", "calibration_table", "classification_metrics", "group_proportions"]


def _yrep(ppc: xr.DataTree) -> np.ndarray:
    v = np.asarray(ppc["posterior_predictive"]["y"].values)
    return v.reshape(-1, v.shape[-1])


def _trials(idata, meta, design) -> np.ndarray:
    y = np.asarray(design.y, dtype=float)
    return np.ones_like(y) if design.trials is None else np.asarray(design.trials, float)


def binned_residuals(
    idata, meta: dict, design, n_bins: int | None = None, mu: np.ndarray | None = None
) -> pd.DataFrame:
    """Binned residuals for binary / binomial outcomes (Gelman & Hill 2007).

    Bins hold about equal numbers of trials, ordered by the posterior mean fitted probability.
    Columns bin, n (trials), predicted, observed, residual, se, inside (``|residual| <= 2 se``).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> br = binned_residuals(bfit.idata, bfit.meta, bfit.design)
    >>> list(br.columns)
    ['bin', 'n', 'predicted', 'observed', 'residual', 'se', 'inside']
    """
    y, n = np.asarray(design.y, dtype=float), _trials(idata, meta, design)
    p = (fitted_mean(idata, meta, design) if mu is None else mu).mean(axis=0)
    if n_bins is None:
        n_bins = int(np.clip(np.sqrt(n.sum()), 5, 40))
    order = np.argsort(p, kind="stable")
    cum = np.cumsum(n[order])
    bins = np.minimum((cum - 1) * n_bins // cum[-1], n_bins - 1).astype(int)
    rows = []
    for b in range(n_bins):
        sel = order[bins == b]
        if sel.size == 0:
            continue
        nb = n[sel].sum()
        pred = float(np.sum(n[sel] * p[sel]) / nb)
        obs = float(y[sel].sum() / nb)
        se = float(np.sqrt(pred * (1 - pred) / nb))
        rows.append(
            {
                "bin": b,
                "n": nb,
                "predicted": pred,
                "observed": obs,
                "residual": obs - pred,
                "se": se,
                "inside": abs(obs - pred) <= 2 * se,
            }
        )
    return pd.DataFrame(rows)


def calibration_table(
    idata,
    meta,
    design, ppc: xr.DataTree, n_bins: int = 10, prob: float = 0.9, mu: np.ndarray | None = None
) -> pd.DataFrame:
    """Observed proportion per bin of predicted probability, with the posterior predictive
    interval of that proportion (``lo``, ``hi``) from replicated data.

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> from bayesmixed.report.checks.checks import posterior_predictive
    >>> parts = bfit.idata, bfit.meta, bfit.design
    >>> cal = calibration_table(*parts, posterior_predictive(*parts), n_bins=5)
    >>> list(cal.columns), len(cal) <= 5
    (['bin', 'n', 'predicted', 'observed', 'lo', 'hi'], True)
    """
    y, n = np.asarray(design.y, dtype=float), _trials(idata, meta, design)
    p = (fitted_mean(idata, meta, design) if mu is None else mu).mean(axis=0)
    yrep = _yrep(ppc)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        sel = which == b
        if not sel.any():
            continue
        nb = n[sel].sum()
        rep = yrep[:, sel].sum(axis=1) / nb
        rows.append(
            {
                "bin": b,
                "n": nb,
                "predicted": float(np.sum(n[sel] * p[sel]) / nb),
                "observed": float(y[sel].sum() / nb),
                "lo": float(np.quantile(rep, (1 - prob) / 2)),
                "hi": float(np.quantile(rep, 1 - (1 - prob) / 2)),
            }
        )
    return pd.DataFrame(rows)


def group_proportions(
    idata,
    meta,
    design,
    ppc: xr.DataTree,
    factor: str | None = None,
    prob: float = 0.9,
    mu: np.ndarray | None = None,
) -> pd.DataFrame:
    """Observed vs predicted mean response per cluster, with the posterior predictive interval
    of the cluster mean; ``outside`` flags clusters whose observed mean falls outside.

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> from bayesmixed.report.checks.checks import posterior_predictive
    >>> parts = bfit.idata, bfit.meta, bfit.design
    >>> groups = group_proportions(*parts, posterior_predictive(*parts))
    >>> list(groups.columns)
    ['factor', 'level', 'n', 'observed', 'predicted', 'lo', 'hi', 'outside']
    >>> len(groups)  # one row per child
    50
    """
    y, n = np.asarray(design.y, dtype=float), _trials(idata, meta, design)
    mu = fitted_mean(idata, meta, design) if mu is None else mu
    scale = n if get_family(meta["family"]).uses_trials else np.ones_like(n)
    yrep = _yrep(ppc)
    parts = []
    for blk in design.blocks:
        if factor is not None and blk.factor != factor:
            continue
        L = blk.n_levels
        denom = np.bincount(blk.index, n if scale is n else np.ones_like(n), L)
        obs = np.bincount(blk.index, y, L) / denom
        onehot = sparse.csr_matrix(
            (np.ones(blk.index.size), (np.arange(blk.index.size), blk.index)),
            shape=(blk.index.size, L),
        )
        pred = np.asarray((onehot.T @ (mu * scale).T).T)
        rep = np.asarray((onehot.T @ yrep.T).T) / denom
        lo, hi = (
            np.quantile(rep, (1 - prob) / 2, axis=0),
            np.quantile(rep, 1 - (1 - prob) / 2, axis=0),
        )
        parts.append(
            pd.DataFrame(
                {
                    "factor": blk.factor,
                    "level": list(blk.levels),
                    "n": np.bincount(blk.index, minlength=L),
                    "observed": obs,
                    "predicted": pred.mean(axis=0) / denom,
                    "lo": lo,
                    "hi": hi,
                    "outside": (obs < lo) | (obs > hi),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _auc(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """AUC per row of ``scores`` (draws x obs) by the Mann-Whitney rank statistic."""
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    ranks = stats.rankdata(scores, axis=1)
    return (ranks[:, pos].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def classification_metrics(
    idata, meta: dict, design, prob: float = 0.95, mu: np.ndarray | None = None
) -> pd.DataFrame:
    """Accuracy (threshold 0.5), AUC and Brier score of a bernoulli model, draw by draw, plus
    the value at the posterior mean probability (column ``at_mean``).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> metrics = classification_metrics(bfit.idata, bfit.meta, bfit.design)
    >>> list(metrics.index)
    ['accuracy', 'auc', 'brier']
    >>> bool(0.5 < metrics.loc["auc", "mean"] <= 1)
    True
    """
    y = np.asarray(design.y, dtype=float)
    p = fitted_mean(idata, meta, design) if mu is None else mu
    pm = p.mean(axis=0, keepdims=True)
    out = {}
    for name, f in {
        "accuracy": lambda q: np.mean((q > 0.5) == (y == 1), axis=1),
        "auc": lambda q: _auc(q, y),
        "brier": lambda q: np.mean((y[None, :] - q) ** 2, axis=1),
    }.items():
        out[name] = {**summary_row(f(p), prob), "at_mean": float(f(pm)[0])}
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index.name = "metric"
    return table
