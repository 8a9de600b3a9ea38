"""The registry of random-effects block forms: one interface, one table, plans by block label.

A *form* is how a block's effects are sampled. Every form is a function
``form(block, plan, ctx) -> effects`` (:data:`BlockForm`): it creates the block's variables
in the current PyMC model (names from :mod:`bayesmixed.names`) and returns the level effects,
shape ``(levels, terms)``, including the mean ``ctx.mean`` that hierarchical centering gives
them. The forms:

- ``non-centered``: ``z__L`` standard normal, deviations ``diag(sd) L z``
  (:func:`~.random_effects.noncentered_block`);
- ``centered``: the effects ``r_raw__L`` themselves, uncorrelated terms
  (:func:`~.random_effects.centered_block`);
- ``centered-correlated``: ``r_raw__L`` as multivariate normal rows whose density costs
  linear time in the levels (:func:`~.fast_mvnormal.centered_correlated_block`);
- ``partial``: ``p__L`` with per-level weights ``w__L`` (:func:`~.random_effects.partial_block`);
- ``pivot``: non-centered, plus ``pivot__L``, one level's linear predictor sampled in place of
  the intercept (:func:`~.pivot.pivot_form`; it sets ``ctx.intercept`` and ``ctx.base``).

:func:`plan_blocks` turns the parameterization (:mod:`~.parameterization`), the priors and the
pivot choice into one :class:`~.random_effects.BlockPlan` per block, keyed by the block's
label; :func:`form_of` is the only place a form is picked, so every form is reachable and
tested (``tests/test_blocks.py``).

Adding a covariance prior (say an inverse-Wishart on a block's covariance) touches: the prior's
name and support (:mod:`bayesmixed.formula.priors`), its default and override key
(:mod:`bayesmixed.design.default_priors`, key from :func:`bayesmixed.names.cor_prior_key`), the
Cholesky factor it yields (:func:`~.random_effects.block_correlation`, which every correlated
form calls with its ``plan.cor_prior``; :mod:`~.correlation`),
and, if it needs a form of its own, one function and one entry in :data:`FORMS` and
:func:`form_of`. The model builder (:mod:`~.model`) does not change.
"""

from __future__ import annotations

from collections.abc import Callable

from bayesmixed.design.matrices import Design, GroupBlock
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.fast_mvnormal import centered_correlated_block
from bayesmixed.graph.parameterization import Choice
from bayesmixed.graph.pivot import pivot_form
from bayesmixed.graph.random_effects import (
    BlockContext,
    BlockPlan,
    centered_block,
    noncentered_block,
    partial_block,
)
from bayesmixed.names import cor_prior_key, sd_label

__all__ = ["FORMS", "BlockForm", "add_block", "form_of", "plan_blocks"]

#: ``form(block, plan, ctx) -> effects`` (levels x terms)
BlockForm = Callable[[GroupBlock, BlockPlan, BlockContext], object]

#: Form name -> generator.
FORMS: dict[str, BlockForm] = {
    "non-centered": noncentered_block,
    "centered": centered_block,
    "centered-correlated": centered_correlated_block,
    "partial": partial_block,
    "pivot": pivot_form,
}


def form_of(block: GroupBlock, choice: Choice, pivot: bool = False) -> str:
    """The form of ``block`` under the factor's ``choice`` (``pivot``: it is the model's pivot).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import Choice
    >>> df = bm.datasets.load("sleepstudy")
    >>> corr = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> form_of(corr, Choice(True, "user", None)), form_of(corr, Choice(False, "user", None))
    ('centered-correlated', 'non-centered')
    """
    if choice.centered:
        return "centered-correlated" if block.correlated else "centered"
    if choice.partial:
        return "partial"
    return "pivot" if pivot else "non-centered"


def plan_blocks(
    design: Design,
    priors: dict[str, Prior],
    choices: dict[str, Choice],
    pivot: tuple[GroupBlock, int] | None = None,
) -> dict[str, BlockPlan]:
    """One plan per block, keyed by block label.

    Parameters
    ----------
    design
        The model design.
    priors
        Resolved priors by key (``sd(term|factor)``, ``cor(factor)``, ``Intercept``).
    choices
        Parameterization per factor.
    pivot
        The block and level to pivot on (:func:`bayesmixed.graph.pivot.pivot_block`), or None.

    Returns
    -------
    dict
        Block label -> :class:`~bayesmixed.graph.random_effects.BlockPlan`.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.design.default_priors import resolve_priors
    >>> from bayesmixed.graph.parameterization import choose_parameterization
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy")).design
    >>> plans = plan_blocks(design, resolve_priors(design), choose_parameterization(design))
    >>> {label: plan.form for label, plan in plans.items()}
    {'Subject': 'centered'}
    """
    out: dict[str, BlockPlan] = {}
    for blk in design.blocks:
        choice = choices[blk.factor]
        is_pivot = pivot is not None and blk is pivot[0]
        out[blk.label] = BlockPlan(
            form=form_of(blk, choice, is_pivot),
            sd_priors=tuple(priors[sd_label(t, blk.factor)] for t in blk.terms),
            cor_prior=priors.get(cor_prior_key(blk.factor)),
            weights=choice.weights[blk.label] if choice.partial else None,
            pivot_level=pivot[1] if is_pivot else None,
            intercept_prior=priors.get("Intercept") if is_pivot else None,
        )
    return out


def add_block(block: GroupBlock, plan: BlockPlan, ctx: BlockContext | None = None):
    """Create a block's variables in the current model by its plan's form; return its effects.

    Examples
    --------
    >>> import pymc as pm
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> from bayesmixed.graph.random_effects import block_coords
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> plan = BlockPlan("non-centered", (prior("half_normal", 10),) * 2, prior("lkj", 2))
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     effects = add_block(block, plan)
    >>> pm.draw(effects, random_seed=1).shape
    (18, 2)
    """
    return FORMS[plan.form](block, plan, BlockContext() if ctx is None else ctx)
