"""What :func:`bayesmixed.graph.model.build_model` decides before it builds a graph.

Centering of the population-level columns, the hierarchical-centering plan
(:mod:`bayesmixed.graph.mean_plan`), the pivot (:mod:`bayesmixed.graph.pivot`) and one block
plan per block label (:mod:`bayesmixed.graph.blocks`): numpy only, no PyMC variables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesmixed.design.matrices import Design, GroupBlock
from bayesmixed.graph.blocks import plan_blocks
from bayesmixed.graph.collapse import collapsible
from bayesmixed.graph.mean_plan import hier_target, level_plan_of, outer_blocks, slope_plan_of
from bayesmixed.graph.pivot import pivot_block
from bayesmixed.graph.random_effects import BlockPlan

__all__ = ["Centering", "ModelPlan", "centering", "plan_model"]


@dataclass
class Centering:
    """Population-level columns centered at ``means`` (as brms does; :mod:`~.model`).

    Examples
    --------
    >>> import numpy as np
    >>> Centering([1], np.array([0.0, 2.0]), np.array([[-1.0], [1.0]])).slope_idx
    [1]
    """

    slope_idx: list[int]  # columns of X other than the intercept
    means: np.ndarray  # centering point per column of X (0 for the intercept, or no intercept)
    Xc: np.ndarray  # the centered non-intercept columns


def centering(design: Design, x_means: np.ndarray | None = None) -> Centering:
    """Center the population-level columns at ``x_means`` (default: their means) when the
    model has an intercept.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy")).design
    >>> centering(design).means.tolist()
    [0.0, 4.5]
    """
    X, names = design.X, design.x_names
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    means = np.zeros(len(names))
    if design.has_intercept:
        given = None if x_means is None else np.asarray(x_means)[slope_idx]
        means[slope_idx] = X[:, slope_idx].mean(axis=0) if given is None else given
    return Centering(slope_idx, means, (X - means)[:, slope_idx])


@dataclass
class ModelPlan:
    """Everything decided before the graph: which terms move where, the pivot, block forms.

    ``level_plan``, ``slope_plan`` and ``blocks`` are keyed by block label.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = bm.prepare("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("pastes"))
    >>> plan = plan_model(built.design, built.priors, built.choices, centering(built.design))
    >>> plan.target.label, [b.label for b, _ in plan.outer]  # casks' mean: batch effects
    ('batch__cask', ['batch'])
    >>> [b.label for b in plan.order(built.design)]  # the target last
    ['batch', 'batch__cask']
    """

    cent: Centering
    target: GroupBlock | None  # hierarchical-centering target (:mod:`~.mean_plan`)
    level_plan: dict[str, list[int]]
    slope_plan: dict[str, list[tuple[int, int]]]
    outer: list[tuple[GroupBlock, np.ndarray]]
    row_cols: list[int]  # positions in ``b`` that stay in the rows' linear predictor
    moved: list[int]  # positions in ``b`` moved into random-slope means
    pivot: tuple[GroupBlock, int] | None
    blocks: dict[str, BlockPlan]
    #: the outer block integrated out of the target's prior, and the map from target level to
    #: its level (:mod:`~.collapse`), or None
    collapsed: tuple[GroupBlock, np.ndarray] | None = None

    @property
    def absorbed_cols(self) -> list[int]:
        return self.level_plan.get(self.target.label, []) if self.target is not None else []

    def is_target(self, blk: GroupBlock) -> bool:
        return self.target is not None and blk.label == self.target.label

    def order(self, design: Design) -> list[GroupBlock]:
        """Blocks in build order: the target last (its mean reads the outer blocks' effects)."""
        rest = [b for b in design.blocks if not self.is_target(b)]
        return rest + ([self.target] if self.target is not None else [])


def plan_model(design: Design, priors: dict, choices: dict, cent: Centering) -> ModelPlan:
    """Decide hierarchical centering, the pivot and every block's plan.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"),
    ...                    centered=True)
    >>> plan = plan_model(built.design, built.priors, built.choices, centering(built.design))
    >>> plan.target.label, plan.slope_plan, plan.blocks["Subject"].form
    ('Subject', {'Subject': [(1, 0)]}, 'centered-correlated')
    """
    target = hier_target(design, choices)
    level_plan = level_plan_of(design, choices, target, cent.slope_idx)
    level_absorbed = {pos for cols in level_plan.values() for pos in cols}
    slope_plan = slope_plan_of(design, choices, cent.slope_idx, set(level_absorbed))
    slope_absorbed = {pos for pairs in slope_plan.values() for _, pos in pairs}
    moved_out = level_absorbed | slope_absorbed
    pivot = pivot_block(design, choices, priors.get("Intercept"), target)
    outer = outer_blocks(design, target) if target is not None else []
    blocks = plan_blocks(design, priors, choices, pivot)
    user = {f for f, c in choices.items() if c.rule == "user"}
    has_mean = set(level_plan) | set(slope_plan)
    collapsed = collapsible(target, blocks.get(target.label) if target is not None else None,
                            [(b, m) for b, m in outer if b.label not in has_mean], blocks, user)
    return ModelPlan(
        cent, target, level_plan, slope_plan,
        outer=outer,
        row_cols=[k for k in range(len(cent.slope_idx)) if k not in moved_out],
        moved=sorted(slope_absorbed),
        pivot=pivot,
        blocks=blocks,
        collapsed=collapsed if len(outer) == 1 else None,
    )
