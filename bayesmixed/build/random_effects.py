"""One generator per kind of random-effects block, each centered or non-centered.

Every generator has the same interface: given a block, its sd priors, its correlation prior,
the parameterization and an optional level-wise mean for the first term (hierarchical
centering), it creates the block's variables in the current model and returns the level
effects that enter the linear predictor, shape ``(levels, terms)``. It also records the
deviations from the mean as the Deterministic ``r__{label}`` (what ``ranef`` reports).

Variables per block (``L`` = block label):

- ``sd__L`` (terms): standard deviations.
- ``corr_chol__L``: Cholesky factor of the correlation matrix (correlated blocks), and the
  Deterministic ``cor__L`` (terms x terms).
- ``z__L`` (levels x terms): standard-normal innovations (non-centered), or
  ``r_raw__L``: the effects themselves (centered).
"""

from __future__ import annotations

from collections.abc import Sequence

import pymc as pm
import pytensor.tensor as pt

from bayesmixed.build.distributions import vector_rv
from bayesmixed.spec.design import GroupBlock
from bayesmixed.spec.priors import Prior

__all__ = ["add_block"]


def _mean_matrix(block: GroupBlock, mu):
    """(levels, terms) mean: ``mu`` in the first column, zeros elsewhere."""
    if mu is None:
        return None
    if block.n_terms == 1:
        return mu[:, None]
    zeros = pt.zeros((block.n_levels, block.n_terms - 1))
    return pt.concatenate([mu[:, None], zeros], axis=1)


def independent_block(block: GroupBlock, sd, centered: bool, mu=None):
    """Uncorrelated effects: ``r[j, k] ~ Normal(mean, sd[k])``."""
    L = block.label
    dims = (L, f"{L}__term")
    mean = _mean_matrix(block, mu)
    if centered:
        effects = pm.Normal(f"r_raw__{L}", mu=0.0 if mean is None else mean, sigma=sd, dims=dims)
        dev = effects if mean is None else effects - mean
    else:
        z = pm.Normal(f"z__{L}", 0.0, 1.0, dims=dims)
        dev = z * sd
        effects = dev if mean is None else dev + mean
    pm.Deterministic(f"r__{L}", dev, dims=dims)
    return effects


def correlated_block(block: GroupBlock, sd, cor_prior: Prior, centered: bool, mu=None):
    """Correlated effects with an LKJ prior on the Cholesky factor of the correlation matrix."""
    L = block.label
    dims = (L, f"{L}__term")
    k = block.n_terms
    corr_chol = pm.LKJCorr(f"corr_chol__{L}", n=k, eta=float(cor_prior.params["eta"]))
    pm.Deterministic(f"cor__{L}", corr_chol @ corr_chol.T, dims=(f"{L}__term", f"{L}__term_b"))
    chol = sd[:, None] * corr_chol  # diag(sd) @ L
    mean = _mean_matrix(block, mu)
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


def add_block(
    block: GroupBlock,
    sd_priors: Sequence[Prior],
    cor_prior: Prior | None,
    centered: bool,
    mu=None,
):
    """Create a block's variables; return its level effects, shape (levels, terms)."""
    sd = vector_rv(f"sd__{block.label}", sd_priors, dims=f"{block.label}__term")
    if block.correlated:
        return correlated_block(block, sd, cor_prior, centered, mu)
    return independent_block(block, sd, centered, mu)
