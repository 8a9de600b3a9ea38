"""Every kind of data frame in: one conversion to pandas at the entry.

Users hold data in pandas, polars (eager or lazy), pyarrow Tables, dicts of arrays, or any other
frame `narwhals <https://narwhals-dev.github.io/narwhals/>`_ understands (modin, cuDF, DuckDB
relations, ...). The rest of bayesmixed works on pandas, so :func:`as_pandas` converts once, at
the entry (``bm.fit``, ``prepare``, ``prior_predictive``, ``predict``, ``effects``,
``simulate``); after that the same checks name the same columns whatever came in. Categorical
and enum columns keep their categories and order (polars ``Enum`` becomes an ordered pandas
categorical).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayesmixed.errors import DataError

__all__ = ["KINDS", "as_pandas"]

#: what the entry accepts, for error messages
KINDS = ("a pandas, polars (eager or lazy) or other narwhals-supported data frame, a pyarrow "
         "Table, or a dict of equal-length columns")


def as_pandas(data: Any, what: str = "data", error: type[Exception] = DataError) -> pd.DataFrame:
    """``data`` as a pandas DataFrame (the same object when it already is one).

    Parameters
    ----------
    data
        A pandas, polars or pyarrow frame (lazy frames are collected), any frame narwhals
        supports, or a mapping of column name to equal-length arrays.
    what
        How error messages name the argument (``"data"``, ``"newdata"``).
    error
        The exception class raised for input that is not a data frame.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        (or ``error``) naming the type given, or the columns of a dict whose lengths differ.

    Examples
    --------
    >>> as_pandas({"y": [1.0, 2.0], "g": ["a", "b"]}).shape
    (2, 2)
    >>> import pyarrow as pa
    >>> as_pandas(pa.table({"y": [1.0, 2.0]}))["y"].tolist()
    [1.0, 2.0]
    >>> as_pandas([1, 2])
    Traceback (most recent call last):
    ...
    bayesmixed.errors.DataError: data must be a pandas, polars (eager or lazy) or other
    narwhals-supported data frame, a pyarrow Table, or a dict of equal-length columns; got list
    >>> as_pandas({"y": [1.0, 2.0], "x": [1.0]})
    Traceback (most recent call last):
    ...
    bayesmixed.errors.DataError: the columns of the dict given as data differ in length: y: 2, x: 1
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return _from_mapping(data, what, error)
    import narwhals as nw

    try:
        frame = nw.from_native(data)
    except TypeError:
        raise error(f"{what} must be {KINDS}; got {type(data).__name__}") from None
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, nw.DataFrame):  # a bare series
        raise error(f"{what} must be {KINDS}; got a series ({type(data).__name__})")
    return frame.to_pandas()


def _from_mapping(data: Mapping, what: str, error: type[Exception]) -> pd.DataFrame:
    """A dict of columns as a DataFrame; columns of different lengths are named."""
    lengths = {str(k): len(v) for k, v in data.items() if np.ndim(v) > 0}  # scalars broadcast
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise error(f"the columns of the dict given as {what} differ in length: {listed}")
    try:
        return pd.DataFrame(dict(data))
    except ValueError as exc:
        raise error(f"cannot make a data frame of the dict given as {what}: {exc}") from None
