"""The observation model, written by the family table's ``observed`` builder."""

from __future__ import annotations

from bayesmixed.design.matrices import Design
from bayesmixed.families.links import get_link
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.distributions import prior_rv

__all__ = ["add_likelihood", "inverse_link"]


def inverse_link(link: str, eta):
    """Mean of the response given the linear predictor (pytensor).

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> float(inverse_link("logit", pt.constant(0.0)).eval())
    0.5
    """
    return get_link(link).inverse_pt(eta)


def add_likelihood(design: Design, eta, priors: dict[str, Prior], y, trials=None):
    """Add the observed variable ``y`` (and auxiliary parameters) to the current model.

    The auxiliary parameters are created first, in the family's order, with their priors; a
    vector parameter (ordinal thresholds) is built by the family row (``AuxParam.build``).

    Examples
    --------
    >>> import pymc as pm
    >>> import bayesmixed as bm
    >>> from bayesmixed.design.default_priors import resolve_priors
    >>> design = bm.prepare("Reaction ~ Days", bm.datasets.load("sleepstudy")).design
    >>> with pm.Model() as model:
    ...     y = add_likelihood(design, 250.0, resolve_priors(design), design.y)
    >>> [v.name for v in model.observed_RVs], [v.name for v in model.free_RVs]
    (['y'], ['sigma'])
    """
    fam = design.family
    aux = {
        a.name: a.build(a.name, priors[a.name], design) if a.vector
        else prior_rv(a.name, priors[a.name])
        for a in fam.aux_params
    }
    return fam.observed(eta, design.link, aux, y, trials)
