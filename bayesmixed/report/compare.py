"""Predictive model comparison: PSIS-LOO, WAIC, ``compare`` tables and grouped K-fold CV.

- :func:`loo`: PSIS-LOO-CV by :func:`arviz_stats.loo` (Vehtari, Gelman & Gabry 2017), with a
  :class:`ParetoKWarning` naming the observations whose Pareto ``k`` exceeds the threshold.
- :func:`waic`: WAIC (Watanabe 2010) as in Vehtari, Gelman & Gabry (2017, sec. 2.2):
  ``elpd_waic = sum_i [log mean_s p(y_i | theta_s) - var_s log p(y_i | theta_s)]``, with a
  warning when some ``p_waic_i > 0.4``. (ArviZ 1.x dropped WAIC; PSIS-LOO is preferred.)
- :func:`compare`: the :func:`arviz_stats.compare` table (elpd, differences, their SE,
  stacking weights) for several fits.
- :func:`kfold`: grouped K-fold CV that refits the model without whole clusters (through a
  :class:`Refit` callable it is given) and scores the held-out clusters as new groups:
  ``log p(y_c | train) = log mean_{s,m} prod_{i in c} p(y_i | theta_s, u_sm)`` with
  ``u_sm ~ N(0, Sigma_s)`` one draw per cluster shared by its rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from bayesmixed.design.levels import factor_texts
from bayesmixed.design.validate import response_data
from bayesmixed.errors import DataError, PredictionError
from bayesmixed.families import get_family, resolve_link
from bayesmixed.report.draws import internal
from bayesmixed.report.linpred import log_likelihood
from bayesmixed.report.predict import predict_draws, prediction_inputs
from bayesmixed.report.residuals import pointwise_log_likelihood

__all__ = [
    "WAIC", "ParetoKWarning", "Refit", "compare", "group_folds", "kfold", "loo", "waic",
]


class ParetoKWarning(UserWarning):
    """Some Pareto k values are too high for PSIS-LOO to be reliable.

    Examples
    --------
    >>> issubclass(ParetoKWarning, UserWarning)
    True
    """


def _exact_draws(fit, what: str) -> None:
    """Refuse ``what`` (LOO, WAIC) for approximate draws: PSIS-LOO and WAIC assume draws from
    the posterior, and importance-resampled draws of an approximation repeat and are not."""
    method = fit.meta.get("method", "nuts")
    if method != "nuts":
        raise PredictionError(
            f"{what} needs posterior draws; this fit has approximate {method} draws "
            "(importance-resampled, with repeats): refit with method='nuts', or use "
            "fit.kfold(), which refits each fold with the same method"
        )


def _with_log_likelihood(fit):
    if "log_likelihood" in fit.idata.children:
        return fit.idata
    ll = pointwise_log_likelihood(fit)
    post = internal(fit.idata)
    c, d = post.sizes["chain"], post.sizes["draw"]
    ds = xr.Dataset(
        {"y": (("chain", "draw", "obs"), ll.reshape(c, d, -1))},
        coords={"chain": post["chain"].values, "draw": post["draw"].values},
    )
    return xr.DataTree.from_dict({"posterior": post.to_dataset(), "log_likelihood": ds})


def loo(fit, warn: bool = True):
    """PSIS-LOO-CV of a fit (:class:`arviz_stats.ELPDDataLOO`, pointwise).

    Warns with :class:`ParetoKWarning` when Pareto ``k`` exceeds ``good_k`` (listing the rows).

    Examples
    --------
    >>> res = loo(fit, warn=False)
    >>> int(res.n_data_points), bool(res.elpd < 0)
    (180, True)
    """
    import arviz_stats as azs

    _exact_draws(fit, "PSIS-LOO")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = azs.loo(_with_log_likelihood(fit), pointwise=True)
    k = np.asarray(res.pareto_k.values, dtype=float)
    bad = np.flatnonzero(k > res.good_k)
    if warn and bad.size:
        worst = bad[np.argsort(-k[bad])][:10]
        listed = ", ".join(f"row {i} (k={k[i]:.2f})" for i in worst)
        warnings.warn(
            f"{bad.size} of {k.size} observations have Pareto k > {res.good_k:.2f}: {listed}; "
            "PSIS-LOO may be unreliable: use fit.kfold() (grouped K-fold)",
            ParetoKWarning,
            stacklevel=2,
        )
    nan = np.flatnonzero(~np.isfinite(k))
    if warn and nan.size:
        warnings.warn(
            f"Pareto k could not be estimated for {nan.size} observations (rows "
            f"{', '.join(map(str, nan[:10]))}{' ...' if nan.size > 10 else ''}): tied or "
            "degenerate importance weights; run longer chains",
            ParetoKWarning,
            stacklevel=2,
        )
    return res


@dataclass
class WAIC:
    """WAIC result: ``elpd`` (elpd_waic), ``se``, ``p`` (p_waic), pointwise values.

    Examples
    --------
    >>> w = waic(fit, warn=False)
    >>> isinstance(w, WAIC), w.n_data_points, bool(w.elpd < 0)
    (True, 180, True)
    """

    elpd: float
    se: float
    p: float
    elpd_i: np.ndarray
    p_i: np.ndarray
    n_data_points: int
    n_samples: int
    warning: bool

    @property
    def waic(self) -> float:
        """On the deviance scale, ``-2 elpd``."""
        return -2.0 * self.elpd

    def to_dict(self) -> dict:
        """JSON-able summary."""
        return {
            "elpd_waic": self.elpd,
            "se": self.se,
            "p_waic": self.p,
            "waic": self.waic,
            "n_data_points": self.n_data_points,
            "n_samples": self.n_samples,
            "warning": self.warning,
            "n_p_waic_above_0.4": int(np.sum(self.p_i > 0.4)),
        }

    def __str__(self) -> str:
        return f"elpd_waic {self.elpd:.2f} (SE {self.se:.2f}), p_waic {self.p:.2f}" + (
            "  [warning: some p_waic_i > 0.4, prefer LOO]" if self.warning else ""
        )


def waic(fit, warn: bool = True) -> WAIC:
    """WAIC of a fit (see the module docstring).

    Examples
    --------
    >>> w = waic(fit, warn=False)
    >>> w.elpd_i.shape
    (180,)
    """
    _exact_draws(fit, "WAIC")
    ll = pointwise_log_likelihood(fit)
    S = ll.shape[0]
    lppd_i = logsumexp(ll, axis=0) - np.log(S)
    p_i = ll.var(axis=0, ddof=1)
    elpd_i = lppd_i - p_i
    n = elpd_i.size
    res = WAIC(
        float(elpd_i.sum()),
        float(np.sqrt(n * elpd_i.var(ddof=1))),
        float(p_i.sum()),
        elpd_i,
        p_i,
        n,
        S,
        bool(np.any(p_i > 0.4)),
    )
    if warn and res.warning:
        warnings.warn(
            f"{int(np.sum(p_i > 0.4))} observations have p_waic_i > 0.4: WAIC may be "
            "unreliable; prefer fit.loo()",
            UserWarning,
            stacklevel=2,
        )
    return res


def _names(fits: Sequence) -> list[str]:
    forms = [getattr(f, "formula", None) for f in fits]
    if all(forms) and len(set(forms)) == len(forms):
        return list(forms)
    return [f"model{i + 1}" for i in range(len(fits))]


def compare(fits: Sequence | Mapping, method: str = "stacking") -> pd.DataFrame:
    """Compare fits by PSIS-LOO (or precomputed ELPD results such as :func:`kfold`'s).

    Parameters
    ----------
    fits
        A list of fits (named by formula, or model1, model2, ...) or a dict name -> fit (or
        name -> ``ELPDData``). All must be fitted to the same observations.
    method
        Weighting method of :func:`arviz_stats.compare` (``"stacking"``, ``"BB-pseudo-BMA"``,
        ``"pseudo-BMA"``).

    Returns
    -------
    pandas.DataFrame
        One row per model, best first: rank, elpd, p, elpd_diff, weight, se, dse, warning ...

    Examples
    --------
    >>> table = compare({"model A": fit, "model B": fit})
    >>> table["elpd_diff"].tolist()  # the same fit twice: no difference
    [0.0, 0.0]
    """
    import arviz_stats as azs

    if isinstance(fits, Mapping):
        named = dict(fits)
    else:
        fits = list(fits)
        named = dict(zip(_names(fits), fits, strict=True))
    if len(named) < 2:
        raise PredictionError("compare needs at least two fits")
    elpds = {}
    for name, f in named.items():
        elpds[name] = loo(f, warn=False) if hasattr(f, "idata") else f
    sizes = {name: int(e.n_data_points) for name, e in elpds.items()}
    if len(set(sizes.values())) > 1:
        raise DataError(f"the fits were not fitted to the same observations: {sizes}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = azs.compare(elpds, method=method, round_to="none")
    return table


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
    refit, test: pd.DataFrame, keys: np.ndarray, n_new: int, seed
) -> np.ndarray:
    """log p(y_c | training data) per held-out cluster (in the order of ``np.unique(keys)``)."""
    spec = refit.spec
    fam = get_family(spec.family)
    resp = response_data(spec, fam, resolve_link(fam, spec.link), test)
    y = np.asarray(resp.y, dtype=float)
    trials = None if resp.trials is None else np.asarray(resp.trials, dtype=float)
    inputs = prediction_inputs(refit, test)
    uniq, inv = np.unique(keys, return_inverse=True)
    rng = np.random.default_rng(seed)
    per_rep = []
    for _ in range(n_new):
        eta, _ = predict_draws(
            refit, kind="linpred", groups="observed", seed=rng, warn=False, inputs=inputs
        )
        ll = log_likelihood(refit.idata, refit.meta, eta, y, trials, inputs.dpar_X)
        per_rep.append(np.stack([ll[:, inv == c].sum(axis=1) for c in range(uniq.size)], axis=1))
    stacked = np.concatenate(per_rep, axis=0)  # (n_new * S, clusters)
    return logsumexp(stacked, axis=0) - np.log(stacked.shape[0])


@runtime_checkable
class Refit(Protocol):
    """How :func:`kfold` refits: ``refit(train, seed)`` fits the model to the rows ``train``.

    The result must be fit-like (``spec``, ``meta``, ``idata``, ``design``, ``data``), as a
    :class:`~bayesmixed.result.Fit`. :meth:`Fit.kfold <bayesmixed.result.Fit.kfold>` passes
    one that keeps the fit's spec and sampler settings, in the spirit of arviz-stats'
    ``SamplingWrapper``: the K-fold computation never imports model building or sampling.

    Examples
    --------
    >>> def refit(train, seed):
    ...     return fit  # a stand-in: a real refit samples the model on ``train``
    >>> isinstance(refit, Refit)
    True
    """

    def __call__(self, train: pd.DataFrame, seed: int) -> Any: ...


def kfold(
    fit,
    refit: Refit,
    k: int = 10,
    by: str | None = None,
    *,
    seed=0,
    n_new: int = 20,
):
    """Grouped K-fold cross-validation: refit leaving whole clusters of ``by`` out.

    Parameters
    ----------
    fit
        The fit to cross-validate (fit-like: ``meta``, ``data``, ``idata``).
    refit
        ``refit(train, seed)``: the model fitted to the training rows (see :class:`Refit`).
    k
        Number of folds (at most the number of clusters).
    by
        Grouping column whose clusters are kept together (default the first grouping factor).
    seed
        Seed of the fold assignment, the refits (fold ``f`` gets ``seed + f + 1``) and the
        new-group effect draws.
    n_new
        Draws of the held-out clusters' new effects per posterior draw.

    Returns
    -------
    arviz_stats.ELPDDataLOOKFold
        ``elpd`` (sum over held-out clusters), ``se``, ``p`` (in-sample lppd minus elpd),
        pointwise ``elpd_i`` per cluster (dim ``cluster``), plus attributes ``folds`` (fold
        per row of the fitted data) and ``by``.

    Examples
    --------
    >>> res = fit.kfold(k=3, by="Subject", draws=200, tune=200)  # doctest: +SKIP
    >>> res.n_folds, res.elpd_i.sizes["cluster"]  # doctest: +SKIP
    (3, 18)
    """
    from arviz_stats.utils import ELPDDataLOOKFold

    if by is None:
        if not fit.meta["blocks"]:
            raise PredictionError("the model has no grouping factor: give by=")
        by = fit.meta["blocks"][0]["factor"]
    seed = 0 if seed is None else int(seed)
    data = fit.data.reset_index(drop=True)
    keys = _cluster_keys(data, by)
    folds = group_folds(keys, k, seed)
    uniq = np.unique(keys)
    elpd_c = np.full(uniq.size, np.nan)
    for f in range(k):
        train, test = data[folds != f], data[folds == f].reset_index(drop=True)
        refitted = refit(train, seed + f + 1)
        test_keys = keys[folds == f]
        dens = _heldout_log_density(refitted, test, test_keys, n_new, seed + 1000 + f)
        elpd_c[np.searchsorted(uniq, np.unique(test_keys))] = dens
    ll = pointwise_log_likelihood(fit)
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
    return res
