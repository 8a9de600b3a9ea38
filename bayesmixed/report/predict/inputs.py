"""The numeric inputs of a prediction: population-level matrix, per-block level index and
varying-term columns (index -1 for levels not seen in fitting), offset and trials, built from
new data with the formulae recipes stored in the fitted design."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmixed.design.autocor import series_codes
from bayesmixed.design.evaluate import evaluate
from bayesmixed.design.frames import as_pandas
from bayesmixed.design.levels import column_texts, match_levels
from bayesmixed.design.validate import check_new_data
from bayesmixed.errors import DataError, PredictionError

__all__ = ["PredictionInputs", "distinct_rows", "new_data_matrices", "prediction_inputs"]


@dataclass
class PredictionInputs:
    """Design of the rows to predict: population-level matrix, per block (index, Z, keys),
    offset and trials.

    Examples
    --------
    >>> new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "a new subject"]})
    >>> inputs = prediction_inputs(fit.idata, fit.meta, fit.design, new)
    >>> inputs.n, inputs.unseen(fit.meta)
    (2, {'Subject': ['a new subject']})
    """

    X: np.ndarray
    groups: list[tuple[np.ndarray, np.ndarray]]
    keys: list[np.ndarray]
    offset: np.ndarray | None
    trials: np.ndarray | None
    data: pd.DataFrame
    #: population-level matrices of the family's distributional parameters (``zi``, ``hu``)
    dpar_X: dict[str, np.ndarray] | None = None
    #: series links of the rows for a latent AR(1) process (:mod:`~.predict_latent`), or None
    ar_codes: np.ndarray | None = None
    #: whether the rows are the fitted rows (``newdata=None``)
    fitted: bool = False

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    def unseen(self, meta: dict) -> dict[str, list[str]]:
        """Levels not seen in fitting, per factor."""
        out: dict[str, list[str]] = {}
        for blk, (idx, _), keys in zip(meta["blocks"], self.groups, self.keys, strict=True):
            new = sorted(set(keys[idx < 0].tolist()))
            if new:
                out.setdefault(blk["factor"], [])
                out[blk["factor"]] += [v for v in new if v not in out[blk["factor"]]]
        return out


def _evaluate_matrix(matrix, newdata: pd.DataFrame, where: str) -> np.ndarray:
    try:
        return np.asarray(matrix.evaluate_new_data(newdata).design_matrix, dtype=float)
    except Exception as exc:
        raise PredictionError(f"cannot build {where} for new data: {exc}") from None


def _check_grouping_columns(design, newdata: pd.DataFrame) -> None:
    """Raise :class:`PredictionError` when new data lack a column of a grouping factor."""
    for b in design.blocks:
        for c in b.factor.split(":"):
            if c.strip() not in newdata.columns:
                raise PredictionError(
                    f"new data lack grouping column {c.strip()!r} of factor {b.factor!r}"
                )


def new_data_matrices(
    design, newdata: pd.DataFrame
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Population-level matrix and per block (level index, Z) for new data; unseen levels get
    index -1.

    Examples
    --------
    >>> new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "a new subject"]})
    >>> X, groups = new_data_matrices(fit.design, new)
    >>> X.shape, groups[0][0].tolist()  # the unseen subject gets level index -1
    ((2, 2), [0, -1])
    """
    _check_grouping_columns(design, newdata)
    X = _fixed_columns(design, newdata)
    groups, _ = _block_inputs(design, newdata)
    return X, groups


def _fixed_columns(design, newdata: pd.DataFrame) -> np.ndarray:
    """The population-level columns of ``newdata``, those of ``design.x_names`` only (an ordinal
    model's design has no intercept column: its thresholds take that place)."""
    X = _evaluate_matrix(design.fixed_matrix, newdata, "the population-level columns")
    names = list(design.fixed_matrix.as_dataframe().columns)
    if len(names) == X.shape[1] and tuple(names) != tuple(design.x_names):
        X = X[:, [names.index(n) for n in design.x_names]]
    return X


def _block_inputs(
    design, newdata: pd.DataFrame
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    """Per block (level index, Z) and the level text of each row, levels matched to the fitted
    ones by :func:`~bayesmixed.design.levels.match_levels` (whatever their type)."""
    groups, keys = [], []
    for b in design.blocks:
        Z = _evaluate_matrix(b.matrix, newdata, f"the columns of block ({b.expr} | {b.factor})")
        idx, texts = match_levels(newdata, design.data, b.factor, b.levels)
        groups.append((idx, Z))
        keys.append(texts)
    return groups, keys


def match_column_types(newdata: pd.DataFrame, fitted: pd.DataFrame) -> pd.DataFrame:
    """Give categorical columns of ``newdata`` the text type they had when fitting.

    A CSV column like ``livch`` with values 0, 1, 2, 3+ in the fitted data is text; new rows
    read from a file holding only ``2`` arrive as integers and would not match level ``"2"``.

    Examples
    --------
    >>> match_column_types(pd.DataFrame({"g": [2]}), pd.DataFrame({"g": ["2", "3+"]})).g.tolist()
    ['2']
    """
    out = newdata
    for col in newdata.columns.intersection(fitted.columns):
        was_text = not pd.api.types.is_numeric_dtype(fitted[col]) and not pd.api.types.is_bool_dtype(
            fitted[col]
        )
        if was_text and pd.api.types.is_numeric_dtype(newdata[col]):
            if out is newdata:
                out = newdata.copy()
            out[col] = column_texts(newdata[col], fitted[col])
    return out


def prediction_inputs(idata, meta, design, newdata: pd.DataFrame | None = None) -> PredictionInputs:
    """Numeric inputs for the rows of ``newdata`` (default: the fitted data).

    Examples
    --------
    >>> new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "a new subject"]})
    >>> prediction_inputs(fit.idata, fit.meta, fit.design, new).X.shape
    (2, 2)
    """
    if newdata is None:
        groups = [(b.index, b.Z) for b in design.blocks]
        keys = [np.asarray(b.levels, dtype=object)[b.index] for b in design.blocks]
        return PredictionInputs(
            design.X, groups, keys, design.offset, design.trials, design.data, design.dpar_X,
            design.ar_codes, fitted=True,
        )
    newdata = as_pandas(newdata, "newdata", PredictionError)  # any frame kind, or a dict
    check_new_data(design.spec, newdata)  # no rows / NaN or inf in used columns (issue 6)
    newdata = match_column_types(newdata, design.data)
    _check_grouping_columns(design, newdata)
    X = _fixed_columns(design, newdata)
    groups, keys = _block_inputs(design, newdata)
    spec = design.spec
    offset = None
    if spec.offset:
        try:
            offset = np.asarray(evaluate(spec.offset, newdata, "offset"), dtype=float)
        except DataError as exc:
            raise PredictionError(f"new data need the offset {spec.offset!r}: {exc}") from None
    trials = None
    if design.trials is not None:
        resp = spec.response
        try:
            if resp.kind == "trials":
                trials = np.asarray(evaluate(resp.other, newdata, "trials"), dtype=float)
            elif resp.kind == "cbind":
                trials = np.asarray(
                    evaluate(resp.expr, newdata, "response"), dtype=float
                ) + np.asarray(evaluate(resp.other, newdata, "response"), dtype=float)
        except DataError:
            trials = None
        if trials is None:
            trials = np.ones(len(newdata))
    ar_codes = None
    if spec.ar is not None:  # the series of the new rows, by their own time and group columns
        missing = [c for c in spec.ar.columns if c not in newdata.columns]
        if missing:
            raise PredictionError(f"new data need column {missing[0]!r} of {spec.ar}")
        try:
            codes = series_codes(spec.ar, newdata)
        except DataError as exc:
            raise PredictionError(f"new data: {exc}") from None
        if design.ar_codes is None:  # gaussian_ar1: the links travel as trials
            trials = codes
        else:  # a latent process (:mod:`~bayesmixed.report.predict.latent`)
            ar_codes = codes
    dpar_X = {
        k: _evaluate_matrix(m, newdata, f"the {k} columns").reshape(len(newdata), -1)
        for k, m in design.dpar_matrices.items()
    }
    return PredictionInputs(
        X, groups, keys, offset, trials, newdata.reset_index(drop=True), dpar_X, ar_codes
    )


def distinct_rows(inputs: PredictionInputs) -> tuple[np.ndarray, np.ndarray] | None:
    """One row per distinct pattern of population-level row, offset and varying-term rows,
    and the map back (``rows = distinct[back]``); None when every row is distinct.

    A population-averaged mean depends on a row only through these, and the rows of effect
    averages repeat few patterns (the variable set to one value): the quadrature runs once
    per pattern.

    Examples
    --------
    >>> first, back = distinct_rows(prediction_inputs(fit.idata, fit.meta, fit.design,
    ...                                               fit.data.assign(Days=3)))
    >>> len(first), back.shape  # one pattern: every row has Days = 3 and the same z
    (1, (180,))
    """
    parts = [inputs.X] + [np.asarray(Z, dtype=float) for _, Z in inputs.groups]
    if inputs.offset is not None:
        parts.append(np.asarray(inputs.offset, dtype=float)[:, None])
    key = np.ascontiguousarray(np.column_stack(parts), dtype=float)
    _, first, back = np.unique(key, axis=0, return_index=True, return_inverse=True)
    if first.size == key.shape[0]:
        return None
    return first, back.reshape(-1)
