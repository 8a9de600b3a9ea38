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
(:mod:`bayesmixed.report.core.linpred`), constants included.

The lean densities are rows of the family table (``Family.lean``, one per link). Other
family/link pairs return ``None`` and the builder uses
:func:`bayesmixed.graph.likelihood.add_likelihood`.
"""

from __future__ import annotations

import pymc as pm

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
    return design.link in design.family.lean


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
    lean = design.family.lean.get(design.link)
    if lean is None:
        return None
    params = (eta, trials) if lean.uses_trials else (eta,)
    return pm.CustomDist("y", *params, dist=lean.dist, logp=lean.logp, observed=y, dtype="int64")
