"""The model specification as plain, immutable data.

A :class:`ModelSpec` is what a formula or a YAML/dict spec resolves to. It holds strings and
numbers only, so it can be written to YAML, compared, hashed and shown; nothing here knows about
PyMC or about any particular data set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bayesmixed.formula.priors import Prior

__all__ = ["ARTerm", "GroupTerm", "ModelSpec", "Response"]

Centering = bool | Literal["auto", "partial"]


@dataclass(frozen=True)
class Response:
    """The left-hand side of a formula.

    Parameters
    ----------
    expr
        Expression of the response (the successes for aggregated binomial data).
    kind
        ``"single"`` for one column; ``"cbind"`` for ``cbind(successes, failures)`` as lme4 writes
        it; ``"trials"`` for successes out of trials (``s | trials(n)`` as brms writes it);
        ``"se"`` for a gaussian response observed with a known standard error per row
        (``y | se(s)`` as brms writes it).
    other
        The failures (``cbind``), trials (``trials``) or standard error (``se``) expression.

    Examples
    --------
    >>> str(Response("s", "cbind", "f")), str(Response("s", "trials", "n"))
    ('cbind(s, f)', 's | trials(n)')
    >>> str(Response("y", "se", "sigma"))
    'y | se(sigma)'
    """

    expr: str
    kind: Literal["single", "cbind", "trials", "se"] = "single"
    other: str | None = None

    def __str__(self) -> str:
        if self.kind == "cbind":
            return f"cbind({self.expr}, {self.other})"
        if self.kind == "trials":
            return f"{self.expr} | trials({self.other})"
        if self.kind == "se":
            return f"{self.expr} | se({self.other})"
        return self.expr


@dataclass(frozen=True)
class GroupTerm:
    """One random-effects block, ``(expr | factor)`` or ``(expr || factor)``.

    Parameters
    ----------
    factor
        Grouping factor: a column name, or columns joined by ``:`` for an interaction factor
        (nested ``(1 | a/b)`` expands to ``(1 | a) + (1 | a:b)``).
    expr
        The varying terms, as in lme4 (``"1"``, ``"1 + x"``, ``"0 + x"``).
    correlated
        Whether the effects of this block are correlated (``|``) or independent (``||``).

    Examples
    --------
    >>> g = GroupTerm("school", "1 + x", correlated=False)
    >>> str(g), g.factor_columns
    ('(1 + x || school)', ('school',))
    """

    factor: str
    expr: str = "1"
    correlated: bool = True

    def __str__(self) -> str:
        bar = "|" if self.correlated else "||"
        return f"({self.expr} {bar} {self.factor})"

    @property
    def factor_columns(self) -> tuple[str, ...]:
        """The data columns the factor is made of."""
        return tuple(p.strip() for p in self.factor.split(":"))


@dataclass(frozen=True)
class ARTerm:
    """Autocorrelated residuals, ``ar(time = t, gr = g, p = 1)`` as brms writes it.

    Parameters
    ----------
    time
        Column of integer time points; a gap of ``d`` between consecutive observations of a
        series gives correlation ``phi^d`` (as nlme's ``corAR1`` with an integer covariate).
    gr
        Column whose levels are the series (``None``: the whole data are one series).
    p
        Order of the process (only 1 is supported).

    Examples
    --------
    >>> str(ARTerm("t", "Rat"))
    'ar(time = t, gr = Rat)'
    """

    time: str
    gr: str | None = None
    p: int = 1

    def __str__(self) -> str:
        gr = f", gr = {self.gr}" if self.gr else ""
        order = f", p = {self.p}" if self.p != 1 else ""
        return f"ar(time = {self.time}{gr}{order})"

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns the term reads."""
        return (self.time,) + ((self.gr,) if self.gr else ())


@dataclass(frozen=True)
class ModelSpec:
    """A complete multilevel model specification.

    Parameters
    ----------
    response
        The response.
    fixed
        Right-hand side of the population-level part in formulae syntax (``"1 + x + treatment"``,
        ``"0 + x"``), without offsets and without random-effects blocks.
    groups
        Random-effects blocks.
    family, link
        Response family and link (``None``: the family's default link).
    offset
        Offset expression added to the linear predictor, or ``None``.
    priors
        Prior overrides by parameter or class name (see :mod:`bayesmixed.formula.priors`).
    centered
        Per grouping factor: ``True`` (centered), ``False`` (non-centered), ``"partial"``
        (partially centered) or ``"auto"``.
    dpars
        Formulas of distributional parameters as ``((name, rhs), ...)``, e.g.
        ``(("zi", "1 + x"),)`` (population-level terms only, logit link); a family's dpar
        missing here is intercept-only (:func:`bayesmixed.formula.parse.bf`).
    ar
        Autocorrelated residuals within series (:class:`ARTerm`), or ``None``.

    Examples
    --------
    >>> spec = ModelSpec(Response("y"), fixed="x", groups=(GroupTerm("g"),), family="bernoulli")
    >>> spec.formula
    'y ~ x + (1 | g)'
    >>> spec.factors
    ('g',)
    """

    response: Response
    fixed: str = "1"
    groups: tuple[GroupTerm, ...] = ()
    family: str = "gaussian"
    link: str | None = None
    offset: str | None = None
    priors: dict[str, Prior] = field(default_factory=dict, compare=False, hash=False)
    centered: dict[str, Centering] = field(default_factory=dict, compare=False, hash=False)
    dpars: tuple[tuple[str, str], ...] = ()
    ar: ARTerm | None = None

    def dpar_formula(self, name: str) -> str:
        """Right-hand side of distributional parameter ``name`` (``"1"`` when not given)."""
        return dict(self.dpars).get(name, "1")

    @property
    def formula(self) -> str:
        """The lme4-style formula this spec stands for."""
        rhs = [self.fixed]
        if self.offset:
            rhs.append(f"offset({self.offset})")
        rhs.extend(str(g) for g in self.groups)
        if self.ar is not None:
            rhs.append(str(self.ar))
        return f"{self.response} ~ {' + '.join(rhs)}"

    @property
    def factors(self) -> tuple[str, ...]:
        """Distinct grouping factors, in order of first appearance."""
        seen: dict[str, None] = {}
        for g in self.groups:
            seen.setdefault(g.factor, None)
        return tuple(seen)

    def with_options(self, **changes) -> ModelSpec:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    def __str__(self) -> str:
        link = f", link={self.link}" if self.link else ""
        dp = "".join(f", {k} ~ {v}" for k, v in self.dpars)
        return f"{self.formula}  [family={self.family}{link}{dp}]"
