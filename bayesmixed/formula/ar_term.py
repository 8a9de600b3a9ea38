"""The ``ar(time = t, gr = g, p = 1)`` formula term (autocorrelated residuals), brms syntax.

Arguments may be named (``time``, ``gr``, ``p``) or positional in that order, as in brms:
``ar(t, g)`` is ``ar(time = t, gr = g)``. Only first-order processes (``p = 1``) are supported.
The scanner in :mod:`bayesmixed.formula.parse` finds the call and hands its arguments here.
"""

from __future__ import annotations

import re

from bayesmixed.errors import FormulaError
from bayesmixed.formula.terms import ARTerm

__all__ = ["ar_from_args", "ar_from_dict"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z_0-9.]*$")
_KEYS = ("time", "gr", "p")


def _order(value, where: str) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"\d+", text):
        raise FormulaError(f"p in {where} must be a whole number (only p = 1 is supported)")
    p = int(text)
    if p != 1:
        raise FormulaError(
            f"{where}: only first-order autocorrelation (p = 1) is supported, got p = {p}"
        )
    return p


def _column(value, key: str, where: str) -> str:
    text = str(value).strip()
    if not _NAME.match(text):
        raise FormulaError(f"{key} in {where} must be a column name, got {text!r}")
    return text


def ar_from_dict(d: dict, where: str) -> ARTerm:
    """An :class:`ARTerm` from named values (``time`` required, ``gr`` and ``p`` optional).

    Examples
    --------
    >>> str(ar_from_dict({"time": "t", "gr": "Rat"}, "ar"))
    'ar(time = t, gr = Rat)'
    >>> ar_from_dict({"time": "t", "p": 2}, "ar")
    Traceback (most recent call last):
    ...
    bayesmixed.errors.FormulaError: ar: only first-order autocorrelation (p = 1) is supported,
    got p = 2
    """
    unknown = set(d) - set(_KEYS)
    if unknown:
        raise FormulaError(
            f"{where} has unknown argument {sorted(unknown)[0]!r}; use time, gr and p"
        )
    if d.get("time") is None:
        raise FormulaError(f"{where} needs the time column, as in ar(time = t, gr = g)")
    gr = d.get("gr")
    return ARTerm(
        _column(d["time"], "time", where),
        None if gr is None else _column(gr, "gr", where),
        _order(d.get("p", 1), where),
    )


def ar_from_args(args: list[str], where: str) -> ARTerm:
    """An :class:`ARTerm` from the arguments of an ``ar(...)`` call, split at top-level commas.

    Examples
    --------
    >>> str(ar_from_args(["t", "g"], "ar(t, g)"))
    'ar(time = t, gr = g)'
    >>> str(ar_from_args(["gr = g", "time = t", "p = 1"], "ar(...)"))
    'ar(time = t, gr = g)'
    """
    named: dict[str, str] = {}
    if len(args) == 1 and not args[0].strip():
        args = []
    for i, arg in enumerate(a.strip() for a in args):
        if not arg:
            raise FormulaError(f"empty argument in {where}")
        key, eq, value = arg.partition("=")
        if eq:
            key = key.strip()
            if key not in _KEYS:
                raise FormulaError(f"{where} has unknown argument {key!r}; use time, gr and p")
        elif i < len(_KEYS):
            key, value = _KEYS[i], arg
        else:
            raise FormulaError(f"{where} takes at most three arguments: time, gr and p")
        if key in named:
            raise FormulaError(f"{where} gives {key} twice")
        named[key] = value.strip()
    return ar_from_dict(named, where)
