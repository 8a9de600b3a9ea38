"""Choose centered or non-centered random effects per grouping factor.

The rule compares, per level, the information the data carry about that level's effect with
the spread of the effects. For a normal hierarchy with known variances, the posterior of the
centered parameterization is well conditioned when the data precision of a level,
``n_j * w``, exceeds the prior precision ``1 / tau^2``, and the non-centered one when it does
not (Papaspiliopoulos, Roberts & Skold 2007; Betancourt & Girolami 2015). So we compute

    r_j = n_j * w * tau_hat^2

and center a factor when the median ``r_j`` is at least :data:`CENTER_THRESHOLD` (10). ``w`` is the Fisher information of one
observation about the linear predictor at the overall mean (gaussian: 1 / within-group
variance; logit: n p (1 - p); probit and cloglog likewise from their derivatives; poisson: mu;
negative binomial: mu / (1 + mu / alpha) with alpha from moments); for a slope term ``n_j`` is
replaced by the level's within-level sum of squares of the slope column, and a
block is centered only when every term passes. ``tau_hat`` is a
method-of-moments estimate of the between-level sd of the link-scale level means, corrected for
their sampling variance and floored at 5% of the prior scale. It ignores covariates, which makes it
a conservative (larger) estimate when covariates vary between levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from bayesmixed.spec.design import Design, GroupBlock

#: Center when the data precision of a level is at least ten times the prior precision. The
#: crossover of the two parameterizations is at 1 in theory (normal model, known variances); the
#: margin is asymmetric on purpose: centering a weakly informed factor makes a funnel
#: (divergences, biased draws), while not centering an informed one only costs effective
#: samples. Measured: at ratios 1.3-1.5 (simulated cloglog slopes) and 6.5 (sleepstudy) the
#: centered form still produced divergences in some seeds; at 20-300 (Pastes casks, Penicillin,
#: simulated log-link slopes) it gave 2-100 times the ESS of the non-centered form without any.
CENTER_THRESHOLD = 10.0

__all__ = ["Choice", "choose_parameterization", "info_ratio", "intercept_spread"]


@dataclass(frozen=True)
class Choice:
    """Parameterization of one grouping factor and why.

    Examples
    --------
    >>> Choice(centered=False, rule="auto", ratio=0.24).to_dict()
    {'centered': False, 'rule': 'auto', 'ratio': 0.24}
    """

    centered: bool
    rule: str  # "auto" or "user"
    ratio: float | None  # median r_j, when computed
    #: tau_hat^2 / levels: how much this factor's effects blur the overall intercept; the
    #: builder moves the intercept into the mean of the centered factor where it is largest
    spread: float = 0.0

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"centered": self.centered, "rule": self.rule, "ratio": self.ratio}


def _link_mean_and_weight(design: Design, ybar: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link-scale level means and per-observation information ``w`` per level."""
    fam, link = design.family.name, design.link
    if fam in ("bernoulli", "binomial"):
        p = np.clip(ybar, 1e-3, 1 - 1e-3)
        if link == "logit":
            return special.logit(p), p * (1 - p)
        if link == "probit":
            q = stats.norm.ppf(p)
            return q, stats.norm.pdf(q) ** 2 / (p * (1 - p))
        q = np.log(-np.log1p(-p))  # cloglog
        dens = np.exp(q - np.exp(q))
        return q, dens**2 / (p * (1 - p))
    if fam in ("poisson", "negbinomial") or link == "log":
        mu = np.maximum(ybar, 0.05)
        if fam == "negbinomial":
            y = design.y.astype(float)
            m, v = y.mean(), y.var()
            alpha = m**2 / (v - m) if v > m * 1.01 else 1e3
            return np.log(mu), mu / (1 + mu / alpha)
        return np.log(mu), mu
    return ybar, np.full_like(ybar, np.nan)  # gaussian identity: weight set by caller


def _level_stats(design: Design, idx: np.ndarray, J: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per level: link-scale mean ``g``, information ``n_info * w``; and ``tau_hat^2``."""
    trials = design.trials if design.trials is not None else np.ones(design.n_obs)
    y = design.y.astype(float)
    succ = np.bincount(idx, weights=y, minlength=J)
    n = np.bincount(idx, weights=trials.astype(float), minlength=J)
    rows = np.bincount(idx, minlength=J).astype(float)
    ybar = succ / np.maximum(n, 1e-12)
    if design.family.name in ("bernoulli", "binomial"):
        ybar = (succ + 0.5) / (n + 1.0)
    g, w = _link_mean_and_weight(design, ybar, n)
    if design.family.name == "gaussian" and design.link == "identity":
        w = np.full(J, 1.0 / _residual_variance(design))
        n_info = rows
    else:
        n_info = n if design.family.name == "binomial" else rows
    info = np.maximum(n_info * w, 1e-12)
    between = float(np.var(g, ddof=1)) if J > 1 else 0.0
    gaussian = design.family.name == "gaussian" and design.link == "identity"
    prior_scale = float(np.std(y, ddof=1)) if gaussian else 1.0
    tau2 = max(between - float(np.mean(1.0 / info)), (0.05 * prior_scale) ** 2)
    return g, info, w, tau2


def _residual_variance(design: Design, sweeps: int = 10) -> float:
    """Residual variance of y after removing every factor's level means (backfitting).

    Removing all factors, not only the one being judged, keeps crossed factors' effects out of
    the "within-level" noise.
    """
    r = design.y.astype(float) - design.y.mean()
    dof = design.n_obs - 1
    for _ in range(sweeps):
        for b in design.blocks:
            rows = np.bincount(b.index, minlength=b.n_levels)
            means = np.bincount(b.index, weights=r, minlength=b.n_levels) / np.maximum(rows, 1)
            r = r - means[b.index]
    dof = max(design.n_obs - 1 - sum(b.n_levels - 1 for b in design.blocks), 1)
    return max(float(np.sum(r**2) / dof), 1e-12)


def _nested_inner(design: Design, block: GroupBlock) -> GroupBlock | None:
    """The factor with fewest levels nested in ``block``'s factor (each level in one outer level)."""
    best = None
    for other in design.blocks:
        if other.factor == block.factor or other.n_levels <= block.n_levels:
            continue
        outer = np.full(other.n_levels, -1)
        outer[other.index] = block.index
        if np.array_equal(outer[other.index], block.index) and (best is None or other.n_levels < best.n_levels):
            best = other
    return best


def intercept_spread(design: Design, block: GroupBlock) -> float:
    """``tau_hat^2 / levels``: the variance the factor's level effects add to the intercept.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> round(intercept_spread(design, design.blocks[0]))
    71
    """
    _, _, _, tau2 = _level_stats(design, block.index, block.n_levels)
    return float(tau2 / block.n_levels)


def info_ratio(design: Design, block: GroupBlock) -> float:
    """Median over levels of ``n_j * w * tau_hat^2`` (see the module docstring).

    When another grouping factor is nested in this one, its levels (not the rows) are the
    replicates that inform this factor's effects: each inner level contributes precision
    ``1 / (1 / info_h + tau_h^2)``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> info_ratio(design, design.blocks[0]) > 1  # plenty of data per subject: center
    True
    """
    idx, J = block.index, block.n_levels
    g, info, w, tau2 = _level_stats(design, idx, J)
    inner = _nested_inner(design, block)
    if inner is not None:
        _, info_h, _, tau2_h = _level_stats(design, inner.index, inner.n_levels)
        outer_of_inner = np.zeros(inner.n_levels, dtype=np.int64)
        outer_of_inner[inner.index] = idx
        info = np.bincount(outer_of_inner, weights=1.0 / (1.0 / info_h + tau2_h), minlength=J)
        between = float(np.var(g, ddof=1)) if J > 1 else 0.0
        tau2 = max(between - float(np.mean(1.0 / np.maximum(info, 1e-12))), tau2 * 0.0025)
    ratios = [float(np.median(info * tau2))]
    # slopes: a level's information about its slope deviation is the within-level sum of
    # squares of the slope column (times w), not the number of rows
    rows = np.bincount(idx, minlength=J).astype(float)
    for k, term in enumerate(block.terms):
        if term == "Intercept":
            continue
        z = block.Z[:, k]
        if "Intercept" in block.terms:
            zbar = np.bincount(idx, weights=z, minlength=J) / np.maximum(rows, 1)
            z = z - zbar[idx]
        ss = np.bincount(idx, weights=z**2, minlength=J)
        ratios.append(float(np.median(ss * w * tau2)))
    return min(ratios)


def choose_parameterization(
    design: Design,
    user: dict[str, bool | str] | bool | str | None = None,
) -> dict[str, Choice]:
    """Centered (True) or non-centered (False) per grouping factor.

    Parameters
    ----------
    design
        The model design.
    user
        ``True``/``False``/``"auto"`` for all factors, or a dict factor -> that. Unnamed factors
        use ``"auto"``.

    Returns
    -------
    dict
        Factor -> :class:`Choice`.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> choose_parameterization(design)["Subject"].centered
    True
    >>> choose_parameterization(design, {"Subject": False})["Subject"].rule
    'user'
    """
    out: dict[str, Choice] = {}
    spec_user = dict(design.spec.centered)
    if isinstance(user, dict):
        spec_user.update(user)
    elif user is not None:
        spec_user = {f: user for f in design.spec.factors}
    unknown = set(spec_user) - set(design.spec.factors)
    if unknown:
        from bayesmixed.errors import SpecError

        raise SpecError(
            f"centered= names factor {sorted(unknown)[0]!r}, which is not a grouping factor of "
            f"this model ({', '.join(design.spec.factors)})"
        )
    for b in design.blocks:
        if b.factor in out:
            continue
        choice = spec_user.get(b.factor, "auto")
        if choice == "auto" or choice is None:
            r = info_ratio(design, b)
            out[b.factor] = Choice(centered=bool(r >= CENTER_THRESHOLD), rule="auto", ratio=r, spread=intercept_spread(design, b))
        elif isinstance(choice, bool):
            out[b.factor] = Choice(centered=choice, rule="user", ratio=None, spread=intercept_spread(design, b))
        else:
            from bayesmixed.errors import SpecError

            raise SpecError(
                f"centered for factor {b.factor!r} must be True, False or 'auto', got {choice!r}"
            )
    return out
