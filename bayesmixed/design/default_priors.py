"""Weakly informative default priors scaled to the data, and user overrides.

The rule (documented in ``docs/priors.md``), in the spirit of rstanarm's autoscaling and brms's
data-dependent defaults. Let ``s_y`` be the response scale: ``sd(y)`` for a gaussian model with
identity link, 1 otherwise (a unit on the logit, probit, cloglog and log scales is already a
large effect); ``sd(log y)`` for lognormal, whose linear predictor is the mean of ``log y``;
``sd(y)`` / ``sd(1 / y)`` for gamma with identity / inverse link. Predictors are centered at
their means for sampling, so the intercept is the linear predictor at the average predictor
values (as in brms).

========================  =================================================================
parameter                 default
========================  =================================================================
``Intercept``             Normal(m, 2.5 s_y); m = mean(y) (gaussian identity), log(mean(y))
                          (gaussian log, counts, gamma log, with offsets mean(y / exp(offset))),
                          0 (binary, beta), mean(log y) (lognormal), 1 / mean(y) (gamma inverse)
coefficient ``x``         Normal(0, 2.5 s_y / sd(x))
``sd(term|g)``            HalfStudentT(nu=3, sigma=s_y / sd(term)); sd(Intercept) counts as 1
``cor(g)``                LKJ(eta=2) on the correlation matrix (Cholesky factor)
``sigma``                 Exponential(lam=1 / sd(y))
``alpha`` (negbinomial)   Gamma(alpha=2, beta=0.1): mean 20, 90% between 2.7 and 47
``Intercept`` (ordinal)   StudentT(3, 0, 2.5) for each of the K-1 ordered thresholds
``shape`` (gamma)         Gamma(alpha=2, beta=0.1 / k), k = mean(y)^2 / var(y) (in [0.1, 100])
``phi`` (beta)            Gamma(alpha=2, beta=0.1 / k), k = mean(y)(1 - mean(y)) / var(y) - 1
``sigma`` (lognormal)     Exponential(lam=1 / sd(log y))
``ar[1]`` (``ar()``)      Uniform(lower=-1, upper=1) on the lag-1 residual correlation (as brms)
``sigma`` (``ar()``)      as gaussian, on the innovation sd sigma * sqrt(1 - ar[1]^2) (brms)
``sigma_ar`` (``ar()``,   HalfStudentT(nu=3, sigma=s_y): the innovation sd of the latent AR(1)
other families)           process on the link scale, scaled like ``sd(Intercept|g)``; its
                          ``ar[1]`` has the Uniform(-1, 1) prior above
========================  =================================================================

``sd(x)`` of a column that does not vary is replaced by 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesmixed.design.matrices import Design
from bayesmixed.errors import PriorError
from bayesmixed.families import AUX_NAMES
from bayesmixed.formula.priors import Prior, as_prior
from bayesmixed.names import (
    AR_LATENT_SD,
    ar_label,
    cor_prior_key,
    dpar_b_var,
    dpar_label,
    parse_prior_key,
    sd_factor_key,
    sd_label,
)

__all__ = ["default_priors", "dpar_priors", "param_classes", "resolve_priors", "response_scale"]


def response_scale(design: Design) -> float:
    """``s_y`` of the default-prior rule.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> design = bm.prepare("Reaction ~ Days", bm.datasets.load("sleepstudy")).design
    >>> round(response_scale(design), 1)  # sd(Reaction)
    56.3
    """
    return design.family.response_scale(design.y, design.link)


def _col_sd(col: np.ndarray) -> float:
    s = float(np.std(col, ddof=1)) if col.shape[0] > 1 else 0.0
    return s if s > 1e-12 else 1.0


def _intercept_location(design: Design) -> float:
    link = design.link
    y = design.y.astype(float)
    if design.family.transform is not None:  # lognormal: the mean of log(y)
        y = design.family.transform(y)
    if link == "identity":
        return float(np.mean(y))
    if link == "inverse":
        return 1.0 / float(np.mean(y))
    if link == "log":
        rate = y if design.offset is None else y / np.exp(design.offset)
        return float(np.log(max(np.mean(rate), 1e-3)))
    return 0.0


def default_priors(design: Design) -> dict[str, Prior]:
    """Default prior of every parameter of ``design``'s model, keyed by parameter name.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> {k: str(p) for k, p in default_priors(design).items()}
    {'Intercept': 'Normal(mu=298.5, sigma=140.8)', 'Days': 'Normal(mu=0, sigma=48.89)',
     'sd(Intercept|Subject)': 'HalfStudentT(nu=3, sigma=56.33)',
     'sigma': 'Exponential(lam=0.01775)'}
    """
    s_y = response_scale(design)
    out: dict[str, Prior] = {}
    if design.has_intercept:
        out["Intercept"] = Prior("Normal", {"mu": _intercept_location(design), "sigma": 2.5 * s_y})
    for j, name in enumerate(design.x_names):
        if name == "Intercept":
            continue
        out[name] = Prior("Normal", {"mu": 0.0, "sigma": 2.5 * s_y / _col_sd(design.X[:, j])})
    for b in design.blocks:
        for k, term in enumerate(b.terms):
            scale = s_y if term == "Intercept" else s_y / _col_sd(b.Z[:, k])
            out[sd_label(term, b.factor)] = Prior("HalfStudentT", {"nu": 3.0, "sigma": scale})
        if b.correlated:
            out.setdefault(cor_prior_key(b.factor), Prior("LKJ", {"eta": 2.0}))
    for aux in design.family.aux_params:
        out[aux.name] = aux.default_prior(design)
    out.update(dpar_priors(design))
    if design.ar_codes is not None:  # the latent AR(1) process of an ar() term
        out[ar_label(1)] = Prior("Uniform", {"lower": -1.0, "upper": 1.0})
        out[AR_LATENT_SD] = Prior("HalfStudentT", {"nu": 3.0, "sigma": s_y})
    return out


def dpar_priors(design: Design) -> dict[str, Prior]:
    """Default priors of the distributional parameters' coefficients (logit scale).

    ``zi_Intercept`` / ``hu_Intercept`` (at the predictors' means): ``Logistic(0, 1)``, uniform
    on the probability scale (as brms); each slope: ``Normal(0, 2.5 / sd(x))``, weakly
    informative on the logit scale (a shift of one sd of ``x`` moves the log-odds by about 2.5
    at most).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.simulate("y ~ x + (1 | g)", family="poisson", n_groups=4, n_per_group=5, seed=1)
    >>> d = bm.prepare(bm.bf("y ~ x + (1 | g)", zi="~ x"), df, family="zip").design
    >>> {k: str(v) for k, v in dpar_priors(d).items()}
    {'zi_Intercept': 'Logistic(mu=0, s=1)', 'zi_x': 'Normal(mu=0, sigma=4.222)'}
    """
    out: dict[str, Prior] = {}
    for dpar, names in design.dpar_names.items():
        X = design.dpar_X[dpar]
        for j, name in enumerate(names):
            if name == "Intercept":
                out[dpar_label(dpar, name)] = Prior("Logistic", {"mu": 0.0, "s": 1.0})
            else:
                sd = 2.5 / _col_sd(X[:, j])
                out[dpar_label(dpar, name)] = Prior("Normal", {"mu": 0.0, "sigma": sd})
    return out


def param_classes(key: str, design: Design) -> list[str]:
    """Override keys that apply to parameter ``key``, most specific first.

    Examples
    --------
    >>> param_classes("sd(Days|Subject)", None)
    ['sd(Days|Subject)', 'sd(Subject)', 'sd']
    >>> param_classes("Days", None)
    ['Days', 'b']
    """
    parsed = parse_prior_key(key)
    if parsed is not None and parsed.kind == "sd":
        return [key, sd_factor_key(parsed.factor), "sd"]
    if parsed is not None and parsed.kind == "cor":
        return [key, "cor"]
    if key == "Intercept" or key in AUX_NAMES or key in (ar_label(1), AR_LATENT_SD):
        return [key]
    for dpar in design.family.dpars if design is not None else ():
        if key == dpar_label(dpar, "Intercept"):
            return [key]
        if key.startswith(f"{dpar}_"):
            return [key, dpar_b_var(dpar)]
    return [key, "b"]


_SUPPORT = {
    "sd": "positive", "cor": "correlation", **{a: "positive" for a in AUX_NAMES},
    ar_label(1): "interval", AR_LATENT_SD: "positive",
}


def resolve_priors(design: Design, overrides: Mapping[str, Any] | None = None) -> dict[str, Prior]:
    """Default priors with user overrides applied.

    Parameters
    ----------
    design
        The model design.
    overrides
        Priors by exact parameter name (``"x"``, ``"sd(x|school)"``, ``"cor(school)"``,
        ``"sigma"``) or by class (``"b"``, ``"sd"``, ``"sd(school)"``, ``"cor"``); values are
        :class:`Prior` objects, dicts or strings like ``"normal(0, 1)"``.

    Raises
    ------
    PriorError
        For a key that matches no parameter, or a distribution with the wrong support.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> str(resolve_priors(design, {"b": "normal(0, 10)"})["Days"])
    'Normal(mu=0, sigma=10)'
    >>> resolve_priors(design, {"sd": "normal(0, 1)"})
    Traceback (most recent call last):
    ...
    bayesmixed.errors.PriorError: prior Normal(mu=0, sigma=1) for 'sd(Intercept|Subject)' has
    real support; 'sd(Intercept|Subject)' needs a positive prior
    """
    priors = default_priors(design)
    if not overrides:
        return priors
    if not isinstance(overrides, Mapping):
        raise PriorError(f"priors must be a dict of name -> prior, got {type(overrides).__name__}")
    given = {str(k).replace(" ", ""): as_prior(v, str(k)) for k, v in overrides.items()}
    applicable = {c for key in priors for c in param_classes(key, design)}
    norm = {k.replace(" ", ""): k for k in applicable}
    for k in given:
        if k not in norm:
            raise PriorError(
                f"prior for {k!r} matches no parameter of this model; valid names: "
                f"{', '.join(sorted(applicable))}"
            )
    for key in priors:
        for cls in param_classes(key, design):
            p = given.get(cls.replace(" ", ""))
            if p is None:
                continue
            parsed = parse_prior_key(key)
            kind = key if parsed is None else parsed.kind
            need = _SUPPORT.get(kind, "real")
            if p.support != need:
                raise PriorError(
                    f"prior {p} for {key!r} has {p.support} support; {key!r} needs a {need} prior"
                )
            if key == ar_label(1) and not -1 <= p.params["lower"] < p.params["upper"] <= 1:
                raise PriorError(f"prior {p} for {key!r} must lie within (-1, 1)")
            priors[key] = p
            break
    return priors
