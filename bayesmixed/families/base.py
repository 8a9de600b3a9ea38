"""The records of the family table: :class:`Family`, :class:`AuxParam`, :class:`LeanLikelihood`.

Conventions shared by every behaviour function of a row (numpy, no PyMC):

* ``mu`` is the inverse link of the linear predictor: the mean of the response, or the success
  probability for the binomial families (whose mean is ``trials * mu``); arrays are
  ``(draws, rows)`` or ``(rows,)``.
* ``aux`` maps each auxiliary parameter name to its value: a number, an array ``(draws,)``
  (latent variance) or ``(draws, 1)`` (everything else, so that it broadcasts over rows).
* ``trials`` is the number of trials per row (broadcastable against ``mu``) or ``None``, and
  is ignored by families without trials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["AuxParam", "CellRule", "Family", "LeanLikelihood"]


def _unit_scale(y: np.ndarray, link: str) -> float:
    return 1.0


@dataclass(frozen=True)
class AuxParam:
    """One auxiliary (non-mean) parameter of a family.

    Parameters
    ----------
    name
        Parameter name, as in the model graph and the summaries (``"sigma"``).
    default_prior
        ``design -> Prior``: the default prior, scaled to the data where needed.
    truth
        Default true value used by :func:`bayesmixed.simulation.simulate`.
    positive
        Whether the parameter must be positive (checked for user-given truths).
    build
        ``(name, prior, design) -> PyMC variable`` creating a vector parameter (the ordered
        thresholds of ``cumulative``) in the current model; ``None`` for a scalar, which the
        graph creates from its prior.

    Examples
    --------
    >>> from bayesmixed.families import get_family
    >>> alpha = get_family("negbinomial").aux_params[0]
    >>> alpha.name, alpha.truth, str(alpha.default_prior(None))
    ('alpha', 5.0, 'Gamma(alpha=2, beta=0.1)')
    """

    name: str
    default_prior: Callable[[Any], Any]
    truth: float
    positive: bool = True
    build: Callable[..., Any] | None = None

    @property
    def vector(self) -> bool:
        """Whether the parameter is a vector (one value per threshold)."""
        return self.build is not None


@dataclass(frozen=True)
class LeanLikelihood:
    """A log-density cut to its parameter-dependent part (see ``graph/lean_likelihood.py``).

    Parameters
    ----------
    dist
        ``(eta, [trials,] size) -> PyMC distribution`` for forward sampling.
    logp
        ``(value, eta, [trials]) -> pytensor log-density`` up to a constant.
    uses_trials
        Whether ``trials`` is a parameter.

    Examples
    --------
    >>> from bayesmixed.families import get_family
    >>> get_family("binomial").lean["logit"].uses_trials
    True
    """

    dist: Callable
    logp: Callable
    uses_trials: bool = False


@dataclass(frozen=True)
class CellRule:
    """How rows with identical covariates collapse exactly into one cell (``graph/aggregate.py``).

    Parameters
    ----------
    label
        Description of the reduction, reported with the fit.
    family
        Name of the family of the cells.
    trials
        ``"count"``: the cell's trials are its number of rows; ``"sum"``: the rows' trials add
        up; ``None``: no trials.
    log_count_offset
        Whether ``log(rows)`` is added to the offset (a sum of poisson counts).
    links
        Links for which the reduction is exact; empty for every link.

    Examples
    --------
    >>> from bayesmixed.families import get_family
    >>> get_family("bernoulli").cells.family
    'binomial'
    """

    label: str
    family: str
    trials: str | None = None
    log_count_offset: bool = False
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    """One response distribution and all of its behaviour.

    Parameters
    ----------
    name
        Canonical family name.
    links
        Supported links; the first is the default.
    response
        ``"real"``, ``"positive"`` (``y > 0``), ``"unit"`` (``0 < y < 1``), ``"binary"``,
        ``"binomial"``, ``"count"`` or ``"ordinal"`` (category codes ``0..K-1``): what values the
        response may take.
    aux_params
        Auxiliary parameters with their default priors (:class:`AuxParam`).
    exp_label
        Label of exponentiated coefficients under the default link (``"OR"``, ``"RR"``) or ``None``.
    aliases
        Other names users may pass.
    observed
        ``(eta, link, aux, y, trials) -> PyMC observed variable "y"``, called inside a model
        context with ``aux`` the auxiliary random variables (PyMC imported lazily).
    loglik
        ``(y, eta, link, aux, trials) -> (draws, rows)`` pointwise log-likelihood, constants
        included (numpy).
    density
        ``(y, mu, aux, trials) ->`` density or probability mass at ``y``.
    cdf
        ``(y, mu, aux, trials) ->`` distribution function at ``y``.
    variance
        ``(mu, aux, trials) ->`` variance of the response given its mean.
    draw
        ``(rng, mu, aux, trials) ->`` one response draw per element of ``mu``.
    latent_variance
        ``(link, n_draws, aux, mean_rate) -> (draws,)`` residual variance on the latent (link)
        scale for ICC / variance partition; ``mean_rate()`` gives the draws of the mean on the
        response scale when a family needs it (log-normal approximation of count families).
    lean
        Link name -> :class:`LeanLikelihood`, where a cheaper exact log-density exists.
    simulate_draw
        Response draw used by :func:`bayesmixed.simulation.simulate` when it differs from
        ``draw`` (kept so that simulated data sets stay the same for a given seed).
    response_scale
        ``(y, link) -> float``: the scale that default priors are multiplied by.
    latent_scale
        Whether variance components live on the latent (link) scale rather than the data scale.
    cells
        :class:`CellRule` collapsing identical rows exactly, or ``None`` when there is none.
    dpars
        Names of extra linear predictors (``"zi"``, ``"hu"``: a probability per row, logit
        link) of distributional families; their values reach every behaviour function in
        ``aux`` under the same name, shape ``(draws, rows)``.
    response_mean
        ``(mu, aux, trials) ->`` mean of the response where it is not ``mean(mu, trials)``
        (zero-inflated and hurdle families; lognormal: ``exp(mu + sigma^2 / 2)``; the expected
        category code of an ordinal response); see :meth:`expected`.
    transform
        Numpy transformation of the response onto the scale of the linear predictor under the
        identity link (lognormal: ``log``), used for default-prior locations and starting
        values; ``None`` when the response is modelled on its own scale.
    build_aux
        ``(priors, design) -> {name: PyMC variable}`` creating the auxiliary parameters in the
        current model when they are not independent draws from their priors (``gaussian_ar1``
        samples the innovation sd and derives ``sigma``); ``None``: one variable per
        :class:`AuxParam` from its prior.
    exact_ar
        Name of the derived family fitted for an ``ar()`` term with an exact autocorrelated
        residual likelihood (gaussian: ``"gaussian_ar1"``); ``None``: an ``ar()`` term adds a
        latent AR(1) process to the linear predictor instead (:mod:`bayesmixed.design.latent_ar`).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesmixed.families import get_family
    >>> fam = get_family("binomial")
    >>> fam.default_link, fam.uses_trials, fam.discrete
    ('logit', True, True)
    >>> mu, n = np.array([0.2, 0.5]), np.array([10, 4])
    >>> fam.mean(mu, n), fam.variance(mu, {}, n)
    (array([2., 2.]), array([1.6, 1. ]))
    """

    name: str
    links: tuple[str, ...]
    response: str
    aux_params: tuple[AuxParam, ...] = ()
    exp_label: str | None = None
    aliases: tuple[str, ...] = ()
    observed: Callable | None = None
    loglik: Callable | None = None
    density: Callable | None = None
    cdf: Callable | None = None
    variance: Callable | None = None
    draw: Callable | None = None
    latent_variance: Callable | None = None
    lean: Mapping[str, LeanLikelihood] = field(default_factory=dict)
    simulate_draw: Callable | None = None
    response_scale: Callable[[np.ndarray, str], float] = _unit_scale
    latent_scale: bool = True
    cells: CellRule | None = None
    dpars: tuple[str, ...] = ()
    response_mean: Callable | None = None
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    build_aux: Callable | None = None
    exact_ar: str | None = None

    @property
    def default_link(self) -> str:
        """The canonical link, used when none is given."""
        return self.links[0]

    @property
    def aux(self) -> tuple[str, ...]:
        """Names of the auxiliary parameters, as reported in summaries."""
        return tuple(a.name for a in self.aux_params)

    @property
    def discrete(self) -> bool:
        """Whether the likelihood is for integer data."""
        return self.response in ("binary", "binomial", "count", "ordinal")

    @property
    def uses_trials(self) -> bool:
        """Whether the inverse link is a success probability and the mean ``trials * mu``."""
        return self.response in ("binary", "binomial")

    @property
    def ordinal(self) -> bool:
        """Whether the response is an ordered category (thresholds, link passed in ``aux``)."""
        return self.response == "ordinal"

    @property
    def count(self) -> bool:
        """Whether the response is an unbounded count."""
        return self.response == "count"

    def mean(
        self, mu: np.ndarray, trials: np.ndarray | None, aux: Mapping | None = None
    ) -> np.ndarray:
        """Mean of the response given the inverse link ``mu`` (``trials * mu`` with trials).

        Families whose mean needs auxiliary parameters (``response_mean``) read them from
        ``aux``; the same as :meth:`expected` then.

        Examples
        --------
        >>> from bayesmixed.families import get_family
        >>> get_family("poisson").mean(2.5, None)
        2.5
        """
        if self.response_mean is not None and aux is not None:
            return self.response_mean(mu, aux, trials)
        if self.uses_trials and trials is not None:
            return trials * mu
        return mu

    def expected(self, mu: np.ndarray, aux: Mapping[str, Any], trials: np.ndarray | None):
        """Mean of the response given ``mu`` and the auxiliary / distributional parameters.

        Examples
        --------
        >>> from bayesmixed.families import get_family
        >>> float(get_family("zero_inflated_poisson").expected(2.0, {"zi": 0.25}, None))
        1.5
        >>> round(float(get_family("lognormal").expected(0.0, {"sigma": 1.0}, None)), 4)
        1.6487
        """
        if self.response_mean is not None:
            return self.response_mean(mu, aux, trials)
        return self.mean(mu, trials)

    def mean_and_slope(
        self,
        mu: np.ndarray,
        dmu: np.ndarray,
        trials: np.ndarray | None,
        aux: Mapping[str, Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean of the response and its derivative in the linear predictor.

        Families whose mean depends on ``mu`` and ``aux`` alone (lognormal) use
        :meth:`expected`, its slope in ``mu`` by central differences; zero-inflated and hurdle
        families give their count part's (as :meth:`variance` with the zero part at 0).

        Parameters
        ----------
        mu, dmu
            Inverse link and its derivative ``d mu / d eta``.
        trials, aux
            As for :meth:`expected`.

        Examples
        --------
        >>> from bayesmixed.families import get_family
        >>> get_family("binomial").mean_and_slope(0.5, 0.25, 4.0)
        (2.0, 1.0)
        >>> m, dm = get_family("lognormal").mean_and_slope(0.0, 1.0, None, {"sigma": 1.0})
        >>> round(float(m), 4), round(float(dm), 4)
        (1.6487, 1.6487)
        """
        if self.response_mean is not None and not self.dpars:
            mu = np.asarray(mu, dtype=float)
            h = 1e-5 * np.maximum(1.0, np.abs(mu))
            hi = self.expected(mu + h, aux or {}, trials)
            lo = self.expected(mu - h, aux or {}, trials)
            return self.expected(mu, aux or {}, trials), (hi - lo) / (2.0 * h) * dmu
        return self.mean(mu, trials), self.mean(dmu, trials)
