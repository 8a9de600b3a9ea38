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
    """Base class of every error bayesmixed raises on purpose.

    Examples
    --------
    Catch any input problem with one ``except`` (it is also a ``ValueError``):

    >>> import pandas as pd
    >>> import bayesmixed as bm
    >>> try:
    ...     bm.prepare("y ~ x", pd.DataFrame({"y": [1.0, 2.0], "x": [0.0, 1.0]}), family="weibull")
    ... except bm.BayesmixedError as err:
    ...     print(type(err).__name__)
    FamilyError
    """


class SpecError(BayesmixedError):
    """A model specification (formula, dict or YAML) is malformed.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> bm.make_spec({"resp": "y"})
    Traceback (most recent call last):
    ...
    bayesmixed.errors.SpecError: unknown spec key 'resp'; known keys: ar, family, fixed, formula,
    groups, hu, link, offset, priors, response, zi
    """


class FormulaError(SpecError):
    """A formula cannot be parsed or names an unsupported term.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> bm.parse_formula("y ~ x + 1 | g")
    Traceback (most recent call last):
    ...
    bayesmixed.errors.FormulaError: a random-effects block must be in parentheses: '1 | g'
    """


class DataError(BayesmixedError):
    """The data do not fit the specification: missing columns, NaN, bad response values.

    Examples
    --------
    >>> import pandas as pd
    >>> import bayesmixed as bm
    >>> bm.prepare("y ~ x + (1 | g)", pd.DataFrame({"y": [1.0, 2.0], "x": [0.0, 1.0]}))
    Traceback (most recent call last):
    ...
    bayesmixed.errors.DataError: column 'g' used in the grouping factor of (1 | g) is not in
    the data
    """


class FamilyError(BayesmixedError):
    """Unknown family, or a link the family does not support.

    Examples
    --------
    >>> from bayesmixed.families import get_family
    >>> get_family("weibull")
    Traceback (most recent call last):
    ...
    bayesmixed.errors.FamilyError: unknown family 'weibull'; known families: gaussian, bernoulli,
    binomial, poisson, negbinomial, gamma, beta, lognormal, zero_inflated_poisson,
    zero_inflated_negbinomial, hurdle_poisson, hurdle_negbinomial, cumulative
    """


class PriorError(BayesmixedError):
    """A prior override names an unknown parameter or distribution, or has bad arguments.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> bm.prior("normal", 0, -1)
    Traceback (most recent call last):
    ...
    bayesmixed.errors.PriorError: Normal parameter sigma=-1 must be positive
    """


class SamplerError(BayesmixedError):
    """Bad sampler options, or a sampler backend that is not installed.

    Examples
    --------
    >>> from bayesmixed.sample.backends import SamplerConfig
    >>> SamplerConfig(backend="stan")
    Traceback (most recent call last):
    ...
    bayesmixed.errors.SamplerError: unknown backend 'stan'; choose one of nutpie, pymc, numpyro,
    blackjax
    """


class PredictionError(BayesmixedError):
    """New data given for prediction do not fit the fitted model.

    Examples
    --------
    With ``fit`` the sleepstudy fit of :class:`~bayesmixed.result.Fit`'s example:

    >>> import pandas as pd
    >>> fit.predict(pd.DataFrame({"Days": [1]}))
    Traceback (most recent call last):
    ...
    bayesmixed.errors.PredictionError: new data lack grouping column 'Subject' of factor 'Subject'
    """


class RunFolderError(BayesmixedError):
    """A run folder is missing, incomplete, or would be overwritten.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> bm.load("no/such/run")
    Traceback (most recent call last):
    ...
    bayesmixed.errors.RunFolderError: no saved fit at 'no/such/run': the folder does not exist
    """
