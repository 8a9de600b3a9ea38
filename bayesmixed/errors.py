"""The exceptions bayesmixed raises for bad input, all before any model is compiled.

Every error names the culprit (column, term, value or option) in its message, so a user never
has to read a PyTensor or numba traceback to learn what was wrong with their input.
"""

from __future__ import annotations

__all__ = [
    "BayesmixedError",
    "DataError",
    "FamilyError",
    "FormulaError",
    "PredictionError",
    "PriorError",
    "RunFolderError",
    "SamplerError",
    "SpecError",
]


class BayesmixedError(ValueError):
    """Base class of every error bayesmixed raises on purpose."""


class SpecError(BayesmixedError):
    """A model specification (formula, dict or YAML) is malformed."""


class FormulaError(SpecError):
    """A formula cannot be parsed or names an unsupported term."""


class DataError(BayesmixedError):
    """The data do not fit the specification: missing columns, NaN, bad response values."""


class FamilyError(BayesmixedError):
    """Unknown family, or a link the family does not support."""


class PriorError(BayesmixedError):
    """A prior override names an unknown parameter or distribution, or has bad arguments."""


class SamplerError(BayesmixedError):
    """Bad sampler options, or a sampler backend that is not installed."""


class PredictionError(BayesmixedError):
    """New data given for prediction do not fit the fitted model."""


class RunFolderError(BayesmixedError):
    """A run folder is missing, incomplete, or would be overwritten."""
