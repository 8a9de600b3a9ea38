"""Predictions from posterior draws: conditional, for new groups, at zero effects, or
population-averaged.

``groups`` says what the random effects are:

- ``"observed"``: each row takes the posterior effects of its own level. Levels are matched to
  the fitted ones as text, whatever their type (``308``, ``"308"``, ``np.float64(308.0)`` are
  one level; see :func:`~bayesmixed.design.levels.match_levels`). Levels not seen in fitting are
  treated as **new groups** (one fresh effect per unseen level, shared by its rows) and listed
  in a :class:`NewLevelsWarning`; they are never mapped to a fitted level.
- ``"new"``: every level in ``newdata`` is a new group: for each posterior draw ``s`` its effects
  are drawn from ``N(0, Sigma_s)``, with ``Sigma_s = diag(sd_s) R_s diag(sd_s)`` (correlations
  included).
- ``"none"``: random effects at zero (a "typical" cluster; the conditional, cluster-specific
  prediction).
- ``"marginal"``: population-averaged: ``E_u[g^-1(x'beta + z'u)]`` with ``u`` integrated over
  the fitted random-effects distribution. Since ``z'u ~ N(0, v)`` with
  ``v = sum_b z_b' Sigma_b z_b``, the integral is one-dimensional; it is computed by
  Gauss-Hermite quadrature (``integration="quadrature"``, default, no Monte Carlo error) or by
  Monte Carlo over draws of ``u`` (``integration="monte_carlo"``). Under a non-linear link it
  differs from the ``"none"`` prediction (Zeger, Liang & Albert 1988).

``kind``: ``"linpred"`` (link scale; for ``"marginal"`` the population-level part
``x'beta``), ``"mean"`` (expected response; the success probability for bernoulli/binomial;
``exp(eta + sigma^2 / 2)`` for lognormal, whose linear predictor is the mean of ``log y``),
``"response"`` (draws from the posterior predictive distribution; counts out of the trials
for binomial), and for an ordinal model ``"probs"`` (one column per category; see
:mod:`bayesmixed.report.predict.ordinal`, where ``"mean"`` is the expected category index).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import xarray as xr

from bayesmixed.errors import PredictionError
from bayesmixed.families import get_family
from bayesmixed.report.core.draws import (
    internal,
    interval_columns,
    thin_indexes,
)
from bayesmixed.report.core.linpred import aux_draws, inverse_link, linpred
from bayesmixed.report.predict.inputs import PredictionInputs, distinct_rows, prediction_inputs
from bayesmixed.report.predict.latent import latent_part
from bayesmixed.report.predict.ordinal import ordinal_prediction
from bayesmixed.report.predict.random import marginal_mean, new_effects, re_variance

__all__ = [
    "NewLevelsWarning",
    "PredictionInputs",
    "predict",
    "predict_draws",
    "prediction_inputs",
    "sample_response",
]

KINDS = ("mean", "linpred", "response", "probs")
GROUPS = ("observed", "new", "none", "marginal")


class NewLevelsWarning(UserWarning):
    """Group levels in new data that were not in the fitted data (predicted as new groups).

    Examples
    --------
    >>> new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "a new subject"]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = predict(fit.idata, fit.meta, fit.design, new)
    >>> [w.category.__name__ for w in caught if issubclass(w.category, NewLevelsWarning)]
    ['NewLevelsWarning']
    """


def sample_response(
    idata,
    meta: dict,
    mu: np.ndarray,
    trials: np.ndarray | None,
    rng,
    idx_draws=None,
    dpar_X: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """One response draw per (draw, row) given the mean ``mu`` (probability for binomial).

    Examples
    --------
    >>> mu = np.full((400, 3), 250.0)
    >>> sample_response(fit.idata, fit.meta, mu, None, np.random.default_rng(1)).shape
    (400, 3)
    """
    family = get_family(meta["family"])
    aux = aux_draws(idata, family, idx_draws, meta=meta, dpar_X=dpar_X)
    n = None
    if family.response == "binomial":
        n = (np.ones(mu.shape[1]) if trials is None else trials).astype(np.int64)[None, :]
    elif meta.get("ar"):  # an ar() term: the draws follow the series links in ``trials``
        n = trials
    return family.draw(rng, mu, aux, n).astype(float)


def predict_draws(
    idata,
    meta,
    design,
    newdata: pd.DataFrame | None = None,
    *,
    kind: str = "mean",
    groups: str = "observed",
    draws: int | None = None,
    seed=None,
    integration: str = "quadrature",
    n_mc: int = 1000,
    warn: bool = True,
    inputs: PredictionInputs | None = None,
) -> tuple[np.ndarray, PredictionInputs]:
    """Prediction draws, shape ``(draws, rows)``, and the inputs used (see module docstring).

    Parameters
    ----------
    draws
        Number of posterior draws to use (evenly thinned); default all.
    seed
        Seed (or ``numpy.random.Generator``) for new-group effects and response draws.

    Examples
    --------
    >>> new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "308"]})
    >>> draws, inputs = predict_draws(fit.idata, fit.meta, fit.design, new, kind="response", seed=1)
    >>> draws.shape
    (400, 2)
    """
    if kind not in KINDS:
        raise PredictionError(f"kind must be one of {KINDS}, got {kind!r}")
    if groups not in GROUPS:
        raise PredictionError(f"groups must be one of {GROUPS}, got {groups!r}")
    bad_draws = isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1
    if draws is not None and bad_draws:
        raise PredictionError(f"draws must be a positive integer or None, got {draws!r}")
    ordinal = get_family(meta["family"]).ordinal
    if kind == "probs" and not ordinal:
        raise PredictionError("kind='probs' (category probabilities) needs an ordinal family")
    rng = np.random.default_rng(seed)
    inputs = inputs if inputs is not None else prediction_inputs(idata, meta, design, newdata)
    post = internal(idata)
    idx_draws = thin_indexes(int(post.sizes["chain"] * post.sizes["draw"]), draws)
    nb = len(meta["blocks"])
    link = meta["link"]
    family = get_family(meta["family"])
    # the response mean given the inverse link where it is not the inverse link itself:
    # families with a zero part ((1 - zi) mu), lognormal (exp(mu + sigma^2 / 2))
    response = None
    if family.response_mean is not None and kind == "mean":
        aux = aux_draws(idata, family, idx_draws, meta=meta, dpar_X=inputs.dpar_X)

        def response(m):
            return family.expected(m, aux, None)

    # the latent AR(1) process of an ar() term: sampled, drawn, or integrated (variance v_ar)
    process, v_ar = latent_part(idata, meta, inputs, kind, groups, rng, idx_draws)
    if groups == "none" or (groups == "marginal" and kind != "response"):
        eta = linpred(
            idata,
            meta,
            inputs.X,
            inputs.groups,
            inputs.offset,
            include=[False] * nb,
            draws=idx_draws,
            process=process,
        )
        v = re_variance(idata, meta, inputs, idx_draws) if groups == "marginal" and nb else None
        v = v_ar if v is None else (v if v_ar is None else v + v_ar)
        if ordinal and kind in ("mean", "probs"):
            args = (integration, n_mc, rng)
            return ordinal_prediction(idata, meta, eta, kind, v, idx_draws, *args), inputs
        if kind == "mean" and v is not None:
            plain = process is None and v_ar is None and response is None
            cols = distinct_rows(inputs) if plain and integration == "quadrature" else None
            if cols is not None:  # rows of one (x, offset, z) pattern share their mean
                first, back = cols
                mu = marginal_mean(link, eta[:, first], v[:, first], integration=integration)
                return mu[:, back], inputs
            mu = marginal_mean(
                link,
                eta,
                v,
                integration=integration,
                n_mc=n_mc,
                rng=rng,
                response=response,
            )
            return mu, inputs
    else:
        if groups == "observed":
            which = [idx < 0 for idx, _ in inputs.groups]
            unseen = inputs.unseen(meta)
            if unseen and warn:
                listed = "; ".join(
                    f"{f}: {', '.join(map(str, v[:10]))}{' ...' if len(v) > 10 else ''}"
                    for f, v in unseen.items()
                )
                warnings.warn(
                    f"levels not in the fitted data are predicted as new groups "
                    f"(effects drawn from the fitted distribution): {listed}",
                    NewLevelsWarning,
                    stacklevel=3,
                )
        else:  # "new"; or a marginal response, where every row is its own new cluster
            which = [np.ones(inputs.n, dtype=bool) for _ in inputs.groups]
        target = inputs
        if groups == "marginal":
            target = replace(inputs, keys=[np.arange(inputs.n).astype(str)] * nb)
        effects, grp = new_effects(idata, meta, target, which, rng, idx_draws)
        eta = linpred(
            idata, meta, inputs.X, grp, inputs.offset, new_effects=effects, draws=idx_draws,
            process=process,
        )
        if v_ar is not None and kind in ("mean", "probs"):  # the process integrated out
            if ordinal:
                args = (integration, n_mc, rng)
                return ordinal_prediction(idata, meta, eta, kind, v_ar, idx_draws, *args), inputs
            mu = marginal_mean(link, eta, v_ar, integration=integration, n_mc=n_mc, rng=rng,
                               response=response)
            return mu, inputs
    if kind == "linpred":
        return eta, inputs
    if ordinal and kind != "response":
        return ordinal_prediction(idata, meta, eta, kind, None, idx_draws), inputs
    mu = inverse_link(link, eta)
    if kind == "mean":
        return (mu if response is None else response(mu)), inputs
    yrep = sample_response(idata, meta, mu, inputs.trials, rng, idx_draws, inputs.dpar_X)
    return (yrep + 1.0 if ordinal else yrep), inputs  # ordinal: category index 1..K


def predict(
    idata,
    meta,
    design,
    newdata: pd.DataFrame | None = None,
    *,
    kind: str = "mean",
    groups: str = "observed",
    prob: float = 0.95,
    summary: bool = True,
    draws: int | None = None,
    seed=None,
    integration: str = "quadrature",
    n_mc: int = 1000,
):
    """Predict from a fit.

    Parameters
    ----------
    idata, meta, design
        Posterior tree, model description and design of a fit (``fit.idata``,
        ``fit.meta``, ``fit.design``).
    newdata
        Rows to predict (default: the fitted data). Needs the predictors and grouping columns
        (and the offset / trials columns where the model has them).
    kind
        ``"mean"``, ``"linpred"``, ``"response"`` or, for an ordinal model, ``"probs"``
        (category probabilities: one column per category, or draws with a ``category`` dim).
    groups
        ``"observed"``, ``"new"``, ``"none"`` or ``"marginal"`` (see the module docstring).
    prob
        Probability of the central interval.
    summary
        Return one summary row per input row (``True``) or the draws (``False``).
    draws, seed, integration, n_mc
        Number of posterior draws used; random seed; how ``"marginal"`` means are integrated
        and with how many Monte Carlo draws.

    Returns
    -------
    pandas.DataFrame or xarray.DataArray
        With ``summary``: the input columns plus ``mean``, ``sd`` and the interval bounds;
        ``attrs["new_levels"]`` lists the levels predicted as new groups. Otherwise the draws as
        a DataArray with dims ``("sample", "obs")``.

    Raises
    ------
    PredictionError
        For a bad ``kind``/``groups``, or new data lacking a needed column.

    Examples
    --------
    >>> new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "a new subject"]})
    >>> table = predict(fit.idata, fit.meta, fit.design, new.iloc[:1], groups="observed")
    >>> list(table.columns)
    ['Days', 'Subject', 'mean', 'sd', '2.5%', '97.5%']
    >>> newcomer = predict(fit.idata, fit.meta, fit.design, new, groups="new", seed=1)
    >>> bool(newcomer["sd"].min() > 20)  # a new subject is uncertain
    True
    """
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0 < prob < 1:
        raise PredictionError(f"prob must be a number strictly between 0 and 1, got {prob!r}")
    d, inputs = predict_draws(
        idata, meta, design,
        newdata,
        kind=kind,
        groups=groups,
        draws=draws,
        seed=seed,
        integration=integration,
        n_mc=n_mc,
    )
    new_levels = inputs.unseen(meta) if groups == "observed" else {}
    if kind == "probs":
        return _probs_output(d, inputs, meta, groups, new_levels, summary)
    if not summary:
        return xr.DataArray(
            d,
            dims=("sample", "obs"),
            name=kind,
            attrs={"kind": kind, "groups": groups, "new_levels": str(new_levels)},
        )
    lo_name, hi_name = interval_columns(prob)
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    out = inputs.data.reset_index(drop=True).copy()
    out["mean"] = d.mean(axis=0)
    out["sd"] = d.std(axis=0, ddof=1)
    out[lo_name] = np.quantile(d, lo, axis=0)
    out[hi_name] = np.quantile(d, hi, axis=0)
    out.attrs.update({"kind": kind, "groups": groups, "new_levels": new_levels})
    return out


def _probs_output(d, inputs, meta, groups, new_levels, summary):
    """Category probabilities: a column per category (posterior means), or the draws."""
    labels = list(meta.get("categories") or range(1, d.shape[-1] + 1))
    if not summary:
        return xr.DataArray(
            d,
            dims=("sample", "obs", "category"),
            coords={"category": [str(c) for c in labels]},
            name="probs",
            attrs={"kind": "probs", "groups": groups, "new_levels": str(new_levels)},
        )
    out = inputs.data.reset_index(drop=True).copy()
    means = d.mean(axis=0)
    for k, label in enumerate(labels):
        out[f"P({label})"] = means[:, k]
    out.attrs.update({"kind": "probs", "groups": groups, "new_levels": new_levels})
    return out
