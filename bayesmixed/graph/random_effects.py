"""The block forms' shared pieces, and the non-centered, centered and partially centered forms.

Every form has the signature of :data:`bayesmixed.graph.blocks.FORMS`: given a block, its
:class:`BlockPlan` and a :class:`BlockContext`, it creates the block's variables in the current
model and returns the level effects that enter the linear predictor, shape ``(levels, terms)``.
It also records the deviations from the mean as the Deterministic ``r__L`` (what ``ranef``
reports).

Variables per block (``L`` = block label, names from :mod:`bayesmixed.names`):

- ``sd__L`` (terms): standard deviations.
- ``cor_u__L`` (two terms) or ``corr_chol__L`` (more): the LKJ correlation variables
  (``graph/correlation.py``), and the Deterministic ``cor__L`` (terms x terms).
- ``z__L`` (levels x terms): standard-normal innovations (non-centered), or
  ``r_raw__L``: the effects themselves (centered), or
  ``p__L``: the partially centered variables (:func:`partial_block`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import GroupBlock
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.correlation import correlation_cholesky
from bayesmixed.graph.distributions import vector_rv
from bayesmixed.names import (
    p_var,
    r_raw_var,
    r_var,
    sd_var,
    term_b_dim,
    term_dim,
    w_data,
    z_var,
)

__all__ = [
    "BlockContext",
    "BlockPlan",
    "block_coords",
    "block_correlation",
    "block_sd",
    "centered_block",
    "noncentered_block",
    "partial_block",
    "record_deviations",
]


@dataclass(frozen=True)
class BlockPlan:
    """How one block is built: its form (a key of :data:`~bayesmixed.graph.blocks.FORMS`)
    and the priors and data the form reads.

    Examples
    --------
    >>> from bayesmixed.formula.priors import prior
    >>> BlockPlan("non-centered", (prior("half_normal", 1),)).form
    'non-centered'
    """

    form: str
    sd_priors: tuple[Prior, ...]
    cor_prior: Prior | None = None
    #: partial centering: (levels x terms) weights in [0, 1]
    weights: np.ndarray | None = field(default=None, compare=False)
    #: pivot: the level whose linear predictor is sampled, and the intercept's prior
    pivot_level: int | None = None
    intercept_prior: Prior | None = None


@dataclass
class BlockContext:
    """What a form reads from the model being built, and what it leaves for it.

    ``mean`` (levels x terms, a (1, terms) row, or None for zero) is the mean of the effects
    under hierarchical centering, and ``moved`` the part of the intercept that went into
    random-slope means. The pivot form sets ``intercept`` (the derived centered intercept)
    and ``base`` (what every row's linear predictor gets in place of the intercept).

    Examples
    --------
    >>> ctx = BlockContext()
    >>> ctx.mean is None, ctx.base is None
    (True, True)
    """

    mean: Any = None
    moved: Any = 0.0
    intercept: Any = None
    base: Any = None


def block_sd(block: GroupBlock, plan: BlockPlan):
    """Create ``sd__L`` (dims ``L__term``) from the plan's sd priors.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> block = bm.prepare("Reaction ~ (1 | Subject)", bm.datasets.load("sleepstudy")).design.blocks[0]
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     sd = block_sd(block, BlockPlan("centered", (prior("half_normal", 10),)))
    >>> model.free_RVs
    [sd__Subject]
    """
    return vector_rv(sd_var(block.label), plan.sd_priors, dims=term_dim(block.label))


def _dims(block: GroupBlock) -> tuple[str, str]:
    return (block.label, term_dim(block.label))


def block_correlation(block: GroupBlock, plan: BlockPlan):
    """Create the block's correlation variables from ``plan.cor_prior``; return the Cholesky
    factor of the correlation matrix (every correlated form calls this).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     chol = block_correlation(block, BlockPlan("centered", (), prior("lkj", 2)))
    >>> model.free_RVs, pm.draw(chol, random_seed=1).shape
    ([cor_u__Subject], (2, 2))
    """
    return correlation_cholesky(block.label, block.n_terms, float(plan.cor_prior.params["eta"]))


def record_deviations(block: GroupBlock, dev, mean):
    """Record ``r__L`` = ``dev`` (the deviations from the mean); return the effects.

    Examples
    --------
    >>> import numpy as np
    >>> import bayesmixed as bm
    >>> block = bm.prepare("Reaction ~ (1 | Subject)", bm.datasets.load("sleepstudy")).design.blocks[0]
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     effects = record_deviations(block, pt.ones((18, 1)), mean=np.full((18, 1), 2.0))
    >>> model.deterministics, float(pm.draw(effects)[0, 0])
    ([r__Subject], 3.0)
    """
    pm.Deterministic(r_var(block.label), dev, dims=_dims(block))
    return dev if mean is None else dev + mean


def noncentered_block(block: GroupBlock, plan: BlockPlan, ctx: BlockContext):
    """``r_j = mean_j + diag(sd) L z_j`` with ``z__L`` standard normal (``L = I`` if
    uncorrelated).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> plan = BlockPlan("non-centered", (prior("half_normal", 10),) * 2, prior("lkj", 2))
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     effects = noncentered_block(block, plan, BlockContext())
    >>> [v.name for v in model.free_RVs], pm.draw(effects, random_seed=1).shape
    (['sd__Subject', 'cor_u__Subject', 'z__Subject'], (18, 2))
    """
    sd = block_sd(block, plan)
    if block.correlated:
        chol = sd[:, None] * block_correlation(block, plan)  # diag(sd) @ L
        z = pm.Normal(z_var(block.label), 0.0, 1.0, dims=_dims(block))
        dev = z @ chol.T
    else:
        z = pm.Normal(z_var(block.label), 0.0, 1.0, dims=_dims(block))
        dev = z * sd
    return record_deviations(block, dev, ctx.mean)


def centered_block(block: GroupBlock, plan: BlockPlan, ctx: BlockContext):
    """Uncorrelated centered effects ``r_raw__L[j, k] ~ Normal(mean[j, k], sd[k])``.

    Correlated centered blocks use
    :func:`bayesmixed.graph.fast_mvnormal.centered_correlated_block`.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days || Subject)", df).design.blocks[0]
    >>> plan = BlockPlan("centered", (prior("half_normal", 10),) * 2)
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     effects = centered_block(block, plan, BlockContext())
    >>> model.free_RVs
    [sd__Subject, r_raw__Subject]
    """
    sd = block_sd(block, plan)
    mean = ctx.mean
    effects = pm.Normal(
        r_raw_var(block.label), mu=0.0 if mean is None else mean, sigma=sd, dims=_dims(block)
    )
    pm.Deterministic(r_var(block.label), effects if mean is None else effects - mean, dims=_dims(block))
    return effects


def partial_block(block: GroupBlock, plan: BlockPlan, ctx: BlockContext):
    """Partially centered effects, independent or correlated.

    With ``D = diag(sd)``, ``L`` the correlation's Cholesky factor (identity when
    uncorrelated), ``W_j = diag(w_j)`` the level's weights and ``m_j`` its mean, the sampled
    variable is

        p_j ~ Normal(W_j m_j, D^{w_j})  (independent components),
        u_j = m_j + D L D^{-w_j} (p_j - W_j m_j),

    so ``D^{-w_j} (p_j - W_j m_j)`` is standard normal and ``u_j ~ Normal(m_j, D L L' D)``
    exactly, for any weights in [0, 1]. ``w = 0`` is the non-centered form; ``w = 1`` with
    ``L = I`` the centered one. In between, a level whose data inform its effects with
    ``lambda`` times the prior precision is decorrelated from the sd at ``w = lambda /
    (1 + lambda)`` (Papaspiliopoulos, Roberts & Skold 2007; the per-variable form of Gorinova,
    Moore & Hoffman 2020). The plan's ``weights`` (levels x terms) are data (``w__L``): a
    refit on new data of the same structure swaps them in.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> plan = BlockPlan("partial", (prior("half_normal", 10),) * 2, prior("lkj", 2),
    ...                  weights=np.full((18, 2), 0.5))
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     effects = partial_block(block, plan, BlockContext())
    >>> model.free_RVs
    [sd__Subject, p__Subject, cor_u__Subject]
    """
    L, mean = block.label, ctx.mean
    sd = block_sd(block, plan)
    w = pm.Data(w_data(L), plan.weights)
    loc = 0.0 if mean is None else w * mean
    scale = pt.exp(w * pt.log(sd))  # sd^w, one exp per entry
    p = pm.Normal(p_var(L), loc, scale, dims=_dims(block))
    v = (p - loc) / scale  # standard normal
    if block.correlated:
        v = v @ block_correlation(block, plan).T
    return record_deviations(block, v * sd, mean)


def block_coords(block: GroupBlock) -> dict[str, list]:
    """The model coordinates of a block: its levels, its terms, and the terms again (``__term_b``,
    the second axis of the correlation matrix).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> {k: len(v) for k, v in block_coords(block).items()}
    {'Subject': 18, 'Subject__term': 2, 'Subject__term_b': 2}
    """
    L = block.label
    return {L: list(block.levels), term_dim(L): list(block.terms), term_b_dim(L): list(block.terms)}
