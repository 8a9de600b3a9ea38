"""Simulation-based calibration (SBC; Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

If parameters are drawn from the prior, data are simulated from them and the model is fitted
to those data, the rank of each true parameter value among ``L`` (near-)independent posterior
draws is uniform on ``0..L`` -- for every parameter, whatever the model -- exactly when the
sampler draws from the correct posterior. Departures show up in the rank histogram: a smile or
frown means too narrow or too wide posteriors, a slope means bias.

How it is done here:

1. Parameters and responses are drawn from the prior of the model built on a fixed data
   template (:func:`bayesmixed.api.prior_predictive`), so simulation and fit share one prior
   by construction. Default priors of gaussian and count models depend on the response, so
   every prior the response can move must be given explicitly; :func:`sbc` checks this and
   names the parameter otherwise.
2. The template's predictors, groups and trials stay fixed and only the response changes, so
   every fit has the same structure and reuses one compiled nutpie model.
3. Each fit goes through :func:`bayesmixed.fit` with the parameterization the automatic rule
   picks for that data set (``centered="auto"``), made explicit so compiled models are reused.
4. The pooled draws are thinned to ``L`` evenly spaced draws and the rank of the truth is
   counted. Fits whose bulk ESS is below ``L`` (draws not near-independent after thinning) are
   counted and reported.
5. Uniformity per parameter: a chi-square test on binned ranks and the simultaneous ECDF test
   of Säilynoja, Bürkner & Vehtari (2022), whose null distribution is simulated exactly.

Each simulation is one task (:func:`bayesmixed.validate.sbc_task.sbc_task`) carrying its own
sampler seed and tie-breaking seed, run through :func:`bayesmixed.parallel.run_tasks`: with
``client=`` the fits run on Dask workers and give the same ranks as a serial run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayesmixed.errors import DataError, PriorError, SamplerError, SpecError
from bayesmixed.families import get_family
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.parallel import ClientLike, run_tasks
from bayesmixed.validate.sbc_result import SBCResult
from bayesmixed.validate.sbc_task import named_values, sbc_task
from bayesmixed.validate.uniformity import (
    chisq_uniformity_test,
    default_bins,
    ecdf_uniformity_test,
    rank_statistic,
)

__all__ = [
    "SBCResult",
    "chisq_uniformity_test",
    "default_bins",
    "ecdf_uniformity_test",
    "make_template",
    "rank_statistic",
    "sbc",
]


# -- data template and simulated responses --------------------------------------------------


def _response_columns(spec: ModelSpec) -> tuple[str, str | None]:
    resp = spec.response
    for expr in (resp.expr, resp.other):
        if expr is not None and not expr.isidentifier():
            raise SpecError(
                f"SBC replaces the response columns, so they must be plain column names; "
                f"got {expr!r} in {resp}"
            )
    return resp.expr, resp.other


def make_template(
    spec: ModelSpec, n_groups: int, n_per_group: int, *, trials: int = 10, seed: int = 0
) -> pd.DataFrame:
    """A balanced data template for ``spec``: fixed predictors, groups and trials.

    Every grouping column gets ``n_groups`` levels (the first factor in blocks of
    ``n_per_group`` rows, the others crossed with it), every other column a standard normal
    predictor, the trials column ``trials``; the response holds placeholder 0/1 values.

    Examples
    --------
    >>> from bayesmixed.formula.parse import parse_formula
    >>> t = make_template(parse_formula("y ~ x + (1 | g)", "bernoulli"), n_groups=3, n_per_group=2)
    >>> t.shape, t["g"].nunique()
    ((6, 3), 3)
    """
    from bayesmixed.design.validate import used_columns

    for name, val in (("n_groups", n_groups), ("n_per_group", n_per_group), ("trials", trials)):
        if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < 1:
            raise DataError(f"{name} must be a positive integer, got {val!r}")
    if n_groups < 2:
        raise DataError(f"n_groups must be at least 2 for a random effect, got {n_groups}")
    y_col, other = _response_columns(spec)
    n = n_groups * n_per_group
    rng = np.random.default_rng(seed)
    factor_cols = [c for g in spec.groups for c in g.factor_columns]
    data: dict[str, Any] = {}
    for k, col in enumerate(dict.fromkeys(factor_cols)):
        codes = (
            np.repeat(np.arange(n_groups), n_per_group)
            if k == 0
            else np.tile(np.arange(n_groups), n_per_group)
        )
        data[col] = [f"{col}{c:02d}" for c in codes]
    for col in used_columns(spec, pd.Index([])):
        if col not in data and col not in (y_col, other):
            data[col] = rng.normal(size=n)
    y = np.arange(n) % 2
    kind = get_family(spec.family).response
    if kind == "ordinal":  # three ordered categories, every one present
        y = pd.Categorical.from_codes(np.arange(n) % 3, categories=[1, 2, 3], ordered=True)
    elif kind in ("positive", "unit"):  # placeholders inside the response's range
        y = 0.25 + 0.5 * y if kind == "unit" else 1.0 + y
    data[y_col] = y
    if other is not None:
        data[other] = trials - y if spec.response.kind == "cbind" else np.full(n, trials)
    return pd.DataFrame(data)


def with_response(template: pd.DataFrame, spec: ModelSpec, y: np.ndarray) -> pd.DataFrame:
    """``template`` with the response replaced by ``y`` (failures updated for ``cbind``)."""
    y_col, other = _response_columns(spec)
    data = template.copy()
    if spec.response.kind == "cbind":
        n_trials = template[y_col].to_numpy() + template[other].to_numpy()
        data[other] = n_trials - y
    if isinstance(template[y_col].dtype, pd.CategoricalDtype):  # ordinal codes: keep every category
        y = pd.Categorical.from_codes(np.asarray(y).astype(np.int64), dtype=template[y_col].dtype)
    data[y_col] = y
    return data


# -- the SBC loop ----------------------------------------------------------------------------


def _check_priors_fixed(spec: ModelSpec, template: pd.DataFrame, ys: np.ndarray) -> None:
    """Raise when a resolved prior would change with the simulated response."""
    from bayesmixed.design.default_priors import resolve_priors
    from bayesmixed.design.matrices import build_design

    base = {k: str(v) for k, v in resolve_priors(build_design(spec, template), spec.priors).items()}
    for y in ys:
        design = build_design(spec, with_response(template, spec, y))
        now = {k: str(v) for k, v in resolve_priors(design, spec.priors).items()}
        moved = sorted(k for k in base if base[k] != now.get(k))
        if moved:
            raise PriorError(
                f"the default prior of {moved[0]!r} depends on the response ({base[moved[0]]} on "
                f"the template, {now[moved[0]]} on a simulated data set); SBC needs one prior "
                f"for every simulation: give priors for {', '.join(repr(m) for m in moved)}"
            )


def _as_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise SamplerError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def sbc(
    spec: str | ModelSpec | Mapping[str, Any],
    n_sims: int,
    *,
    family: str | None = None,
    link: str | None = None,
    priors: Mapping[str, Any] | None = None,
    data_template: pd.DataFrame | None = None,
    n_groups: int = 10,
    n_per_group: int = 10,
    trials: int = 10,
    chains: int = 2,
    draws: int = 500,
    tune: int = 500,
    target_accept: float = 0.8,
    n_rank_draws: int = 99,
    seed: int = 0,
    centered: Any = "auto",
    backend: str = "nutpie",
    include_effects: bool = True,
    fit_priors: Mapping[str, Any] | None = None,
    callback: Callable[[int, SBCResult], None] | None = None,
    client: ClientLike = None,
    progress: bool = False,
) -> SBCResult:
    """Run simulation-based calibration of ``spec`` with ``n_sims`` simulated data sets.

    Parameters
    ----------
    spec
        Formula, dict spec or :class:`ModelSpec`; the response (and trials/failures) must be
        plain column names.
    n_sims
        Number of simulations.
    family, link, priors
        As in :func:`bayesmixed.fit`. Priors that default to values computed from the
        response (intercept, sd and sigma of gaussian models; intercept of count models) must
        be given, or a :class:`~bayesmixed.PriorError` names them.
    data_template
        Data whose predictors, groups and trials are kept in every simulation (the response is
        replaced). Default: :func:`make_template` with ``n_groups`` x ``n_per_group`` rows and
        ``trials`` trials per binomial row.
    chains, draws, tune, target_accept, backend
        Sampler settings of every fit.
    n_rank_draws
        ``L``: the posterior is thinned to ``L`` evenly spaced draws; ranks lie in ``0..L``.
        ``L + 1 = 100`` allows 4, 5, 10 or 20 equal bins.
    seed
        Seeds the prior draws and every fit: the run is reproducible.
    centered
        ``"auto"`` (per simulated data set, the automatic rule's choice), ``"partial"``,
        ``True`` or ``False``.
    include_effects
        Also rank the random effects of each block's first level.
    fit_priors
        Priors used for fitting instead of ``priors`` (a deliberately wrong model: a negative
        control that uniformity tests must reject). Default: the simulation priors.
    callback
        Called as ``callback(i, partial_result)`` in this process after simulation ``i``
        finished (for checkpoints; in completion order when ``client`` is given).
    client
        ``None`` (fits in this process), ``"local"``, a scheduler address or a
        ``dask.distributed.Client``: where the fits run (:func:`bayesmixed.parallel.run_tasks`).
        Each simulation carries its own seeds, so the ranks are the same on any executor.
    progress
        A progress bar of the simulations on stderr.

    Returns
    -------
    SBCResult

    Examples
    --------
    A tiny run (real runs use hundreds of simulations; see :mod:`bayesmixed.validate.run_all`):

    >>> res = sbc("y ~ x + (1 | g)", 2, family="bernoulli", n_groups=5, n_per_group=4,
    ...           priors={"Intercept": "normal(0, 1)", "b": "normal(0, 1)", "sd": "half_normal(1)"},
    ...           chains=1, draws=40, tune=40, n_rank_draws=9, seed=1, include_effects=False)
    >>> len(res.ranks), list(res.sims.columns[:3])
    (2, ['seed', 'error', 'centered'])
    """
    from bayesmixed.api import make_spec, prepare, prior_predictive

    n_sims = _as_count("n_sims", n_sims, 1)
    n_rank_draws = _as_count("n_rank_draws", n_rank_draws, 1)
    chains = _as_count("chains", chains, 1)
    draws = _as_count("draws", draws, 1)
    if chains * draws < n_rank_draws:
        raise SamplerError(
            f"chains x draws = {chains * draws} is fewer than n_rank_draws={n_rank_draws}"
        )
    if centered not in ("auto", "partial", True, False):
        raise SpecError(
            f"centered must be 'auto', 'partial', True or False for SBC, got {centered!r}"
        )
    spec = make_spec(spec, family, link, priors)
    template = (
        data_template
        if data_template is not None
        else make_template(spec, n_groups, n_per_group, trials=trials, seed=seed)
    )
    fit_spec = make_spec(spec, priors=fit_priors) if fit_priors else spec
    rng = np.random.default_rng(seed)
    prior_seed = int(rng.integers(0, 2**31 - 1))
    fit_seeds = rng.integers(0, 2**31 - 1, size=n_sims)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp = prior_predictive(spec, template, draws=n_sims, seed=prior_seed, centered=False)
    ys = np.asarray(pp["prior_predictive"]["y"].values)[0]  # (n_sims, n_obs)
    _check_priors_fixed(spec, template, ys[: min(3, n_sims)])
    meta0 = prepare(spec, template, centered=False).meta()
    truth_vals = named_values({"posterior": pp["prior"]}, meta0, include_effects)
    truths = pd.DataFrame({k: v[0] for k, v in truth_vals.items()})

    settings = {
        "formula": spec.formula,
        "family": spec.family,
        "link": meta0["link"],
        "priors": meta0["priors"],
        "fit_priors": {str(k): str(v) for k, v in (fit_priors or {}).items()},
        "n_obs": len(template),
        "chains": chains,
        "draws": draws,
        "tune": tune,
        "target_accept": target_accept,
        "n_rank_draws": n_rank_draws,
        "seed": seed,
        "backend": backend,
        "centered": centered,
    }
    rank_rows: dict[int, dict[str, int]] = {}
    sim_rows: dict[int, dict[str, Any]] = {}

    def partial() -> SBCResult:
        idx = sorted(rank_rows)
        return SBCResult(
            ranks=pd.DataFrame.from_dict({i: rank_rows[i] for i in idx}, orient="index")
            if idx
            else pd.DataFrame(),
            truths=truths.loc[idx] if idx else truths.iloc[:0],
            sims=pd.DataFrame.from_dict(dict(sorted(sim_rows.items())), orient="index")
            .rename_axis("sim"),
            n_rank_draws=n_rank_draws,
            settings=settings,
        )

    tasks = [
        {"sim": i, "spec": fit_spec, "data": with_response(template, spec, ys[i]),
         "seed": int(fit_seeds[i]), "tie_seed": [seed + 1, i], "truths": truths.loc[i].to_dict(),
         "include_effects": include_effects, "n_rank_draws": n_rank_draws, "chains": chains,
         "draws": draws, "tune": tune, "target_accept": target_accept, "backend": backend,
         "centered": centered}
        for i in range(n_sims)
    ]

    def collect(i: int, out: tuple[dict[str, int] | None, dict[str, Any]]) -> None:
        ranks, sim_rows[i] = out
        if ranks is not None:
            rank_rows[i] = ranks
            if callback is not None:
                callback(i, partial())

    run_tasks(sbc_task, tasks, client, on_result=collect, progress="sbc" if progress else False)
    if not rank_rows:
        first = sim_rows[min(sim_rows)]["error"]
        raise SamplerError(f"every SBC simulation failed; the first error: {first}")
    return partial()
