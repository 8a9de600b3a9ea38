"""Centering within clusters: ``within(x, g)`` and ``between(x, g)`` formula terms.

The Mundlak / within-between decomposition splits a predictor ``x`` that varies within the
clusters of ``g`` into its cluster mean ``between(x, g)`` and the deviation from it
``within(x, g) = x - between(x, g)``. With both in the model, the coefficient of ``within``
is the within-cluster effect (free of cluster-level confounding, as a fixed-effects
estimator) and the coefficient of ``between`` the between-cluster effect; a random intercept
alone would blend the two.

Both are formulae *stateful transforms*: the cluster means are computed once, on the fitted
data, and remembered, so predictions for new rows of fitted clusters use the fitted means.
A cluster absent from the fitted data gets the mean of its own rows in the new data (the only
information there is about it), so predictions for a new cluster depend on which of its rows
are predicted together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NAMESPACE", "Between", "Within"]


class _GroupMean:
    """Cluster means of ``x`` by ``g``, fixed on the first call (the fitted data)."""

    __stateful_transform__ = True

    def __init__(self) -> None:
        self.means: dict[str, float] | None = None

    def _means(self, x, g) -> np.ndarray:
        xv = np.asarray(x, dtype=float).reshape(-1)
        keys = pd.Series(np.asarray(g).reshape(-1)).astype(str)
        if xv.shape[0] != keys.shape[0]:
            raise ValueError("within()/between(): x and the grouping column differ in length")
        own = pd.Series(xv).groupby(keys.to_numpy()).mean()
        if self.means is None:
            self.means = {str(k): float(v) for k, v in own.items()}
        fitted = keys.map(self.means)
        return fitted.fillna(keys.map(own)).to_numpy(dtype=float)


class Within(_GroupMean):
    """``within(x, g)``: ``x`` minus its cluster mean (cluster means of the fitted data).

    Examples
    --------
    >>> w = Within()
    >>> w([1.0, 3.0, 10.0, 14.0], ["a", "a", "b", "b"]).tolist()
    [-1.0, 1.0, -2.0, 2.0]
    >>> w([5.0, 0.0, 1.0], ["a", "c", "c"]).tolist()  # 'a' keeps its fitted mean 2
    [3.0, -0.5, 0.5]
    """

    def __call__(self, x, g) -> np.ndarray:
        return np.asarray(x, dtype=float).reshape(-1) - self._means(x, g)


class Between(_GroupMean):
    """``between(x, g)``: the cluster mean of ``x`` (cluster means of the fitted data).

    Examples
    --------
    >>> b = Between()
    >>> b([1.0, 3.0, 10.0, 14.0], ["a", "a", "b", "b"]).tolist()
    [2.0, 2.0, 12.0, 12.0]
    >>> b([100.0], ["b"]).tolist()  # fitted cluster: fitted mean
    [12.0]
    """

    def __call__(self, x, g) -> np.ndarray:
        return self._means(x, g)


#: Functions formulae sees in formulas, besides its own (``center``, ``scale``, ``C``, ...).
NAMESPACE = {"within": Within, "between": Between}
