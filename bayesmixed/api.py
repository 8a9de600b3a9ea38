"""The public entry points: :func:`fit`, :func:`make_spec`, :func:`prior_predictive`.

The pipeline, each stage in its own package: formula (formula or YAML -> ModelSpec) -> design
(validated numbers) -> graph (PyMC model) -> sample (NUTS backend) -> report (quantities), run
by :mod:`bayesmixed.pipeline`; this module makes the spec, wraps the parts in a
:class:`~bayesmixed.result.Fit` and runs the retry loop of :mod:`bayesmixed.retry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmixed.errors import PriorError, SpecError
from bayesmixed.formula.parse import parse_formula
from bayesmixed.formula.priors import as_prior
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.formula.yaml_spec import load_spec, spec_from_dict
from bayesmixed.pipeline import build, sample_parts
from bayesmixed.report.tables.tidy import datagrid as _datagrid
from bayesmixed.result import Fit
from bayesmixed.retry import RetryPolicy
from bayesmixed.sample.backends import SamplerConfig

__all__ = ["datagrid", "fit", "make_spec", "prepare", "prior_predictive"]


def make_spec(
    model: str | ModelSpec | Mapping[str, Any] | Path,
    family: str | None = None,
    link: str | None = None,
    priors: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """Turn a formula, a dict spec, a YAML path or a :class:`ModelSpec` into a ``ModelSpec``.

    ``family``/``link`` given here override the spec's; ``priors`` are merged over its priors.

    Examples
    --------
    >>> make_spec("y ~ x + (1 | g)", family="bernoulli").family
    'bernoulli'
    """
    if isinstance(model, ModelSpec):
        spec = model
    elif isinstance(model, Mapping):
        spec = spec_from_dict(model)
    elif isinstance(model, Path) or (isinstance(model, str) and model.endswith((".yaml", ".yml"))):
        spec, _ = load_spec(model)
    elif isinstance(model, str):
        spec = parse_formula(model, family or "gaussian", link)
    else:
        raise SpecError(
            f"a model must be a formula, a dict, a YAML path or a ModelSpec, got {type(model).__name__}"
        )
    changes: dict[str, Any] = {}
    if family is not None:
        changes["family"] = family
    if link is not None:
        changes["link"] = link
    if priors:
        if not isinstance(priors, Mapping):
            raise PriorError(f"priors must be a dict of name -> prior, got {type(priors).__name__}")
        changes["priors"] = {
            **spec.priors,
            **{str(k): as_prior(v, str(k)) for k, v in priors.items()},
        }
    return spec.with_options(**changes) if changes else spec


def prepare(
    model,
    data: pd.DataFrame,
    family: str | None = None,
    *,
    link: str | None = None,
    priors: Mapping[str, Any] | None = None,
    centered: Any = None,
    dropna: bool = False,
    aggregate: bool = True,
):
    """Validate and build without sampling: returns the built model (``BuiltModel``).

    Every input check happens here, before any compilation. With ``aggregate`` (default), the
    sampled model uses exact data reductions: rows that share every covariate and group are
    collapsed into counts (:mod:`bayesmixed.graph.aggregate`), and the random effects of a
    gaussian model with one grouping factor are integrated out
    (:mod:`bayesmixed.graph.marginal`); ``built.design`` always describes the original rows.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"))
    >>> built.choices["Subject"].rule
    'auto'
    >>> str(built.priors["sd(Days|Subject)"])
    'HalfStudentT(nu=3, sigma=19.56)'
    """
    spec = make_spec(model, family, link, priors)
    return build(spec, data, centered=centered, dropna=dropna, aggregate=aggregate)


def fit(
    model: str | ModelSpec | Mapping[str, Any] | Path,
    data: pd.DataFrame,
    family: str | None = None,
    *,
    link: str | None = None,
    priors: Mapping[str, Any] | None = None,
    chains: int = 4,
    draws: int = 1000,
    tune: int = 1000,
    target_accept: float = 0.8,
    seed: int | None = None,
    backend: str = "nutpie",
    progress: bool = True,
    dropna: bool = False,
    centered: Any = None,
    log_likelihood: bool | None = None,
    auto_retry: bool = False,
    aggregate: bool = True,
    adaptation: str = "auto",
    precision: str = "float64",
    chain_method: str = "auto",
    method: str = "nuts",
):
    """Fit a Bayesian multilevel model.

    Parameters
    ----------
    model
        An lme4-style formula (``"y ~ x + (1 + x | school)"``), a dict or YAML spec, or a
        :class:`ModelSpec`.
    data
        The data, one row per observation (or per aggregated binomial cell).
    family
        ``"gaussian"`` (default for formulas), ``"bernoulli"``, ``"binomial"``, ``"poisson"``
        or ``"negbinomial"``.
    link
        Link function; default the family's canonical link.
    priors
        Prior overrides by parameter or class (see :mod:`bayesmixed.design.default_priors`).
    chains, draws, tune, target_accept, seed
        NUTS settings; the same seed reproduces the draws exactly on the same backend.
    backend
        ``"nutpie"`` (default), ``"pymc"``, ``"numpyro"``/``"jax"`` or ``"blackjax"``.
    progress
        Show a progress bar.
    dropna
        Drop rows with missing values in used columns (and say how many) instead of raising.
    centered
        ``True``/``False``/``"auto"`` for all factors, or a dict per factor; default automatic.
    log_likelihood
        The pointwise log-likelihood (for LOO): by default computed on first use (the first
        access to ``fit.idata``, ``fit.loo()``, the report) when draws x rows <= 5e7; ``True``
        computes it now, ``False`` never stores it (see :meth:`Fit.add_log_likelihood`).
    auto_retry
        When the diagnostics verdict is ``"fail"``, refit with a higher ``target_accept`` and
        the other parameterization for the factors the divergence triage implicates; what was
        tried is recorded in ``fit.meta["retries"]`` (see :mod:`bayesmixed.retry`).
    aggregate
        Use exact data reductions for sampling: rows that share every covariate and group
        become binomial (or poisson) counts; a gaussian model with one grouping factor has its
        effects integrated out and drawn afterwards. The posterior is unchanged and results stay
        per original row; ``False`` samples the row-level model.
    adaptation
        nutpie's mass-matrix adaptation: ``"auto"`` (default: ``"draw_diag"`` when a
        grouping factor is sampled non-centered, else ``"diag"``; the choice is in
        ``fit.meta["sampler_run"]["adaptation"]``), ``"diag"`` or ``"draw_diag"`` (from draw
        variances: more effective draws for weakly identified sds, at more gradients per draw;
        see :class:`~bayesmixed.sample.backends.SamplerConfig`).
    precision
        ``"float64"`` (default) or ``"float32"`` (``numpyro``/``blackjax`` only: single
        precision for accelerators; see :mod:`bayesmixed.sample.jaxrun`).
    chain_method
        How ``numpyro``/``blackjax`` run chains: ``"auto"`` (default: one per device when
        there are enough devices, else vectorized), ``"vectorized"``, ``"parallel"`` or
        ``"sequential"``. The device and precision used are in ``fit.meta["sampler_run"]``.
    method
        ``"nuts"`` (default) or ``"pathfinder"``: fast approximate draws for exploring big
        data (multi-path Pathfinder with Pareto-smoothed importance resampling, see
        :mod:`bayesmixed.sample.pathfinder`; ``chains`` paths, ``draws`` draws in one chain;
        ``tune``, ``target_accept``, ``backend`` and ``adaptation`` unused). The fit is
        labelled approximate everywhere (``fit.meta["method"]``, summary, diagnostics,
        report): no R-hat or ESS, the Pareto k of the importance weights as quality check.
        Refit with NUTS before reporting.

    Returns
    -------
    Fit

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> fit = bm.fit("Reaction ~ Days + (Days | Subject)", df, chains=2, draws=200,
    ...              tune=200, seed=1, progress=False)
    >>> bool(fit.summary().loc["Days", "mean"] > 5)
    True
    >>> approx = bm.fit("Reaction ~ Days + (1 | Subject)", df, method="pathfinder", chains=2,
    ...                 draws=200, seed=1, progress=False)
    >>> approx.meta["method"], approx.diagnostics().verdict
    ('pathfinder', 'approximate')
    """
    config = SamplerConfig(
        backend=backend,
        chains=chains,
        draws=draws,
        tune=tune,
        target_accept=target_accept,
        seed=seed,
        progress=progress,
        adaptation=adaptation,
        precision=precision,
        chain_method=chain_method,
        method=method,
    ).with_seed()
    spec = make_spec(model, family, link, priors)
    # stacklevel 3: the data warnings point at the code that called bm.fit
    options = dict(dropna=dropna, log_likelihood=log_likelihood, aggregate=aggregate, stacklevel=3)
    result = Fit(*sample_parts(spec, data, config, centered=centered, **options).as_tuple())
    if not auto_retry:
        return result
    policy = RetryPolicy(result)  # the retry loop: the policy says what to change, or stop
    while (attempt := policy.next_attempt()) is not None:
        retry_config = replace(config, target_accept=attempt.target_accept,
                               seed=None if config.seed is None else config.seed + attempt.number)
        parts = sample_parts(spec, data, retry_config, centered=attempt.centered, **options)
        policy.add(Fit(*parts.as_tuple()), attempt)
    return policy.chosen()


def prior_predictive(
    model,
    data: pd.DataFrame,
    family: str | None = None,
    *,
    draws: int = 500,
    seed: int | None = None,
    **kwargs: Any,
):
    """Draw parameters and responses from the prior (prior predictive check).

    Returns
    -------
    xarray.DataTree
        Groups ``prior`` and ``prior_predictive``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> prior = prior_predictive("Reaction ~ Days + (1 | Subject)", df, draws=50, seed=1)
    >>> prior["prior_predictive"]["y"].shape
    (1, 50, 180)
    """
    import pymc as pm

    # per-row draws; the parameterization does not change the prior, and the non-centered one
    # has no flat pivot variable (graph/pivot.py), which prior sampling could not draw
    built = prepare(model, data, family, **{"aggregate": False, **kwargs, "centered": False})
    with built.model:
        return pm.sample_prior_predictive(draws=draws, random_seed=seed)


def datagrid(fit: Fit, /, **values) -> pd.DataFrame:
    """Rows for predictions from ``fit``: all combinations of ``values``, other columns typical
    (``bm.datagrid``; see :func:`bayesmixed.report.tables.tidy.datagrid`).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> sleep = bm.fit("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"),
    ...                chains=1, draws=50, tune=50, seed=1, progress=False)
    >>> grid = datagrid(sleep, Days=[0, 9])
    >>> sleep.predict(grid, groups="none")["Days"].tolist()
    [0, 9]
    """
    return _datagrid(fit.base_idata, fit.meta, fit.design, **values)
