"""Observation models with the per-row work cut to what depends on the parameters.

PyMC's ``Bernoulli``, ``Binomial`` and ``Poisson`` log-densities evaluate, for every row and every
gradient, terms that do not depend on the parameters (``log C(n, y)``, ``log y!``) and bound
checks on values that are valid by construction (the spec layer has validated ``y``). For the
canonical links the log-likelihood of a row reduces to

=================  ============================================
bernoulli, logit   ``y * eta - softplus(eta)``
binomial, logit    ``y * eta - n * softplus(eta)``
poisson, log       ``y * eta - exp(eta)``
=================  ============================================

which differs from the full log-density by a constant, so the posterior is exactly the same.
The observed variable keeps its distribution for forward sampling (prior and posterior
predictive draws), through :class:`pymc.CustomDist` with ``dist=``. The pointwise
log-likelihood stored with a fit (for LOO) is computed in numpy from the full densities
(:mod:`bayesmixed.report.linpred`), constants included.

Other family/link pairs return ``None`` and the builder uses
:func:`bayesmixed.graph.likelihood.add_likelihood`.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import Design

__all__ = ["add_lean_likelihood", "has_lean_likelihood"]


def has_lean_likelihood(design: Design) -> bool:
    """Whether ``design``'s family and link have a lean observation model.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> isinstance(has_lean_likelihood(design), bool)
    True
    """
    return (design.family.name, design.link) in _KINDS


def _bernoulli_logp(value, eta):
    return value * eta - pt.softplus(eta)


def _bernoulli_dist(eta, size):
    return pm.Bernoulli.dist(logit_p=eta, size=size)


def _binomial_logp(value, eta, n):
    return value * eta - n * pt.softplus(eta)


def _binomial_dist(eta, n, size):
    return pm.Binomial.dist(n=n, logit_p=eta, size=size)


def _poisson_logp(value, eta):
    return value * eta - pt.exp(eta)


def _poisson_dist(eta, size):
    return pm.Poisson.dist(mu=pt.exp(eta), size=size)


_KINDS = {
    ("bernoulli", "logit"): (_bernoulli_dist, _bernoulli_logp, False),
    ("binomial", "logit"): (_binomial_dist, _binomial_logp, True),
    ("poisson", "log"): (_poisson_dist, _poisson_logp, False),
}


def add_lean_likelihood(design: Design, eta, y, trials=None):
    """Add the observed variable ``y`` with a lean log-density; None when there is none.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pymc as pm
    >>> import bayesmixed as bm
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0], "x": [0.1, 0.4, -0.2, 0.3]})
    >>> design = bm.prepare("y ~ x", df, "bernoulli").design
    >>> with pm.Model() as lean:
    ...     eta = pm.Normal("eta", 0, 1, shape=4)
    ...     _ = add_lean_likelihood(design, eta, design.y)
    >>> with pm.Model() as full:
    ...     eta = pm.Normal("eta", 0, 1, shape=4)
    ...     _ = pm.Bernoulli("y", logit_p=eta, observed=design.y)
    >>> point = {"eta": np.array([0.3, -1.0, 2.0, 0.5])}
    >>> bool(np.isclose(lean.compile_logp()(point), full.compile_logp()(point)))
    True
    """
    kind = _KINDS.get((design.family.name, design.link))
    if kind is None:
        return None
    dist, logp, uses_trials = kind
    params = (eta, trials) if uses_trials else (eta,)
    return pm.CustomDist("y", *params, dist=dist, logp=logp, observed=y, dtype="int64")
