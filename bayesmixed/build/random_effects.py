"""One generator per kind of random-effects block, each centered or non-centered.

Every generator has the same interface: given a block, its sd priors, its correlation prior,
the parameterization and an optional (levels x terms) mean (hierarchical centering), it
creates the block's variables in the current model and returns the level effects that enter
the linear predictor, shape ``(levels, terms)``. It also records the
deviations from the mean as the Deterministic ``r__{label}`` (what ``ranef`` reports).

Variables per block (``L`` = block label):

- ``sd__L`` (terms): standard deviations.
- ``cor_u__L`` (two terms) or ``corr_chol__L`` (more): the LKJ correlation variables
  (``build/correlation.py``), and the Deterministic ``cor__L`` (terms x terms).
- ``z__L`` (levels x terms): standard-normal innovations (non-centered), or
  ``r_raw__L``: the effects themselves (centered).
"""

from __future__ import annotations

from collections.abc import Sequence

import pymc as pm
import pytensor.tensor as pt

from bayesmixed.build.correlation import correlation_cholesky
from bayesmixed.build.distributions import vector_rv
from bayesmixed.spec.design import GroupBlock
from bayesmixed.spec.priors import Prior

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
):
    """Create a block's variables; return its level effects, shape (levels, terms).

    ``mean`` (levels x terms, or None for zero) is the mean of the effects under hierarchical
    centering; the returned effects include it, the recorded ``r__L`` deviations do not.

    Examples
    --------
    >>> import pymc as pm
    >>> import bayesmixed as bm
    >>> from bayesmixed.spec.priors import prior
    >>> df = bm.datasets.load("sleepstudy")
    >>> block = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design.blocks[0]
    >>> with pm.Model(coords=block_coords(block)) as model:
    ...     sd_priors = [prior("half_normal", 10)] * 2
    ...     effects = add_block(block, sd_priors, prior("lkj", 2), centered=False)
    >>> pm.draw(effects, random_seed=1).shape
    (18, 2)
    """
    sd = vector_rv(f"sd__{block.label}", sd_priors, dims=f"{block.label}__term")
    if block.correlated:
        return correlated_block(block, sd, cor_prior, centered, mean)
    return independent_block(block, sd, centered, mean)
