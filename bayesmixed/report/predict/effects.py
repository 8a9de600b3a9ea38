"""Average marginal effects and contrasts on the response scale, conditional and
population-averaged.

Every effect is an *average predictive comparison* over the rows of the data (or of ``data``):
each row is predicted twice, once with the variable set to ``a`` and once with it set to ``b``
(or nudged by ``h`` for a derivative), the predicted means are averaged over rows draw by draw,
and the comparison of the two averages is summarized over draws.

Two kinds of prediction (``type`` column):

- ``conditional``: random effects at zero, i.e. for a typical cluster (``groups="none"``);
- ``population-averaged``: integrated over the random-effects distribution
  (``groups="marginal"``); under a logit link these are smaller in magnitude
  (Zeger, Liang & Albert 1988);
- optionally ``observed``: each row with its own cluster's effects (in-sample clusters).

Measures: ``difference`` (risk difference for binary outcomes, rate difference for counts),
``ratio`` (risk ratio / rate ratio) and, for bernoulli/binomial, ``odds_ratio`` of the averaged
probabilities; ``ame`` (average derivative ``d E[y] / dx``) for a numeric variable.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bayesmixed.design.frames import as_pandas
from bayesmixed.design.levels import level_key
from bayesmixed.errors import PredictionError
from bayesmixed.families import get_family
from bayesmixed.report.core.draws import summary_row
from bayesmixed.report.predict.predict import predict_draws

__all__ = ["effect_curve", "effects_table", "is_categorical"]

TYPES = {"conditional": "none", "population-averaged": "marginal", "observed": "observed"}


def is_categorical(values: pd.Series) -> bool:
    """Whether a predictor is compared level by level (non-numeric, or numeric 0/1).

    Examples
    --------
    >>> import pandas as pd
    >>> is_categorical(pd.Series(["a", "b"])), is_categorical(pd.Series([0, 1, 1]))
    (True, True)
    >>> is_categorical(pd.Series([0.5, 1.5, 2.0]))
    False
    """
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    return set(pd.unique(values.dropna())) <= {0, 1}


def _levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    return sorted(pd.unique(values.dropna()).tolist())


def _set(data: pd.DataFrame, column: str, value, grouping: bool = False) -> pd.DataFrame:
    """``data`` with every row of ``column`` set to ``value``, in the column's type.

    A grouping column takes a value its type cannot hold as it is (``"new-person"`` or ``2.5``
    in an integer column, a category not in the categories): the prediction then matches it to
    the fitted levels as text (:func:`~bayesmixed.design.levels.match_levels`) or makes it a new
    group, instead of failing or silently changing the level.
    """
    out = data.copy()
    dtype = data[column].dtype
    repeated = [value] * len(out)
    try:
        if isinstance(dtype, pd.CategoricalDtype):
            new = pd.Series(pd.Categorical(repeated, categories=dtype.categories), index=out.index)
            kept = not new.isna().any()
        else:
            new = pd.Series(repeated, index=out.index).astype(dtype)
            kept = new.empty or level_key(new.iloc[0]) == level_key(value)
    except (TypeError, ValueError):
        if not grouping:
            raise
        kept = False
    if grouping and not kept:
        new = pd.Series(repeated, index=out.index, dtype=object)
    out[column] = new
    return out


def _grouping_columns(idata, meta, design) -> set[str]:
    """The data columns the fit's grouping factors are made of."""
    return {c.strip() for b in design.blocks for c in b.factor.split(":")}


def _grid(at: Mapping | None) -> list[dict]:
    if not at:
        return [{}]
    keys = list(at)
    vals = [v if isinstance(v, list | tuple | np.ndarray) else [v] for v in at.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*vals)]


def _avg_mean(idata, meta, design, data: pd.DataFrame, groups: str, draws, seed) -> np.ndarray:
    mu, _ = predict_draws(
        idata, meta, design, data, kind="mean", groups=groups, draws=draws, seed=seed, warn=False
    )
    return mu.mean(axis=1)


def _check(idata, meta, design, variable: str, data: pd.DataFrame, types: Sequence[str]) -> None:
    if variable not in data.columns:
        raise PredictionError(f"{variable!r} is not a column of the data")
    bad = [t for t in types if t not in TYPES]
    if bad:
        raise PredictionError(f"unknown effect type {bad[0]!r}; choose from {list(TYPES)}")


def effects_table(
    idata,
    meta,
    design,
    variable: str,
    *,
    values: Sequence | None = None,
    at: Mapping | None = None,
    types: Sequence[str] = ("conditional", "population-averaged"),
    data: pd.DataFrame | None = None,
    by: str | None = None,
    prob: float = 0.95,
    draws: int | None = None,
    seed=0,
) -> pd.DataFrame:
    """Average marginal effects / contrasts of ``variable``.

    Parameters
    ----------
    variable
        A data column used by the population-level formula.
    values
        For a categorical variable, the levels to compare with the first one (default all
        levels, each against the first). For a numeric variable, a pair ``(a, b)`` gives the
        contrast ``b`` vs ``a``; without it the average derivative (``ame``) is reported.
    at
        Columns held at fixed values (a value or a list of values; all combinations are
        reported, one block of rows per combination). A grouping column takes any level, of
        any type (``308`` or ``"308"``, or a new one); its effects count under ``"observed"``.
    types
        Which predictions: ``"conditional"``, ``"population-averaged"``, ``"observed"``.
    data
        Rows to average over (default: the fitted data); any data frame kind.
    by
        A data column: the effect is averaged separately over the rows of each of its values
        (marginaleffects' ``by``: subgroups of the observed rows, not counterfactual values as
        with ``at``); the table gets a column named ``by``.

    Returns
    -------
    pandas.DataFrame
        Columns variable, contrast, measure, type, the ``by`` and ``at`` columns, mean, sd and
        interval.

    Examples
    --------
    >>> table = effects_table(fit.idata, fit.meta, fit.design, "Days")  # effect of one more day
    >>> table[["contrast", "measure", "type"]].values.tolist()
    [['d/dDays', 'ame', 'conditional'], ['d/dDays', 'ame', 'population-averaged']]
    """
    data = design.data if data is None else as_pandas(data)
    _check(idata, meta, design, variable, data, types)
    if by is not None:
        return _by(idata, meta, design, variable, data, by, values=values, at=at, types=types, prob=prob,
                   draws=draws, seed=seed)
    grouping = _grouping_columns(idata, meta, design)
    fam = meta["family"]
    col = data[variable]
    rows = []
    for point in _grid(at):
        base = data
        for k, v in point.items():
            base = _set(base, k, v, grouping=k in grouping)
        for t in types:
            g = TYPES[t]
            if is_categorical(col):
                levels = _levels(col)
                ref = levels[0] if values is None or len(values) < 2 else values[0]
                others = [lv for lv in (levels[1:] if values is None else values) if lv != ref]
                comps = [(ref, lv) for lv in others]
            elif values is not None:
                if len(values) != 2:
                    raise PredictionError("for a numeric variable give values=(a, b)")
                comps = [tuple(values)]
            else:
                comps = []
            done: dict = {}  # the reference level's average is computed once, not per pair

            def avg_at(value, base=base, g=g, done=done):
                key = (type(value).__name__, repr(value))
                if key not in done:
                    done[key] = _avg_mean(idata, meta, design, _set(base, variable, value), g, draws,
                                           seed)
                return done[key]

            for a, b in comps:
                pa, pb = avg_at(a), avg_at(b)
                measures = {"difference": pb - pa, "ratio": pb / pa}
                if get_family(fam).uses_trials:
                    measures["odds_ratio"] = (pb / (1 - pb)) / (pa / (1 - pa))
                for m, d in measures.items():
                    rows.append(
                        {
                            "variable": variable,
                            "contrast": f"{b} - {a}" if m == "difference" else f"{b} / {a}",
                            "measure": m,
                            "type": t,
                            **point,
                            **summary_row(d, prob),
                        }
                    )
            if not comps:
                x = base[variable].astype(float)
                h = 1e-4 * max(float(np.std(col.astype(float))), 1e-8)
                lo = _avg_mean(idata, meta, design, base.assign(**{variable: x - h}), g, draws, seed)
                hi = _avg_mean(idata, meta, design, base.assign(**{variable: x + h}), g, draws, seed)
                rows.append(
                    {
                        "variable": variable,
                        "contrast": f"d/d{variable}",
                        "measure": "ame",
                        "type": t,
                        **point,
                        **summary_row((hi - lo) / (2 * h), prob),
                    }
                )
    return pd.DataFrame(rows)


def _by(idata, meta, design, variable: str, data: pd.DataFrame, by: str, **kwargs) -> pd.DataFrame:
    """:func:`effects_table` over the rows of each value of ``by``, stacked."""
    if by not in data.columns:
        raise PredictionError(f"by={by!r} is not a column of the data")
    if by == variable:
        raise PredictionError(f"by={by!r} is the variable whose effect is asked for")
    parts = []
    for value in _levels(data[by]):
        rows = data[(data[by] == value).to_numpy()]
        if len(rows):
            table = effects_table(idata, meta, design, variable, data=rows, **kwargs)
            table.insert(4, by, value)
            parts.append(table)
    return pd.concat(parts, ignore_index=True)


def effect_curve(
    idata,
    meta,
    design,
    variable: str,
    *,
    values: Sequence | None = None,
    types: Sequence[str] = ("conditional", "population-averaged"),
    at: Mapping | None = None,
    data: pd.DataFrame | None = None,
    prob: float = 0.95,
    draws: int | None = 400,
    seed=0,
    n_points: int = 25,
) -> pd.DataFrame:
    """Average predicted mean over the rows as ``variable`` varies (the data behind a
    marginal-effect plot).

    Returns
    -------
    pandas.DataFrame
        Columns ``variable`` (its value), type, the ``at`` columns, mean, sd and interval.

    Examples
    --------
    >>> curve = effect_curve(fit.idata, fit.meta, fit.design, "Days", values=[0, 5])
    >>> curve[["Days", "type"]].values.tolist()
    [[0, 'conditional'], [5, 'conditional'], [0, 'population-averaged'], [5, 'population-averaged']]
    """
    data = design.data if data is None else as_pandas(data)
    _check(idata, meta, design, variable, data, types)
    grouping = _grouping_columns(idata, meta, design)
    col = data[variable]
    if values is None:
        if is_categorical(col):
            values = _levels(col)
        else:
            values = np.linspace(float(col.min()), float(col.max()), n_points)
    rows = []
    for point in _grid(at):
        base = data
        for k, v in point.items():
            base = _set(base, k, v, grouping=k in grouping)
        for t in types:
            for v in values:
                d = _avg_mean(idata, meta, design, _set(base, variable, v), TYPES[t], draws, seed)
                rows.append({variable: v, "type": t, **point, **summary_row(d, prob)})
    out = pd.DataFrame(rows)
    out.attrs["variable"] = variable
    return out
