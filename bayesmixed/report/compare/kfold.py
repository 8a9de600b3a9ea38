"""Grouped K-fold cross-validation: refit without whole clusters, score them as new groups.

:func:`kfold` refits the model once per fold through a :class:`Refit` callable it is given
(this package never builds or samples a model) and scores each held-out cluster as a new
group: ``log p(y_c | train) = log mean_{s,m} prod_{i in c} p(y_i | theta_s, u_sm)`` with
``u_sm ~ N(0, Sigma_s)`` one draw per cluster shared by its rows. A latent AR(1) process
(``ar()`` with a non-gaussian family) is integrated out the same way: ``e_sm`` one draw of the
held-out rows' series from the stationary process of draw ``s``, added to the linear
predictor. A series whose rows fall in several folds (``by`` other than the ``ar()`` group)
is drawn anew, not conditioned on its training rows.

The folds are independent tasks (:func:`fold_task`: refit, then score the held-out
clusters), each carrying its own seeds, so ``kfold(..., run=...)`` can map them over any
executor -- :meth:`Fit.kfold <bayesmixed.result.Fit.kfold>` passes
:func:`bayesmixed.parallel.run_tasks` with a Dask client -- and get the same result as a
serial loop. On a cluster the refit callable and the training and test rows travel to the
worker and one vector of held-out log densities comes back per fold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from bayesmixed.design.levels import factor_texts
from bayesmixed.design.response import response_data
from bayesmixed.errors import DataError, PredictionError
from bayesmixed.families import get_family, resolve_link
from bayesmixed.report.checks.residuals import pointwise_log_likelihood
from bayesmixed.report.core.linpred import log_likelihood
from bayesmixed.report.predict.latent import latent_part
from bayesmixed.report.predict.predict import predict_draws, prediction_inputs

__all__ = ["Refit", "fold_task", "group_folds", "kfold"]

#: ``run(fn, tasks) -> [fn(task) for task in tasks]`` in task order (e.g. ``run_tasks``)
Runner = Callable[[Callable[[dict[str, Any]], np.ndarray], list[dict[str, Any]]], list]


def _cluster_keys(data: pd.DataFrame, by: str) -> np.ndarray:
    cols = [c.strip() for c in by.split(":")]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(f"kfold by={by!r}: column {missing[0]!r} is not in the data")
    return factor_texts(data, data, by).astype(str)  # labels as in fitting (3 and "3" one)


def group_folds(keys: Sequence, k: int, seed=0) -> np.ndarray:
    """Fold number (0..k-1) per row such that all rows of a cluster share a fold.

    Clusters are shuffled, then assigned largest first to the fold with the fewest rows, so
    folds have similar sizes.

    Examples
    --------
    >>> group_folds(["a", "a", "b", "c", "c", "d"], k=2, seed=1)  # clusters never split
    array([0, 0, 0, 1, 1, 1])
    """
    keys = np.asarray(keys)
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if not 2 <= k <= uniq.size:
        raise DataError(f"k must be between 2 and the number of clusters ({uniq.size}), got {k}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(uniq.size)
    order = perm[np.argsort(-counts[perm], kind="stable")]
    fold_of = np.empty(uniq.size, dtype=int)
    load = np.zeros(k)
    for j in order:
        f = int(np.argmin(load))
        fold_of[j] = f
        load[f] += counts[j]
    return fold_of[inverse]


def _heldout_log_density(
    idata, meta: dict, design, test: pd.DataFrame, keys: np.ndarray, n_new: int, seed
) -> np.ndarray:
    """log p(y_c | training data) per held-out cluster (in the order of ``np.unique(keys)``),
    from the refitted model's ``(idata, meta, design)``."""
    spec = design.spec
    fam = get_family(spec.family)
    resp = response_data(spec, fam, resolve_link(fam, spec.link), test)
    y = np.asarray(resp.y, dtype=float)
    trials = None if resp.trials is None else np.asarray(resp.trials, dtype=float)
    inputs = prediction_inputs(idata, meta, design, test)
    uniq, inv = np.unique(keys, return_inverse=True)
    rng = np.random.default_rng(seed)
    per_rep = []
    for _ in range(n_new):
        eta, _ = predict_draws(
            idata, meta, design, kind="linpred", groups="observed", seed=rng, warn=False,
            inputs=inputs,
        )
        # a latent AR(1) process (ar() with a non-gaussian family) of held-out rows is unknown:
        # one draw of their series from its stationary distribution per posterior draw
        process, _ = latent_part(idata, meta, inputs, "response", "new", rng, None)
        if process is not None:
            eta = eta + process
        ll = log_likelihood(idata, meta, eta, y, trials, inputs.dpar_X)
        per_rep.append(np.stack([ll[:, inv == c].sum(axis=1) for c in range(uniq.size)], axis=1))
    stacked = np.concatenate(per_rep, axis=0)  # (n_new * S, clusters)
    return logsumexp(stacked, axis=0) - np.log(stacked.shape[0])


@runtime_checkable
class Refit(Protocol):
    """How :func:`kfold` refits: ``refit(train, seed)`` fits the model to the rows ``train``.

    The result gives the refitted model's ``idata``, ``meta`` and ``design`` as attributes, as
    a :class:`~bayesmixed.result.Fit` does. :meth:`Fit.kfold <bayesmixed.result.Fit.kfold>` passes
    one that keeps the fit's spec and sampler settings, in the spirit of arviz-stats'
    ``SamplingWrapper``: the K-fold computation never imports model building or sampling.
    To run folds on Dask workers the callable must be picklable (an instance of a
    module-level class or a module-level function, not a closure).

    Examples
    --------
    >>> def refit(train, seed):
    ...     return fit  # a stand-in: a real refit samples the model on ``train``
    >>> isinstance(refit, Refit)
    True
    """

    def __call__(self, train: pd.DataFrame, seed: int) -> Any: ...


def fold_task(task: dict[str, Any]) -> np.ndarray:
    """One fold: refit on ``train``, return the log densities of the held-out clusters.

    ``task`` holds ``refit``, ``train``, ``test``, ``keys`` (cluster of each test row),
    ``n_new``, ``fit_seed`` and ``density_seed``. Module-level, hence picklable: the
    function an executor maps over the folds.

    Examples
    --------
    >>> keys = fit.data["Subject"].astype(str).to_numpy()
    >>> test = fit.data[keys == "308"].reset_index(drop=True)
    >>> dens = fold_task({"refit": lambda train, seed: fit, "train": fit.data, "test": test,
    ...                   "keys": keys[keys == "308"], "n_new": 2, "fit_seed": 1,
    ...                   "density_seed": 2})
    >>> dens.shape
    (1,)
    """
    refitted = task["refit"](task["train"], task["fit_seed"])
    return _heldout_log_density(refitted.idata, refitted.meta, refitted.design, task["test"],
                                task["keys"], task["n_new"], task["density_seed"])


def _serial(fn: Callable, tasks: list) -> list:
    return [fn(task) for task in tasks]


def kfold(
    idata,
    meta: dict,
    design,
    refit: Refit,
    k: int = 10,
    by: str | None = None,
    *,
    seed=0,
    n_new: int = 20,
    run: Runner | None = None,
):
    """Grouped K-fold cross-validation: refit leaving whole clusters of ``by`` out.

    Parameters
    ----------
    idata, meta, design
        Posterior tree, model description and design of the fit to cross-validate.
    refit
        ``refit(train, seed)``: the model fitted to the training rows (see :class:`Refit`).
    k
        Number of folds (at most the number of clusters).
    by
        Grouping column whose clusters are kept together (default the first grouping factor).
    seed
        Seed of the fold assignment, the refits (fold ``f`` gets ``seed + f + 1``) and the
        new-group effect draws (fold ``f``: ``seed + 1000 + f``).
    n_new
        Draws of the held-out clusters' new effects per posterior draw.
    run
        ``run(fold_task, tasks)``: maps :func:`fold_task` over the folds and returns the
        results in fold order (default a plain loop; :func:`bayesmixed.parallel.run_tasks`
        with a client runs the folds on Dask workers, with the same result).

    Returns
    -------
    arviz_stats.ELPDDataLOOKFold
        ``elpd`` (sum over held-out clusters), ``se``, ``p`` (in-sample lppd minus elpd),
        pointwise ``elpd_i`` per cluster (dim ``cluster``), plus attributes ``folds`` (fold
        per row of the fitted data), ``elpd_fold`` (the elpd of each fold's held-out
        clusters) and ``by``.

    Examples
    --------
    >>> res = fit.kfold(k=3, by="Subject", draws=200, tune=200)  # doctest: +SKIP
    >>> res.n_folds, res.elpd_i.sizes["cluster"]  # doctest: +SKIP
    (3, 18)
    """
    from arviz_stats.utils import ELPDDataLOOKFold

    if by is None:
        if not meta["blocks"]:
            raise PredictionError("the model has no grouping factor: give by=")
        by = meta["blocks"][0]["factor"]
    seed = 0 if seed is None else int(seed)
    data = design.data.reset_index(drop=True)
    keys = _cluster_keys(data, by)
    folds = group_folds(keys, k, seed)
    uniq = np.unique(keys)
    tasks = [
        {"refit": refit, "train": data[folds != f], "test": data[folds == f].reset_index(drop=True),
         "keys": keys[folds == f], "n_new": n_new, "fit_seed": seed + f + 1,
         "density_seed": seed + 1000 + f}
        for f in range(k)
    ]
    elpd_c = np.full(uniq.size, np.nan)
    elpd_fold = np.empty(k)
    for f, dens in enumerate((run or _serial)(fold_task, tasks)):
        elpd_c[np.searchsorted(uniq, np.unique(tasks[f]["keys"]))] = dens
        elpd_fold[f] = float(np.sum(dens))
    ll = pointwise_log_likelihood(idata, meta, design)
    inv = np.searchsorted(uniq, keys)
    in_sample = np.stack([ll[:, inv == c].sum(axis=1) for c in range(uniq.size)], axis=1)
    lppd_c = logsumexp(in_sample, axis=0) - np.log(in_sample.shape[0])
    n = uniq.size
    res = ELPDDataLOOKFold(
        elpd=float(elpd_c.sum()),
        se=float(np.sqrt(n * np.var(elpd_c, ddof=1))),
        p=float(np.sum(lppd_c - elpd_c)),
        n_samples=int(ll.shape[0]),
        n_data_points=n,
        scale="log",
        warning=False,
        good_k=None,
        n_folds=k,
        elpd_i=xr.DataArray(elpd_c, dims=["cluster"], coords={"cluster": uniq}),
        p_kfold_i=xr.DataArray(lppd_c - elpd_c, dims=["cluster"], coords={"cluster": uniq}),
    )
    res.folds = folds
    res.by = by
    res.elpd_fold = elpd_fold
    return res
