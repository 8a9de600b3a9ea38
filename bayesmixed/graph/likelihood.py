"""The observation model: one writer per family, reading the link from the family table."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.design.matrices import Design
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
    if link == "identity":
        return eta
    if link == "log":
        return pt.exp(eta)
    if link == "logit":
        return pt.sigmoid(eta)
    if link == "probit":
        return 0.5 * pt.erfc(-eta / np.sqrt(2.0))
    if link == "cloglog":
        return -pt.expm1(-pt.exp(eta))
    raise ValueError(link)


def _clip_p(p):
    eps = 1e-12
    return pt.clip(p, eps, 1 - eps)


def add_likelihood(design: Design, eta, priors: dict[str, Prior], y, trials=None):
    """Add the observed variable ``y`` (and auxiliary parameters) to the current model.

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
    fam, link = design.family.name, design.link
    if fam == "gaussian":
        sigma = prior_rv("sigma", priors["sigma"])
        return pm.Normal("y", mu=inverse_link(link, eta), sigma=sigma, observed=y)
    if fam == "bernoulli":
        if link == "logit":
            return pm.Bernoulli("y", logit_p=eta, observed=y)
        return pm.Bernoulli("y", p=_clip_p(inverse_link(link, eta)), observed=y)
    if fam == "binomial":
        if link == "logit":
            return pm.Binomial("y", n=trials, logit_p=eta, observed=y)
        return pm.Binomial("y", n=trials, p=_clip_p(inverse_link(link, eta)), observed=y)
    if fam == "poisson":
        return pm.Poisson("y", mu=pt.exp(eta), observed=y)
    if fam == "negbinomial":
        alpha = prior_rv("alpha", priors["alpha"])
        return pm.NegativeBinomial("y", mu=pt.exp(eta), alpha=alpha, observed=y)
    raise ValueError(fam)
