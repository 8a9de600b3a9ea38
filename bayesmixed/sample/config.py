"""Sampler settings: :class:`SamplerConfig`, validated on creation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from bayesmixed.errors import SamplerError

__all__ = [
    "ADAPTATIONS", "BACKENDS", "CHAIN_METHODS", "METHODS", "PRECISIONS", "SamplerConfig",
    "resolve_adaptation",
]

BACKENDS = ("nutpie", "pymc", "numpyro", "blackjax")
#: nutpie's mass-matrix adaptations offered (see :class:`SamplerConfig`); ``"auto"`` picks one
#: per model (:func:`resolve_adaptation`)
ADAPTATIONS = ("auto", "diag", "draw_diag")
_ALIASES = {"jax": "numpyro", "nuts": "pymc"}
#: floating-point precisions (float32: JAX backends only)
PRECISIONS = ("float64", "float32")
#: how JAX backends run chains (see :mod:`bayesmixed.sample.jaxrun`)
CHAIN_METHODS = ("auto", "vectorized", "parallel", "sequential")
#: inference methods: NUTS (exact, the default) or Pathfinder (approximate, for exploration)
METHODS = ("nuts", "pathfinder")


@dataclass(frozen=True)
class SamplerConfig:
    """Sampler options, validated on creation.

    Parameters
    ----------
    backend
        ``"nutpie"``, ``"pymc"``, ``"numpyro"`` (or ``"jax"``) or ``"blackjax"``.
    chains, draws, tune
        Number of chains, kept draws per chain and warm-up draws per chain.
    target_accept
        Target acceptance rate of NUTS step-size adaptation, in (0, 1).
    seed
        Integer seed; the same seed gives the same draws on the same backend.
    progress
        Show a progress bar.
    max_treedepth
        Maximum NUTS tree depth.
    adaptation
        nutpie's mass-matrix adaptation: ``"auto"`` (default: :func:`resolve_adaptation`,
        ``"draw_diag"`` when a grouping factor is sampled non-centered, else ``"diag"``),
        ``"diag"`` (nutpie's default; from draws and gradients) or ``"draw_diag"`` (from the
        variances of the draws, as Stan). ``"draw_diag"`` gives the weakly identified sds of
        non-centered factors more effective draws (docs/parameterization.md, "The hard
        suite") for more gradients per draw; ignored by the other backends.
    precision
        ``"float64"`` (default) or ``"float32"`` (JAX backends only: single precision on an
        accelerator; see :mod:`bayesmixed.sample.jaxrun`).
    chain_method
        How JAX backends run chains: ``"auto"`` (one per device when there are enough
        devices, else vectorized), ``"vectorized"``, ``"parallel"`` or ``"sequential"``;
        ignored by nutpie and PyMC.
    method
        ``"nuts"`` (default: the backend's NUTS) or ``"pathfinder"``: approximate draws
        (:mod:`bayesmixed.sample.pathfinder`; ``chains`` paths, ``draws`` draws in one chain,
        ``backend`` and the NUTS options unused), for exploration only.

    Examples
    --------
    >>> SamplerConfig(chains=2, draws=500, seed=1).backend
    'nutpie'
    >>> SamplerConfig(chains=0)
    Traceback (most recent call last):
    ...
    bayesmixed.errors.SamplerError: chains must be an integer >= 1, got 0
    """

    backend: str = "nutpie"
    chains: int = 4
    draws: int = 1000
    tune: int = 1000
    target_accept: float = 0.8
    seed: int | None = None
    progress: bool = True
    max_treedepth: int = 10
    adaptation: str = "auto"
    precision: str = "float64"
    chain_method: str = "auto"
    method: str = "nuts"

    def __post_init__(self) -> None:
        backend = _ALIASES.get(str(self.backend).lower(), str(self.backend).lower())
        if backend not in BACKENDS:
            raise SamplerError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        object.__setattr__(self, "backend", backend)
        for name, low in (("chains", 1), ("draws", 1), ("tune", 0), ("max_treedepth", 1)):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < low:
                raise SamplerError(f"{name} must be an integer >= {low}, got {val!r}")
        ta = self.target_accept
        if isinstance(ta, bool) or not isinstance(ta, int | float) or not 0 < float(ta) < 1:
            raise SamplerError(f"target_accept must be a number strictly between 0 and 1, got {ta!r}")
        if self.adaptation not in ADAPTATIONS:
            raise SamplerError(
                f"adaptation must be one of {', '.join(ADAPTATIONS)}, got {self.adaptation!r}"
            )
        _check_jax_options(self, backend)
        seed = self.seed
        bad_seed = isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
        if seed is not None and bad_seed:
            raise SamplerError(f"seed must be a non-negative integer or None, got {self.seed!r}")
        method = str(self.method).lower()
        if method not in METHODS:
            raise SamplerError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        object.__setattr__(self, "method", method)
        import importlib.util

        if method == "pathfinder":
            missing = [p for p in ("jax", "blackjax") if importlib.util.find_spec(p) is None]
            if missing:
                raise SamplerError(
                    f"method 'pathfinder' needs the packages {' and '.join(missing)}: "
                    "pip install 'bayesmixed[approx]'"
                )
        elif backend in ("numpyro", "blackjax"):
            if importlib.util.find_spec(backend) is None or importlib.util.find_spec("jax") is None:
                raise SamplerError(
                    f"backend {backend!r} needs the packages jax and {backend}: "
                    "pip install 'bayesmixed[jax]'"
                )

    def with_seed(self) -> SamplerConfig:
        """This config with a concrete seed (drawn at random when ``seed`` is None)."""
        if self.seed is not None:
            return self
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        return SamplerConfig(**{**asdict(self), "seed": seed})


def _check_jax_options(config: SamplerConfig, backend: str) -> None:
    if config.precision not in PRECISIONS:
        raise SamplerError(f"precision must be one of {', '.join(PRECISIONS)}, "
                           f"got {config.precision!r}")
    if config.precision != "float64" and backend not in ("numpyro", "blackjax"):
        raise SamplerError(f"precision {config.precision!r} needs a JAX backend (numpyro or "
                           f"blackjax); backend {backend!r} samples in float64")
    if config.chain_method not in CHAIN_METHODS:
        raise SamplerError(f"chain_method must be one of {', '.join(CHAIN_METHODS)}, "
                           f"got {config.chain_method!r}")


def resolve_adaptation(adaptation: str, parameterization: dict[str, dict]) -> str:
    """nutpie's mass-matrix adaptation for one model.

    ``"auto"`` becomes ``"draw_diag"`` when any grouping factor is sampled non-centered (not
    centered, partially centered, integrated out or integrated into another factor), else
    ``"diag"``; ``"diag"`` and ``"draw_diag"`` are returned as given. A factor is
    non-centered when its levels carry little information about their effects, so its sd's
    posterior is wide and skewed and its standardized effects trade off with it: nutpie's
    gradient-based diagonal (``sqrt(var(draws) / var(gradients))``, exact for a gaussian)
    mis-scales that direction, the variances of the draws (Stan's estimate) do not. Measured
    on the hard suite (docs/parameterization.md, "The hard suite"): every non-centered case
    meets the goal with it, three did not without; no model of the speed suite has a
    non-centered factor, so none changes.

    Parameters
    ----------
    adaptation
        ``"auto"``, ``"diag"`` or ``"draw_diag"``.
    parameterization
        Per factor, the built model's choice (``meta["parameterization"]``: ``centered``,
        ``partial``, ``marginal``, ``integrated_into``).

    Returns
    -------
    str
        ``"diag"`` or ``"draw_diag"``.

    Examples
    --------
    >>> resolve_adaptation("auto", {"g": {"centered": False}})
    'draw_diag'
    >>> resolve_adaptation("auto", {"g": {"centered": False, "partial": True}})
    'diag'
    >>> resolve_adaptation("diag", {"g": {"centered": False}})
    'diag'
    """
    if adaptation != "auto":
        return adaptation
    keys = ("centered", "partial", "marginal", "integrated_into")
    sampled_nc = any(not any(c.get(k) for k in keys) for c in parameterization.values())
    return "draw_diag" if sampled_nc else "diag"
