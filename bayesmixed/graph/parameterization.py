"""Choose centered or non-centered random effects per grouping factor.

Why the choice matters. For a level ``j`` with effects ``u_j ~ Normal(mean, D)`` and data whose
precision about ``u_j`` is ``A_j`` (``Z_j' W Z_j``, ``W`` the GLM weights), the two forms fail in
opposite corners (Papaspiliopoulos, Roberts & Skold 2007; Betancourt & Girolami 2015):

- centered (sample ``u_j``): when the data say little about ``u_j`` relative to the spread
  ``D``, ``u_j`` and the sd are locked together into a funnel: divergences, biased draws;
- non-centered (sample ``z_j`` with ``u_j = mean + L z_j``): when the data pin ``u_j``, ``z_j``
  and the sd are locked along a ridge: slow mixing, but no bias.

The scale-free quantity that decides is the smallest eigenvalue ``lambda_j`` of
``D^1/2 A_j D^1/2``: the ratio of data precision to prior precision in the direction the data
inform least (for one term, ``n_j w tau^2``; with an intercept and an uncentered slope, the
combination the data cannot separate). The rule is

    center the factor  <=>  median_j lambda_j >= CENTER_THRESHOLD (1.5),  D at its lower bound.

Three choices make the rule safe on the funnel side, because the two errors do not cost the same
(a wrongly centered factor gives wrong answers, a wrongly non-centered one gives fewer ESS):

1. ``D`` and ``A_j`` come from a quick penalized quasi-likelihood fit that accounts for the
   covariates and the other factors (:mod:`bayesmixed.graph.variance_guess`); level means that
   ignore covariates overstate ``D`` and would center factors whose spread is only a slope.
2. ``D`` enters at a lower plausible value, ``tau_k^2 (J - 1) / chi2_0.9(J - 1)`` (the 10% lower
   bound of a variance estimated from ``J`` levels): with few levels the posterior of the sd
   reaches small values, where the centered form meets its funnel.
3. The smallest eigenvalue, not the per-term ratios, so an intercept that the data confound
   with an uncentered slope counts as weakly informed.

When another factor is nested in this one, this factor's intercepts are informed through the
inner levels, each contributing precision ``1 / (1 / info_h + tau_h^2)``.

Calibration (simulated ``y ~ x + (1 | g)``, 2 seeds each, 4 chains x 500 draws, min bulk ESS over
intercept, slope and sd, "ratio" = the statistic above; C / NC = centered / non-centered):

- gaussian, 30 levels x 8 rows, sigma 1, tau 0.1-0.5 (ratio 0.1-0.8): C 10-442 ESS with
  divergences in 4 of 7 fits, NC 280-907; tau 0.5-0.7 (1.4-1.6): C 729-1,393, NC 606-679;
  tau 0.7-3 (2.7-43): C 2,014-3,941, NC 39-498.
- logistic, 30 x 20 rows, tau 0.2-0.4 (0.2-0.6): C 10-237 with divergences, NC 340-557;
  tau 0.6 (1.4-1.6): C 916-922, NC 644-651; tau 0.8-2.5 (2-8): C 800-1,841, NC 90-732.
- five levels x 40 rows (logistic, gaussian): below 1.5 the centered fits diverge (5-48
  divergences in 5 of 6 fits); above it C 869-1,604 against NC 67-358, with 2 and 5
  divergences in the two fits at 1.5-2.1 (the non-centered fits of few levels diverge too).
- ``y ~ x + (1 + x | g)``, 40 levels x 25 rows (the recovery cases): gaussian (ratio 1.7-1.8),
  C 341-512 ESS of 1,000 against NC 152-174 (R-hat up to 1.035); gaussian with log link
  (160-210), C 1,276-1,487 against NC 36-96. Sleepstudy ``(Days | Subject)`` (1.2): C
  1,177-2,194 of 4,000 with 3 divergences in one of two seeds, NC 990-1,013 without: left
  non-centered.

Misses are on the safe side (non-centered where centered would have given up to twice the ESS)
except at five levels, where neither form is clean.

A pivot level. A factor left non-centered can still have a level that its data pin (one clinic
with 400 patients among clinics with 1-4). Non-centered, the intercept and that level's
innovation are locked on the curved ridge ``intercept + sd z_j = const`` (divergences);
centering the whole factor puts the data-poor levels into the funnel, and centering that level
alone locks the intercept to it as ``sd`` shrinks (a funnel again: measured, more divergences).
What works is to sample the pinned quantity itself: the level's linear predictor
``p = intercept + sd z_j``, with the intercept derived as ``p - sd z_j`` (Jacobian 1, the
intercept's prior kept exactly). The level with the largest ``lambda_j`` becomes the pivot when
``lambda_j >= PIVOT_THRESHOLD`` (5) while the factor stays non-centered; the builder uses it
for random-intercept factors only (:mod:`bayesmixed.graph.pivot`). Measured on the
hard-cases data (one level of 400 rows, ``lambda`` 10, 24 levels of 1-4 rows, logistic, seeds
1, 2, 3, 14, 2 chains x 1,000 draws): non-centered 3-27 divergences, intercept ESS 199-580;
pivot 0 divergences, intercept ESS 1,832-2,135.

Partial centering. A factor that is neither centered nor pivoted, whose statistic is at least
``PARTIAL_THRESHOLD`` (0.5) and which has at least ``PARTIAL_MIN_LEVELS`` (30) levels, is
sampled partially centered (:func:`bayesmixed.graph.random_effects.partial_block`), with a weight
``w = lambda / (1 + lambda)`` per level and term (:func:`partial_weights`). Calibration (same
setting as above, 4 chains x 500 draws, seeds 1 and 2; partial against non-centered):
gaussian 30 x 8, tau 0.5 (ratio 0.69, 1.44): 1,064-3,296 against 562-605; tau 0.3 (0.61): 892
against 408; logistic 30 x 20, tau 0.4 (0.56-0.61): 353-814 against 473-561; below 0.5 (ratio
0.13-0.26): 259-535 against 425-532 (so non-centered there); sleepstudy ``(Days | Subject)``
without integrating out (18 levels, 1.17): 5-13 divergences against none (so 30 levels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from bayesmixed.design.matrices import Design, GroupBlock
from bayesmixed.graph.variance_guess import VarianceGuess, guess_variances

#: Center a factor when the data precision of its median level, in its least informed
#: direction, is at least 1.5 times the prior precision at the lower bound of the spread. The
#: crossover is at 1 in theory (normal model, known variances); see the module docstring for
#: the calibration that put it here.
CENTER_THRESHOLD = 1.5

#: In a non-centered factor, a level whose own statistic is at least this becomes the pivot.
PIVOT_THRESHOLD = 5.0

#: One-sided probability of the lower bound of each term's variance.
LOWER_BOUND_PROB = 0.9

#: A factor that is neither centered nor pivoted is partially centered when its statistic is at
#: least this (the median level's data precision half the prior precision at the lower bound of
#: the spread); below it the posterior of the sd reaches zero, where no fixed weight fits and
#: the non-centered form mixed better (calibration in the module docstring).
PARTIAL_THRESHOLD = 0.5

#: ... and when it has at least this many levels: with fewer, the posterior of the sd is too wide
#: for one set of weights (sleepstudy ``(Days | Subject)``, 18 levels: 5-13 divergences
#: partially centered, none non-centered).
PARTIAL_MIN_LEVELS = 30

__all__ = [
    "CENTER_THRESHOLD",
    "PARTIAL_MIN_LEVELS",
    "PARTIAL_THRESHOLD",
    "PIVOT_THRESHOLD",
    "Choice",
    "choose_parameterization",
    "info_ratio",
    "intercept_spread",
    "partial_weights",
]


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
    ratio: float | None  # median smallest eigenvalue, when computed
    #: tau_hat^2 / levels: how much this factor's effects blur the overall intercept; the
    #: builder moves the intercept into the mean of the centered factor where it is largest
    spread: float = 0.0
    #: a data-rich level of a non-centered factor whose linear predictor is sampled in place of
    #: the intercept (index; see the module docstring), and its statistic; the builder uses
    #: it when the model allows (an intercept, no hierarchical centering of it)
    pivot_level: int | None = None
    pivot_ratio: float = 0.0
    #: partial centering: per block label, the (levels x terms) weights ``w`` in [0, 1] of
    #: :func:`bayesmixed.graph.random_effects.partial_block`; None for the other two forms
    weights: dict[str, np.ndarray] | None = field(default=None, compare=False)

    @property
    def partial(self) -> bool:
        """Whether the factor is partially centered."""
        return self.weights is not None

    @property
    def takes_mean(self) -> bool:
        """Whether hierarchical centering may move terms into this factor's mean."""
        return self.centered or self.partial

    @property
    def kind(self) -> str:
        """``"centered"``, ``"partial"`` or ``"non-centered"``."""
        return "centered" if self.centered else "partial" if self.partial else "non-centered"

    def to_dict(self) -> dict:
        """JSON-able form (with the weights' range for a partially centered factor)."""
        out = {"centered": self.centered, "rule": self.rule, "ratio": self.ratio}
        if self.partial:
            w = np.concatenate([v.ravel() for v in self.weights.values()])
            out["partial"] = True
            out["weights"] = [round(float(q), 3) for q in np.quantile(w, [0.0, 0.5, 1.0])]
        return out


def _lower_bound_factor(n_levels: int) -> float:
    """``(J - 1) / chi2_p(J - 1)``: lower bound of a variance from ``J`` levels, per unit."""
    df = max(n_levels - 1, 1)
    return float(df / stats.chi2.ppf(LOWER_BOUND_PROB, df))


def _nested_inner(design: Design, block: GroupBlock) -> int | None:
    """Index of the block with fewest levels nested in ``block``'s factor, with an intercept."""
    best = None
    for i, other in enumerate(design.blocks):
        if other.factor == block.factor or other.n_levels <= block.n_levels:
            continue
        if other.terms[0] != "Intercept":
            continue
        outer = np.full(other.n_levels, -1)
        outer[other.index] = block.index
        if np.array_equal(outer[other.index], block.index) and (
            best is None or other.n_levels < design.blocks[best].n_levels
        ):
            best = i
    return best


def _level_information(design: Design, i: int, guess: VarianceGuess) -> np.ndarray:
    """(levels, terms, terms) data precision about each level's effects.

    The intercept of a factor that has another factor nested in it is informed through the
    inner levels (see the module docstring).
    """
    b = design.blocks[i]
    J = b.n_levels
    A = guess.blocks[i].A.copy()
    inner = _nested_inner(design, b)
    if inner is not None and b.terms[0] == "Intercept":
        h = design.blocks[inner]
        info_h = guess.blocks[inner].info[:, 0]
        tau2_h = float(guess.blocks[inner].tau2[0])
        outer_of_inner = np.zeros(h.n_levels, dtype=np.int64)
        outer_of_inner[h.index] = b.index
        per_inner = 1.0 / (1.0 / np.maximum(info_h, 1e-300) + tau2_h)
        via = np.bincount(outer_of_inner, weights=per_inner, minlength=J)
        scale = np.sqrt(via / np.maximum(A[:, 0, 0], 1e-300))
        A[:, 0, :] *= scale[:, None]
        A[:, :, 0] *= scale[:, None]
    return A


def _level_ratios(design: Design, i: int, guess: VarianceGuess) -> np.ndarray:
    """Per level, the smallest eigenvalue of ``D_lo^1/2 A_j D_lo^1/2``."""
    b = design.blocks[i]
    A = _level_information(design, i, guess)
    tau_lo = np.sqrt(guess.blocks[i].tau2 * _lower_bound_factor(b.n_levels))
    S = A * tau_lo[None, :, None] * tau_lo[None, None, :]
    return np.linalg.eigvalsh(S)[:, 0] if b.n_terms > 1 else S[:, 0, 0]


def partial_weights(design: Design, i: int, guess: VarianceGuess) -> np.ndarray:
    """(levels x terms) weights ``w = lambda / (1 + lambda)`` of partial centering.

    ``lambda_jk = A_j[k, k] tau_lo_k^2`` is the data-to-prior precision ratio of term ``k`` at
    level ``j`` (the lower bound of the spread, as for the rule): ``w`` is the weight that makes
    the sampled variable and the sd independent in the normal model with known variances
    (Papaspiliopoulos, Roberts & Skold 2007), 0 non-centered, 1 centered.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.graph.variance_guess import guess_variances
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    >>> w = partial_weights(design, 0, guess_variances(design))
    >>> w.shape, bool(((w > 0) & (w < 1)).all())
    ((18, 2), True)
    """
    b = design.blocks[i]
    A = _level_information(design, i, guess)
    tau_lo = np.sqrt(guess.blocks[i].tau2 * _lower_bound_factor(b.n_levels))
    S = A * tau_lo[None, :, None] * tau_lo[None, None, :]
    # the precision of term k when the level's other terms are unknown too: 1 / (S^-1)_kk
    # (an intercept confounded with an uncentered slope is informed less than A_kk says)
    ridge = 1e-9 * np.eye(b.n_terms)
    lam = 1.0 / np.maximum(np.einsum("jkk->jk", np.linalg.inv(S + ridge)), 1e-300)
    return lam / (1.0 + lam)


def _ratio(design: Design, i: int, guess: VarianceGuess) -> float:
    """Median over levels of the smallest eigenvalue of ``D_lo^1/2 A_j D_lo^1/2``."""
    return float(np.median(_level_ratios(design, i, guess)))


def _pivot(lam: np.ndarray | None) -> tuple[int | None, float]:
    """The pivot level of a non-centered factor, if any (see the module docstring)."""
    if lam is None or lam.size < 2:
        return None, 0.0
    j = int(np.argmax(lam))
    return (j, float(lam[j])) if lam[j] >= PIVOT_THRESHOLD else (None, 0.0)


def info_ratio(design: Design, block: GroupBlock, guess: VarianceGuess | None = None) -> float:
    """The rule's statistic for ``block`` (see the module docstring); center when >= 1.5.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> info_ratio(design, design.blocks[0]) > CENTER_THRESHOLD  # 10 rows per subject: center
    True
    """
    guess = guess or guess_variances(design)
    return _ratio(design, design.blocks.index(block), guess)


def intercept_spread(
    design: Design, block: GroupBlock, guess: VarianceGuess | None = None
) -> float:
    """``tau_hat^2 / levels`` of the block's first term: what its effects add to the intercept.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> round(intercept_spread(design, design.blocks[0]))  # lme4: sd 37.1, 18 subjects
    72
    """
    guess = guess or guess_variances(design)
    i = design.blocks.index(block)
    return float(guess.blocks[i].tau2[0] / block.n_levels)


def _user_choices(design: Design, user) -> dict:
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
    for f, choice in spec_user.items():
        if not (choice is None or isinstance(choice, bool) or choice in ("auto", "partial")):
            from bayesmixed.errors import SpecError

            raise SpecError(
                f"centered for factor {f!r} must be True, False, 'partial' or 'auto', got {choice!r}"
            )
    return spec_user


def choose_parameterization(
    design: Design,
    user: dict[str, bool | str] | bool | str | None = None,
) -> dict[str, Choice]:
    """Centered, partially centered or non-centered, per grouping factor.

    The rule: centered when the median statistic is at least ``CENTER_THRESHOLD``; otherwise
    non-centered with a pivot level when there is one; otherwise partially centered when the
    statistic is at least ``PARTIAL_THRESHOLD`` and the factor has at least
    ``PARTIAL_MIN_LEVELS`` levels; otherwise non-centered.

    Parameters
    ----------
    design
        The model design.
    user
        ``True``/``False``/``"partial"``/``"auto"`` for all factors, or a dict factor -> that.
        Unnamed factors use ``"auto"``.

    Returns
    -------
    dict
        Factor -> :class:`Choice`. A factor with several blocks (``(1 | g) + (0 + x | g)``) is
        centered only when every block passes.

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
    spec_user = _user_choices(design, user)
    guess = guess_variances(design) if design.blocks else None
    ratios: dict[str, float] = {}
    spreads: dict[str, float] = {}
    level_lam: dict[str, np.ndarray | None] = {}
    weights: dict[str, dict[str, np.ndarray]] = {}
    for i, b in enumerate(design.blocks):
        weights.setdefault(b.factor, {})[b.label] = partial_weights(design, i, guess)
        lam = _level_ratios(design, i, guess)
        ratios[b.factor] = min(ratios.get(b.factor, np.inf), float(np.median(lam)))
        spreads.setdefault(b.factor, float(guess.blocks[i].tau2[0] / b.n_levels))
        prev = level_lam.get(b.factor, lam)  # a level counts as rich only in every block
        level_lam[b.factor] = np.minimum(prev, lam) if prev is not None and prev.shape == lam.shape else None
    out: dict[str, Choice] = {}
    for f, r in ratios.items():
        choice = spec_user.get(f, "auto")
        if choice == "auto" or choice is None:
            centered = bool(r >= CENTER_THRESHOLD)
            pivot, pivot_ratio = (None, 0.0) if centered else _pivot(level_lam[f])
            partial = (
                not centered and pivot is None and r >= PARTIAL_THRESHOLD
                and min(b.n_levels for b in design.blocks if b.factor == f) >= PARTIAL_MIN_LEVELS
            )
            out[f] = Choice(
                centered=centered, rule="auto", ratio=r, spread=spreads[f],
                pivot_level=pivot, pivot_ratio=pivot_ratio,
                weights=weights[f] if partial else None,
            )
        elif choice == "partial":
            out[f] = Choice(
                centered=False, rule="user", ratio=r, spread=spreads[f], weights=weights[f]
            )
        else:
            out[f] = Choice(centered=bool(choice), rule="user", ratio=r, spread=spreads[f])
    return out
