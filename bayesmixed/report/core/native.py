"""The ArviZ-native layout of ``idata`` (issue 16, points 2 and 7).

``idata`` is an :class:`xarray.DataTree` that ArviZ (arviz-stats, arviz-plots) reads
directly:

- ``posterior``: the parameters under the names of ``fit.summary()`` (``Intercept``, ``x``,
  ``sd(Intercept|g)``, ``cor(Intercept,x|g)``, ``sigma``, ...), dims ``(chain, draw)``, and the
  random effects per level, ``r(term|factor)`` with dims ``(chain, draw, factor)`` (the level
  labels as coordinates; brms' ``r_factor[level,term]``);
- ``sampler_posterior``: the draws under the PyMC model's own names (``Intercept_c``, ``b``,
  ``z__g``, ``sd__g``, ``r__g``, ...). The report reads them only through
  :func:`bayesmixed.report.core.draws.internal`;
- ``sample_stats``: the sampler's statistics;
- ``log_likelihood`` and ``observed_data``: variable ``y`` (and ``trials``) with dim ``obs``,
  one entry per fitted data row (also for aggregated fits, whose sampler saw cells), the row
  labels as coordinates;
- ``posterior_predictive``: added by :meth:`Fit.ppc <bayesmixed.result.Fit.ppc>`, dims
  ``(chain, draw, obs)``.

The pointwise log-likelihood is computed on first use (issue 18): a fresh fit's tree carries
the root attribute ``LL_ATTR`` instead of the group (:func:`defer_log_likelihood`), and
:func:`complete_log_likelihood` adds the group when it is asked for (``idata``, LOO, the
report; :attr:`Fit.idata <bayesmixed.result.Fit.idata>` does it on first access).

Saved fits and run folders store the tree without ``log_likelihood`` and
``posterior_predictive`` (:func:`for_storage`): both are recomputed from the draws and the
stored data, so a folder is small and a loaded fit gives the same LOO.
:func:`restore` rebuilds the layout on load (converting folders written before it, whose
``posterior`` held the sampler's names) and the log-likelihood, now or on first use.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayesmixed.report.core.draws import INTERNAL_GROUP, internal
from bayesmixed.report.core.linpred import add_log_likelihood, fitted_process, linpred
from bayesmixed.report.core.params import parameter_dataset

__all__ = [
    "INTERNAL_GROUP",
    "LL_ATTR",
    "complete_log_likelihood",
    "defer_log_likelihood",
    "effect_label",
    "for_storage",
    "native_tree",
    "obs_coords",
    "pending_log_likelihood",
    "restore",
    "user_posterior",
]

#: root attribute: the log-likelihood is wanted but not computed yet (dropped for storage, or
#: deferred to its first use)
LL_ATTR = "bayesmixed_log_likelihood"
#: groups recomputed on load rather than stored
RECOMPUTED = ("log_likelihood", "posterior_predictive")


def effect_label(term: str, factor: str) -> str:
    """Name of the posterior variable holding the random effects of ``term`` per level.

    Examples
    --------
    >>> effect_label("Intercept", "Subject")
    'r(Intercept|Subject)'
    """
    return f"r({term}|{factor})"


def obs_coords(design) -> np.ndarray:
    """Row labels of the fitted rows (the ``obs`` coordinate).

    Examples
    --------
    >>> obs_coords(fit.design)[:3]
    array([0, 1, 2])
    """
    idx = design.data.index
    values = idx.to_numpy()
    if values.dtype == object:
        values = np.asarray([str(v) for v in values], dtype=str)
    return values


def user_posterior(idata, meta: dict) -> xr.Dataset:
    """The ``posterior`` group under the summary's names plus the random effects per level.

    Examples
    --------
    >>> list(user_posterior(fit.idata, fit.meta).data_vars)[-3:]
    ['sigma', 'r(Intercept|Subject)', 'r(Days|Subject)']
    """
    post = internal(idata)
    ds = parameter_dataset(idata, meta)
    names = set(ds.data_vars)
    effects: dict[str, xr.DataArray] = {}
    for blk in meta["blocks"]:
        L, f = blk["label"], blk["factor"]
        name = f"r__{L}"
        if name not in post:
            continue
        r = post[name]
        dim = f if f not in names else f"{f}__level"
        r = r.rename({L: dim}) if L != dim else r
        for t, term in enumerate(blk["terms"]):
            da = r.isel({r.dims[-1]: t}, drop=True).reset_coords(drop=True)
            effects[effect_label(term, f)] = da.transpose("chain", "draw", dim)
    out = xr.Dataset({**{k: v for k, v in ds.data_vars.items()}, **effects})
    out.attrs = dict(post.attrs)
    return out


def _with_obs(ds: xr.Dataset, coords: np.ndarray) -> xr.Dataset:
    return ds.assign_coords(obs=coords) if "obs" in ds.dims else ds


def native_tree(idata, meta: dict, design, coords: np.ndarray | None = None) -> xr.DataTree:
    """The ArviZ-native tree of a fit whose ``posterior`` still holds the sampler's names.

    Idempotent: a tree that already has ``sampler_posterior`` only gets the ``obs`` coordinates
    (``coords``, default the row labels of ``design``).

    Examples
    --------
    >>> sorted(native_tree(fit.idata, fit.meta, fit.design).children)
    ['log_likelihood', 'observed_data', 'posterior', 'sample_stats', 'sampler_posterior']
    """
    groups = {k: idata[k].to_dataset() for k in idata.children}
    if INTERNAL_GROUP not in groups:
        groups[INTERNAL_GROUP] = groups.pop("posterior")
        groups["posterior"] = user_posterior(idata, meta)
    coords = obs_coords(design) if coords is None else coords
    for k in ("log_likelihood", "observed_data", "posterior_predictive"):
        if k in groups:
            groups[k] = _with_obs(groups[k], coords)
    order = ["posterior", INTERNAL_GROUP, "sample_stats", "log_likelihood",
             "posterior_predictive", "observed_data"]
    order += [k for k in groups if k not in order]
    tree = xr.DataTree.from_dict({f"/{k}": groups[k] for k in order if k in groups})
    tree.attrs = dict(idata.attrs)
    return tree


def for_storage(idata) -> xr.DataTree:
    """``idata`` without the groups recomputed on load (log-likelihood, predictions).

    Examples
    --------
    >>> sorted(for_storage(fit.idata).children)
    ['observed_data', 'posterior', 'sample_stats', 'sampler_posterior']
    """
    keep = {f"/{k}": idata[k].to_dataset() for k in idata.children if k not in RECOMPUTED}
    tree = xr.DataTree.from_dict(keep)
    wanted = "log_likelihood" in idata.children or pending_log_likelihood(idata)
    tree.attrs = {**idata.attrs, LL_ATTR: int(wanted)}
    return tree


def defer_log_likelihood(tree: xr.DataTree) -> xr.DataTree:
    """Mark ``tree`` (in place) as wanting its log-likelihood, computed on first use.

    Examples
    --------
    >>> tree = defer_log_likelihood(for_storage(fit.idata))
    >>> pending_log_likelihood(tree)
    True
    """
    tree.attrs[LL_ATTR] = 1
    return tree


def pending_log_likelihood(tree) -> bool:
    """Whether ``tree`` wants a log-likelihood it does not hold yet.

    Examples
    --------
    >>> pending_log_likelihood(fit.idata)
    False
    """
    return bool(tree.attrs.get(LL_ATTR, 0)) and "log_likelihood" not in tree.children


def complete_log_likelihood(idata, meta: dict, design) -> xr.DataTree:
    """The native tree of ``idata`` with its ``log_likelihood`` group (computed if missing).

    The group has one entry per fitted row (``obs``, the coordinate of ``observed_data``), the
    same values whether computed at fit time, on first use or after loading.

    Examples
    --------
    >>> tree = complete_log_likelihood(for_storage(fit.idata), fit.meta, fit.design)
    >>> tree["log_likelihood"]["y"].sizes["obs"], pending_log_likelihood(tree)
    (180, False)
    """
    coords = None
    if "observed_data" in idata.children and "obs" in idata["observed_data"].coords:
        coords = np.asarray(idata["observed_data"]["obs"].values)  # the original row labels
    attrs = {k: v for k, v in idata.attrs.items() if k != LL_ATTR}
    if "log_likelihood" not in idata.children:
        groups = [(b.index, b.Z) for b in design.blocks]
        eta = linpred(idata, meta, design.X, groups, design.offset,
                      process=fitted_process(idata, meta, design.ar_codes))
        idata = idata.copy()
        add_log_likelihood(idata, meta, eta, design.y, design.trials, design.dpar_X)
    tree = native_tree(idata, meta, design, coords)
    tree.attrs = attrs
    return tree


def restore(idata, meta: dict, design, *, lazy: bool = False) -> xr.DataTree:
    """A stored tree made whole again: native layout and the recomputed log-likelihood.

    Trees written before the native layout (``posterior`` under the sampler's names) are
    converted; the log-likelihood is recomputed when it was stored or dropped for storage,
    now or, with ``lazy``, on first use (:func:`complete_log_likelihood`).

    Examples
    --------
    >>> again = restore(for_storage(fit.idata), fit.meta, fit.design)
    >>> bool(np.array_equal(again["log_likelihood"]["y"], fit.idata["log_likelihood"]["y"]))
    True
    >>> pending_log_likelihood(restore(for_storage(fit.idata), fit.meta, fit.design, lazy=True))
    True
    """
    attrs = dict(idata.attrs)
    coords = None
    if "observed_data" in idata.children and "obs" in idata["observed_data"].coords:
        coords = np.asarray(idata["observed_data"]["obs"].values)  # the original row labels
    wanted = bool(attrs.pop(LL_ATTR, 0)) or "log_likelihood" in idata.children
    tree = native_tree(idata, meta, design, coords)
    tree.attrs = attrs
    if wanted and "log_likelihood" not in tree.children:
        defer_log_likelihood(tree)
        if not lazy:
            tree = complete_log_likelihood(tree, meta, design)
    return tree
