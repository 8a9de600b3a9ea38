"""Exact data reduction before sampling: identical rows collapse into counts.

Two rows that share every population-level column, the offset, and their level and
varying-term columns in every grouping factor have the same linear predictor in every draw.
For some families their joint likelihood then depends on the data only through a sum, so the
rows can be replaced by one *cell* without changing the posterior:

============  ==============================================  =================================
family        a cell of ``k`` rows becomes                    likelihood differs by
============  ==============================================  =================================
bernoulli     binomial: ``sum(y)`` successes of ``k`` trials   ``log C(k, sum y)``, a constant
binomial      binomial: ``sum(y)`` of ``sum(trials)``          a constant (binomial coefficients)
poisson, log  poisson: ``sum(y)`` with offset ``+ log(k)``     a constant (``sum(y) log k`` and
                                                               factorials)
============  ==============================================  =================================

Not reduced, on purpose:

- negative binomial: the likelihood of ``k`` rows depends on each ``y_i`` through
  ``Gamma(y_i + alpha)``, not only on the sum, so no exact reduction exists.
- gaussian rows: ``k`` identical rows reduce exactly to their mean,
  ``Normal(mean | mu, sigma / sqrt(k))``, plus a term ``-(k - 1) log(sigma) - SS_within /
  (2 sigma^2)`` for ``sigma``; but replicate rows are rare in real-valued data, and the
  reduction that pays is a different one: with one grouping factor the random effects are
  integrated out, which needs only per-level sums of squares and cross-products, whatever the
  number of rows (:mod:`bayesmixed.graph.marginal`, also switched by ``aggregate=``). Other
  gaussian designs are sampled row by row.

Only the *sampled* model uses the cells. The :class:`~bayesmixed.design.matrices.Design` of the
original rows stays what a fit describes (``fit.data``, ``fit.design``): predictions, the
pointwise log-likelihood and LOO are per original row. Priors and the parameterization rule
are computed from the original rows too, so they are the same with or without aggregation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from bayesmixed.design.matrices import Design
from bayesmixed.families import CellRule, get_family

__all__ = ["MAX_CELL_FRACTION", "Aggregation", "aggregate", "cell_index"]

#: Aggregate only when the cells are at most this fraction of the rows: a small reduction
#: does not pay for a model structure that differs from the row-level one.
MAX_CELL_FRACTION = 0.75


@dataclass(frozen=True)
class Aggregation:
    """Rows collapsed into cells.

    Attributes
    ----------
    design
        The cell-level design the sampler uses (binomial or poisson family).
    cell
        Cell index of every original row, shape ``(n_rows,)``.
    n_rows, n_cells
        Number of original rows and of cells.
    kind
        What was done, e.g. ``"bernoulli -> binomial"``.

    Examples
    --------
    >>> import pandas as pd
    >>> import bayesmixed as bm
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0, 1, 1], "g": ["a", "a", "a", "b", "b", "b"]})
    >>> agg = aggregate(bm.prepare("y ~ 1 + (1 | g)", df, "bernoulli").design)
    >>> agg.kind, agg.cell.tolist()
    ('bernoulli -> binomial', [0, 0, 0, 1, 1, 1])
    """

    design: Design
    cell: np.ndarray
    n_rows: int
    n_cells: int
    kind: str

    def to_dict(self) -> dict:
        """JSON-able summary (stored in a fit's ``meta``)."""
        return {"n_rows_original": self.n_rows, "n_cells": self.n_cells, "kind": self.kind}


def cell_index(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Cell of every row and the first row of every cell, cells in order of first appearance.

    Rows share a cell when their population-level columns, offset, and every block's level
    index and varying-term columns are all exactly equal.

    Returns
    -------
    (cell, first)
        ``cell[i]`` is the cell of row ``i``; ``first[c]`` the first row of cell ``c``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> design = bm.prepare("cbind(incidence, size - incidence) ~ period + (1 | herd)",
    ...                     bm.datasets.load("cbpp"), "binomial").design
    >>> cell, first = cell_index(design)
    >>> len(first) == design.n_obs  # every cbpp row is its own herd x period cell
    True
    """
    cols = [design.X]
    if design.offset is not None:
        cols.append(design.offset[:, None])
    for b in design.blocks:
        cols.append(b.index[:, None].astype(float))
        cols.append(b.Z)
    keys = np.ascontiguousarray(np.column_stack(cols), dtype=float)
    keys = keys + 0.0  # -0.0 -> 0.0, so equal numbers have equal bytes
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # cells in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)], first[order]


def _rule(design: Design) -> CellRule | None:
    rule = design.family.cells
    if rule is None or (rule.links and design.link not in rule.links):
        return None
    return rule


def aggregate(design: Design, max_fraction: float = MAX_CELL_FRACTION) -> Aggregation | None:
    """Collapse identical rows into cells when that is exact and worth it.

    Parameters
    ----------
    design
        The row-level design.
    max_fraction
        Aggregate only when ``cells <= max_fraction * rows``.

    Returns
    -------
    Aggregation or None
        None when the family has no exact reduction or the reduction is too small.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import bayesmixed as bm
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0, 1, 1], "x": [0, 0, 0, 1, 1, 1],
    ...                    "g": ["a", "a", "a", "b", "b", "b"]})
    >>> agg = aggregate(bm.prepare("y ~ x + (1 | g)", df, "bernoulli").design)
    >>> agg.n_rows, agg.n_cells, agg.design.y.tolist(), agg.design.trials.tolist()
    (6, 2, [2, 2], [3, 3])
    """
    rule = _rule(design)
    if rule is None or design.n_obs < 2 or design.ar_codes is not None:  # a process per row
        return None
    cell, first = cell_index(design)
    n_cells = int(first.size)
    if n_cells > max_fraction * design.n_obs:
        return None
    count = np.bincount(cell, minlength=n_cells)
    y = np.bincount(cell, weights=design.y.astype(float), minlength=n_cells)
    offset = None if design.offset is None else design.offset[first]
    trials = None
    family = get_family(rule.family)
    if rule.trials == "count":
        trials = count
    elif rule.trials == "sum":
        trials = np.bincount(cell, weights=design.trials.astype(float), minlength=n_cells)
    if rule.log_count_offset:  # k rows with mean mu sum to a poisson with mean k * mu
        offset = np.log(count) if offset is None else offset + np.log(count)
    int_y = np.rint(y).astype(np.int64)
    blocks = tuple(
        dataclasses.replace(b, index=b.index[first], Z=b.Z[first]) for b in design.blocks
    )
    cells = dataclasses.replace(
        design,
        family=family,
        y=int_y,
        trials=None if trials is None else np.rint(trials).astype(np.int64),
        offset=offset,
        X=design.X[first],
        blocks=blocks,
        data=design.data.iloc[first].reset_index(drop=True),
    )
    return Aggregation(cells, cell, design.n_obs, n_cells, rule.label)
