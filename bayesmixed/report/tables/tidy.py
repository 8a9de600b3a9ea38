"""Tidy tables in broom.mixed's layout, and data grids in marginaleffects' style.

:func:`tidy_table` gives one row per estimate with broom.mixed's columns ``effect``, ``group``,
``level`` (random-effect values only), ``term``, ``estimate``, ``std.error``, ``conf.low`` and
``conf.high``, and broom.mixed's term spelling: ``(Intercept)``, ``sd__(Intercept)``,
``cor__(Intercept).x``, and the residual sd as ``sd__Observation`` in group ``Residual``. For a
posterior the estimate is the posterior mean, ``std.error`` the posterior sd and the interval
the central posterior interval (as broom.mixed's ``tidy`` of a brms idata, meta, design).

:func:`datagrid` builds the rows predictions are asked for: every combination of the values
given, the other model columns held at a typical value (mean of a numeric column, the most
frequent value of any other one, grouping factors included), as marginaleffects' ``datagrid``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from bayesmixed.design.validate import used_columns
from bayesmixed.errors import PredictionError
from bayesmixed.names import cor_label, sd_label
from bayesmixed.report.core.draws import interval_columns
from bayesmixed.report.tables.ranef import ranef_table
from bayesmixed.report.tables.summary import summary_table

__all__ = ["EFFECTS", "TIDY_COLUMNS", "datagrid", "tidy_table"]

#: the kinds of rows, as broom.mixed names them
EFFECTS = ("fixed", "ran_pars", "ran_vals")
TIDY_COLUMNS = ["effect", "group", "level", "term", "estimate", "std.error", "conf.low",
                "conf.high"]


def _term(name: str) -> str:
    """broom's spelling of a coefficient: the intercept in parentheses."""
    return "(Intercept)" if name == "Intercept" else name


def _ran_par_names(meta: dict) -> dict[str, tuple[str, str]]:
    """Summary row -> (group, broom term) for every sd, correlation and auxiliary parameter."""
    out: dict[str, tuple[str, str]] = {}
    for blk in meta["blocks"]:
        f, ts = blk["factor"], blk["terms"]
        for t in ts:
            out[sd_label(t, f)] = (f, f"sd__{_term(t)}")
        if blk["correlated"]:
            for i, j in itertools.combinations(range(len(ts)), 2):
                out[cor_label(ts[i], ts[j], f)] = (f, f"cor__{_term(ts[i])}.{_term(ts[j])}")
    out["sigma"] = ("Residual", "sd__Observation")
    return out


def tidy_table(
    idata,
    meta: dict,
    effects: str | Iterable[str] = ("fixed", "ran_pars"),
    prob: float = 0.95,
    exponentiate: bool = False,
) -> pd.DataFrame:
    """Estimates in broom.mixed's tidy layout.

    Parameters
    ----------
    idata, meta
        Posterior DataTree and model description of a fit.
    effects
        ``"fixed"`` (population-level coefficients), ``"ran_pars"`` (sds, correlations and
        auxiliary parameters), ``"ran_vals"`` (random effects per level), or several.
    prob
        Probability of the central interval.
    exponentiate
        ``exp`` of the fixed effects (odds or rate ratios), draw by draw.

    Returns
    -------
    pandas.DataFrame
        Columns effect, group, level, term, estimate, std.error, conf.low, conf.high.

    Examples
    --------
    >>> tidy_table(fit.idata, fit.meta)["term"].tolist()
    ['(Intercept)', 'Days', 'sd__(Intercept)', 'sd__Days', 'cor__(Intercept).Days', 'sd__Observation']
    >>> tidy_table(fit.idata, fit.meta)["group"].tolist()[2:]
    ['Subject', 'Subject', 'Subject', 'Residual']
    >>> tidy_table(fit.idata, fit.meta, "ran_vals").shape
    (36, 8)
    """
    wanted = [effects] if isinstance(effects, str) else list(effects)
    bad = [e for e in wanted if e not in EFFECTS]
    if bad:
        raise PredictionError(f"effects must be among {EFFECTS}, got {bad[0]!r}")
    lo, hi = interval_columns(prob)
    parts = []
    if {"fixed", "ran_pars"} & set(wanted):
        table = summary_table(idata, meta, exponentiate=exponentiate, prob=prob)
        table.index = list(meta["x_names"]) + list(table.index[len(meta["x_names"]):])
        ran = _ran_par_names(meta)
        for name, row in table.iterrows():
            # zero-part coefficients (kind "zi" / "hu") are fixed effects, as broom.mixed's
            # component "zi": term "zi_(Intercept)", "zi_x"; so are ordinal thresholds (kind
            # "threshold", term "Intercept[k]")
            zero = row["kind"] in ("zi", "hu")
            fixed = row["kind"] in ("fixed", "threshold") or zero
            effect = "fixed" if fixed else "ran_pars"
            if effect not in wanted:
                continue
            if zero:
                dpar, _, rest = str(name).partition("_")
                group, term = np.nan, f"{dpar}_{_term(rest)}"
            elif effect == "ran_pars":
                group, term = ran.get(name, ("Residual", name))
            elif row["kind"] == "threshold":
                group, term = np.nan, str(name)
            else:
                group, term = np.nan, _term(name)
            parts.append({"effect": effect, "group": group, "level": np.nan, "term": term,
                          "estimate": row["mean"], "std.error": row["sd"],
                          "conf.low": row[lo], "conf.high": row[hi]})
    rows = pd.DataFrame(parts, columns=TIDY_COLUMNS)
    if "ran_vals" in wanted:
        r = ranef_table(idata, meta, prob=prob)
        vals = pd.DataFrame({"effect": "ran_vals", "group": r["factor"], "level": r["level"],
                             "term": r["term"].map(_term), "estimate": r["mean"],
                             "std.error": r["sd"], "conf.low": r[lo], "conf.high": r[hi]})
        rows = pd.concat([rows, vals], ignore_index=True) if len(rows) else vals
    order = {e: i for i, e in enumerate(EFFECTS)}
    rows = rows.sort_values("effect", key=lambda s: s.map(order), kind="stable")
    if "ran_vals" not in wanted:
        rows = rows.drop(columns="level")
    return rows.reset_index(drop=True)


def datagrid(idata, meta, design, /, **values) -> pd.DataFrame:
    """Rows for predictions: all combinations of ``values``, other columns typical.

    Parameters
    ----------
    idata, meta, design
        A fit's parts (the design's spec and data are read).
    **values
        Column -> a value or a list of values. Columns the model uses and not named here are
        held at their mean (numeric) or most frequent value (anything else, grouping factors
        included), as marginaleffects' ``datagrid``.

    Returns
    -------
    pandas.DataFrame
        One row per combination, with every column the model uses (the response excluded), in
        the fitted columns' types; ready for ``fit.predict``.

    Examples
    --------
    >>> grid = datagrid(fit.idata, fit.meta, fit.design, Days=[0, 5, 9])
    >>> grid["Days"].tolist(), grid["Subject"].nunique()
    ([0, 5, 9], 1)
    """
    data = design.data
    used = used_columns(design.spec, data.columns)
    response = {c for c, where in used.items() if where.startswith("response")}
    columns = [c for c in used if c not in response and c in data.columns]
    unknown = [c for c in values if c not in columns]
    if unknown:
        raise PredictionError(
            f"datagrid: column {unknown[0]!r} is not a predictor or grouping column of the model "
            f"(those are {columns})")
    typical = {c: _typical(data[c], used[c].startswith("grouping")) for c in columns
               if c not in values}
    given = {c: v if isinstance(v, list | tuple | np.ndarray | pd.Series) else [v]
             for c, v in values.items()}
    combos = list(itertools.product(*given.values())) if given else [()]
    grid = pd.DataFrame(combos, columns=list(given))
    for c, v in typical.items():
        grid[c] = [v] * len(grid)
    grid = grid[columns]
    for c in columns:  # keep the fitted column's type (a category stays a category)
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            grid[c] = pd.Categorical(grid[c], categories=data[c].cat.categories,
                                     ordered=data[c].cat.ordered)
    return grid


def _typical(col: pd.Series, grouping: bool = False):
    """Mean of a numeric (non-boolean) predictor, the most frequent value of any other column
    (a grouping factor held in integers included)."""
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric and not grouping:
        return float(col.mean())
    return col.mode(dropna=True).iloc[0]
