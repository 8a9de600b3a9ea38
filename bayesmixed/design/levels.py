"""Group levels as text: labels of fitted levels and matching of new values to them.

A grouping factor's levels are labelled by their text (``str``), so ``3``, ``np.int64(3)`` and
``"3"`` name the same group. :func:`level_key` is the canonical text of one value (numpy scalars
as Python ones, integral floats as integers: ``3.0`` -> ``"3"``). :func:`match_levels` is the one
place that maps values in new data to the level indices of a fitted factor, whatever their type
relative to the fitted column (int vs str, category, numpy scalars, bool):

1. a value whose canonical key or plain text equals that of a fitted value is that level;
2. for a numeric fitted column, text holding a number (``"3"``, ``"3.0"``) is that number;
3. anything else is a new level, named by its canonical key.

Interaction (and nested) factors ``a:b`` are matched column by column, then joined with ``:``
as in the fitted labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["column_texts", "factor_texts", "level_key", "level_strings", "match_levels"]


def level_key(value: object) -> str:
    """Canonical text of one level value.

    Parameters
    ----------
    value
        A level: text, a Python or numpy number, a bool, or anything with a ``str``.

    Returns
    -------
    str
        ``str(value)``, except that numpy scalars count as the Python scalars they hold and a
        float holding an integer is written as that integer.

    Examples
    --------
    >>> level_key(3), level_key(np.int64(3)), level_key(3.0), level_key(np.float64(3.0))
    ('3', '3', '3', '3')
    >>> level_key(2.5), level_key("3.0"), level_key(np.True_), level_key("new-person")
    ('2.5', '3.0', 'True', 'new-person')
    """
    if isinstance(value, np.bool_ | np.number):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_number(value: object) -> bool:
    """Whether a value is a (Python or numpy) number other than a bool."""
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _parse_number(text: str) -> int | float | None:
    """The number a text holds (``" 3 "`` -> 3, ``"3.0"`` -> 3.0), or ``None``."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return None


def level_strings(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (sorted levels) and text labels of one grouping column.

    A categorical column keeps its category order (unused categories dropped). Values of
    different types that are equal as text (``3`` and ``"3"`` in one object column) are one
    level.

    Parameters
    ----------
    values
        The column.

    Returns
    -------
    codes, labels
        Level index per row (-1 for a missing value) and the label of each level.

    Examples
    --------
    >>> codes, labels = level_strings(pd.Series([10, 2, 10]))
    >>> codes.tolist(), labels
    ([1, 0, 1], ['2', '10'])
    >>> level_strings(pd.Series([3, "3", "a"], dtype=object))[1]
    ['3', 'a']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = list(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        used = sorted(set(codes.tolist()) - {-1})
        remap = {c: i for i, c in enumerate(used)} | {-1: -1}
        return np.array([remap[c] for c in codes], dtype=np.int64), [str(cats[c]) for c in used]
    if values.dtype == object and len({type(v) for v in values.to_numpy()}) > 1:
        # mixed types (3, "3", 3.0, True): one level per canonical text, not pandas' equality
        keys = [None if _missing(v) else level_key(v) for v in values.to_numpy()]
        codes, names = pd.factorize(pd.Series(keys, dtype=object), sort=True)
        return np.asarray(codes, dtype=np.int64), [str(n) for n in names]
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]


def _missing(value: object) -> bool:
    """Whether a value is missing (``None``, ``pd.NA``, NaN)."""
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return value is None or value is pd.NA


def _factorize(values: pd.Series) -> tuple[np.ndarray, list]:
    """Codes and unique values in order of appearance; in an object column values of different
    types stay apart (pandas takes ``True`` and ``1`` for one value)."""
    if values.dtype != object:
        codes, uniques = pd.factorize(values)
        return np.asarray(codes, dtype=np.int64), list(uniques)
    seen: dict[tuple[type, object], int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values.to_numpy()):
        codes[i] = -1 if _missing(v) else seen.setdefault((type(v), v), len(seen))
    return codes, [v for _, v in seen]


def _fitted_lookup(fitted: pd.Series) -> tuple[dict[str, str], bool]:
    """Text -> fitted label (canonical keys first, then the labels themselves), and whether
    every fitted value is a number."""
    codes, labels = level_strings(fitted)
    used, first = np.unique(codes, return_index=True)  # one row per level (-1: missing)
    raw = fitted.to_numpy(dtype=object)[first[used >= 0]]
    lookup: dict[str, str] = {}
    for value, code in zip(raw, used[used >= 0], strict=True):
        lookup.setdefault(level_key(value), labels[code])
    for label in labels:
        lookup.setdefault(label, label)
    return lookup, bool(len(raw)) and all(_is_number(v) for v in raw)


def column_texts(new: pd.Series, fitted: pd.Series) -> np.ndarray:
    """Text of each value of a new column: the fitted label it equals, else its canonical key.

    Parameters
    ----------
    new
        Values in new data (any type: text, numbers, numpy scalars, bools, a categorical).
    fitted
        The same column as fitted.

    Returns
    -------
    numpy.ndarray
        One ``str`` per value (object array).

    Examples
    --------
    >>> fitted = pd.Series([1, 2, 3])
    >>> column_texts(pd.Series(["3", 3.0, "3.0", "new-person"], dtype=object), fitted).tolist()
    ['3', '3', '3', 'new-person']
    >>> column_texts(pd.Series([308, 309.0]), pd.Series(["308", "309"])).tolist()
    ['308', '309']
    """
    lookup, numeric = _fitted_lookup(fitted)
    codes, uniques = _factorize(pd.Series(new))
    texts = []
    for u in uniques:
        key = level_key(u)
        number = _parse_number(u) if numeric and isinstance(u, str) else None
        if number is not None and key not in lookup:
            key = level_key(number)
        texts.append(lookup.get(key, lookup.get(str(u), key)))
    table = np.array([*texts, "nan"], dtype=object)  # code -1 (missing) -> "nan"
    return table[codes]


def factor_texts(newdata: pd.DataFrame, fitted: pd.DataFrame, factor: str) -> np.ndarray:
    """Level text of each row of ``newdata`` for a (possibly interaction) grouping factor.

    Parameters
    ----------
    newdata
        Rows holding the factor's columns.
    fitted
        The fitted data (pass ``newdata`` itself for the labels of one data set).
    factor
        Grouping factor as written (``"Subject"``, ``"batch:cask"``).

    Returns
    -------
    numpy.ndarray
        One ``str`` per row; for ``a:b`` the columns' texts joined with ``:``.

    Examples
    --------
    >>> fitted = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    >>> factor_texts(pd.DataFrame({"a": ["2", 7.0], "b": ["y", "x"]}), fitted, "a:b").tolist()
    ['2:y', '7:x']
    """
    cols = [c.strip() for c in factor.split(":")]
    parts = [column_texts(newdata[c], fitted[c]) for c in cols]
    if len(parts) == 1:
        return parts[0]
    return np.array([":".join(t) for t in zip(*parts, strict=True)], dtype=object)


def match_levels(
    newdata: pd.DataFrame, fitted: pd.DataFrame, factor: str, levels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Fitted level index of each row of ``newdata`` (-1 for a level not seen in fitting).

    Parameters
    ----------
    newdata
        Rows to match, holding the factor's columns.
    fitted
        The data the factor was fitted to.
    factor
        Grouping factor as written (``"Subject"``, ``"site:brood"``).
    levels
        The fitted level labels, in index order (``GroupBlock.levels``).

    Returns
    -------
    index, texts
        Level index per row (``int64``, -1 for a new level) and the level text per row (the
        fitted label, or the canonical key naming a new level).

    Examples
    --------
    >>> fitted = pd.DataFrame({"Subject": [308, 309, 310]})
    >>> new = pd.DataFrame({"Subject": ["309", np.float64(308.0), "new-person"]})
    >>> idx, texts = match_levels(new, fitted, "Subject", ["308", "309", "310"])
    >>> idx.tolist(), texts.tolist()
    ([1, 0, -1], ['309', '308', 'new-person'])
    """
    texts = factor_texts(newdata, fitted, factor)
    idx = pd.Index(list(levels), dtype=object).get_indexer(texts)
    return np.asarray(idx, dtype=np.int64), texts
