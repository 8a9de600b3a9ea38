"""Check a spec against data before anything is built, naming the culprit of every problem.

Guards PyMC's silent traps: NaN in an observed variable would be imputed, and float counts
would be truncated by a discrete likelihood. Both are refused here.
"""

from __future__ import annotations

import warnings

import formulae as fm
import numpy as np
import pandas as pd

from bayesmixed.design.evaluate import names_in
from bayesmixed.design.response import finite_values
from bayesmixed.errors import DataError, FormulaError
from bayesmixed.formula.terms import ModelSpec

__all__ = [
    "check_column_types",
    "check_columns",
    "check_new_data",
    "clean_rows",
    "used_columns",
]


def _formula_vars(rhs: str) -> set[str]:
    try:
        return {v for v in fm.model_description(rhs).var_names if v}
    except Exception as exc:
        raise FormulaError(f"cannot parse {rhs!r}: {exc}") from None


def used_columns(spec: ModelSpec, columns: pd.Index) -> dict[str, str]:
    """Map every column the spec uses to the term that uses it (for error messages).

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixed.formula.parse import parse_formula
    >>> used_columns(parse_formula("y ~ x + (1 | g)"), pd.Index(["y", "x", "g", "unused"]))
    {'y': 'response y', 'x': "term 'x'", 'g': 'grouping factor of (1 | g)'}
    """
    used: dict[str, str] = {}
    resp = spec.response
    for expr in (resp.expr, resp.other):
        if expr:
            for n in names_in(expr, columns):
                used.setdefault(n, f"response {resp}")
    if spec.offset:
        for n in names_in(spec.offset, columns):
            used.setdefault(n, f"offset({spec.offset})")
    for n in sorted(_formula_vars(spec.fixed)):
        used.setdefault(n, f"term {spec.fixed!r}")
    for g in spec.groups:
        for n in sorted(_formula_vars(g.expr)):
            used.setdefault(n, f"term {g}")
        for c in g.factor_columns:
            used.setdefault(c, f"grouping factor of {g}")
    for name, rhs in spec.dpars:
        for n in sorted(_formula_vars(rhs)):
            used.setdefault(n, f"{name} formula '~ {rhs}'")
    for c in spec.ar.columns if spec.ar is not None else ():
        used.setdefault(c, f"term {spec.ar}")
    return used


def check_columns(spec: ModelSpec, data: pd.DataFrame) -> dict[str, str]:
    """Raise :class:`DataError` for the first column the spec uses that the data lack.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixed.formula.parse import parse_formula
    >>> check_columns(parse_formula("y ~ x + (1 | g)"), pd.DataFrame({"y": [1.0], "x": [2.0]}))
    Traceback (most recent call last):
    ...
    bayesmixed.errors.DataError: column 'g' used in the grouping factor of (1 | g) is not in
    the data
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise DataError("data has no rows")
    used = used_columns(spec, data.columns)
    for col, where in used.items():
        if col not in data.columns:
            close = [c for c in data.columns if str(c).lower() == col.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(f"column {col!r} used in the {where} is not in the data{hint}")
    check_column_types(data, used)
    return used


def check_column_types(data: pd.DataFrame, used: dict[str, str]) -> None:
    """Refuse duplicated, date/time, complex and mixed text/number columns among ``used``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"x": pd.Series([1, "a"], dtype=object)})
    >>> check_column_types(data, {"x": "term 'x'"})
    Traceback (most recent call last):
    ...
    bayesmixed.errors.DataError: column 'x' (used in the term 'x') mixes text and numbers (e.g. 'a'
    and 1); make it all one type
    """
    for col, where in used.items():
        k = int((data.columns == col).sum())
        if k > 1:
            raise DataError(f"column {col!r} (used in the {where}) appears {k} times in the data")
        s = data[col]
        if (
            pd.api.types.is_datetime64_any_dtype(s)
            or pd.api.types.is_timedelta64_dtype(s)
            or (pd.api.types.is_complex_dtype(s))
        ):
            raise DataError(
                f"column {col!r} (used in the {where}) has dtype {s.dtype}; convert it to a "
                "number (e.g. days since a date) or to a category"
            )
        if s.dtype == object:
            vals = s.dropna()
            text = vals.map(lambda v: isinstance(v, str))
            if text.any() and not text.all():
                raise DataError(
                    f"column {col!r} (used in the {where}) mixes text and numbers (e.g. "
                    f"{vals[text].iloc[0]!r} and {vals[~text].iloc[0]!r}); make it all one type"
                )


def check_new_data(spec: ModelSpec, newdata: pd.DataFrame) -> None:
    """Refuse prediction data with no rows, or missing/infinite values in a column the model
    uses (the response, trials and offset columns may be absent).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from bayesmixed.formula.parse import parse_formula
    >>> check_new_data(parse_formula("y ~ x + (1 | g)"), pd.DataFrame({"x": [np.nan], "g": ["a"]}))
    Traceback (most recent call last):
    ...
    bayesmixed.errors.PredictionError: new data column 'x' (used in the term 'x') has 1 missing or
    infinite value(s) (rows [0])
    """
    from bayesmixed.errors import PredictionError

    if len(newdata) == 0:
        raise PredictionError("newdata has no rows")
    for col, where in used_columns(spec, newdata.columns).items():
        if col not in newdata.columns:
            continue
        s = newdata[col]
        bad = s.isna().to_numpy() | ~finite_values(s)
        if bad.any():
            raise PredictionError(
                f"new data column {col!r} (used in the {where}) has {int(bad.sum())} missing or "
                f"infinite value(s) (rows {list(newdata.index[np.flatnonzero(bad)][:5])})"
            )


def clean_rows(data: pd.DataFrame, used: dict[str, str], dropna: bool) -> tuple[pd.DataFrame, int]:
    """Refuse (or, with ``dropna``, drop and count) rows with NaN or inf in used columns.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> data = pd.DataFrame({"y": [1.0, np.nan, 3.0], "x": [1.0, 2.0, 3.0]})
    >>> kept, dropped = clean_rows(data, {"y": "response", "x": "x"}, dropna=True)
    >>> len(kept), dropped
    (2, 1)
    """
    bad = np.zeros(len(data), dtype=bool)
    first: tuple[str, int] | None = None
    for col in used:
        s = data[col]
        miss = s.isna().to_numpy() | ~finite_values(s)
        if miss.any() and first is None:
            first = (col, int(miss.sum()))
        bad |= miss
    if not bad.any():
        return data, 0
    if not dropna:
        col, k = first  # type: ignore[misc]
        bad = data[col].isna().to_numpy() | ~finite_values(data[col])
        rows = data.index[np.flatnonzero(bad)][:5]
        raise DataError(
            f"column {col!r} has {k} missing or infinite value(s) (rows {list(rows)}); "
            "clean them or pass dropna=True to drop such rows"
        )
    n_bad = int(bad.sum())
    warnings.warn(
        f"dropna=True: dropped {n_bad} of {len(data)} rows with missing or infinite values",
        UserWarning,
        stacklevel=3,
    )
    kept = data.loc[~bad]
    if len(kept) == 0:
        raise DataError("every row has a missing value in a used column")
    return kept, n_bad


