"""Evaluate response, trials and offset expressions against a data frame.

Expressions are Python expressions over column names with numpy functions available
(``log``, ``exp``, ``sqrt``, ``np.*``). A column whose name is not an identifier can be used
when the expression is exactly that name.
"""

from __future__ import annotations

import ast
import builtins

import numpy as np
import pandas as pd

from bayesmixed.errors import DataError, FormulaError

__all__ = ["evaluate", "names_in"]

_FUNCS = {
    "np": np,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "round": np.round,
    "scale": lambda v: (v - np.mean(v)) / np.std(v, ddof=1),
    "center": lambda v: v - np.mean(v),
    "I": lambda v: v,
}


def names_in(expr: str, columns: pd.Index | list[str]) -> set[str]:
    """Column names an expression refers to.

    Names that are neither columns nor known functions are returned too, so the caller can
    report them as missing columns.

    Examples
    --------
    >>> sorted(names_in("size - incidence", ["size", "incidence"]))
    ['incidence', 'size']
    """
    if expr in columns:
        return {expr}
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise FormulaError(f"cannot parse expression {expr!r}") from None
    called = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in _FUNCS and node.id not in called:
            if node.id in columns or not hasattr(builtins, node.id):
                out.add(node.id)
    return out


def evaluate(expr: str, data: pd.DataFrame, what: str = "expression") -> np.ndarray:
    """Evaluate ``expr`` row-wise on ``data``.

    Parameters
    ----------
    expr
        Column name or expression.
    data
        The data.
    what
        What the expression is (for error messages), e.g. ``"response"``.

    Returns
    -------
    numpy.ndarray
        One value per row.

    Examples
    --------
    >>> import pandas as pd
    >>> evaluate("n - s", pd.DataFrame({"n": [3, 4], "s": [1, 1]})).tolist()
    [2, 3]
    """
    if expr in data.columns:
        return data[expr].to_numpy()
    missing = sorted(n for n in names_in(expr, data.columns) if n not in data.columns)
    if missing:
        raise DataError(f"column {missing[0]!r} used in the {what} {expr!r} is not in the data")
    env = dict(_FUNCS)
    env.update(
        {c: data[c].to_numpy() for c in data.columns if isinstance(c, str) and c.isidentifier()}
    )
    try:
        value = eval(
            compile(ast.parse(expr, mode="eval"), "<formula>", "eval"), {"__builtins__": {}}, env
        )
    except Exception as exc:
        raise DataError(f"cannot evaluate the {what} {expr!r}: {exc}") from None
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(len(data), arr.item())
    if arr.shape != (len(data),):
        raise DataError(f"the {what} {expr!r} does not give one value per row")
    return arr
