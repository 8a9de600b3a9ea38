"""Priors as plain data: a distribution name and its parameters.

The builder turns a :class:`Prior` into a PyMC distribution; this module only knows names.

Parameter keys (used for defaults, overrides and ``fit.priors``):

- ``Intercept``: the intercept with predictors centered at their means (as in brms).
- a coefficient's column name (``x``, ``treatment[B]``), or the class ``b`` for all of them.
- ``sd(term|factor)`` for one group-level standard deviation, ``sd(factor)`` for all of a
  factor's, the class ``sd`` for all.
- ``cor(factor)`` for the LKJ prior of a factor's correlations, the class ``cor`` for all.
- ``sigma`` (gaussian residual sd) and ``alpha`` (negative binomial dispersion).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayesmixed.errors import PriorError

__all__ = ["DISTRIBUTIONS", "Prior", "as_prior", "prior"]

#: Distributions accepted in priors: name -> (positional parameter names, support).
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "Normal": (("mu", "sigma"), "real"),
    "StudentT": (("nu", "mu", "sigma"), "real"),
    "Cauchy": (("alpha", "beta"), "real"),
    "Laplace": (("mu", "b"), "real"),
    "Logistic": (("mu", "s"), "real"),
    "HalfNormal": (("sigma",), "positive"),
    "HalfStudentT": (("nu", "sigma"), "positive"),
    "HalfCauchy": (("beta",), "positive"),
    "Exponential": (("lam",), "positive"),
    "Gamma": (("alpha", "beta"), "positive"),
    "InverseGamma": (("alpha", "beta"), "positive"),
    "LogNormal": (("mu", "sigma"), "positive"),
    "LKJ": (("eta",), "correlation"),
    "Uniform": (("lower", "upper"), "interval"),
}
_LOWER = {k.lower(): k for k in DISTRIBUTIONS}
_LOWER.update(
    {
        "student_t": "StudentT",
        "half_normal": "HalfNormal",
        "half_student_t": "HalfStudentT",
        "half_cauchy": "HalfCauchy",
        "inv_gamma": "InverseGamma",
        "lognormal": "LogNormal",
        "lkj_corr_cholesky": "LKJ",
        "lkj_corr": "LKJ",
    }
)


@dataclass(frozen=True)
class Prior:
    """A prior distribution by name.

    Parameters
    ----------
    dist
        Distribution name from :data:`DISTRIBUTIONS` (``"Normal"``, ``"HalfStudentT"``, ...).
    params
        Its parameters by PyMC name.

    Examples
    --------
    >>> str(Prior("Normal", {"mu": 0.0, "sigma": 2.5}))
    'Normal(mu=0, sigma=2.5)'
    """

    dist: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise PriorError(
                f"unknown prior distribution {self.dist!r}; use one of {', '.join(DISTRIBUTIONS)}"
            )
        names, _ = DISTRIBUTIONS[self.dist]
        unknown = set(self.params) - set(names)
        if unknown:
            raise PriorError(
                f"{self.dist} has no parameter {sorted(unknown)[0]!r}; its parameters are "
                f"{', '.join(names)}"
            )
        missing = [
            n
            for n in names
            if n not in self.params
            and not (self.dist == "Normal" and n == "mu")
            and not (self.dist == "StudentT" and n == "mu")
        ]
        if missing:
            raise PriorError(f"{self.dist} prior needs parameter {missing[0]!r}")
        for key, val in self.params.items():
            try:
                v = float(val)
            except (TypeError, ValueError):
                raise PriorError(f"{self.dist} parameter {key}={val!r} is not a number") from None
            if not np.isfinite(v):
                raise PriorError(f"{self.dist} parameter {key}={val!r} must be finite")
            if key not in ("mu", "lower", "upper") and not v > 0:
                raise PriorError(f"{self.dist} parameter {key}={val!r} must be positive")
        if self.dist == "Uniform" and not float(self.params["lower"]) < float(self.params["upper"]):
            raise PriorError(f"Uniform prior needs lower < upper, got {self.params}")

    @property
    def support(self) -> str:
        """``"real"``, ``"positive"``, ``"correlation"`` or ``"interval"`` (``Uniform``)."""
        return DISTRIBUTIONS[self.dist][1]

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items())
        return f"{self.dist}({args})"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for YAML/JSON."""
        return {"dist": self.dist, **{k: float(v) for k, v in self.params.items()}}


def _fmt(v: Any) -> str:
    return f"{float(v):.4g}"


def prior(dist: str, *args: float, **params: float) -> Prior:
    """Make a :class:`Prior` from a distribution name and parameters.

    Positional arguments follow the order in :data:`DISTRIBUTIONS` (``Normal(mu, sigma)``).

    Examples
    --------
    >>> prior("normal", 0, 1)
    Prior(dist='Normal', params={'mu': 0, 'sigma': 1})
    """
    name = _LOWER.get(str(dist).replace(" ", "").lower())
    if name is None:
        raise PriorError(
            f"unknown prior distribution {dist!r}; use one of {', '.join(DISTRIBUTIONS)}"
        )
    names = DISTRIBUTIONS[name][0]
    if len(args) > len(names):
        raise PriorError(f"{name} takes at most {len(names)} parameters ({', '.join(names)})")
    merged = dict(zip(names, args, strict=False))
    dup = set(merged) & set(params)
    if dup:
        raise PriorError(f"{name} parameter {sorted(dup)[0]!r} given twice")
    merged.update(params)
    return Prior(name, merged)


_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*\((.*)\)\s*$", re.S)


def as_prior(value: Prior | Mapping[str, Any] | str, key: str = "?") -> Prior:
    """Coerce a prior given as a :class:`Prior`, a dict or a string like ``"normal(0, 2.5)"``.

    Examples
    --------
    >>> as_prior("student_t(3, 0, 2.5)")
    Prior(dist='StudentT', params={'nu': 3, 'mu': 0, 'sigma': 2.5})
    >>> as_prior({"dist": "HalfNormal", "sigma": 1})
    Prior(dist='HalfNormal', params={'sigma': 1})
    """
    if isinstance(value, Prior):
        return value
    if isinstance(value, Mapping):
        d = dict(value)
        dist = d.pop("dist", None) or d.pop("distribution", None)
        if dist is None:
            raise PriorError(f"prior for {key!r} needs a 'dist' entry, got {value!r}")
        return prior(dist, **d)
    if isinstance(value, str):
        m = _CALL.match(value)
        if not m:
            raise PriorError(
                f"cannot read prior {value!r} for {key!r}; write e.g. 'normal(0, 2.5)'"
            )
        try:
            call = ast.parse(f"f({m.group(2)})", mode="eval").body
            args = [ast.literal_eval(a) for a in call.args]  # type: ignore[attr-defined]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}  # type: ignore[attr-defined]
        except (SyntaxError, ValueError):
            raise PriorError(f"cannot read the arguments of prior {value!r} for {key!r}") from None
        return prior(m.group(1), *args, **kwargs)
    raise PriorError(
        f"prior for {key!r} must be a Prior, dict or string, got {type(value).__name__}"
    )
