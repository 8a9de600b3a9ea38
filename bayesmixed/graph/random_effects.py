"""One generator per kind of random-effects block: centered, non-centered or partially centered.

Every generator has the same interface: given a block, its sd priors, its correlation prior,
the parameterization and an optional (levels x terms) mean (hierarchical centering), it
creates the block's variables in the current model and returns the level effects that enter
the linear predictor, shape ``(levels, terms)``. It also records the
deviations from the mean as the Deterministic ``r__{label}`` (what ``ranef`` reports).

Variables per block (``L`` = block label):

- ``sd__L`` (terms): standard deviations.
- ``cor_u__L`` (two terms) or ``corr_chol__L`` (more): the LKJ correlation variables
  (``graph/correlation.py``), and the Deterministic ``cor__L`` (terms x terms).
- ``z__L`` (levels x terms): standard-normal innovations (non-centered), or
  ``r_raw__L``: the effects themselves (centered), or
  ``p__L``: the partially centered variables (:func:`partial_block`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import GroupBlock
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.correlation import correlation_cholesky
from bayesmixed.graph.distributions import vector_rv

__all__ = ["add_block", "block_coords"]


def independent_block(block: GroupBlock, sd, centered: bool, mean=None):
    """Uncorrelated effects: ``r[j, k] ~ Normal(mean[j, k], sd[k])``."""
    L = block.label
    dims = (L, f"{L}__term")
    if centered:
        effects = pm.Normal(f"r_raw__{L}", mu=0.0 if mean is None else mean, sigma=sd, dims=dims)
        dev = effects if mean is None else effects - mean
    else:
        z = pm.Normal(f"z__{L}", 0.0, 1.0, dims=dims)
        dev = z * sd
        effects = dev if mean is None else dev + mean
    pm.Deterministic(f"r__{L}", dev, dims=dims)
    return effects


def correlated_block(block: GroupBlock, sd, cor_prior: Prior, centered: bool, mean=None):
    """Correlated effects with an LKJ prior on the Cholesky factor of the correlation matrix."""
    L = block.label
    dims = (L, f"{L}__term")
    k = block.n_terms
    corr_chol = correlation_cholesky(L, k, float(cor_prior.params["eta"]))
    chol = sd[:, None] * corr_chol  # diag(sd) @ L
    if centered:
        effects = pm.MvNormal(
            f"r_raw__{L}", mu=pt.zeros((block.n_levels, k)) if mean is None else mean, chol=chol, dims=dims
        )
        dev = effects if mean is None else effects - mean
    else:
        z = pm.Normal(f"z__{L}", 0.0, 1.0, dims=dims)
        dev = z @ chol.T
        effects = dev if mean is None else dev + mean
    pm.Deterministic(f"r__{L}", dev, dims=dims)
    return effects


def partial_block(block: GroupBlock, sd, cor_prior: Prior | None, weights, mean=None):
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
    Moore & Hoffman 2020). ``weights`` (levels x terms) are data (``w__L``): a refit on new
    data of the same structure swaps them in.
    """
    L = block.label
    dims = (L, f"{L}__term")
    w = pm.Data(f"w__{L}", weights)
    loc = 0.0 if mean is None else w * mean
    scale = pt.exp(w * pt.log(sd))  # sd^w, one exp per entry
    p = pm.Normal(f"p__{L}", loc, scale, dims=dims)
    v = (p - loc) / scale  # standard normal
    if block.correlated:
        v = v @ correlation_cholesky(L, block.n_terms, float(cor_prior.params["eta"])).T
    dev = v * sd
    pm.Deterministic(f"r__{L}", dev, dims=dims)
    return dev if mean is None else dev + mean


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
    return {L: list(block.levels), f"{L}__term": list(block.terms), f"{L}__term_b": list(block.terms)}


def add_block(
    block: GroupBlock,
    sd_priors: Sequence[Prior],
    cor_prior: Prior | None,
    centered: bool,
    mean=None,
    weights=None,
):
    """Create a block's variables; return its level effects, shape (levels, terms).

    ``mean`` (levels x terms, or None for zero) is the mean of the effects under hierarchical
    centering; the returned effects include it, the recorded ``r__L`` deviations do not.
    ``weights`` (levels x terms) ask for partial centering (:func:`partial_block`).

    Examples
    --------
    >>> import pymc as pm
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     sd_priors = [prior("half_normal", 10)] * 2
    ...     effects = add_block(block, sd_priors, prior("lkj", 2), centered=False)
    >>> pm.draw(effects, random_seed=1).shape
    (18, 2)
    """
    sd = vector_rv(f"sd__{block.label}", sd_priors, dims=f"{block.label}__term")
    if weights is not None:
        return partial_block(block, sd, cor_prior, weights, mean)
    if block.correlated:
        return correlated_block(block, sd, cor_prior, centered, mean)
    return independent_block(block, sd, centered, mean)
