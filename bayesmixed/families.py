"""Response families and links as plain data, in one table.

Each :class:`Family` records what the spec layer needs to validate a response, what the builder
needs to write the likelihood, and what the report needs for latent-scale variance components.
Nothing here imports PyMC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bayesmixed.errors import FamilyError

__all__ = ["FAMILIES", "LINK_LATENT_VARIANCE", "Family", "get_family", "resolve_link"]


@dataclass(frozen=True)
class Family:
    """One response distribution.

    Parameters
    ----------
    name
        Canonical family name.
    links
        Supported links; the first is the default.
    response
        ``"real"``, ``"binary"``, ``"binomial"`` or ``"count"``: what values the response may take.
    aux
        Names of auxiliary (non-mean) parameters, as reported in summaries.
    exp_label
        Label of exponentiated coefficients under the default link (``"OR"``, ``"RR"``) or ``None``.
    aliases
        Other names users may pass.

    Examples
    --------
    >>> fam = FAMILIES["negbinomial"]
    >>> fam.default_link, fam.aux, fam.discrete
    ('log', ('alpha',), True)
    """

    name: str
    links: tuple[str, ...]
    response: str
    aux: tuple[str, ...] = ()
    exp_label: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def default_link(self) -> str:
        """The canonical link, used when none is given."""
        return self.links[0]

    @property
    def discrete(self) -> bool:
        """Whether the likelihood is for integer data."""
        return self.response in ("binary", "binomial", "count")


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("gaussian", ("identity", "log"), "real", aux=("sigma",), aliases=("normal",)),
        Family(
            "bernoulli",
            ("logit", "probit", "cloglog"),
            "binary",
            exp_label="OR",
            aliases=("binary", "logistic"),
        ),
        Family("binomial", ("logit", "probit", "cloglog"), "binomial", exp_label="OR"),
        Family("poisson", ("log",), "count", exp_label="RR"),
        Family(
            "negbinomial",
            ("log",),
            "count",
            aux=("alpha",),
            exp_label="RR",
            aliases=("negative_binomial", "negbin", "nb", "neg_binomial_2"),
        ),
    )
}

#: Variance of the latent residual on the link scale (Nakagawa & Schielzeth 2010; 2017):
#: logistic pi^2/3, standard normal 1, Gumbel (complementary log-log) pi^2/6.
LINK_LATENT_VARIANCE: dict[str, float] = {
    "logit": math.pi**2 / 3.0,
    "probit": 1.0,
    "cloglog": math.pi**2 / 6.0,
}


def get_family(name: str) -> Family:
    """Look a family up by name or alias.

    Parameters
    ----------
    name
        Family name, case-insensitive (``"bernoulli"``, ``"binomial"``, ``"gaussian"``,
        ``"poisson"``, ``"negbinomial"`` or an alias).

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
    if not isinstance(name, str):
        raise FamilyError(f"family must be a string, got {type(name).__name__} {name!r}")
    key = name.strip().lower()
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
