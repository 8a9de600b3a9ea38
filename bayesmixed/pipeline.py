"""One fit, stage by stage, without the ``Fit`` facade: the engine under :func:`bayesmixed.fit`.

spec (a :class:`~bayesmixed.formula.terms.ModelSpec`) + data -> design (validated numbers)
-> graph (PyMC model) -> sample (NUTS backend) -> the parts of a ``Fit``
(:class:`FitParts`). :mod:`bayesmixed.api` turns them into a ``Fit`` and runs the retry loop;
:meth:`Fit.kfold <bayesmixed.result.Fit.kfold>` refits through :func:`refitter` without
importing the API.

The model-building and sampling modules import PyMC, so they are imported on first use.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from bayesmixed.design import checks as _checks
from bayesmixed.design.matrices import Design, build_design
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.report.core.linpred import add_observed_data
from bayesmixed.report.core.native import complete_log_likelihood, defer_log_likelihood, native_tree
from bayesmixed.sample.backends import SamplerConfig, reuse_compiled, run

__all__ = ["FitParts", "Refitter", "build", "prior_draws", "refitter", "sample_parts"]


@dataclass
class FitParts:
    """What one sampled fit consists of: the arguments of :class:`~bayesmixed.result.Fit`.

    Examples
    --------
    >>> parts = sample_parts(fit.spec, fit.data, SamplerConfig(chains=1, draws=50, tune=50,
    ...                      seed=1, progress=False))
    >>> parts.idata["posterior"].sizes["draw"], parts.config["seed"]
    (50, 1)
    """

    idata: Any
    meta: dict[str, Any]
    spec: ModelSpec
    data: pd.DataFrame
    config: dict[str, Any]
    timings: dict[str, Any]
    design: Design

    def as_tuple(self) -> tuple:
        """The positional arguments of ``Fit(...)``."""
        return (self.idata, self.meta, self.spec, self.data, self.config, self.timings,
                self.design)


def build(
    spec: ModelSpec,
    data: pd.DataFrame,
    *,
    centered: Any = None,
    dropna: bool = False,
    aggregate: bool = True,
):
    """Validate and build the PyMC model of ``spec`` on ``data`` (see :func:`bayesmixed.prepare`).

    Examples
    --------
    >>> built = build(fit.spec, fit.data)
    >>> built.choices["Subject"].rule
    'auto'
    """
    from bayesmixed.design.default_priors import resolve_priors
    from bayesmixed.graph.aggregate import aggregate as _aggregate  # issue 5: exact reduction
    from bayesmixed.graph.model import build_model
    from bayesmixed.graph.parameterization import choose_parameterization

    design: Design = build_design(spec, data, dropna=dropna)
    resolved = resolve_priors(design, spec.priors)
    choices = choose_parameterization(design, centered)
    cells = _aggregate(design) if aggregate else None
    if cells is None:
        return build_model(design, resolved, choices, marginal=aggregate)
    built = build_model(cells.design, resolved, choices, x_means=design.X.mean(axis=0))
    built.design, built.aggregation = design, cells
    return built


def sample_parts(
    spec: ModelSpec,
    data: pd.DataFrame,
    config: SamplerConfig,
    *,
    centered: Any = None,
    dropna: bool = False,
    log_likelihood: bool | None = None,
    aggregate: bool = True,
    stacklevel: int = 2,
) -> FitParts:
    """Build and sample one fit (no retry): the parts of a ``Fit``.

    Parameters
    ----------
    spec
        The model specification.
    data
        The data.
    config
        Sampler settings; a ``None`` seed is drawn here (:meth:`SamplerConfig.with_seed`).
    centered, dropna, aggregate
        As in :func:`bayesmixed.fit`.
    log_likelihood
        ``True``: compute the pointwise log-likelihood now; ``None`` (default): on first use
        (``fit.idata``, LOO, the report) when draws x rows <= 5e7; ``False``: never store it.
    stacklevel
        Where the data warnings (separation, singular fit) point, as in
        :func:`warnings.warn` from this function: 2 is its caller, 3 the caller's caller.

    Returns
    -------
    FitParts

    Examples
    --------
    >>> parts = sample_parts(fit.spec, fit.data, SamplerConfig(chains=1, draws=50, tune=50,
    ...                      progress=False), log_likelihood=False)
    >>> "log_likelihood" in parts.idata.children, parts.config["seed"] is not None
    (False, True)
    """
    config = config.with_seed()
    t0 = time.perf_counter()
    built = build(spec, data, centered=centered, dropna=dropna, aggregate=aggregate)
    t_build = time.perf_counter() - t0
    fit_warnings = _checks.warn_all(  # issue 6: pre-fit data warnings
        _checks.separation_messages(built.design), _checks.SeparationWarning, stacklevel + 1
    )
    approx = None
    run_info: dict[str, Any] = {}
    if config.method == "pathfinder":  # issue 14: approximate draws for exploration
        from bayesmixed.sample.pathfinder import run_pathfinder

        idata, timings, approx = run_pathfinder(built, config)
        run_info.update(device="cpu", precision="float64")
    else:
        idata, timings = run(built, config, run_info)
    timings["build"] = t_build
    design = built.design
    meta = built.meta()
    from bayesmixed._blas import blas_kernels

    meta["device"] = run_info["device"]  # issue 14: where and in which precision it ran
    run_info["blas"] = blas_kernels()  # the kernels decide the last bits of each gradient
    meta["sampler_run"] = run_info
    meta["method"] = config.method
    if approx is not None:
        meta["approximation"] = approx
    t0 = time.perf_counter()
    fit_warnings += _checks.warn_all(  # issue 6: lme4-style singular-fit warnings
        _checks.singular_messages(idata, meta, built.priors), _checks.SingularWarning,
        stacklevel + 1,
    )
    meta["warnings"] = fit_warnings
    add_observed_data(idata, design.y, design.trials)
    idata = native_tree(idata, meta, design)  # issue 16: user names in posterior, ArviZ-native
    n_draws = config.chains * config.draws * design.n_obs
    if log_likelihood or (log_likelihood is None and n_draws <= 5e7):
        # issue 18: computed on first use (Fit.idata, LOO, report) unless asked for now
        defer_log_likelihood(idata)
        if log_likelihood:
            idata = complete_log_likelihood(idata, meta, design)
    timings["postprocess"] = time.perf_counter() - t0
    return FitParts(idata, meta, design.spec, design.data, asdict(config), timings, design)


@dataclass(frozen=True)
class Refitter:
    """A refit callable for K-fold CV: ``refitter(train, seed) -> FitParts`` (picklable).

    A module-level class holding plain data (the spec, the parameterization, the sampler
    settings), so K-fold can send it to Dask workers; see :func:`refitter`.

    Examples
    --------
    >>> import pickle
    >>> refit = refitter(fit.spec, fit.meta, fit.config, chains=1, draws=50, tune=50)
    >>> pickle.loads(pickle.dumps(refit)) == refit
    True
    """

    spec: ModelSpec
    settings: SamplerConfig
    centered: dict[str, Any] | None = None

    def __call__(self, train: pd.DataFrame, seed: int) -> FitParts:
        """Sample the model on ``train`` with sampler seed ``seed``."""
        with reuse_compiled():  # one compiled model for every fold of the same shape
            return sample_parts(self.spec, train, replace(self.settings, seed=int(seed)),
                                centered=self.centered, log_likelihood=False)


def refitter(
    spec: ModelSpec,
    meta: dict[str, Any],
    config: dict[str, Any] | None,
    *,
    chains: int | None = None,
    draws: int | None = None,
    tune: int | None = None,
    progress: bool = False,
) -> Refitter:
    """A refit callable for K-fold CV: ``refit(train, seed) -> FitParts``.

    The refits keep the fitted model's spec, parameterization and sampler settings (``chains``,
    ``draws``, ``tune`` override them), store no log-likelihood, and share one compiled model
    for every training set of the same structure (:func:`reuse_compiled`). The callable is a
    :class:`Refitter`: picklable, so folds can run on Dask workers.

    Examples
    --------
    >>> refit = refitter(fit.spec, fit.meta, fit.config, chains=1, draws=50, tune=50)
    >>> refit(fit.data.iloc[:120], 1).meta["n_obs"]
    120
    """
    cfg = config or {}
    centered = {
        f: "partial" if c.get("partial") else c["centered"]
        for f, c in meta.get("parameterization", {}).items()
    }
    settings = SamplerConfig(
        backend=cfg.get("backend", "nutpie"),
        chains=chains or cfg.get("chains", 4),
        draws=draws or cfg.get("draws", 1000),
        tune=tune or cfg.get("tune", 1000),
        target_accept=cfg.get("target_accept", 0.8),
        seed=None,
        progress=progress,
        adaptation=cfg.get("adaptation", "diag"),
        precision=cfg.get("precision", "float64"),
        chain_method=cfg.get("chain_method", "auto"),
        method=cfg.get("method", "nuts"),
    )
    return Refitter(spec, settings, centered or None)


def prior_draws(spec: ModelSpec, data: pd.DataFrame, draws: int = 10_000, seed: int | None = 0):
    """Parameter draws from the prior of ``spec`` on ``data`` (the ``prior`` group).

    The model is built per row and non-centered (the parameterization does not change the
    prior); only the parameters are drawn, not the responses. Used for Savage-Dickey Bayes
    factors (:func:`bayesmixed.report.compare.hypothesis.hypothesis_table`).

    Examples
    --------
    >>> prior = prior_draws(fit.spec, fit.data, draws=100, seed=1)
    >>> prior["Intercept"].shape
    (1, 100)
    """
    import pymc as pm

    built = build(spec, data, centered=False, aggregate=False)
    model = built.model
    names = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    with model:
        out = pm.sample_prior_predictive(draws=draws, random_seed=seed, var_names=names)
    prior = out["prior"]
    return prior.to_dataset() if hasattr(prior, "to_dataset") else prior
