"""Small helpers shared by the report modules: flattening draws, interval summaries, covariance
matrices of random-effects blocks and the families' observation-level variances.

Everything here is numpy on posterior draws; nothing builds a model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "block_cholesky",
    "block_covariance",
    "flat",
    "interval_columns",
    "n_samples",
    "summarize_draws",
    "summary_row",
    "thin_indexes",
]


def n_samples(idata) -> int:
    """Number of posterior draws (chains x draws)."""
    post = idata["posterior"]
    return int(post.sizes["chain"] * post.sizes["draw"])


def flat(idata, name: str) -> np.ndarray:
    """Draws of posterior variable ``name`` flattened to shape ``(draws, ...)``."""
    v = np.asarray(idata["posterior"][name].values)
    return v.reshape((-1, *v.shape[2:]))


def thin_indexes(total: int, draws: int | None) -> np.ndarray | None:
    """Evenly spaced indexes of ``draws`` out of ``total`` draws (``None``: all)."""
    if draws is None or draws >= total:
        return None
    return np.unique(np.linspace(0, total - 1, int(draws)).round().astype(int))


def interval_columns(prob: float) -> tuple[str, str]:
    """Names of the lower and upper quantile columns, e.g. ``("2.5%", "97.5%")``."""
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    return f"{100 * lo:g}%", f"{100 * hi:g}%"


def summary_row(d: np.ndarray, prob: float = 0.95) -> dict[str, float]:
    """Posterior mean, sd and central interval of a vector of draws."""
    d = np.asarray(d, dtype=float).reshape(-1)
    lo_name, hi_name = interval_columns(prob)
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    ok = d[np.isfinite(d)]
    if ok.size == 0:
        return {"mean": np.nan, "sd": np.nan, lo_name: np.nan, hi_name: np.nan}
    return {
        "mean": float(ok.mean()),
        "sd": float(ok.std(ddof=1)) if ok.size > 1 else 0.0,
        lo_name: float(np.quantile(ok, lo)),
        hi_name: float(np.quantile(ok, hi)),
    }


def summarize_draws(draws: Mapping[str, np.ndarray], prob: float = 0.95, index_name: str = "name") -> pd.DataFrame:
    """One summary row (mean, sd, interval) per named vector of draws."""
    rows = {k: summary_row(v, prob) for k, v in draws.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    if table.empty:
        lo, hi = interval_columns(prob)
        table = pd.DataFrame(columns=["mean", "sd", lo, hi])
    table.index.name = index_name
    return table


def block_covariance(idata, block: Mapping) -> np.ndarray:
    """Draws of a random-effects block's covariance matrix, shape ``(draws, terms, terms)``.

    ``Sigma = diag(sd) R diag(sd)`` with ``R`` the correlation matrix (identity for an
    uncorrelated block).
    """
    L = block["label"]
    sd = flat(idata, f"sd__{L}")  # (S, k)
    if block.get("correlated") and f"cor__{L}" in idata["posterior"]:
        R = flat(idata, f"cor__{L}")
    else:
        R = np.broadcast_to(np.eye(sd.shape[1]), (sd.shape[0], sd.shape[1], sd.shape[1]))
    return sd[:, :, None] * R * sd[:, None, :]


def block_cholesky(idata, block: Mapping) -> np.ndarray:
    """Draws of the lower Cholesky factor of a block's covariance, ``(draws, terms, terms)``."""
    cov = block_covariance(idata, block)
    k = cov.shape[-1]
    jitter = 1e-12 * np.maximum(np.trace(cov, axis1=1, axis2=2), 1e-300)[:, None, None] * np.eye(k)
    return np.linalg.cholesky(cov + jitter)
