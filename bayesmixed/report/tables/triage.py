"""Divergence and R-hat triage: which parameters are involved, and the likely cause.

Divergent transitions cluster where the posterior geometry is hardest, classically the neck of
a hierarchical funnel where a group-level sd is small (Betancourt & Girolami 2015). For every
summary parameter we compare the draws flagged divergent with the others: the standardized
shift

    score = (mean(divergent) - mean(non-divergent)) / sd(all draws)

on an unconstrained scale (log for sds and auxiliary parameters, atanh for correlations). A
large negative score for ``sd(term|factor)`` means the divergences happen where that sd is
small: the funnel of that factor. The sign, the factor's parameterization and the kind of
parameter give the likely cause and what to try. R-hat problems are attributed per parameter,
including the random effects of each factor.

A population-level coefficient whose term also varies by a sampled non-centered factor is only
identified together with that factor's effects where a level has much data (``Intercept +
r_j``): its draws then trade off with the effect of that level (strong negative posterior
correlation). A problem of such a coefficient is attributed to the factor too, with the level:
a data-rich level in the non-centered parameterization, not collinearity or separation.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr

from bayesmixed.names import factor_of, r_var
from bayesmixed.report.core.draws import internal
from bayesmixed.report.core.params import parameter_dataset, parameter_kinds
from bayesmixed.report.tables.summary import convergence

__all__ = ["Finding", "Triage", "factor_of", "triage"]

#: |score| from which a parameter counts as involved in the divergences
SCORE_MIN = 0.3
RHAT_MAX = 1.01
#: posterior correlation of a coefficient with a level's effect on the same term at or below
#: which the two trade off. Measured (non-centered): -0.87 to -0.95 for the Intercept and a
#: level holding 400 of about 460 rows; the most correlated level of sleepstudy (18 subjects x
#: 10 rows) -0.46, of cbpp (15 herds) -0.55
TRADEOFF_CORR = -0.5


@dataclass
class Finding:
    """One parameter implicated in a sampling problem.

    Examples
    --------
    >>> f = Finding("sd(x|g)", "g", "divergences", 12.0, "funnel", "centered=False")
    >>> f.factor, f.action
    ('g', 'centered=False')
    """

    parameter: str
    factor: str | None
    problem: str  # "divergences" or "r_hat"
    value: float  # score (divergences) or R-hat
    cause: str
    action: str

    def __str__(self) -> str:
        what = (
            f"score {self.value:+.2f}"
            if self.problem == "divergences"
            else f"R-hat {self.value:.3f}"
        )
        return f"{self.parameter} ({self.problem}, {what}): {self.cause}; try: {self.action}"


@dataclass
class Triage:
    """Findings, most important first, and the grouping factors they implicate.

    Examples
    --------
    >>> Triage().findings
    []
    """

    findings: list[Finding] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.findings)

    def lines(self) -> list[str]:
        """One line per finding."""
        return [str(f) for f in self.findings]

    def __str__(self) -> str:
        return "\n".join(self.lines()) if self.findings else "no sampling problems to triage"

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {
            "findings": [asdict(f) for f in self.findings],
            "factors": list(self.factors),
            "scores": {k: float(v) for k, v in self.scores.items()},
        }


def _unconstrained(name: str, kind: str, v: np.ndarray) -> np.ndarray:
    if kind in ("sd", "aux"):
        return np.log(np.maximum(v, 1e-300))
    if kind == "cor":
        return np.arctanh(np.clip(v, -1 + 1e-12, 1 - 1e-12))
    return v


def _centered(meta: dict, factor: str | None) -> bool | None:
    if factor is None:
        return None
    info = meta.get("parameterization", {}).get(factor)
    return None if info is None else bool(info.get("centered"))


@dataclass
class _Tradeoff:
    factor: str
    level: str
    corr: float


def _tradeoff(post: xr.Dataset, meta: dict, name: str, coef: np.ndarray) -> _Tradeoff | None:
    """The level effect of a sampled non-centered factor that trades off most with the
    population coefficient ``name`` (draws ``coef``), if its correlation is at or below
    :data:`TRADEOFF_CORR`."""
    best = None
    for blk in meta["blocks"]:
        info = meta.get("parameterization", {}).get(blk["factor"], {})
        sampled_nc = not (info.get("centered") or info.get("partial") or info.get("marginal"))
        r = post.get(r_var(blk["label"]))
        if name not in blk["terms"] or not sampled_nc or r is None or r.ndim != 4:
            continue
        eff = r.sel({r.dims[3]: name}).values.reshape(coef.size, -1)  # (draws, levels)
        a = coef - coef.mean()
        e = eff - eff.mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = (a @ e) / np.sqrt((a @ a) * np.sum(e * e, axis=0))
        if not np.isfinite(corr).any():
            continue
        j = int(np.nanargmin(corr))
        if corr[j] <= TRADEOFF_CORR and (best is None or corr[j] < best.corr):
            level = str(r[r.dims[2]].values[j])
            best = _Tradeoff(blk["factor"], level, float(corr[j]))
    return best


def _tradeoff_cause(name: str, t: _Tradeoff) -> tuple[str, str]:
    return (
        f"{name} trades off with the effect of level {t.level!r} of {t.factor!r} (posterior "
        f"correlation {t.corr:.2f}): that level's data pin only their sum, a narrow curved "
        f"ridge when {t.factor!r} is non-centered",
        f"the centered parameterization centered={{{t.factor!r}: True}}, or leave centered "
        "unset (the automatic rule lets a dominant level carry the intercept)",
    )


def _divergence_cause(
    name: str, kind: str, factor: str | None, score: float, meta: dict
) -> tuple[str, str]:
    centered = _centered(meta, factor)
    other = "False" if centered else "True"
    if kind == "sd" and score < 0 and centered:
        return (
            f"funnel: the divergences sit where {name} is small, and {factor!r} is centered, "
            "whose effects are then squeezed together",
            f"the non-centered parameterization centered={{{factor!r}: False}}, "
            "or target_accept=0.95",
        )
    if kind == "sd" and score < 0:
        return (
            f"{name} is weakly identified near zero (little variation between levels or few "
            "levels), so the sampler meets the funnel even non-centered",
            f"target_accept=0.95-0.99 or a tighter prior on {name}; with few levels, model "
            f"{factor!r} as a fixed factor",
        )
    if kind == "sd" and not centered:
        return (
            f"the divergences sit where {name} is large: a data-rich factor {factor!r} in the "
            "non-centered parameterization, where effects and sd are strongly dependent",
            f"the centered parameterization centered={{{factor!r}: {other}}}",
        )
    if kind == "sd":
        return (
            f"large values of {name}: a heavy-tailed prior lets the sd wander",
            f"a tighter prior on {name}, or target_accept=0.95",
        )
    if kind == "cor":
        return (
            f"{name} is pushed towards +-1, where the correlation matrix is degenerate",
            f"uncorrelated effects (... || {factor}) or a stronger LKJ prior (eta > 2)",
        )
    if kind == "aux":
        side = "small" if score < 0 else "large"
        return (
            f"the divergences sit where {name} is {side}: residual scale and group-level sds "
            "trade off",
            "target_accept=0.95, or a tighter prior on the sd that trades off with it",
        )
    return (
        f"the coefficient {name} is poorly identified (collinear predictors, separation or an "
        "extreme scale)",
        "rescale or center the predictor, check separation warnings, or a tighter prior",
    )


def _rhat_cause(name: str, kind: str, factor: str | None, meta: dict) -> tuple[str, str]:
    centered = _centered(meta, factor)
    if factor is not None and kind in ("sd", "effects"):
        other = "False" if centered else "True"
        return (
            f"the chains disagree about {name}: the effects of {factor!r} mix slowly in the "
            f"{'centered' if centered else 'non-centered'} parameterization",
            f"centered={{{factor!r}: {other}}} and more tune/draws",
        )
    if kind == "cor":
        return (
            f"the chains disagree about {name}: the correlation is barely identified",
            f"uncorrelated effects (... || {factor}) or more draws",
        )
    return (
        f"the chains disagree about {name}: weak identification or too few draws",
        "more tune and draws; rescale predictors; check for separation",
    )


def _post(idata) -> xr.Dataset:
    post = internal(idata)
    return post.to_dataset() if hasattr(post, "to_dataset") else post


def triage(idata, meta: dict) -> Triage:
    """Name the parameters involved in divergences and R-hat problems, with cause and remedy.

    Parameters
    ----------
    idata
        Posterior with ``sample_stats`` (``diverging``).
    meta
        The fit's model description.

    Returns
    -------
    Triage
        Empty when there are no divergences and every R-hat is fine.

    Examples
    --------
    >>> t = triage(fit.idata, fit.meta)
    >>> isinstance(t, Triage), all(isinstance(f, Finding) for f in t.findings)
    (True, True)
    """
    ds = parameter_dataset(idata, meta)
    kinds = parameter_kinds(meta)
    post = _post(idata)
    out = Triage()

    def tradeoff(name: str) -> _Tradeoff | None:
        return _tradeoff(post, meta, name, np.asarray(ds[name].values, dtype=float).ravel())

    div = None
    if "sample_stats" in idata.children and "diverging" in idata["sample_stats"]:
        div = np.asarray(idata["sample_stats"]["diverging"].values, dtype=bool)
    if div is not None and 0 < div.sum() < div.size:
        for name in ds.data_vars:
            v = np.asarray(ds[name].values, dtype=float)
            u = _unconstrained(name, kinds.get(name, "aux"), v)
            spread = float(np.std(u))
            if not np.isfinite(spread) or spread <= 0:
                continue
            out.scores[name] = float((u[div].mean() - u[~div].mean()) / spread)
        ranked = sorted(out.scores.items(), key=lambda kv: -abs(kv[1]))
        involved = [(n, s) for n, s in ranked if abs(s) >= SCORE_MIN][:3]
        for name, score in involved:
            kind = kinds.get(name, "aux")
            factor = factor_of(name)
            cause, action = _divergence_cause(name, kind, factor, score, meta)
            if kind == "fixed" and (t := tradeoff(name)) is not None:
                factor, (cause, action) = t.factor, _tradeoff_cause(name, t)
            out.findings.append(Finding(name, factor, "divergences", score, cause, action))
        if not involved:
            out.findings.append(
                Finding(
                    "(none stands out)",
                    None,
                    "divergences",
                    ranked[0][1] if ranked else 0.0,
                    "the divergent draws do not differ from the others in any summary parameter",
                    "target_accept=0.95-0.99; if they persist, simplify the random effects",
                )
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conv = convergence(ds)
        for blk in meta["blocks"]:
            name = r_var(blk["label"])
            if name in post:
                r = float(convergence(xr.Dataset({name: post[name]}))["r_hat"].iloc[0])
                conv.loc[f"random effects of {blk['factor']}", "r_hat"] = r
    bad = conv["r_hat"].dropna()
    bad = bad[bad > RHAT_MAX].sort_values(ascending=False)
    for name, r in bad.items():
        if name.startswith("random effects of "):
            kind, factor = "effects", name.removeprefix("random effects of ")
        else:
            kind, factor = kinds.get(name, "aux"), factor_of(name)
        cause, action = _rhat_cause(name, kind, factor, meta)
        if kind == "fixed" and (t := tradeoff(name)) is not None:
            factor = t.factor
            cause, action = _tradeoff_cause(name, t)
            cause = f"the chains disagree about {name}: {cause}"
        out.findings.append(Finding(name, factor, "r_hat", float(r), cause, action))
    for f in out.findings:
        if f.factor is not None and f.factor not in out.factors:
            out.factors.append(f.factor)
    return out
