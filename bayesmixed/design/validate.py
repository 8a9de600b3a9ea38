"""Check a spec against data before anything is built, naming the culprit of every problem.

Guards PyMC's silent traps: NaN in an observed variable would be imputed, and float counts
would be truncated by a discrete likelihood. Both are refused here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import formulae as fm
import numpy as np
import pandas as pd

from bayesmixed.design.evaluate import evaluate, names_in
from bayesmixed.errors import DataError, FormulaError
from bayesmixed.families import Family
from bayesmixed.formula.terms import ModelSpec

__all__ = [
    "ResponseData",
    "check_column_types",
    "check_columns",
    "check_new_data",
    "clean_rows",
    "response_data",
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
        bad = s.isna().to_numpy() | ~_finite(s)
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
        miss = s.isna().to_numpy() | ~_finite(s)
        if miss.any() and first is None:
            first = (col, int(miss.sum()))
        bad |= miss
    if not bad.any():
        return data, 0
    if not dropna:
        col, k = first  # type: ignore[misc]
        rows = data.index[np.flatnonzero(data[col].isna().to_numpy() | ~_finite(data[col]))][:5]
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


def _finite(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return np.isfinite(s.to_numpy(dtype=float, na_value=np.nan))
    return np.ones(len(s), dtype=bool)


@dataclass(frozen=True)
class ResponseData:
    """The response as numbers the likelihood accepts.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixed.families import get_family
    >>> from bayesmixed.formula.parse import parse_formula
    >>> r = response_data(parse_formula("use ~ 1", "bernoulli"), get_family("bernoulli"), "logit",
    ...                   pd.DataFrame({"use": ["N", "Y", "Y"]}))
    >>> r.y.tolist(), r.note
    ([0, 1, 1], "'Y' coded as 1, 'N' as 0")
    """

    y: np.ndarray
    trials: np.ndarray | None
    note: str | None = None
    #: labels of the categories of an ordinal response, in order (code k is categories[k])
    categories: tuple[str, ...] | None = None


def _as_counts(values: np.ndarray, what: str) -> np.ndarray:
    if values.dtype == bool:
        return values.astype(np.int64)
    try:
        v = values.astype(float)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numeric counts, got values like {values[0]!r}") from None
    frac = v != np.round(v)
    if frac.any():
        raise DataError(
            f"{what} must be whole numbers; found {v[frac][0]:g} "
            f"({int(frac.sum())} non-integer value(s)); a discrete likelihood would truncate them"
        )
    neg = v < 0
    if neg.any():
        raise DataError(f"{what} must be non-negative; found {v[neg][0]:g}")
    return v.astype(np.int64)


def _binary(values: np.ndarray, what: str) -> tuple[np.ndarray, str | None]:
    s = pd.Series(values)
    if s.dtype == bool:
        return s.to_numpy().astype(np.int64), "True coded as 1"
    if pd.api.types.is_numeric_dtype(s):
        vals = set(np.unique(s.to_numpy(dtype=float)))
        if not vals <= {0.0, 1.0}:
            other = sorted(vals - {0.0, 1.0})[0]
            raise DataError(
                f"{what} must be 0/1 for family 'bernoulli'; found {other:g}. For counts out of "
                "trials use family='binomial' with cbind(s, f) or s | trials(n)"
            )
        return s.to_numpy().astype(np.int64), None
    levels = (
        list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.unique())
    )
    if len(levels) != 2:
        raise DataError(
            f"{what} must have exactly two levels for family 'bernoulli'; found {len(levels)}: "
            f"{levels[:5]}"
        )
    return (s == levels[1]).to_numpy().astype(
        np.int64
    ), f"{levels[1]!r} coded as 1, {levels[0]!r} as 0"


def _ordinal(values: np.ndarray, what: str) -> ResponseData:
    """Codes ``0..K-1`` of an ordered response and its category labels.

    An ordered categorical keeps every declared category, observed or not (an unobserved one
    still has its thresholds, identified by the prior only); numbers (integers) take their sorted
    distinct observed values. Unordered text has no order to use and is refused.
    """
    s = pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.dtype.ordered:
            raise DataError(
                f"{what} is an unordered categorical; declare the order, e.g. "
                "pd.Categorical(y, categories=[...], ordered=True)"
            )
        codes = s.cat.codes.to_numpy().astype(np.int64)
        labels = tuple(str(c) for c in s.cat.categories)
    elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype=float)
        if (v != np.round(v)).any():
            raise DataError(f"{what} must be whole numbers (ordered categories) for 'cumulative'")
        uniq = np.unique(v)
        codes = np.searchsorted(uniq, v).astype(np.int64)
        labels = tuple(f"{u:g}" for u in uniq)
    else:
        raise DataError(
            f"{what} must be an ordered categorical or integers for family 'cumulative'; "
            f"got values like {s.iloc[0]!r} with no declared order"
        )
    if len(labels) < 2:
        raise DataError(f"{what} needs at least two categories for family 'cumulative'")
    note = f"categories in order: {', '.join(labels)} (codes 0..{len(labels) - 1})"
    return ResponseData(codes, None, note, labels)
#: Response kinds on an open range: (lower, upper or None, description).
_OPEN_RANGES = {"positive": (0.0, None, "> 0"), "unit": (0.0, 1.0, "strictly between 0 and 1")}


def _in_open_range(y, what: str, family, data) -> np.ndarray:
    """``y`` as floats, checked to lie in the open range of ``family.response``."""
    try:
        yv = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numeric for family {family.name!r}") from None
    lo, hi, text = _OPEN_RANGES[family.response]
    bad = ~np.isfinite(yv) | (yv <= lo)
    if hi is not None:
        bad |= yv >= hi
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{what} must be {text} for family {family.name!r}: row {data.index[i]!r} has "
            f"{yv[i]!r} ({int(bad.sum())} such row{'s' if bad.sum() > 1 else ''})"
        )
    return yv


def _known_se(resp, family: Family, link: str, data: pd.DataFrame, y) -> ResponseData:
    """``y | se(s)``: a gaussian response with a known standard error per row."""
    if family.name not in ("gaussian", "gaussian_se") or link != "identity":
        raise DataError(
            f"response {resp} (known standard errors) needs family='gaussian' with the identity "
            f"link, not {family.name!r} with link {link!r}")
    try:
        yv = y.astype(float)
        se = evaluate(resp.other, data, "response").astype(float)
    except (TypeError, ValueError):
        raise DataError(f"response {resp}: values and standard errors must be numeric") from None
    bad = ~(np.isfinite(se) & (se > 0))
    if bad.any():
        raise DataError(
            f"standard errors {resp.other!r} must be positive and finite; found {se[bad][0]!r} "
            f"in {int(bad.sum())} row(s)")
    return ResponseData(yv, se, "known standard errors: no residual sigma")


def response_data(spec: ModelSpec, family: Family, link: str, data: pd.DataFrame) -> ResponseData:
    """Evaluate and check the response for ``family``.

    Raises
    ------
    DataError
        When the response does not fit the family: non 0/1 for bernoulli, negative or
        non-integer counts, successes above trials.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixed.families import get_family
    >>> from bayesmixed.formula.parse import parse_formula
    >>> spec = parse_formula("cbind(s, f) ~ 1", "binomial")
    >>> data = pd.DataFrame({"s": [2, 0], "f": [1, 4]})
    >>> r = response_data(spec, get_family("binomial"), "logit", data)
    >>> r.y.tolist(), r.trials.tolist()
    ([2, 0], [3, 4])
    """
    resp = spec.response
    what = f"response {resp.expr!r}"
    y = evaluate(resp.expr, data, "response")
    if resp.kind == "se":
        return _known_se(resp, family, link, data, y)
    if family.name == "gaussian_se":
        raise DataError("family 'gaussian_se' needs a response 'y | se(s)' with family gaussian")
    if resp.kind != "single" and family.response != "binomial":
        raise DataError(
            f"response {resp} gives successes out of trials: use family='binomial', not "
            f"{family.name!r}"
        )
    if family.response == "real":
        try:
            yv = y.astype(float)
        except (TypeError, ValueError):
            raise DataError(f"{what} must be numeric for family {family.name!r}") from None
        return ResponseData(yv, None)
    if family.response == "ordinal":  # a categorical column keeps its declared order
        col = data[resp.expr] if resp.expr in data.columns else None
        return _ordinal(col if isinstance(getattr(col, "dtype", None), pd.CategoricalDtype) else y, what)
    if family.response in _OPEN_RANGES:
        return ResponseData(_in_open_range(y, what, family, data), None)
    if family.response == "binary":
        yy, note = _binary(y, what)
        return ResponseData(yy, None, note)
    if family.response == "binomial":
        if resp.kind == "single":
            yy, note = _binary(y, what)
            return ResponseData(yy, np.ones_like(yy), note)
        s = _as_counts(y, f"successes {resp.expr!r}")
        other = _as_counts(
            evaluate(resp.other, data, "response"),
            f"{'failures' if resp.kind == 'cbind' else 'trials'} {resp.other!r}",
        )
        n = s + other if resp.kind == "cbind" else other
        over = s > n
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise DataError(
                f"successes {resp.expr!r} exceed trials {resp.other!r} in row {data.index[i]!r} "
                f"({s[i]} > {n[i]})"
            )
        if (n == 0).any():
            raise DataError(
                f"trials {resp.other!r} must be at least 1; found 0 in {int((n == 0).sum())} row(s)"
            )
        return ResponseData(s, n)
    return ResponseData(_as_counts(y, what), None)
