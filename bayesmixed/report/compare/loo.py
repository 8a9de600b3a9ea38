"""Predictive model comparison: PSIS-LOO, WAIC, ``compare`` tables and grouped K-fold CV.

- :func:`loo`: PSIS-LOO-CV by :func:`arviz_stats.loo` (Vehtari, Gelman & Gabry 2017), with a
  :class:`ParetoKWarning` naming the observations whose Pareto ``k`` exceeds the threshold.
- :func:`waic`: WAIC (Watanabe 2010) as in Vehtari, Gelman & Gabry (2017, sec. 2.2):
  ``elpd_waic = sum_i [log mean_s p(y_i | theta_s) - var_s log p(y_i | theta_s)]``, with a
  warning when some ``p_waic_i > 0.4``. (ArviZ 1.x dropped WAIC; PSIS-LOO is preferred.)
- :func:`compare`: the :func:`arviz_stats.compare` table (elpd, differences, their SE,
  stacking weights) for several fits.
- :func:`kfold` (in :mod:`bayesmixed.report.compare.kfold`, re-exported here): grouped K-fold CV.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from bayesmixed.errors import DataError, PredictionError
from bayesmixed.report.checks.residuals import pointwise_log_likelihood
from bayesmixed.report.compare.kfold import Refit, group_folds, kfold
from bayesmixed.report.core.draws import internal

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


def _exact_draws(meta: dict | None, what: str) -> None:
    """Refuse ``what`` (LOO, WAIC) for approximate draws: PSIS-LOO and WAIC assume draws from
    the posterior, and importance-resampled draws of an approximation repeat and are not."""
    method = (meta or {}).get("method", "nuts")
    if method != "nuts":
        raise PredictionError(
            f"{what} needs posterior draws; this fit has approximate {method} draws "
            "(importance-resampled, with repeats): refit with method='nuts', or use "
            "fit.kfold(), which refits each fold with the same method"
        )


def _with_log_likelihood(idata, meta, design):
    if "log_likelihood" in idata.children:
        return idata
    ll = pointwise_log_likelihood(idata, meta, design)
    post = internal(idata)
    c, d = post.sizes["chain"], post.sizes["draw"]
    ds = xr.Dataset(
        {"y": (("chain", "draw", "obs"), ll.reshape(c, d, -1))},
        coords={"chain": post["chain"].values, "draw": post["draw"].values},
    )
    return xr.DataTree.from_dict({"posterior": post.to_dataset(), "log_likelihood": ds})


def loo(idata, meta, design, warn: bool = True):
    """PSIS-LOO-CV of a fit (:class:`arviz_stats.ELPDDataLOO`, pointwise).

    Warns with :class:`ParetoKWarning` when Pareto ``k`` exceeds ``good_k`` (listing the rows).

    Examples
    --------
    >>> res = loo(fit.idata, fit.meta, fit.design, warn=False)
    >>> int(res.n_data_points), bool(res.elpd < 0)
    (180, True)
    """
    import arviz_stats as azs

    _exact_draws(meta, "PSIS-LOO")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = azs.loo(_with_log_likelihood(idata, meta, design), pointwise=True)
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
    >>> w = waic(fit.idata, fit.meta, fit.design, warn=False)
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


def waic(idata, meta, design, warn: bool = True) -> WAIC:
    """WAIC of a fit (see the module docstring).

    Examples
    --------
    >>> w = waic(fit.idata, fit.meta, fit.design, warn=False)
    >>> w.elpd_i.shape
    (180,)
    """
    _exact_draws(meta, "WAIC")
    ll = pointwise_log_likelihood(idata, meta, design)
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
        name -> ``ELPDData``). All must be fitted to the same observations. A fit is read
        through its ``idata``, ``meta`` and ``design`` (a :class:`bayesmixed.Fit`, or any
        object with those three).
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
        elpds[name] = loo(f.idata, f.meta, f.design, warn=False) if hasattr(f, "idata") else f
    sizes = {name: int(e.n_data_points) for name, e in elpds.items()}
    if len(set(sizes.values())) > 1:
        raise DataError(f"the fits were not fitted to the same observations: {sizes}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = azs.compare(elpds, method=method, round_to="none")
    return table
