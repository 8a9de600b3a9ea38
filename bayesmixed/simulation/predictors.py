"""The simulated design: levels of the grouping factors, crossed, and predictor values drawn
per their spec (see :func:`bayesmixed.simulation.simulate`)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayesmixed.errors import SpecError

_DISTS = ("normal", "uniform", "binary", "lognormal")
_PREDICTOR_KEYS = {"dist", "levels", "by", "loc", "scale", "p"}


def _names(rhs: str) -> list[str]:
    import formulae as fm

    try:
        return sorted(v for v in fm.model_description(rhs).var_names if v)
    except Exception as exc:
        raise SpecError(f"cannot parse {rhs!r}: {exc}") from None


def _column_name(expr: str | None, what: str) -> str | None:
    if expr is None:
        return None
    if not expr.isidentifier():
        raise SpecError(
            f"cannot simulate the {what} {expr!r}: it must be a plain column name to be generated"
        )
    return expr


def _level_counts(columns: Sequence[str], n_groups: int | Mapping[str, int]) -> dict[str, int]:
    if isinstance(n_groups, Mapping):
        unknown = set(n_groups) - set(columns)
        if unknown:
            raise SpecError(
                f"n_groups names {sorted(unknown)[0]!r}, which is not a grouping column of the "
                f"model; grouping columns: {', '.join(columns) or '(none)'}"
            )
        missing = [c for c in columns if c not in n_groups]
        if missing:
            raise SpecError(
                f"n_groups gives no number of levels for grouping column {missing[0]!r}"
            )
        counts = {c: n_groups[c] for c in columns}
    else:
        counts = {c: n_groups for c in columns}
    for c, k in counts.items():
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
            raise SpecError(
                f"grouping column {c!r} needs an integer number of levels >= 2, got {k!r}"
            )
    return {c: int(k) for c, k in counts.items()}


def _layout(columns: Sequence[str], counts: Mapping[str, int], n_per_group: int,
            n_groups: Any) -> pd.DataFrame:
    """Every combination of grouping levels, ``n_per_group`` rows each."""
    bad = isinstance(n_per_group, bool) or not isinstance(n_per_group, int | np.integer)
    if bad or n_per_group < 1:
        raise SpecError(f"n_per_group must be an integer >= 1, got {n_per_group!r}")
    if not columns:
        if isinstance(n_groups, Mapping):
            raise SpecError("n_groups must be a number for a model without grouping factors")
        return pd.DataFrame(index=pd.RangeIndex(int(n_groups) * int(n_per_group)))
    labels = {c: [f"{c}{i + 1:0{len(str(counts[c]))}d}" for i in range(counts[c])] for c in columns}
    cells = list(itertools.product(*(labels[c] for c in columns)))
    rows = [cell for cell in cells for _ in range(int(n_per_group))]
    return pd.DataFrame(rows, columns=list(columns))


def _values(spec_value: Any, name: str, layout: pd.DataFrame, rng: np.random.Generator,
            positive: bool) -> Any:
    n = len(layout)
    if spec_value is None:
        return rng.uniform(0.5, 2.0, n) if positive else rng.standard_normal(n)
    if callable(spec_value):
        out = np.asarray(spec_value(rng, n))
        if out.shape != (n,):
            raise SpecError(f"the generator of predictor {name!r} must return {n} values")
        return out
    is_levels = isinstance(spec_value, list | tuple) and all(isinstance(v, str) for v in spec_value)
    if isinstance(spec_value, np.ndarray | pd.Series | list | tuple) and len(spec_value) == n \
            and not is_levels:
        return np.asarray(spec_value)
    if isinstance(spec_value, list | tuple):
        spec_value = {"levels": list(spec_value)}
    if isinstance(spec_value, str):
        spec_value = {"dist": spec_value}
    if not isinstance(spec_value, Mapping):
        raise SpecError(f"cannot generate predictor {name!r} from {spec_value!r}")
    unknown = set(spec_value) - _PREDICTOR_KEYS
    if unknown:
        raise SpecError(f"predictor {name!r}: unknown setting {sorted(unknown)[0]!r}; "
                        f"use {', '.join(sorted(_PREDICTOR_KEYS))}")
    by = spec_value.get("by")
    units = layout[by].to_numpy() if by is not None else np.arange(n)
    if by is not None and by not in layout.columns:
        raise SpecError(f"predictor {name!r} varies by {by!r}, which is not a grouping column")
    keys, inverse = np.unique(units, return_inverse=True)
    m = len(keys)
    if "levels" in spec_value:
        levels = [str(v) for v in spec_value["levels"]]
        if len(levels) < 2:
            raise SpecError(f"categorical predictor {name!r} needs at least two levels")
        per_unit = np.resize(np.array(levels, dtype=object), m)
        per_unit = per_unit[rng.permutation(m)]
        return pd.Series(per_unit[inverse], dtype="string").to_numpy(dtype=object)
    dist = str(spec_value.get("dist", "lognormal" if positive else "normal")).lower()
    if dist not in _DISTS:
        raise SpecError(f"predictor {name!r}: unknown dist {dist!r}; use {', '.join(_DISTS)}")
    loc, scale = float(spec_value.get("loc", 0.0)), float(spec_value.get("scale", 1.0))
    if dist == "normal":
        per_unit = loc + scale * rng.standard_normal(m)
    elif dist == "uniform":
        per_unit = rng.uniform(loc, loc + scale, m)
    elif dist == "lognormal":
        per_unit = np.exp(loc + scale * rng.standard_normal(m))
    else:
        per_unit = (rng.uniform(size=m) < float(spec_value.get("p", 0.5))).astype(np.int64)
    return per_unit[inverse]
