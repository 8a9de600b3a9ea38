"""Spec + data -> numeric design: response, fixed-effects matrix, random-effects blocks.

Random effects are represented by an integer level index per row and a small ``(n, k)`` matrix
of the varying terms' columns: never a dense one-hot matrix over group levels. Everything here
is numpy/pandas; formulae builds the population-level and varying-term columns and remembers
how to rebuild them for new data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import formulae as fm
import numpy as np
import pandas as pd

from bayesmixed.design.autocor import ar_family, is_latent, series_codes
from bayesmixed.design.centering import NAMESPACE as CENTERING
from bayesmixed.design.evaluate import evaluate
from bayesmixed.design.frames import as_pandas
from bayesmixed.design.levels import level_strings
from bayesmixed.design.response import response_data
from bayesmixed.design.validate import check_columns, clean_rows
from bayesmixed.errors import DataError, FormulaError
from bayesmixed.families import Family, get_family, resolve_link
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.names import block_label

__all__ = ["Design", "GroupBlock", "build_design", "factor_codes", "safe_label"]


@dataclass
class GroupBlock:
    """One random-effects block, ready for the builder.

    Attributes
    ----------
    factor
        Grouping factor as written (``"school"``, ``"batch:cask"``).
    label
        Identifier-safe unique name used for model variables and dims.
    levels
        Level labels, in index order.
    index
        Level index of every row (``int64``, shape ``(n,)``).
    Z
        Varying-term columns, shape ``(n, k)``.
    terms
        Names of the varying terms (``("Intercept", "x")``).
    correlated
        Whether the block's effects are correlated.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.parse import parse_formula
    >>> d = build_design(parse_formula("Reaction ~ Days + (Days | Subject)"),
    ...                  bm.datasets.load("sleepstudy"))
    >>> b = d.blocks[0]
    >>> b.factor, b.terms, b.n_levels, b.Z.shape, b.correlated
    ('Subject', ('Intercept', 'Days'), 18, (180, 2), True)
    """

    factor: str
    label: str
    levels: tuple[str, ...]
    index: np.ndarray
    Z: np.ndarray
    terms: tuple[str, ...]
    correlated: bool
    expr: str
    matrix: object = field(repr=False, default=None)

    @property
    def n_levels(self) -> int:
        """Number of levels of the factor."""
        return len(self.levels)

    @property
    def n_terms(self) -> int:
        """Number of varying terms."""
        return len(self.terms)


@dataclass
class Design:
    """Numeric design of a model on one data set.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.formula.parse import parse_formula
    >>> d = build_design(parse_formula("Reaction ~ Days + (Days | Subject)"),
    ...                  bm.datasets.load("sleepstudy"))
    >>> d.n_obs, d.x_names, d.X.shape
    (180, ('Intercept', 'Days'), (180, 2))
    """

    spec: ModelSpec
    family: Family
    link: str
    y: np.ndarray
    trials: np.ndarray | None
    offset: np.ndarray | None
    X: np.ndarray
    x_names: tuple[str, ...]
    blocks: tuple[GroupBlock, ...]
    reference_levels: dict[str, str]
    response_note: str | None
    n_dropped: int
    data: pd.DataFrame = field(repr=False)
    fixed_matrix: object = field(repr=False, default=None)
    #: category labels of an ordinal response (code k is ``categories[k]``), else None
    categories: tuple[str, ...] | None = None
    #: per distributional parameter of the family (``"zi"``, ``"hu"``): its population-level
    #: matrix, column names and formulae recipe (for new data)
    dpar_X: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    dpar_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dpar_matrices: dict[str, object] = field(default_factory=dict, repr=False)
    #: series links of the latent AR(1) process of an ``ar()`` term with a non-gaussian family
    #: (:func:`~bayesmixed.families.autocor.link_codes`, :mod:`bayesmixed.design.latent_ar`);
    #: None without one (gaussian ``ar()`` terms pass their links as ``trials``)
    ar_codes: np.ndarray | None = None

    @property
    def n_obs(self) -> int:
        """Number of rows used."""
        return int(self.y.shape[0])

    @property
    def has_intercept(self) -> bool:
        """Whether the population-level part has an intercept."""
        return "Intercept" in self.x_names

    @property
    def slopes(self) -> tuple[str, ...]:
        """Population-level coefficient names other than the intercept."""
        return tuple(n for n in self.x_names if n != "Intercept")

    def levels_per_factor(self) -> dict[str, int]:
        """Number of levels of each grouping factor."""
        return {b.factor: b.n_levels for b in self.blocks}


def safe_label(text: str) -> str:
    """Identifier-safe version of a factor or term name.

    Examples
    --------
    >>> safe_label("batch:cask")
    'batch__cask'
    >>> safe_label("sample")  # dimension names ArviZ reserves get a trailing underscore
    'sample_'
    """
    label = re.sub(r"\W", "_", text.replace(":", "__"))
    return f"{label}_" if label in _RESERVED else label


_RESERVED = {"sample", "chain", "draw", "obs", "coef", "__obs__"}


def factor_codes(data: pd.DataFrame, factor: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes and level labels of a (possibly interaction) grouping factor.

    Levels of an interaction factor ``a:b`` are labelled ``"a_level:b_level"``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"batch": ["A", "A", "B"], "cask": ["a", "b", "a"]})
    >>> codes, levels = factor_codes(data, "batch:cask")
    >>> codes.tolist(), levels
    ([0, 1, 2], ['A:a', 'A:b', 'B:a'])
    """
    cols = [c.strip() for c in factor.split(":")]
    if len(cols) == 1:
        return level_strings(data[cols[0]])
    parts = [level_strings(data[c]) for c in cols]
    keys = pd.MultiIndex.from_arrays([p[0] for p in parts])
    codes, uniques = pd.factorize(keys, sort=True)
    labels = [":".join(parts[j][1][k] for j, k in enumerate(u)) for u in uniques]
    return codes, labels


def _matrix(rhs: str, data: pd.DataFrame, where: str):
    try:
        return fm.design_matrices(rhs, data, na_action="error",
                                  extra_namespace=CENTERING).common
    except Exception as exc:
        raise FormulaError(f"cannot build the columns of {where}: {exc}") from None


def _reference_levels(matrix, data: pd.DataFrame) -> dict[str, str]:
    refs: dict[str, str] = {}
    for name, term in matrix.terms.items():
        if getattr(term, "kind", None) != "categoric" or not hasattr(term, "levels"):
            continue
        var = term.var_names.copy().pop() if len(term.var_names) == 1 else None
        if var is None or var not in data.columns or getattr(term, "spans_intercept", False):
            continue
        s = data[var]
        all_levels = (
            list(s.cat.categories)
            if isinstance(s.dtype, pd.CategoricalDtype)
            else sorted(s.dropna().unique().tolist())
        )
        rest = [lv for lv in all_levels if str(lv) not in {str(x) for x in term.levels}]
        if len(rest) == 1:
            refs[name] = str(rest[0])
    return refs


def build_design(
    spec: ModelSpec,
    data: Any,
    *,
    dropna: bool = False,
) -> Design:
    """Validate ``data`` against ``spec`` and build the numeric design.

    Parameters
    ----------
    spec
        The model specification.
    data
        The data: a pandas, polars or pyarrow frame, a dict of columns, or any frame narwhals
        supports (:func:`bayesmixed.design.frames.as_pandas`).
    dropna
        Drop rows with missing values in used columns (and warn how many) instead of raising.

    Returns
    -------
    Design

    Raises
    ------
    DataError, FormulaError, FamilyError
        Before anything is compiled, naming the column, term or value at fault.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixed.formula.parse import parse_formula
    >>> data = pd.DataFrame({"y": [0, 1, 1, 0], "x": [0.5, 1.0, 1.5, 2.0],
    ...                      "g": ["a", "a", "b", "b"]})
    >>> d = build_design(parse_formula("y ~ x + (1 | g)", "bernoulli"), data)
    >>> d.y.tolist(), d.blocks[0].index.tolist()
    ([0, 1, 1, 0], [0, 0, 1, 1])
    """
    data = as_pandas(data)  # pandas, polars, pyarrow, dict, ...: one conversion at the entry
    family = get_family(spec.family)
    if spec.response.kind == "se" and family.name == "gaussian":
        family = get_family("gaussian_se")  # y | se(s): known standard errors, no sigma
    family = ar_family(spec, family)  # ar(time, gr): gaussian_ar1
    link = resolve_link(family, spec.link)
    used = check_columns(spec, data)
    data, n_dropped = clean_rows(data, used, dropna)
    data = data.reset_index(drop=True) if n_dropped else data
    resp = response_data(spec, family, link, data)

    fixed = _matrix(spec.fixed, data, f"the population-level terms {spec.fixed!r}")
    X = np.asarray(fixed.design_matrix, dtype=float)
    x_names = tuple(fixed.as_dataframe().columns)
    if family.ordinal and "Intercept" in x_names:  # the thresholds take the intercept's place
        keep = [j for j, n in enumerate(x_names) if n != "Intercept"]
        X, x_names = X[:, keep], tuple(x_names[j] for j in keep)
    offset = None
    if spec.offset:
        try:
            offset = evaluate(spec.offset, data, "offset").astype(float)
        except (TypeError, ValueError):
            raise DataError(f"offset {spec.offset!r} must be numeric") from None
        if not np.isfinite(offset).all():
            raise DataError(f"offset {spec.offset!r} has non-finite values (log of zero?)")

    blocks = []
    labels_seen: dict[str, int] = {}
    for g in spec.groups:
        codes, levels = factor_codes(data, g.factor)
        if len(levels) < 2:
            raise DataError(
                f"grouping factor {g.factor!r} has a single level ({levels[0]!r}); a random effect "
                "needs at least two groups"
            )
        zm = _matrix(g.expr, data, f"random-effects block {g}")
        terms = tuple(zm.as_dataframe().columns)
        if not terms:
            raise FormulaError(f"random-effects block {g} has no terms")
        base = safe_label(g.factor)
        k = labels_seen.get(base, 0)
        labels_seen[base] = k + 1
        label = block_label(base, k)
        blocks.append(
            GroupBlock(
                factor=g.factor,
                label=label,
                levels=tuple(levels),
                index=np.asarray(codes, dtype=np.int64),
                Z=np.asarray(zm.design_matrix, dtype=float),
                terms=terms,
                correlated=g.correlated and len(terms) > 1,
                expr=g.expr,
                matrix=zm,
            )
        )
    _check_duplicate_terms(blocks)
    latent = is_latent(spec, family)
    codes = series_codes(spec.ar, data) if spec.ar is not None else None
    trials = codes if spec.ar is not None and not latent else resp.trials
    dpar_X, dpar_names, dpar_matrices = _dpar_matrices(spec, family, data)
    return Design(
        spec=spec,
        family=family,
        link=link,
        y=resp.y,
        trials=trials,
        offset=offset,
        X=X,
        x_names=x_names,
        blocks=tuple(blocks),
        reference_levels=_reference_levels(fixed, data),
        response_note=resp.note,
        n_dropped=n_dropped,
        data=data,
        fixed_matrix=fixed,
        categories=resp.categories,
        dpar_X=dpar_X,
        dpar_names=dpar_names,
        dpar_matrices=dpar_matrices,
        ar_codes=codes if latent else None,
    )


def _dpar_matrices(spec: ModelSpec, family: Family, data: pd.DataFrame):
    """Population-level matrices of the family's distributional parameters (default ``~ 1``)."""
    for name, _ in spec.dpars:
        if name not in family.dpars:
            has = [f"{d}= for {family.name}" for d in family.dpars]
            raise FormulaError(
                f"family {family.name!r} has no {name!r} part, so {name}= cannot be given"
                + (f" (use {', '.join(has)})" if has else "")
                + "; zi= goes with zero_inflated_* families, hu= with hurdle_* families"
            )
    X, names, mats = {}, {}, {}
    for name in family.dpars:
        rhs = spec.dpar_formula(name)
        m = _matrix(rhs, data, f"the {name} formula '~ {rhs}'")
        X[name] = np.asarray(m.design_matrix, dtype=float).reshape(len(data), -1)
        names[name] = tuple(m.as_dataframe().columns)
        mats[name] = m
    return X, names, mats


def _check_duplicate_terms(blocks: list[GroupBlock]) -> None:
    seen: set[tuple[str, str]] = set()
    for b in blocks:
        for t in b.terms:
            if (b.factor, t) in seen:
                raise FormulaError(
                    f"term {t!r} varies by {b.factor!r} in two random-effects blocks; "
                    "write it in one block only"
                )
            seen.add((b.factor, t))
