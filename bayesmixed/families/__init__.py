"""Response families and links as one table: each row carries all of its family's behaviour.

A :class:`Family` row holds what every layer needs, so that no other module branches on a family
name:

* the spec / design layers: name, aliases, links, the kind of ``response`` (validation), the
  default priors of the auxiliary parameters (:class:`AuxParam`) and the prior ``response_scale``;
* the graph layer: ``observed`` (the PyMC observed variable), where one exists a ``lean``
  log-density per link, and the exact reduction of identical rows to cells (``cells``);
* the report layer (numpy): ``loglik`` (pointwise, for LOO), ``density``, ``cdf``, ``variance``
  (mean-variance function), ``draw`` (posterior predictive), ``latent_variance`` (ICC, variance
  partition, Nakagawa R2) and ``latent_scale``;
* the simulation: ``draw`` (or ``simulate_draw``) and the auxiliary parameters' ``truth``.

Links live in their own table (:mod:`bayesmixed.families.links`): numpy and pytensor inverse,
slope, latent residual variance. Nothing here imports PyMC or pytensor at import time; the
graph-side callables import them when called.

Adding a family
---------------
Write one module (``bayesmixed/families/<group>.py``) with the row's functions and a
``Family(...)`` instance, add the instance to :data:`FAMILIES` in
:mod:`bayesmixed.families.table`, and extend ``tests/test_families.py``, whose checks run over
every row (every behaviour present; numpy log-likelihood equals the PyMC log-density; draws have
the mean and variance that ``variance`` says). A new link is one :class:`Link` row in
:data:`LINKS`. Auxiliary parameters (``phi``, ``shape``, several at once) are
:class:`AuxParam` entries with their default priors; the graph creates them in the given order
and passes them to ``observed`` by name. A family whose mean is not the inverse link gives
``response_mean`` (lognormal: ``exp(mu + sigma^2 / 2)``; zero-inflated: ``(1 - zi) mu``), and
one whose linear predictor models a transformation of the response gives ``transform``
(lognormal: ``log``); response kinds ``"positive"`` and ``"unit"`` are checked by
``design/validate.py``. Distributional families with extra linear predictors (zero-inflation
``zi``, hurdle ``hu``) list them in ``dpars``. The ordinal thresholds of ``cumulative``
(:mod:`bayesmixed.families.ordinal`) are a vector auxiliary parameter: its ``AuxParam.build``
creates them, ``expected`` gives the mean from them, and the numpy functions read the link from
``aux["link"]`` (``report.linpred.aux_draws(..., link=...)`` adds it).

Examples
--------
>>> fam = FAMILIES["negbinomial"]
>>> fam.default_link, fam.aux, fam.discrete
('log', ('alpha',), True)
>>> get_family("normal") is FAMILIES["gaussian"]
True
"""

from __future__ import annotations

from bayesmixed.families.base import AuxParam, CellRule, Family, LeanLikelihood
from bayesmixed.families.links import LINK_LATENT_VARIANCE, LINKS, Link, get_link
from bayesmixed.families.table import AUX_NAMES, FAMILIES, get_family, resolve_link

__all__ = [
    "AUX_NAMES",
    "FAMILIES",
    "LINKS",
    "LINK_LATENT_VARIANCE",
    "AuxParam",
    "CellRule",
    "Family",
    "LeanLikelihood",
    "Link",
    "get_family",
    "get_link",
    "resolve_link",
]
