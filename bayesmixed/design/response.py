"""The response column(s) of a spec, checked against the family and converted to numbers
(:func:`response_data`): counts, binary outcomes, ordinal categories, open ranges, known
standard errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmixed.design.evaluate import evaluate
from bayesmixed.errors import DataError
from bayesmixed.families import Family
from bayesmixed.formula.terms import ModelSpec

__all__ = ["ResponseData", "finite_values", "response_data"]


def finite_values(s: pd.Series) -> np.ndarray:
    """Whether each value of ``s`` is finite (always true for a non-numeric column).

    Examples
    --------
    >>> finite_values(pd.Series([1.0, np.inf, np.nan])).tolist()
    [True, False, False]
    """
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
