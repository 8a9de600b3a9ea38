"""Turn :class:`~bayesmixed.formula.priors.Prior` records into PyMC random variables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.formula.priors import Prior
from bayesmixed.names import component_var

__all__ = ["prior_rv", "vector_rv"]


def prior_rv(name: str, prior: Prior, **kwargs):
    """A named PyMC variable with the given prior (inside a model context).

    Examples
    --------
    >>> import pymc as pm
    >>> from bayesmixed.formula.priors import prior
    >>> with pm.Model() as model:
    ...     sd = prior_rv("sd", prior("half_normal", 2))
    >>> model.free_RVs
    [sd]
    """
    cls = getattr(pm, prior.dist)
    return cls(name, **{k: float(v) for k, v in prior.params.items()}, **kwargs)


def vector_rv(name: str, priors: Sequence[Prior], dims: str):
    """A vector variable whose elements have the given priors.

    When all priors share a distribution (the usual case) one vector variable with vectorized
    parameters is created; otherwise one scalar per element is stacked into a Deterministic.

    Examples
    --------
    >>> import pymc as pm
    >>> from bayesmixed.formula.priors import prior
    >>> with pm.Model(coords={"term": ["Intercept", "x"]}) as model:
    ...     sd = vector_rv("sd", [prior("half_normal", 1), prior("half_normal", 3)], dims="term")
    >>> pm.draw(sd, random_seed=1).shape
    (2,)
    """
    dists = {p.dist for p in priors}
    if len(dists) == 1:
        dist = priors[0].dist
        keys = list(priors[0].params)
        if all(list(p.params) == keys for p in priors):
            params = {k: np.array([float(p.params[k]) for p in priors]) for k in keys}
            return getattr(pm, dist)(name, **params, dims=dims)
    parts = [prior_rv(component_var(name, i), p) for i, p in enumerate(priors)]
    return pm.Deterministic(name, pt.stack(parts), dims=dims)
