"""Design + priors + parameterization -> a PyMC model. The only place graphs are built.

Choices made here:

- Population-level predictors are centered at their means for sampling when the model has an
  intercept (as brms does); the Deterministic ``Intercept`` is reported on the user's scale,
  and the coefficients ``b`` are unchanged by centering.
- Random effects are gathered by integer level index, one term at a time
  (``effects[:, k][index]``: a 1-d gather, 20% cheaper per gradient than gathering rows of the
  (levels, terms) matrix), never through a dense one-hot matrix. Centered correlated blocks use
  :mod:`bayesmixed.graph.fast_mvnormal` (``pm.MvNormal`` over many levels cost 4x the whole
  row-level likelihood of a 200,000-row model).
- Hierarchical centering (:mod:`bayesmixed.graph.mean_plan`): for the centered or partially
  centered factor with a random intercept whose effects blur
  the intercept most (largest ``tau_hat^2 / levels``), the intercept, the predictors that are
  constant within its levels, and the random intercepts of factors it is nested in enter the
  mean of its effects instead of the row-level linear predictor. Every other such factor
  with a random intercept likewise takes the predictors constant within its own levels (in a
  crossed persons x items design: item-level predictors into the item effects, person-level
  ones into the person effects). Coefficients and reported random effects keep their meaning.
- The observation model drops terms that do not depend on parameters where that saves per-row
  work (:mod:`bayesmixed.graph.lean_likelihood`); the posterior is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import Design
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.distributions import prior_rv
from bayesmixed.graph.fast_mvnormal import add_centered_correlated_block
from bayesmixed.graph.lean_likelihood import add_lean_likelihood
from bayesmixed.graph.likelihood import add_likelihood
from bayesmixed.graph.marginal import build_marginal_model, can_marginalize
from bayesmixed.graph.mean_plan import (
    hier_target,
    level_plan_of,
    level_values,
    outer_blocks,
    slope_plan_of,
)
from bayesmixed.graph.parameterization import Choice
from bayesmixed.graph.pivot import pivot_block, pivot_intercept
from bayesmixed.graph.qr import population_coefficients
from bayesmixed.graph.random_effects import add_block, block_coords

__all__ = ["BuiltModel", "build_model"]


@dataclass
class BuiltModel:
    """A PyMC model with the facts needed to read its posterior.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"))
    >>> built.meta()["blocks"][0]["n_levels"]
    18
    >>> sorted(v.name for v in built.model.free_RVs)  # gaussian, one factor: effects integrated out
    ['Intercept_c', 'b', 'sd__Subject', 'sigma']
    >>> built = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"),
    ...                    aggregate=False)
    >>> sorted(v.name for v in built.model.free_RVs)
    ['Intercept_c', 'b', 'r_raw__Subject', 'sd__Subject', 'sigma']
    """

    model: pm.Model
    design: Design
    priors: dict[str, Prior]
    choices: dict[str, Choice]
    x_means: np.ndarray
    absorbed: dict[str, list[str]] = field(default_factory=dict)
    #: rows collapsed into cells for sampling (:mod:`bayesmixed.graph.aggregate`); ``design``
    #: is then the original rows and ``model`` is built on ``aggregation.design``
    aggregation: Any = None
    #: ``complete(idata, seed)`` adds draws the sampler did not make (the effects of a
    #: marginal gaussian model, :mod:`bayesmixed.graph.marginal`); None when nothing to add
    complete: Any = None
    marginal: bool = False
    #: coefficients sampled through the QR parameterization (:mod:`bayesmixed.graph.qr`)
    qr: list[str] = field(default_factory=list)
    #: (factor, level index) whose linear predictor is sampled in place of the intercept
    #: (:mod:`bayesmixed.graph.pivot`), or None
    pivot: tuple[str, int] | None = None

    def _pivot_name(self) -> str:
        factor, j = self.pivot
        return str(next(b.levels[j] for b in self.design.blocks if b.factor == factor))

    def meta(self) -> dict:
        """JSON-able description of the model's variables, stored with the posterior."""
        d = self.design
        return {
            "formula": d.spec.formula,
            "family": d.family.name,
            "link": d.link,
            "n_obs": d.n_obs,
            "offset_mean": float(d.offset.mean()) if d.offset is not None else 0.0,
            "x_names": list(d.x_names),
            "x_means": [float(v) for v in self.x_means],
            "reference_levels": d.reference_levels,
            "response_note": d.response_note,
            "blocks": [
                {
                    "factor": b.factor,
                    "label": b.label,
                    "terms": list(b.terms),
                    "n_levels": b.n_levels,
                    "correlated": b.correlated,
                    "centered": self.choices[b.factor].centered,
                }
                for b in d.blocks
            ],
            "parameterization": {
                f: {
                    **c.to_dict(),
                    **({"marginal": True} if self.marginal else {}),
                    **({"pivot_level": self._pivot_name()} if self.pivot and self.pivot[0] == f else {}),
                }
                for f, c in self.choices.items()
            },
            "hierarchical_centering": self.absorbed,
            "qr": list(self.qr),
            "priors": {k: str(v) for k, v in self.priors.items()},
            **({} if self.aggregation is None else {
                "n_rows_original": self.aggregation.n_rows,
                "n_cells": self.aggregation.n_cells,
                "aggregation": self.aggregation.kind,
            }),
        }


def _coords(design: Design) -> dict[str, list]:
    coords: dict[str, list] = {"coef": [n for n in design.x_names if n != "Intercept"]}
    for b in design.blocks:
        coords.update(block_coords(b))
    return coords


def build_model(
    design: Design,
    priors: dict[str, Prior],
    choices: dict[str, Choice],
    *,
    x_means: np.ndarray | None = None,
    marginal: bool = True,
) -> BuiltModel:
    """Build the PyMC model for ``design``.

    Parameters
    ----------
    design
        Numeric design from :func:`bayesmixed.design.matrices.build_design`.
    priors
        Resolved priors by parameter name (:func:`~bayesmixed.design.default_priors.resolve_priors`).
    choices
        Parameterization per factor (:func:`~bayesmixed.graph.parameterization.choose_parameterization`).
    x_means
        Centering point of the population-level columns (default: their means over
        ``design``'s rows). A design of aggregated cells passes the means of the original rows,
        so that the centered intercept, and so its prior, mean the same as without aggregation.
    marginal
        Integrate the random effects out when that is exact and the parameterization is
        automatic (gaussian, one block of at most two terms: :mod:`bayesmixed.graph.marginal`).

    Returns
    -------
    BuiltModel

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.parameterization import choose_parameterization
    >>> from bayesmixed.design.default_priors import resolve_priors
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design
    >>> built = build_model(design, resolve_priors(design), choose_parameterization(design))
    >>> "cor__Subject" in built.model.named_vars
    True
    """
    X = design.X
    names = design.x_names
    has_int = design.has_intercept
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    means = np.zeros(len(names))
    if has_int:
        given = None if x_means is None else np.asarray(x_means)[slope_idx]
        means[slope_idx] = X[:, slope_idx].mean(axis=0) if given is None else given
    Xc = (X - means)[:, slope_idx]
    if marginal and can_marginalize(design, choices):
        model, complete = build_marginal_model(design, priors, means, _coords(design))
        qr_names = [names[j] for j in slope_idx] if "b_qr" in model.named_vars else []
        return BuiltModel(
            model, design, priors, choices, means, {}, complete=complete, marginal=True, qr=qr_names
        )

    target = hier_target(design, choices)
    level_plan = level_plan_of(design, choices, target, slope_idx)
    absorbed_cols = level_plan.get(id(target), []) if target is not None else []
    level_absorbed = {pos for cols in level_plan.values() for pos in cols}
    slope_plan = slope_plan_of(design, choices, slope_idx, set(level_absorbed))
    slope_absorbed = {pos for pairs in slope_plan.values() for _, pos in pairs}
    moved_out = level_absorbed | slope_absorbed
    row_cols = [k for k in range(len(slope_idx)) if k not in moved_out]

    pivot = pivot_block(design, choices, priors.get("Intercept"), target)
    with pm.Model(coords=_coords(design)) as model:
        intercept = prior_rv("Intercept_c", priors["Intercept"]) if has_int and not pivot else None
        b, row_term, qr = None, None, False
        if slope_idx:
            b, row_term, qr = population_coefficients(
                [priors[names[j]] for j in slope_idx], Xc[:, row_cols], row_cols
            )
        if has_int:
            x_means = pm.Data("x_means", means[slope_idx]) if slope_idx else None
            shift = pt.dot(x_means, b) if slope_idx else 0.0
            # slopes moved into random-slope means multiply the raw (uncentered) column, so
            # the intercept they pair with is the one at x = 0 for those columns
            moved = sorted(slope_absorbed)
            moved_part = pt.dot(x_means[moved], b[moved]) if moved else 0.0
            if not pivot:  # with a pivot, the intercept is derived after the effects
                pm.Deterministic("Intercept", intercept - shift)
                base = intercept - moved_part

        eta = pt.zeros(design.n_obs)
        if row_term is not None:
            eta = eta + row_term
        if has_int and target is None and not pivot:
            eta = eta + base
        if design.offset is not None:
            eta = eta + pm.Data("offset", design.offset)

        outer = outer_blocks(design, target) if target is not None else []
        absorbed_outer = {id(o) for o, _ in outer}
        order = [o for o in design.blocks if o is not target] + ([target] if target is not None else [])
        effects_of: dict[int, object] = {}
        for blk in order:
            columns = [None] * blk.n_terms
            if blk is target:
                mu = base
                if absorbed_cols:
                    W = level_values(Xc[:, absorbed_cols], blk)
                    mu = mu + pt.dot(pm.Data(f"W__{blk.label}", W), b[absorbed_cols])
                for ob, level_map in outer:
                    mu = mu + effects_of[id(ob)][level_map, 0]
                columns[0] = mu
            elif level_plan.get(id(blk)):
                cols = level_plan[id(blk)]
                W = level_values(Xc[:, cols], blk)
                columns[0] = pt.dot(pm.Data(f"W__{blk.label}", W), b[cols])
            for k, pos in slope_plan.get(id(blk), []):
                columns[k] = b[pos]
            mean = _block_mean(columns, blk.n_levels, choices[blk.factor].partial)
            sd_priors = [priors[f"sd({t}|{blk.factor})"] for t in blk.terms]
            cor_prior = priors.get(f"cor({blk.factor})")
            if blk.correlated and choices[blk.factor].centered:  # MvNormal is slow: issue 5
                effects = add_centered_correlated_block(blk, sd_priors, cor_prior, mean)
            else:
                choice = choices[blk.factor]
                weights = choice.weights[blk.label] if choice.partial else None
                effects = add_block(blk, sd_priors, cor_prior, choice.centered, mean, weights)
            effects_of[id(blk)] = effects
            if pivot and blk is pivot[0]:
                intercept, base = pivot_intercept(blk, pivot[1], effects, priors["Intercept"], moved_part)
                pm.Deterministic("Intercept", intercept - shift)
                eta = eta + base
            idx = pm.Data(f"idx__{blk.label}", blk.index)
            for k in range(blk.n_terms):
                if k == 0 and id(blk) in absorbed_outer:
                    continue  # enters through the nested factor's mean
                col = blk.Z[:, k]
                if np.all(col == 1.0):
                    eta = eta + effects[:, k][idx]
                else:
                    eta = eta + effects[:, k][idx] * pm.Data(f"Z__{blk.label}__{k}", col)

        y = pm.Data("y_obs", design.y)
        trials = pm.Data("trials", design.trials) if design.trials is not None else None
        if add_lean_likelihood(design, eta, y, trials) is None:
            add_likelihood(design, eta, priors, y, trials)

    absorbed: dict[str, list[str]] = {}
    if target is not None:
        absorbed[target.factor] = (
            ["Intercept"]
            + [names[slope_idx[k]] for k in absorbed_cols]
            + [f"(1 | {ob.factor})" for ob, _ in outer]
        )
    for blk in design.blocks:
        if blk is not target:
            for pos in level_plan.get(id(blk), []):
                absorbed.setdefault(blk.factor, []).append(names[slope_idx[pos]])
        for _, pos in slope_plan.get(id(blk), []):
            absorbed.setdefault(blk.factor, []).append(names[slope_idx[pos]])
    qr_names = [names[slope_idx[k]] for k in row_cols] if qr else []
    return BuiltModel(
        model, design, priors, choices, means, absorbed, qr=qr_names,
        pivot=(pivot[0].factor, pivot[1]) if pivot else None,
    )


def _block_mean(columns: list, n_levels: int, row_ok: bool):
    """Stack per-term means (scalars, level vectors or None for zero) into the block's mean.

    With ``row_ok`` and only scalar columns, the mean is one (1, terms) row that broadcasts
    over levels (a smaller gradient graph for partial centering); otherwise (levels, terms).
    """
    if all(c is None for c in columns):
        return None
    if row_ok and all(c is None or c.ndim == 0 for c in columns):
        return pt.stack([pt.as_tensor(0.0) if c is None else c for c in columns])[None, :]
    zero = pt.zeros(n_levels)
    return pt.stack([zero if c is None else c + zero for c in columns], axis=1)
