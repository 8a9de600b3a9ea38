"""A pivot level: sample a data-rich level's linear predictor in place of the intercept.

When one level of a non-centered factor has far more data than the others (one clinic with 400
patients among clinics with 1-4), its data pin the sum ``intercept + u_j`` (``u_j = sd z_j``).
Sampling ``intercept`` and ``z_j`` then means moving along the curved ridge
``intercept + sd z_j = const``: divergences and a slowly mixing intercept. Here the pinned sum
is the free variable, ``pivot__L`` (flat), and the intercept is derived from it:

    intercept = pivot - u_j (+ the slopes that hierarchical centering moved, if any).

The map from ``(intercept, z, ...)`` to ``(pivot, z, ...)`` is a shift of one coordinate by a
function of the others, so its Jacobian is 1; the intercept's prior is added as a Potential at
the derived value. The posterior is therefore exactly that of the usual parameterization
(checked in ``tests/test_parameterization.py``). The choice of level is made by
:mod:`bayesmixed.graph.parameterization`; this module decides whether the model allows it and
builds the variables.
"""

from __future__ import annotations

import pymc as pm

from bayesmixed.design.matrices import Design, GroupBlock
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.parameterization import Choice
from bayesmixed.graph.random_effects import BlockContext, BlockPlan, noncentered_block
from bayesmixed.names import pivot_var

__all__ = ["pivot_block", "pivot_form", "pivot_intercept"]


def pivot_block(
    design: Design, choices: dict[str, Choice], intercept_prior: Prior | None, hier_target
) -> tuple[GroupBlock, int] | None:
    """The block and level to pivot on, or None.

    Needs a model intercept with a prior on the real line, no hierarchical centering of the
    intercept (``hier_target`` None), and a non-centered factor with a random intercept only
    (one block, one term) whose choice names a pivot level. With several candidates, the level
    with the largest statistic wins (one pivot per model). Factors with random slopes are left
    alone: their data-rich level pins its slope too, and pivoting the intercept alone was
    measured to help nothing there (``(1 + x | g)`` on the same unbalanced data, seeds 1-3:
    25, 2, 1 divergences against 1, 2, 2 without).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> built = bm.prepare("Reaction ~ Days + (1 | Subject)", df, aggregate=False)
    >>> print(pivot_block(built.design, built.choices, built.priors["Intercept"], None))
    None
    """
    if not design.has_intercept or hier_target is not None:
        return None
    if intercept_prior is None or intercept_prior.support != "real":
        return None
    cands = [
        (choices[b.factor].pivot_ratio, i)
        for i, b in enumerate(design.blocks)
        if not choices[b.factor].centered
        and choices[b.factor].pivot_level is not None
        and b.terms == ("Intercept",)
        and sum(o.factor == b.factor for o in design.blocks) == 1
    ]
    if not cands:
        return None
    _, i = max(cands)
    blk = design.blocks[i]
    return blk, int(choices[blk.factor].pivot_level)


def pivot_intercept(blk: GroupBlock, level: int, effects, prior: Prior, moved=0.0):
    """Create ``pivot__L`` and return ``(intercept, base)``.

    ``effects`` (levels x terms) are the block's effects (non-centered, no mean). ``base`` is
    what the rows' linear predictor gets (the pivot minus the level's effect); ``intercept``
    (recorded as the Deterministic ``Intercept_c``, with its prior as a Potential) adds back
    ``moved``, the part of the intercept that hierarchical centering put elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> blk = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design.blocks[0]
    >>> with pm.Model() as model:
    ...     effects = pm.Normal("u", 0.0, 10.0, shape=(blk.n_levels, 1))
    ...     intercept, base = pivot_intercept(blk, 3, effects, prior("normal", 250, 100))
    >>> point = {"u": np.full((18, 1), 5.0), "pivot__Subject": 300.0}
    >>> (value,) = model.replace_rvs_by_values([intercept])
    >>> float(model.compile_fn(value, inputs=model.value_vars)(point))  # 300 - 5
    295.0
    """
    pivot = pm.Flat(pivot_var(blk.label))
    base = pivot - effects[level, 0]
    intercept = pm.Deterministic("Intercept_c", base + moved)
    dist = getattr(pm, prior.dist).dist(**{k: float(v) for k, v in prior.params.items()})
    pm.Potential("Intercept_c_prior", pm.logp(dist, intercept))
    return intercept, base


def pivot_form(block: GroupBlock, plan: BlockPlan, ctx: BlockContext):
    """The ``"pivot"`` block form: non-centered effects, then ``pivot__L`` at the plan's level.

    Sets ``ctx.intercept`` and ``ctx.base`` (:func:`pivot_intercept`, with ``ctx.moved``);
    returns the effects.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> from bayesmixed.graph.random_effects import block_coords
    >>> block = bm.prepare("Reaction ~ (1 | Subject)", bm.datasets.load("sleepstudy")).design.blocks[0]
    >>> plan = BlockPlan("pivot", (prior("half_normal", 10),), pivot_level=3,
    ...                  intercept_prior=prior("normal", 250, 100))
    >>> ctx = BlockContext()
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     effects = pivot_form(block, plan, ctx)
    >>> model.free_RVs, ctx.base is not None
    ([sd__Subject, z__Subject, pivot__Subject], True)
    """
    effects = noncentered_block(block, plan, ctx)
    ctx.intercept, ctx.base = pivot_intercept(
        block, plan.pivot_level, effects, plan.intercept_prior, ctx.moved
    )
    return effects
