"""The family registry: :data:`FAMILIES`, :func:`get_family`, :func:`resolve_link`."""

from __future__ import annotations

from bayesmixed.errors import FamilyError
from bayesmixed.families.autocor import GAUSSIAN_AR1
from bayesmixed.families.base import Family
from bayesmixed.families.beta import BETA
from bayesmixed.families.binomial import BERNOULLI, BINOMIAL
from bayesmixed.families.counts import NEGBINOMIAL, POISSON
from bayesmixed.families.gaussian import GAUSSIAN, GAUSSIAN_SE
from bayesmixed.families.ordinal import CUMULATIVE
from bayesmixed.families.positive import GAMMA, LOGNORMAL
from bayesmixed.families.zero import HURDLE_NEGBINOMIAL, HURDLE_POISSON, ZI_NEGBINOMIAL, ZI_POISSON

__all__ = ["AUX_NAMES", "DPAR_NAMES", "FAMILIES", "get_family", "resolve_link"]

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        GAUSSIAN, BERNOULLI, BINOMIAL, POISSON, NEGBINOMIAL, GAMMA, BETA, LOGNORMAL,
        ZI_POISSON, ZI_NEGBINOMIAL, HURDLE_POISSON, HURDLE_NEGBINOMIAL,
        CUMULATIVE,
    )
}

#: Every distributional-parameter name (extra linear predictor) of any family.
DPAR_NAMES: frozenset[str] = frozenset(d for f in FAMILIES.values() for d in f.dpars)

#: Families the design chooses from the response, never named by users: ``y | se(s)`` with
#: family gaussian is fitted as ``gaussian_se`` (a known standard error per row, no sigma), and
#: with an ``ar()`` term as ``gaussian_ar1`` (AR(1) residuals within series).
DERIVED: dict[str, Family] = {GAUSSIAN_SE.name: GAUSSIAN_SE, GAUSSIAN_AR1.name: GAUSSIAN_AR1}

#: Every auxiliary parameter name of any family.
AUX_NAMES: frozenset[str] = frozenset(
    a.name for f in FAMILIES.values() for a in f.aux_params if not a.vector
)


def get_family(name: str | Family) -> Family:
    """Look a family up by name or alias (a :class:`Family` is returned as is).

    Parameters
    ----------
    name
        Family name, case-insensitive (``"bernoulli"``, ``"binomial"``, ``"gaussian"``,
        ``"poisson"``, ``"negbinomial"``, ``"gamma"``, ``"beta"``, ``"lognormal"``,
        ``"cumulative"`` or an alias).

    Returns
    -------
    Family
        The family record.

    Raises
    ------
    FamilyError
        When the name is unknown.

    Examples
    --------
    >>> get_family("logistic").name
    'bernoulli'
    """
    if isinstance(name, Family):
        return name
    if not isinstance(name, str):
        raise FamilyError(f"family must be a string, got {type(name).__name__} {name!r}")
    key = name.strip().lower()
    if key in DERIVED:
        return DERIVED[key]
    for fam in FAMILIES.values():
        if key == fam.name or key in fam.aliases:
            return fam
    known = ", ".join(FAMILIES)
    raise FamilyError(f"unknown family {name!r}; known families: {known}")


def resolve_link(family: Family, link: str | None) -> str:
    """Return the link to use, checking that ``family`` supports it.

    Examples
    --------
    >>> resolve_link(get_family("binomial"), "probit")
    'probit'
    """
    if link is None:
        return family.default_link
    if not isinstance(link, str) or link.strip().lower() not in family.links:
        raise FamilyError(
            f"link {link!r} is not available for family {family.name!r}; "
            f"choose one of {', '.join(family.links)}"
        )
    return link.strip().lower()
