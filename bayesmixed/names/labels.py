"""Summary labels and prior keys (``sd(term|factor)``, ``cor(a,b|factor)``, ``cor(factor)``,
``sd(factor)``, ``zi_x``, ``ar[1]``) and their parsing; see :mod:`bayesmixed.names`."""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "PriorKey",
    "ar_label",
    "cor_label",
    "cor_pair_label",
    "cor_prior_key",
    "dpar_label",
    "factor_of",
    "parse_prior_key",
    "sd_factor_key",
    "sd_label",
]


def sd_label(term: str, factor: str) -> str:
    """Prior key and summary label of one sd.

    >>> sd_label("Days", "Subject")
    'sd(Days|Subject)'
    """
    return f"sd({term}|{factor})"


def cor_label(a: str, b: str, factor: str) -> str:
    """Summary label (and simulation truth key) of one correlation.

    >>> cor_label("Intercept", "Days", "Subject")
    'cor(Intercept,Days|Subject)'
    """
    return f"cor({a},{b}|{factor})"


def cor_pair_label(a: str, b: str) -> str:
    """A correlation's row name within its factor (``VarCorr``).

    >>> cor_pair_label("Intercept", "Days")
    'cor(Intercept,Days)'
    """
    return f"cor({a},{b})"


def cor_prior_key(factor: str) -> str:
    """Prior key of the LKJ prior on the factor's correlations.

    >>> cor_prior_key("Subject")
    'cor(Subject)'
    """
    return f"cor({factor})"


def sd_factor_key(factor: str) -> str:
    """Override key for every sd of a factor.

    >>> sd_factor_key("Subject")
    'sd(Subject)'
    """
    return f"sd({factor})"


class PriorKey(NamedTuple):
    """A parsed ``sd(...)`` or ``cor(...)`` key: kind, terms (possibly none), factor.

    >>> PriorKey("sd", ("Days",), "Subject").factor
    'Subject'
    """

    kind: str
    terms: tuple[str, ...]
    factor: str


def parse_prior_key(key: str) -> PriorKey | None:
    """Parse an ``sd(...)``/``cor(...)`` prior key or summary label; None for any other name.

    The factor follows the last ``|``; without one the whole argument is the factor.

    Examples
    --------
    >>> parse_prior_key("sd(Days|Subject)")
    PriorKey(kind='sd', terms=('Days',), factor='Subject')
    >>> parse_prior_key("cor(Intercept,Days|Subject)")
    PriorKey(kind='cor', terms=('Intercept', 'Days'), factor='Subject')
    >>> parse_prior_key("cor(Subject)")
    PriorKey(kind='cor', terms=(), factor='Subject')
    >>> parse_prior_key("Days") is None
    True
    """
    for kind in ("sd", "cor"):
        if key.startswith(kind + "(") and key.endswith(")"):
            inner = key[len(kind) + 1 : -1]
            if "|" not in inner:
                return PriorKey(kind, (), inner)
            terms, factor = inner[: inner.rindex("|")], inner[inner.rindex("|") + 1 :]
            return PriorKey(kind, tuple(terms.split(",")) if kind == "cor" else (terms,), factor)
    return None


def factor_of(key: str) -> str | None:
    """Grouping factor of ``sd(term|factor)`` or ``cor(a,b|factor)``; else None.

    Examples
    --------
    >>> factor_of("sd(Intercept|school)")
    'school'
    >>> factor_of("sd(school)") is None, factor_of("x") is None
    (True, True)
    """
    parsed = parse_prior_key(key)
    return parsed.factor if parsed is not None and parsed.terms else None


def dpar_label(dpar: str, term: str) -> str:
    """Summary row / prior key of a distributional parameter's coefficient (brms style).

    Examples
    --------
    >>> dpar_label("zi", "Intercept"), dpar_label("hu", "x")
    ('zi_Intercept', 'hu_x')
    """
    return f"{dpar}_{term}"


def ar_label(k: int = 1) -> str:
    """The lag-``k`` autocorrelation of an ``ar()`` term: model variable, prior key and summary
    row (brms's name).

    >>> ar_label(1)
    'ar[1]'
    """
    return f"ar[{k}]"
