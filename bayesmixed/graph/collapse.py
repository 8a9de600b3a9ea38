"""An outer random intercept integrated out of the prior of the centered block nested in it.

In a nested design, say chicks' broods in locations, hierarchical centering
(:mod:`bayesmixed.graph.mean_plan`) samples the broods' effects ``v_b`` centered, with the
location effects in their mean: ``v_b ~ Normal(m_b + u_l(b), sd_B)``, ``u_l = sd_L z_l``. The
location effects then reach the likelihood only through ``v``, and the split of the brood-level
variance between ``sd_B`` and ``sd_L`` (about two broods per location in lme4's grouseticks) is
a direction that moves ``sd_B``, ``sd_L`` and every ``z_l`` together: a diagonal mass matrix
does not follow it (bulk ESS of ``sd_L`` 132-232 in 4 x 1,000 draws, ``benchmarks/HARD.md``).

The *collapsed* form integrates ``u`` out of ``v``'s prior, which is exact because that prior
is gaussian. Within outer level ``l`` with ``n_l`` inner levels and ``r = v - m``,

    r_l ~ Normal(0, sd_B^2 I + sd_L^2 1 1'),
    log p(r_l) = -[(n_l - 1) log sd_B^2 + log d_l + (|r_l|^2 - sd_L^2 S_l^2 / d_l) / sd_B^2
                   + n_l log(2 pi)] / 2,    S_l = sum(r_l),  d_l = sd_B^2 + n_l sd_L^2

(the determinant and inverse of a constant-plus-identity matrix), one pass over the levels.
The outer effects are sampled from their exact conditional,
``u_l = sd_L^2 S_l / d_l + sqrt(sd_L^2 sd_B^2 / d_l) z_l``, with ``z__L`` standard normal: ``z``
does not enter the likelihood, so its posterior is its prior and NUTS moves it freely, and
``(v, u)`` has the joint law of the model, so ``r__L`` of both factors is reported as before.
The variables keep their names (``sd__L`` of both, ``r_raw__`` of the inner, ``z__`` of the
outer); only the meaning of the outer ``z`` changes.

:func:`collapsible` says when the builder uses it (:mod:`bayesmixed.graph.model`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import GroupBlock
from bayesmixed.graph.random_effects import BlockPlan, block_sd
from bayesmixed.names import outer_idx_data, outer_n_data, r_raw_var, r_var, term_dim, z_var

__all__ = ["collapsed_block", "collapsible", "nested_logp"]


def collapsible(target: GroupBlock | None, target_plan: BlockPlan | None,
                outer: list[tuple[GroupBlock, np.ndarray]], plans: dict[str, BlockPlan],
                user: set[str]) -> tuple[GroupBlock, np.ndarray] | None:
    """The outer block to integrate out of ``target``'s prior, with its level map, or None.

    Used when the hierarchical-centering target is a centered random intercept alone
    (form ``"centered"``, one term) and exactly one outer factor enters its mean, that factor
    being a random intercept alone, non-centered by the automatic rule (not in ``user``, the
    factors whose form the user chose).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.model_plan import centering, plan_model
    >>> df = bm.datasets.load("pastes")
    >>> built = bm.prepare("strength ~ 1 + (1 | batch/cask)", df)
    >>> plan = plan_model(built.design, built.priors, built.choices, centering(built.design))
    >>> plan.collapsed[0].factor if plan.collapsed else None
    'batch'
    """
    if target is None or target_plan is None or len(outer) != 1:
        return None
    blk, level_map = outer[0]
    plan = plans[blk.label]
    ok = (target_plan.form == "centered" and target.n_terms == 1 and blk.n_terms == 1
          and not blk.correlated and plan.form == "non-centered" and blk.factor not in user)
    return (blk, level_map) if ok else None


def nested_logp(r, sd_inner, sd_outer, level_map, counts):
    """Log density of inner deviations ``r`` (levels,) with the outer intercepts integrated
    out: ``r`` within outer level ``l`` is ``Normal(0, sd_inner^2 I + sd_outer^2 1 1')``.
    ``level_map`` gives each inner level's outer level, ``counts`` the inner levels per outer
    level (``np.bincount(level_map)``, every count positive).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import multivariate_normal
    >>> r, level_map = np.array([0.3, -1.2, 0.5]), np.array([0, 0, 1])
    >>> cov = 0.7**2 * np.eye(3) + 1.1**2 * (level_map[:, None] == level_map[None, :])
    >>> ref = multivariate_normal(np.zeros(3), cov).logpdf(r)
    >>> counts = np.bincount(level_map)
    >>> bool(np.isclose(nested_logp(r, 0.7, 1.1, level_map, counts).eval(), ref))
    True
    """
    r, counts = pt.as_tensor(r), pt.as_tensor(counts)
    n, m = r.shape[0], counts.shape[0]
    vi, vo = pt.square(sd_inner), pt.square(sd_outer)
    s = pt.inc_subtensor(pt.zeros(m)[level_map], r)  # S_l
    d = vi + counts * vo
    quad = (pt.sum(pt.square(r)) - pt.sum(vo * pt.square(s) / d)) / vi
    logdet = (n - m) * pt.log(vi) + pt.sum(pt.log(d))
    return -0.5 * (logdet + quad + n * np.log(2 * np.pi))


def _logp(value, mean, sd_inner, sd_outer, level_map, counts):
    return nested_logp((value - mean)[:, 0], sd_inner, sd_outer, level_map, counts)


def _dist(mean, sd_inner, sd_outer, level_map, counts, size):
    u = sd_outer * pm.Normal.dist(size=counts.shape)
    return mean + u[level_map][:, None] + sd_inner * pm.Normal.dist(size=mean.shape)


def collapsed_block(block: GroupBlock, plan: BlockPlan, outer: GroupBlock,
                    outer_plan: BlockPlan, level_map: np.ndarray, mean):
    """Create ``sd__`` of both blocks, the inner effects ``r_raw__`` (outer intercepts
    integrated out of their prior), the outer ``z__`` and both ``r__``; return the inner
    effects (levels x 1), which include the outer effects and ``mean``.

    ``mean`` is the inner effects' mean without the outer effects ((levels, 1) or None).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.priors import prior
    >>> from bayesmixed.graph.random_effects import block_coords
    >>> batch, cask = bm.prepare("strength ~ 1 + (1 | batch/cask)",
    ...                          bm.datasets.load("pastes")).design.blocks
    >>> level_map = np.zeros(cask.n_levels, dtype=int)
    >>> level_map[cask.index] = batch.index
    >>> p = BlockPlan("centered", (prior("half_normal", 1),))
    >>> with pm.Model(coords={**block_coords(batch), **block_coords(cask)}) as model:
    ...     v = collapsed_block(cask, p, batch, BlockPlan("non-centered", p.sd_priors),
    ...                         level_map, None)
    >>> [x.name for x in model.free_RVs], pm.draw(v, random_seed=1).shape
    (['sd__batch', 'sd__batch__cask', 'r_raw__batch__cask', 'z__batch'], (30, 1))
    """
    L, O = block.label, outer.label
    level_map = pm.Data(outer_idx_data(L), np.asarray(level_map, dtype=np.int64))
    counts = pm.Data(outer_n_data(L), np.bincount(level_map.get_value(),
                                                   minlength=outer.n_levels).astype(float))
    sd_o = block_sd(outer, outer_plan)[0]
    sd = block_sd(block, plan)[0]
    mu = pt.zeros((block.n_levels, 1)) if mean is None else mean
    v = pm.CustomDist(
        r_raw_var(L), mu, sd, sd_o, level_map, counts, dist=_dist, logp=_logp,
        signature="(n,k),(),(),(n),(m)->(n,k)", dims=(L, term_dim(L)),
    )
    r = (v - mu)[:, 0]
    vi, vo = pt.square(sd), pt.square(sd_o)
    d = vi + counts * vo
    s = pt.inc_subtensor(pt.zeros(outer.n_levels)[level_map], r)
    z = pm.Normal(z_var(O), 0.0, 1.0, dims=(O, term_dim(O)))
    u = (vo * s / d)[:, None] + pt.sqrt(vo * vi / d)[:, None] * z
    pm.Deterministic(r_var(O), u, dims=(O, term_dim(O)))
    pm.Deterministic(r_var(L), v - mu - u[level_map], dims=(L, term_dim(L)))
    return v
