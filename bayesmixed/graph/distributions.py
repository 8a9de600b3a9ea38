"""Turn :class:`~bayesmixed.formula.priors.Prior` records into PyMC random variables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.formula.priors import Prior
from bayesmixed.names import component_var, prior_data

__all__ = ["SCALE_PARAMS", "prior_rv", "vector_rv"]

#: the scale parameter of each location-scale prior on the real line, which the default priors
#: of the coefficients scale to the data (``2.5 s_y / sd(x)``). Only scales are held as data: a
#: chain starts at the location (``support_point``), which nutpie's initial-point function
#: keeps from compilation when data are swapped in, so the locations stay constants.
SCALE_PARAMS: dict[str, tuple[str, ...]] = {
    "Normal": ("sigma",), "StudentT": ("sigma",), "Cauchy": ("beta",), "Laplace": ("b",),
    "Logistic": ("s",),
}


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


def vector_rv(name: str, priors: Sequence[Prior], dims: str, *, as_data: bool = False):
    """A vector variable whose elements have the given priors.

    When all priors share a distribution (the usual case) one vector variable with vectorized
    parameters is created; otherwise one scalar per element is stacked into a Deterministic.
    ``as_data``: the scale parameters (:data:`SCALE_PARAMS`) are data (``pm.Data`` named by
    :func:`~bayesmixed.names.prior_data`) rather than constants, for priors scaled to the data:
    a compiled model then serves other data sets (frozen in, they are the same constants).

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
            held = SCALE_PARAMS.get(dist, ()) if as_data else ()
            params = {k: pm.Data(prior_data(name, k), v) if k in held else v
                      for k, v in params.items()}
            return getattr(pm, dist)(name, **params, dims=dims)
    parts = [prior_rv(component_var(name, i), p) for i, p in enumerate(priors)]
    return pm.Deterministic(name, pt.stack(parts), dims=dims)
