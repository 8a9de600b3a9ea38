"""Predictions of an ordinal (``cumulative``) model: category probabilities and expected index.

For an ordinal response :func:`bayesmixed.report.predict.predict.predict` gives, by ``kind``:

- ``"probs"``: ``P(y = k)`` per category, draws ``(draws, rows, K)``; the summary has one column
  per category, named by its label;
- ``"mean"``: the expected category index ``sum_k k P(y = k)`` with categories numbered
  ``1..K``;
- ``"response"``: posterior predictive draws of the category index ``1..K``.

Population-averaged (``groups="marginal"``) probabilities integrate the conditional ones over
the random effects, ``E_u[P(y = k | x'beta + z'u)]``, by Gauss-Hermite quadrature or Monte
Carlo, as for the other families; the expected index follows from them.
"""

from __future__ import annotations

import numpy as np

from bayesmixed.errors import PredictionError
from bayesmixed.families.ordinal import THRESHOLDS, category_probs
from bayesmixed.report.core.linpred import aux_draws

__all__ = ["ordinal_prediction"]


def _probs(idata, meta: dict, eta: np.ndarray, v, idx_draws, integration, n_mc, rng):
    link = meta["link"]
    th = aux_draws(idata, meta["family"], idx_draws)[THRESHOLDS]
    if v is None:
        return category_probs(eta, link, th)
    sd = np.sqrt(np.maximum(v, 0.0))
    if integration == "quadrature":
        nodes, weights = np.polynomial.hermite.hermgauss(40)
        total = sum(
            w * category_probs(eta + np.sqrt(2.0) * sd * t, link, th)
            for t, w in zip(nodes, weights, strict=True)
        )
        return total / np.sqrt(np.pi)
    if integration != "monte_carlo":
        raise PredictionError(
            f"integration must be 'quadrature' or 'monte_carlo', got {integration!r}"
        )
    rng = np.random.default_rng(rng)
    total = sum(
        category_probs(eta + sd * rng.standard_normal(eta.shape), link, th) for _ in range(n_mc)
    )
    return total / n_mc


def ordinal_prediction(
    idata,
    meta: dict,
    eta: np.ndarray,
    kind: str,
    v: np.ndarray | None = None,
    idx_draws: np.ndarray | None = None,
    integration: str = "quadrature",
    n_mc: int = 1000,
    rng=None,
) -> np.ndarray:
    """``"probs"`` ``(draws, rows, K)`` or ``"mean"`` ``(draws, rows)`` (index ``1..K``).

    Parameters
    ----------
    eta
        Linear predictor draws ``(draws, rows)`` (without the random effects when ``v`` given).
    v
        Variance of the random-effects part per (draw, row), to integrate over
        (population-averaged); ``None`` for conditional predictions.

    Examples
    --------
    >>> meta = {"family": "cumulative", "link": "logit"}
    >>> import xarray as xr
    >>> post = xr.Dataset({"Intercept": (("chain", "draw", "k"), [[[-1.0, 1.0]]])})
    >>> ordinal_prediction({"posterior": post}, meta, np.zeros((1, 1)), "mean").tolist()
    [[2.0]]
    """
    probs = _probs(idata, meta, eta, v, idx_draws, integration, n_mc, rng)
    if kind == "probs":
        return probs
    return probs @ np.arange(1, probs.shape[-1] + 1, dtype=float)
