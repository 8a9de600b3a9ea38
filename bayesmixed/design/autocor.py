"""The series of an ``ar(time, gr)`` term: checks and the links between consecutive rows.

A series is the rows of one level of ``gr`` (all rows when ``gr`` is not given), ordered by
``time``. Times must be whole numbers, distinct within a series; a gap of ``d`` steps between
consecutive rows gives their residuals correlation ``phi^d`` (nlme ``corAR1`` with an integer
covariate). Rows need not be sorted. The links are encoded per row for the family row
:mod:`bayesmixed.families.autocor` (:func:`~bayesmixed.families.autocor.link_codes`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixed.errors import DataError, FamilyError
from bayesmixed.families import FAMILIES, Family, get_family
from bayesmixed.families.autocor import link_codes
from bayesmixed.formula.terms import ARTerm, ModelSpec

__all__ = ["ar_family", "is_latent", "series_codes"]


def ar_family(spec: ModelSpec, family: Family) -> Family:
    """The family fitted for ``spec``: the family's exact AR variant where it has one.

    With an ``ar()`` term, a family with an exact autocorrelated likelihood
    (``Family.exact_ar``: gaussian -> ``gaussian_ar1``) is replaced by it; any other family is
    kept and the term becomes a latent AR(1) process on the linear predictor
    (:func:`is_latent`, :mod:`bayesmixed.design.latent_ar`).

    Raises
    ------
    FamilyError
        For an ``ar()`` term with known standard errors (``y | se(s)``).

    Examples
    --------
    >>> from bayesmixed.formula.parse import parse_formula
    >>> spec = parse_formula("y ~ x + ar(t, g)")
    >>> ar_family(spec, get_family("gaussian")).name
    'gaussian_ar1'
    >>> ar_family(spec, get_family("poisson")).name  # a latent AR(1) process
    'poisson'
    >>> ar_family(parse_formula("y | se(s) ~ 1 + ar(t, g)"), get_family("gaussian"))
    Traceback (most recent call last):
    ...
    bayesmixed.errors.FamilyError: ar(time = t, gr = g) is not supported with known standard
    errors (y | se(s)): the residual sd is given there
    """
    if spec.ar is None:
        return family
    if spec.response.kind == "se":
        raise FamilyError(
            f"{spec.ar} is not supported with known standard errors (y | se(s)): the residual "
            "sd is given there"
        )
    return get_family(family.exact_ar) if family.exact_ar else family


def is_latent(spec: ModelSpec, family: Family) -> bool:
    """Whether ``spec``'s ``ar()`` term is a latent process (the fitted ``family`` has no exact
    AR likelihood of its own).

    Examples
    --------
    >>> from bayesmixed.formula.parse import parse_formula
    >>> spec = parse_formula("y ~ x + ar(t, g)")
    >>> is_latent(spec, get_family("bernoulli")), is_latent(spec, get_family("gaussian_ar1"))
    (True, False)
    """
    return spec.ar is not None and family.exact_ar is None and family.name not in _EXACT


#: the exact AR families themselves (what the table's ``exact_ar`` fields name)
_EXACT = frozenset(f.exact_ar for f in FAMILIES.values() if f.exact_ar)


def series_codes(ar: ARTerm, data: pd.DataFrame) -> np.ndarray:
    """Per row: the link to the previous row of its series (see the module docstring).

    Raises
    ------
    DataError
        For a time column that is not whole numbers or has a time twice within a series.

    Examples
    --------
    >>> data = pd.DataFrame({"t": [2, 1, 4, 1], "g": ["a", "a", "a", "b"]})
    >>> series_codes(ARTerm("t", "g"), data).tolist()  # row 0 follows row 1; row 2 is 2 steps on
    [1.0, -1.0, 4.0, -1.0]
    """
    t = _whole_times(ar.time, data[ar.time])
    n = len(t)
    keys = np.zeros(n, dtype=np.int64) if ar.gr is None else pd.factorize(data[ar.gr])[0]
    order = np.lexsort((t, keys))
    ts, ks = t[order], keys[order]
    same = np.zeros(n, dtype=bool)
    same[1:] = ks[1:] == ks[:-1]
    steps = np.zeros(n, dtype=np.int64)
    steps[1:] = ts[1:] - ts[:-1]
    dup = same & (steps == 0)
    if dup.any():
        i = order[np.flatnonzero(dup)[0]]
        where = f" within {ar.gr} = {data[ar.gr].iloc[i]!r}" if ar.gr else ""
        raise DataError(
            f"time column {ar.time!r} of {ar} has time {int(t[i])} twice{where}; each series "
            "needs distinct times"
        )
    prev = np.zeros(n, dtype=np.int64)
    gap = np.zeros(n, dtype=np.int64)
    prev[order[same]] = order[np.flatnonzero(same) - 1]
    gap[order[same]] = steps[same]
    return link_codes(prev, gap)


def _whole_times(col: str, s: pd.Series) -> np.ndarray:
    try:
        t = pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"time column {col!r} of an ar() term must hold whole numbers (measurement "
            f"index), got values like {s.iloc[0]!r}"
        ) from None
    bad = ~np.isfinite(t) | (t != np.round(t))
    if bad.any():
        raise DataError(
            f"time column {col!r} of an ar() term must hold whole numbers (measurement "
            f"index), got {s.iloc[int(np.flatnonzero(bad)[0])]!r}; use an integer index such "
            "as the measurement number within the series"
        )
    return t.astype(np.int64)
