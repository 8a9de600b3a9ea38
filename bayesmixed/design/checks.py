"""Warnings about data and fits that are valid but deserve attention (no PyMC here).

Before fitting, :func:`separation_messages` finds predictors that separate a binary or
binomial response (the maximum-likelihood estimate of their coefficient is infinite; with a
proper prior the posterior stays proper, but the coefficient is then determined by its prior).

After fitting, :func:`singular_messages` gives the Bayesian analogue of lme4's "boundary
(singular) fit" message: a group-level sd whose posterior puts at least :data:`ZERO_RATIO`
times more mass near zero (below a tenth of the prior median) than its prior does, a
correlation near +-1, or a grouping factor with so few levels (at most :data:`FEW_LEVELS`)
that its sd is informed mostly by the prior.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from bayesmixed.design.matrices import Design
from bayesmixed.formula.priors import Prior
from bayesmixed.names import cor_var, sd_label, sd_var

__all__ = [
    "FEW_LEVELS",
    "NEAR_ZERO",
    "ZERO_RATIO",
    "SeparationWarning",
    "SingularWarning",
    "near_zero_ratio",
    "prior_median",
    "separation_messages",
    "singular_messages",
    "warn_all",
]

#: a factor with at most this many levels gets a few-levels warning
FEW_LEVELS = 5
#: "near zero" for an sd: below this fraction of its prior median
NEAR_ZERO = 0.1
#: an sd is flagged when its posterior mass near zero is at least this many times its prior
#: mass there (a Savage-Dickey Bayes factor of 3 for sd = 0: "the data favour no variation")
ZERO_RATIO = 3.0
#: a correlation is "near +-1" when its posterior median magnitude exceeds this
COR_BOUNDARY = 0.9


class SeparationWarning(UserWarning):
    """A predictor separates a binary response (perfectly or quasi-perfectly).

    Examples
    --------
    >>> issubclass(SeparationWarning, UserWarning)
    True
    """


class SingularWarning(UserWarning):
    """A group-level sd near zero, a correlation near +-1, or too few levels (lme4: singular).

    Examples
    --------
    >>> issubclass(SingularWarning, UserWarning)
    True
    """


def _binary_sets(design: Design) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows with at least one success and rows with at least one failure."""
    if not design.family.uses_trials:
        return None
    y = design.y.astype(float)
    n = design.trials.astype(float) if design.trials is not None else np.ones_like(y)
    return y > 0, y < n


def separation_messages(design: Design) -> list[str]:
    """Describe every population-level column that separates a binary/binomial response.

    A column ``x`` separates completely when all rows with successes lie strictly on one side
    of all rows with failures, and quasi-completely when they touch at one value (for a 0/1
    dummy: every row of one category has the same outcome). For a binomial row with both
    successes and failures, the row counts on both sides, so it prevents separation.

    Returns
    -------
    list of str
        One message per separating column (empty when none, or for other families).

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesmixed.formula.parse import parse_formula
    >>> from bayesmixed.design.matrices import build_design
    >>> df = pd.DataFrame({"y": [0, 0, 1, 1], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> separation_messages(build_design(parse_formula("y ~ x", "bernoulli"), df))[0][:40]
    "complete separation: predictor 'x' separ"
    """
    sets = _binary_sets(design)
    if sets is None:
        return []
    ones, zeros = sets
    resp = str(design.spec.response)
    if not ones.any() or not zeros.any():
        what = "successes" if not zeros.any() else "failures"
        return [
            f"the response {resp!r} has only {what}: every coefficient, the intercept included, "
            "is determined by its prior alone"
        ]
    out = []
    for j, name in enumerate(design.x_names):
        if name == "Intercept":
            continue
        x = design.X[:, j]
        if np.ptp(x) == 0:
            continue
        x1, x0 = x[ones], x[zeros]
        for lo, hi, side in ((x0, x1, "above"), (x1, x0, "below")):
            if lo.max() <= hi.min():
                kind = "complete" if lo.max() < hi.min() else "quasi-complete"
                succ = (
                    f"{name} >= {hi.min():.4g}" if side == "above" else f"{name} <= {lo.max():.4g}"
                )
                fail = (
                    f"{name} <= {lo.max():.4g}" if side == "above" else f"{name} >= {hi.min():.4g}"
                )
                rule = f"successes only where {succ}, failures only where {fail}"
                if np.isin(x, [0.0, 1.0]).all():
                    rule = _dummy_rule(name, x, ones, zeros) or rule
                out.append(
                    f"{kind} separation: predictor {name!r} separates the response {resp!r} "
                    f"({rule}); its maximum-likelihood estimate is infinite, so the estimate of "
                    f"{name!r} is set by its prior (a proper prior keeps the posterior proper); "
                    "report it with care or use an informative prior"
                )
                break
    return out


def _dummy_rule(name: str, x: np.ndarray, ones: np.ndarray, zeros: np.ndarray) -> str | None:
    """For a 0/1 column: which category has a single outcome."""
    for v in (1.0, 0.0):
        rows = x == v
        if rows.any() and not zeros[rows].any():
            return f"every row with {name} = {v:g} is a success"
        if rows.any() and not ones[rows].any():
            return f"every row with {name} = {v:g} is a failure"
    return None


def _prior_dist(p: Prior):
    """The scipy distribution of a positive prior."""
    k = {name: float(v) for name, v in p.params.items()}
    if p.dist == "HalfNormal":
        return stats.halfnorm(scale=k["sigma"])
    if p.dist == "HalfStudentT":
        return stats.halfcauchy(scale=k["sigma"]) if k["nu"] == 1 else _HalfT(k["nu"], k["sigma"])
    if p.dist == "HalfCauchy":
        return stats.halfcauchy(scale=k["beta"])
    if p.dist == "Exponential":
        return stats.expon(scale=1.0 / k["lam"])
    if p.dist == "Gamma":
        return stats.gamma(k["alpha"], scale=1.0 / k["beta"])
    if p.dist == "InverseGamma":
        return stats.invgamma(k["alpha"], scale=k["beta"])
    if p.dist == "LogNormal":
        return stats.lognorm(k["sigma"], scale=np.exp(k["mu"]))
    raise ValueError(f"{p} is not a prior of a positive parameter")


class _HalfT:
    """|T| for a Student-t with ``nu`` degrees of freedom and scale ``sigma``."""

    def __init__(self, nu: float, sigma: float) -> None:
        self.nu, self.sigma = nu, sigma

    def cdf(self, x):
        return 2.0 * stats.t.cdf(np.asarray(x) / self.sigma, self.nu) - 1.0

    def median(self) -> float:
        return float(self.sigma * stats.t.ppf(0.75, self.nu))


def prior_median(p: Prior) -> float:
    """Median of a positive prior (the scale an sd is compared with).

    Examples
    --------
    >>> round(prior_median(Prior("HalfNormal", {"sigma": 1.0})), 4)
    0.6745
    """
    return float(_prior_dist(p).median())


def near_zero_ratio(draws: np.ndarray, p: Prior) -> tuple[float, float, float]:
    """How much more mass the posterior puts near zero than the prior.

    "Near zero" is below ``NEAR_ZERO`` times the prior median. Returns (threshold, posterior
    mass, posterior mass / prior mass); the ratio estimates the Savage-Dickey density ratio at
    zero, the Bayes factor for a zero sd against the model's prior.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesmixed.formula.priors import prior
    >>> draws = np.abs(np.random.default_rng(1).normal(0, 0.01, 1000))  # sd piled up at zero
    >>> threshold, mass, ratio = near_zero_ratio(draws, prior("half_normal", 1))
    >>> mass, bool(ratio > 10)
    (1.0, True)
    """
    eps = NEAR_ZERO * prior_median(p)
    post = float(np.mean(np.asarray(draws) < eps))
    prior = float(_prior_dist(p).cdf(eps))
    return eps, post, post / max(prior, 1e-12)


def singular_messages(idata, meta: dict, priors: dict[str, Prior]) -> list[str]:
    """lme4-style "singular fit" messages from a posterior.

    Parameters
    ----------
    idata
        Posterior with ``sd__L`` (and ``cor__L``) variables.
    meta
        The fit's model description (its ``blocks``).
    priors
        Resolved priors by parameter name (``"sd(term|factor)"``).

    Returns
    -------
    list of str
        Empty when the fit is not singular.

    Examples
    --------
    >>> singular_messages(fit.idata, fit.meta, {})  # no priors given: only the levels rule
    []
    """
    # the sampler's names: ``sampler_posterior`` of a fit's tree (see bayesmixed.report.core.native)
    post = idata["sampler_posterior" if "sampler_posterior" in idata.children else "posterior"]
    out: list[str] = []
    few_done: set[str] = set()
    for blk in meta["blocks"]:
        L, f = blk["label"], blk["factor"]
        if blk["n_levels"] <= FEW_LEVELS and f not in few_done:
            few_done.add(f)
            out.append(
                f"grouping factor {f!r} has only {blk['n_levels']} levels: its sd is estimated "
                "from very few groups and its posterior mostly reflects the prior; consider "
                f"{f!r} as a population-level (fixed) factor or an informative prior on its sd"
            )
        sd = np.asarray(post[sd_var(L)].values)
        for k, term in enumerate(blk["terms"]):
            key = sd_label(term, f)
            p = priors.get(key)
            if p is None:
                continue
            eps, mass, ratio = near_zero_ratio(sd[..., k], p)
            if ratio >= ZERO_RATIO:
                out.append(
                    f"singular fit: {key} is near zero (posterior probability {mass:.2f} that it "
                    f"is below {eps:.3g}, a tenth of its prior median: {ratio:.1f} times the prior "
                    f"probability): the data show little or no variation of {term!r} between "
                    f"levels of {f!r}; consider dropping that term"
                )
        if blk["correlated"] and cor_var(L) in post:
            cor = np.asarray(post[cor_var(L)].values)
            terms = blk["terms"]
            for i in range(len(terms)):
                for j in range(i + 1, len(terms)):
                    med = float(np.median(cor[..., i, j]))
                    if abs(med) > COR_BOUNDARY:
                        out.append(
                            f"singular fit: cor({terms[i]},{terms[j]}|{f}) is near "
                            f"{np.sign(med):+.0f} "
                            f"(posterior median {med:.2f}); consider uncorrelated effects "
                            f"({' + '.join(terms)} || {f}) or a simpler block"
                        )
    return out


def warn_all(messages: list[str], category: type[Warning], stacklevel: int = 3) -> list[str]:
    """Issue each message as a warning of ``category``; return the messages.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = warn_all(["sd(x|g) is near zero"], SingularWarning)
    >>> [str(w.message) for w in caught]
    ['sd(x|g) is near zero']
    """
    for msg in messages:
        warnings.warn(msg, category, stacklevel=stacklevel)
    return messages
