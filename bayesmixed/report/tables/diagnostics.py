"""Convergence diagnostics with a plain verdict and advice.

Thresholds follow Vehtari et al. (2021) and the Stan team's recommendations: R-hat <= 1.01,
bulk and tail ESS >= 100 per chain, no divergent transitions, no tree-depth saturation, E-BFMI
>= 0.3.

Approximate draws (``method="pathfinder"``, issue 14) get no NUTS diagnostics: their verdict
is ``"approximate"`` (never ``"ok"``: nothing says they match the posterior), R-hat and ESS are
NaN, and the quality check shown is the Pareto k of the importance weights (k > 0.7: the
normal approximations miss the posterior's shape).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr

from bayesmixed.names import r_var
from bayesmixed.report.core.draws import internal
from bayesmixed.report.core.params import parameter_dataset
from bayesmixed.report.tables import triage as _triage
from bayesmixed.report.tables.summary import convergence

__all__ = ["Diagnostics", "diagnose"]

RHAT_MAX = 1.01
ESS_PER_CHAIN = 100
EBFMI_MIN = 0.3
#: Pareto k above which an approximation's importance weights are unreliable (Vehtari et al.)
PARETO_K_MAX = 0.7
#: fewer effective importance draws than this: the resampled draws repeat a few points
APPROX_ESS_MIN = 100


@dataclass
class Diagnostics:
    """Figures, verdict and advice.

    ``verdict`` is ``"ok"`` (use the results), ``"warning"`` (usable with care: see advice),
    ``"fail"`` (do not trust the results) or ``"approximate"`` (draws of an approximation such
    as Pathfinder: no convergence diagnostics, for exploration only).

    Examples
    --------
    >>> d = diagnose(fit.idata, fit.meta)
    >>> d.verdict in ("ok", "warning", "fail"), d.n_chains, d.divergences >= 0
    (True, 2, True)
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    treedepth_hits: int
    ebfmi_min: float
    n_draws: int
    n_chains: int
    verdict: str
    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    worst: dict[str, str] = field(default_factory=dict)
    #: parameters involved in divergences / R-hat problems, cause and remedy (issue 6)
    triage: list[str] = field(default_factory=list)
    #: ``"nuts"`` or the approximation that made the draws (``"pathfinder"``)
    method: str = "nuts"
    #: Pareto k of the approximation's importance weights (NaN for NUTS)
    pareto_k: float = float("nan")

    def to_dict(self) -> dict:
        """JSON-able form."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and not np.isfinite(v):
                d[k] = None
        return d

    def __str__(self) -> str:
        if self.verdict == "approximate":
            lines = [
                f"Verdict: APPROXIMATE ({self.method} draws: no R-hat/ESS, convergence not "
                "checked)",
                f"  Pareto k of the importance weights {self.pareto_k:.2f}, "
                f"{self.n_chains} x {self.n_draws} resampled draws",
            ]
            lines += [f"  problem: {p}" for p in self.problems]
            lines += [f"  advice: {a}" for a in self.advice]
            return "\n".join(lines)
        lines = [
            f"Verdict: {self.verdict.upper()}",
            f"  max R-hat {self.max_rhat:.3f} ({self.worst.get('rhat', '-')}), "
            f"min bulk ESS {self.min_ess_bulk:.0f} ({self.worst.get('ess_bulk', '-')}), "
            f"min tail ESS {self.min_ess_tail:.0f} ({self.worst.get('ess_tail', '-')})",
            f"  divergences {self.divergences}, tree-depth hits {self.treedepth_hits}, "
            f"min E-BFMI {self.ebfmi_min:.2f}",
        ]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  triage: {t}" for t in self.triage]
        lines += [f"  advice: {a}" for a in self.advice]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if self.verdict == "approximate":
            items = "".join(f"<li>{p}</li>" for p in self.problems + self.advice)
            return (
                f"<div><b style='color:#9a6700'>Diagnostics: APPROXIMATE ({self.method} draws, "
                f"no R-hat/ESS)</b> Pareto k {self.pareto_k:.2f}<ul>{items}</ul></div>"
            )
        color = {"ok": "#1a7f37", "warning": "#9a6700", "fail": "#cf222e"}[self.verdict]
        items = "".join(f"<li>{p}</li>" for p in self.problems + self.triage + self.advice)
        return (
            f"<div><b style='color:{color}'>Diagnostics: {self.verdict.upper()}</b> "
            f"max R-hat {self.max_rhat:.3f}, min bulk ESS {self.min_ess_bulk:.0f}, "
            f"min tail ESS {self.min_ess_tail:.0f}, divergences {self.divergences}"
            f"<ul>{items}</ul></div>"
        )


def _stat(idata, *names):
    if "sample_stats" not in idata.children:
        return None
    ss = idata["sample_stats"]
    for n in names:
        if n in ss:
            return np.asarray(ss[n].values)
    return None


def _ebfmi(idata) -> float:
    energy = _stat(idata, "energy")
    if energy is None:
        return float("nan")
    import arviz_stats as azs

    with np.errstate(divide="ignore", invalid="ignore"):  # per chain, (chain, draw) array
        return float(np.min(azs.bfmi(energy.astype(float))))


def _random_effect_rhat(idata, meta: dict) -> tuple[float, str]:
    post = internal(idata)
    worst, where = 1.0, "-"
    for blk in meta["blocks"]:
        name = r_var(blk["label"])
        if name not in post:
            continue
        ds = xr.Dataset({name: post[name]})
        conv = convergence(ds)
        r = float(conv["r_hat"].iloc[0])
        if np.isfinite(r) and r > worst:
            worst, where = r, f"random effects of {blk['factor']}"
    return worst, where


def diagnose(idata, meta: dict) -> Diagnostics:
    """Diagnose a fit: figures, verdict and what to do about each problem.

    Examples
    --------
    >>> d = diagnose(fit.idata, fit.meta)
    >>> sorted(d.to_dict())[:4]
    ['advice', 'divergences', 'ebfmi_min', 'max_rhat']
    """
    if meta.get("method", "nuts") != "nuts":
        return _approximate(idata, meta)
    ds = parameter_dataset(idata, meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conv = convergence(ds)
    # correlations of a term with itself are constant; ignore undefined values
    rh = conv["r_hat"].dropna()
    eb = conv["ess_bulk"].dropna()
    et = conv["ess_tail"].dropna()
    max_rhat = float(rh.max()) if len(rh) else float("nan")
    worst = {
        "rhat": str(rh.idxmax()) if len(rh) else "-",
        "ess_bulk": str(eb.idxmin()) if len(eb) else "-",
        "ess_tail": str(et.idxmin()) if len(et) else "-",
    }
    re_rhat, re_where = _random_effect_rhat(idata, meta)
    if re_rhat > max_rhat:
        max_rhat, worst["rhat"] = re_rhat, re_where
    post = internal(idata)
    n_chains, n_draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    div = _stat(idata, "diverging")
    divergences = int(np.sum(div)) if div is not None else 0
    depth = _stat(idata, "maxdepth_reached", "reached_max_treedepth")
    treedepth_hits = int(np.sum(depth)) if depth is not None else 0
    ebfmi = _ebfmi(idata)

    problems: list[str] = []
    advice: list[str] = []
    fail = False
    ess_need = ESS_PER_CHAIN * n_chains
    if max_rhat > RHAT_MAX:
        fail = True
        problems.append(f"R-hat {max_rhat:.3f} > {RHAT_MAX} for {worst['rhat']}: chains disagree")
        advice.append(
            "run longer chains (more tune and draws); if R-hat stays high, the posterior may be "
            "multimodal or the model poorly identified: simplify the random-effects structure"
        )
    min_bulk = float(eb.min()) if len(eb) else float("nan")
    min_tail = float(et.min()) if len(et) else float("nan")
    if min_bulk < ess_need or min_tail < ess_need:
        problems.append(
            f"effective sample size below {ess_need} ({ESS_PER_CHAIN} per chain): bulk "
            f"{min_bulk:.0f} ({worst['ess_bulk']}), tail {min_tail:.0f} ({worst['ess_tail']})"
        )
        advice.append("increase draws; intervals and tail quantiles are not yet reliable")
    if divergences:
        fail = fail or divergences > 0.01 * n_chains * n_draws
        problems.append(
            f"{divergences} divergent transitions after warm-up: the sampler missed part of the posterior"
        )
        advice.append(
            "raise target_accept (e.g. 0.95); if divergences remain, switch the parameterization "
            "(centered= True/False) of the factor whose sd is small or poorly identified, or use "
            "a tighter prior on that sd"
        )
    if treedepth_hits:
        problems.append(
            f"{treedepth_hits} draws hit the maximum tree depth: sampling is inefficient"
        )
        advice.append("rescale predictors, or try the other parameterization for data-rich factors")
    if np.isfinite(ebfmi) and ebfmi < EBFMI_MIN:
        problems.append(
            f"E-BFMI {ebfmi:.2f} < {EBFMI_MIN}: the sampler explores energy levels poorly"
        )
        advice.append(
            "reparameterize (non-centered for weakly identified factors) or tighten sd priors"
        )
    verdict = "fail" if fail else ("warning" if problems else "ok")
    found = _triage.triage(idata, meta) if divergences or max_rhat > RHAT_MAX else None
    if verdict == "ok":
        advice.append("no problems found: the results can be used")
    return Diagnostics(
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        divergences=divergences,
        treedepth_hits=treedepth_hits,
        ebfmi_min=ebfmi,
        n_draws=n_draws,
        n_chains=n_chains,
        verdict=verdict,
        problems=problems,
        advice=advice,
        worst=worst,
        triage=found.lines() if found else [],
    )


def _approximate(idata, meta: dict) -> Diagnostics:
    """The diagnostics of approximate draws: the approximation's own checks, no NUTS ones."""
    approx = meta.get("approximation", {})
    method = meta["method"]
    post = internal(idata)
    khat = float(approx.get("pareto_k", np.nan))
    problems = [f"{method} draws are an approximation of the posterior: R-hat, ESS and "
                "divergences do not apply and convergence is not checked"]
    if not np.isfinite(khat) or khat > PARETO_K_MAX:
        problems.append(
            f"Pareto k {khat:.2f} > {PARETO_K_MAX}: the importance weights are unreliable, the "
            "approximation misses the posterior's shape (typically the sds' skew): means are a "
            "rough guide, sds and intervals may be too narrow"
        )
    ess = float(approx.get("ess", np.nan))
    if np.isfinite(ess) and ess < APPROX_ESS_MIN:
        problems.append(
            f"the importance weights leave {ess:.0f} effective draws of "
            f"{approx.get('pooled_draws')}: the resampled draws repeat a few points, so sds and "
            "intervals are too narrow"
        )
    stuck = sum(bool(h) for h in approx.get("hit_maxiter", []))
    if stuck:
        problems.append(f"{stuck} of {len(approx['hit_maxiter'])} paths stopped at the "
                        f"iteration limit ({approx.get('maxiter')}) before L-BFGS converged")
    return Diagnostics(
        max_rhat=float("nan"),
        min_ess_bulk=float("nan"),
        min_ess_tail=float("nan"),
        divergences=0,
        treedepth_hits=0,
        ebfmi_min=float("nan"),
        n_draws=int(post.sizes["draw"]),
        n_chains=int(post.sizes["chain"]),
        verdict="approximate",
        problems=problems,
        advice=["for exploration only: refit with NUTS (method='nuts') before reporting results"],
        method=method,
        pareto_k=khat,
    )
