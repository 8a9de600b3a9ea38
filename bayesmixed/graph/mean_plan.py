"""Which terms move into the mean of which block's effects (hierarchical centering).

Predictors constant within the levels of a grouping factor, the intercept, and fixed slopes that
match a random slope can enter the mean of that factor's effects instead of the row-level linear
predictor. That helps where the factor's effects are sampled centered or partially centered
(their mean is then part of what the sampler sees); for a non-centered factor it changes
nothing, so only those factors take terms (``Choice.takes_mean``). These functions decide the
plan; :mod:`bayesmixed.graph.model` builds it.
"""

from __future__ import annotations

import numpy as np

from bayesmixed.design.matrices import Design, GroupBlock
from bayesmixed.graph.parameterization import Choice

__all__ = [
    "hier_target",
    "level_constant_columns",
    "level_plan_of",
    "level_values",
    "outer_blocks",
    "slope_plan_of",
]


def level_constant_columns(X: np.ndarray, names: tuple[str, ...], index: np.ndarray, n_levels: int) -> list[int]:
    """Indexes of non-intercept columns of ``X`` that are constant within every level.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0, 5.0], [1.0, 0.0, 6.0], [1.0, 1.0, 7.0]])
    >>> level_constant_columns(X, ("Intercept", "treated", "x"), np.array([0, 0, 1]), 2)
    [1]
    """
    out = []
    for j, name in enumerate(names):
        if name == "Intercept":
            continue
        col = X[:, j]
        rows = np.maximum(np.bincount(index, minlength=n_levels), 1)
        level_mean = np.bincount(index, weights=col, minlength=n_levels) / rows
        if np.all(np.abs(col - level_mean[index]) <= 1e-12 * (1 + np.abs(col))):
            out.append(j)
    return out


def hier_target(design: Design, choices: dict[str, Choice]) -> GroupBlock | None:
    """The centered (or partially centered) block with a random intercept that blurs the
    intercept most (largest ``tau_hat^2 / levels``).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import choose_parameterization
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    >>> choices = choose_parameterization(design, user=True)  # centered: takes a mean
    >>> hier_target(design, choices).factor
    'Subject'
    """
    if not design.has_intercept:
        return None
    cands = [b for b in design.blocks if choices[b.factor].takes_mean and b.terms and b.terms[0] == "Intercept"]
    return max(cands, key=lambda b: choices[b.factor].spread, default=None)


def outer_blocks(design: Design, target: GroupBlock) -> list[tuple[GroupBlock, np.ndarray]]:
    """Blocks with a random intercept whose factor contains ``target``'s factor (nesting).

    Returns each with the map from target level to its outer level: the outer effects are
    constant within target levels, so they can enter the target effects' mean.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> design = bm.prepare("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("pastes")).design
    >>> [b.factor for b, _ in outer_blocks(design, design.blocks[1])]  # casks within batches
    ['batch']
    """
    out = []
    for b in design.blocks:
        if b is target or not b.terms or b.terms[0] != "Intercept" or b.n_levels >= target.n_levels:
            continue
        outer = np.zeros(target.n_levels, dtype=np.int64)
        outer[target.index] = b.index
        if np.array_equal(outer[target.index], b.index):
            out.append((b, outer))
    return out


def level_plan_of(
    design: Design, choices: dict[str, Choice], target: GroupBlock | None, slope_idx: list[int]
) -> dict[str, list[int]]:
    """Level-constant predictors that move into the mean of a centered (or partially centered) block's intercepts.

    Returns block label -> positions in ``b``. The hierarchical-centering target takes its
    level-constant predictors first; every other centered (or partially centered) block with a random intercept then
    takes those constant within its own levels (person-level predictors into the person
    effects, item-level ones into the item effects of a crossed design), larger spread first.
    A predictor moves at most once.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import Choice
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    >>> centered = {"Subject": Choice(centered=True, rule="user", ratio=None)}
    >>> level_plan_of(design, centered, design.blocks[0], [1])  # Days varies within subjects
    {}
    """
    names = design.x_names
    blocks = [
        b for b in design.blocks
        if choices[b.factor].takes_mean and b.terms and b.terms[0] == "Intercept"
    ]
    blocks.sort(key=lambda b: (b is not target, -choices[b.factor].spread))
    plan: dict[str, list[int]] = {}
    taken: set[int] = set()
    for blk in blocks:
        const = level_constant_columns(design.X, names, blk.index, blk.n_levels)
        cols = [slope_idx.index(j) for j in const if slope_idx.index(j) not in taken]
        if cols:
            plan[blk.label] = cols
            taken.update(cols)
    return plan


def slope_plan_of(
    design: Design, choices: dict[str, Choice], slope_idx: list[int], taken: set[int]
) -> dict[str, list[tuple[int, int]]]:
    """Fixed slopes that move into the mean of a centered (or partially centered) block's matching random slope.

    Returns block label -> [(term index in the block, position in ``b``)]. A coefficient moves at
    most once, to the centered (or partially centered) block with the largest spread, and only when the block's column
    is exactly the population-level column.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import Choice
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    >>> plan = slope_plan_of(design, {"Subject": Choice(True, "user", None)}, [1], set())
    >>> list(plan.values())  # the random slope of Days (term 1) takes coefficient 0
    [[(1, 0)]]
    """
    plan: dict[str, list[tuple[int, int]]] = {}
    blocks = sorted(
        (b for b in design.blocks if choices[b.factor].takes_mean),
        key=lambda b: -choices[b.factor].spread,
    )
    for blk in blocks:
        for k, term in enumerate(blk.terms):
            if term == "Intercept" or term not in design.x_names:
                continue
            j = design.x_names.index(term)
            pos = slope_idx.index(j)
            if pos in taken or not np.allclose(blk.Z[:, k], design.X[:, j]):
                continue
            plan.setdefault(blk.label, []).append((k, pos))
            taken.add(pos)
    return plan


def level_values(cols: np.ndarray, block: GroupBlock) -> np.ndarray:
    """Per-level values of level-constant columns.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy")).design
    >>> level_values(design.X[:, :1], design.blocks[0]).shape  # the intercept column per subject
    (18, 1)
    """
    W = np.zeros((block.n_levels, cols.shape[1]))
    W[block.index] = cols
    return W
