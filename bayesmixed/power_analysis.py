"""Simulation-based power analysis: the Bayesian counterpart of R's simr.

For each design (number of groups x rows per group), :func:`power` simulates ``sims`` data
sets from the model with a known truth (:func:`bayesmixed.simulate`), fits each one
(:func:`bayesmixed.fit`) and records whether the central ``prob`` interval of the ``target``
coefficient excludes 0 (power; the nominal false-positive rate ``1 - prob`` when the truth is
0), whether it covers the truth (coverage), its width and whether the fit converged (a
diagnostics verdict other than ``"fail"``).

Each simulation carries its own seeds, derived from ``(seed, n_groups, n_per_group, sim)``:
results do not depend on the executor (serial or Dask workers, see :mod:`bayesmixed.parallel`)
nor on which other designs are in the grid. Only the small task description travels to a
worker; the data are simulated there and one row of numbers comes back per simulation.

Priors. Default priors of gaussian (and count) models are scaled by the response, so each
simulated data set would get slightly different priors, hence a different model structure to
compile. :func:`power` resolves every prior once per design, on a pilot data set simulated
from the truth with the design's sizes, and fits every simulation of that design with those
priors (priors given in the spec or as ``priors=`` are kept as given). Each worker then
compiles each design's model once and swaps the data of later simulations in.
"""

from __future__ import annotations

import itertools
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmixed.errors import BayesmixedError, SpecError
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.parallel import ClientLike, run_tasks

__all__ = ["DEFAULT_SAMPLER", "PowerResult", "plot_power", "power", "power_task", "summarize"]

#: sampler settings of every power fit unless overridden: enough for 95% interval ends of a
#: coefficient (bulk ESS of a few hundred), a quarter of a full fit's gradient evaluations
DEFAULT_SAMPLER: dict[str, Any] = {"chains": 2, "draws": 500, "tune": 500}


def _seeds(seed: int, n_groups: int, n_per_group: int, sim: int) -> tuple[int, int]:
    """(data seed, sampler seed) of one simulation."""
    state = np.random.SeedSequence([int(seed), int(n_groups), int(n_per_group), int(sim)])
    a, b = state.generate_state(2)
    return int(a) & 0x7FFFFFFF, int(b) & 0x7FFFFFFF


def _design_priors(spec: ModelSpec, truth: Mapping[str, Any], n_groups: int, n_per_group: int,
                   seed: int, predictors: Any, trials: Any) -> dict[str, Any]:
    """Every prior of the model, resolved on a pilot data set of the design (seeded)."""
    from bayesmixed.design.default_priors import resolve_priors
    from bayesmixed.design.matrices import build_design
    from bayesmixed.simulation import simulate

    pilot_seed = _seeds(seed, n_groups, n_per_group, 2**31)[0]
    pilot = simulate(spec, n_groups=n_groups, n_per_group=n_per_group, truth=truth,
                     predictors=predictors, trials=trials, seed=pilot_seed)
    return dict(resolve_priors(build_design(spec, pilot), spec.priors))


def _target_row(summary: pd.DataFrame, target: str) -> str:
    if target in summary.index:
        return target
    key = target.replace(" ", "")
    for name in summary.index:
        if str(name).replace(" ", "") == key:
            return str(name)
    raise SpecError(f"target {target!r} is not a parameter of the model; parameters: "
                    f"{', '.join(map(str, summary.index))}")


def power_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one data set, fit it and return one row of results (worker side; picklable).

    A simulated data set the model refuses (or a bad truth) is recorded in ``error``.

    Examples
    --------
    >>> row = power_task({"spec": "y ~ x + (1 | g)", "truth": {"z": 1.0}, "n_groups": 5,
    ...                   "n_per_group": 2, "sim": 0, "data_seed": 1, "fit_seed": 2,
    ...                   "target": "x", "prob": 0.95, "fit_kwargs": {}})
    >>> row["error"].split(":")[0]
    'SpecError'
    """
    from bayesmixed.api import fit
    from bayesmixed.sample.backends import reuse_compiled
    from bayesmixed.simulation import simulate

    row: dict[str, Any] = {"n_groups": task["n_groups"], "n_per_group": task["n_per_group"],
                           "sim": task["sim"], "data_seed": task["data_seed"],
                           "fit_seed": task["fit_seed"], "error": "", "worker": os.getpid()}
    t0 = time.perf_counter()
    prob = float(task["prob"])
    try:
        data = simulate(task["spec"], n_groups=task["n_groups"], n_per_group=task["n_per_group"],
                        truth=task["truth"], predictors=task.get("predictors"),
                        trials=task.get("trials", 10), seed=task["data_seed"])
        with warnings.catch_warnings(), reuse_compiled():
            warnings.simplefilter("ignore")
            result = fit(task["spec"], data, seed=task["fit_seed"], progress=False,
                         log_likelihood=False, **task["fit_kwargs"])
        table = result.summary(prob=prob)
        name = _target_row(table, task["target"])
        truth = data.attrs["truth"]["params"].get(name, np.nan)
        cols = list(table.columns)  # kind, mean, sd, lower quantile, upper quantile, ...
        lower, upper = (float(table.loc[name, c]) for c in cols[cols.index("sd") + 1:][:2])
        diag = result.diagnostics()
    except BayesmixedError as exc:
        row.update(error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)
        return row
    row.update(
        truth=float(truth), estimate=float(table.loc[name, "mean"]), lower=float(lower),
        upper=float(upper), width=float(upper - lower), excludes_zero=bool(lower > 0 or upper < 0),
        covers=bool(lower <= truth <= upper), converged=diag.verdict != "fail",
        verdict=diag.verdict, divergences=int(diag.divergences), max_rhat=float(diag.max_rhat),
        compiled=not bool(result.timings.get("cached")), seconds=time.perf_counter() - t0,
    )
    return row


def summarize(sims: pd.DataFrame) -> pd.DataFrame:
    """Per design: power, coverage, mean interval width, converged share, with binomial MCSEs.

    Power and coverage are shares of the fits that ran (``fits``; simulated data sets the
    model refused count in ``errors``), with Monte Carlo standard errors
    ``sqrt(p (1 - p) / fits)``.

    Examples
    --------
    >>> sims = pd.DataFrame({"n_groups": 10, "n_per_group": 5, "error": "",
    ...                      "excludes_zero": [True, True, False, True], "covers": True,
    ...                      "width": 1.0, "estimate": 0.5, "converged": True})
    >>> summarize(sims)[["sims", "power", "power_mcse"]].round(3).values.tolist()
    [[4.0, 0.75, 0.217]]
    """
    rows = []
    for (g, m), d in sims.groupby(["n_groups", "n_per_group"], sort=True):
        ok = d[d["error"] == ""] if "error" in d else d
        n = len(ok)
        p = float(ok["excludes_zero"].mean()) if n else np.nan
        c = float(ok["covers"].mean()) if n else np.nan
        rows.append({
            "n_groups": g, "n_per_group": m, "n_obs": int(g) * int(m), "sims": len(d), "fits": n,
            "errors": len(d) - n, "power": p,
            "power_mcse": float(np.sqrt(p * (1 - p) / n)) if n else np.nan,
            "coverage": c, "coverage_mcse": float(np.sqrt(c * (1 - c) / n)) if n else np.nan,
            "mean_width": float(ok["width"].mean()) if n else np.nan,
            "mean_estimate": float(ok["estimate"].mean()) if n else np.nan,
            "converged": float(ok["converged"].mean()) if n else np.nan,
        })
    return pd.DataFrame(rows)


@dataclass
class PowerResult:
    """The result of :func:`power`.

    Attributes
    ----------
    table
        One row per design: ``n_groups``, ``n_per_group``, ``n_obs``, ``sims``, ``fits``,
        ``errors``, ``power`` (share of ``prob`` intervals excluding 0), ``power_mcse``,
        ``coverage`` (share covering the truth), ``coverage_mcse``, ``mean_width``,
        ``mean_estimate`` and ``converged`` (share with a verdict other than ``"fail"``).
    sims
        One row per simulation: seeds, interval, flags, diagnostics, seconds, worker process
        and ``compiled`` (whether that fit compiled its model structure).
    settings
        The arguments, for the record.

    Examples
    --------
    >>> sims = pd.DataFrame({"n_groups": [10, 20], "n_per_group": 5, "error": "",
    ...                      "excludes_zero": [False, True], "covers": True, "width": 1.0,
    ...                      "estimate": 0.5, "converged": True})
    >>> PowerResult(summarize(sims), sims).table["power"].tolist()
    [0.0, 1.0]
    """

    table: pd.DataFrame
    sims: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax=None):
        """The power curve (see :func:`plot_power`)."""
        return plot_power(self, ax=ax)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, the table and the per-simulation rows."""
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                    for r in df.to_dict(orient="records")]
        return {"settings": self.settings, "table": records(self.table),
                "sims": records(self.sims)}

    def __str__(self) -> str:
        return self.table.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def plot_power(result: PowerResult | pd.DataFrame, ax=None, x: str = "n_groups"):
    """Power against ``x`` (``"n_groups"`` or ``"n_per_group"``), one line per other size.

    Error bars are +-2 Monte Carlo standard errors; the dashed line is the nominal
    false-positive rate ``1 - prob``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> sims = pd.DataFrame({"n_groups": [10, 20], "n_per_group": 5, "error": "",
    ...                      "excludes_zero": [False, True], "covers": True, "width": 1.0,
    ...                      "estimate": 0.5, "converged": True})
    >>> plot_power(PowerResult(summarize(sims), sims)).axes[0].get_ylabel()
    'power'
    """
    import matplotlib.pyplot as plt

    table = result.table if isinstance(result, PowerResult) else result
    if x not in ("n_groups", "n_per_group"):
        raise SpecError(f"x must be 'n_groups' or 'n_per_group', got {x!r}")
    other = "n_per_group" if x == "n_groups" else "n_groups"
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for value, d in table.sort_values(x).groupby(other):
        ax.errorbar(d[x], d["power"], yerr=2 * d["power_mcse"], marker="o", capsize=3,
                    label=f"{other} = {value}")
    prob = result.settings.get("prob") if isinstance(result, PowerResult) else None
    if prob is not None:
        ax.axhline(1 - prob, color="grey", ls="--", lw=1)
    ax.axhline(0.8, color="grey", ls=":", lw=1)
    target = result.settings.get("target", "") if isinstance(result, PowerResult) else ""
    ax.set(xlabel=x, ylabel="power", ylim=(-0.02, 1.02), title=f"Power for {target}".strip())
    ax.legend(frameon=False)
    return ax.figure


def _sizes(value: int | Sequence[int], name: str) -> list[int]:
    values = [value] if isinstance(value, int | np.integer) else list(value)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | np.integer)]
    if not values or bad:
        raise SpecError(f"{name} must be an integer or a list of integers, got {value!r}")
    return [int(v) for v in values]


def power(
    spec: str | ModelSpec | Mapping[str, Any] | Path,
    truth: Mapping[str, Any],
    n_groups: int | Sequence[int] = 20,
    n_per_group: int | Sequence[int] = 10,
    *,
    sims: int = 200,
    target: str = "x",
    seed: int = 0,
    prob: float = 0.95,
    family: str | None = None,
    link: str | None = None,
    predictors: Mapping[str, Any] | None = None,
    trials: int = 10,
    client: ClientLike = None,
    progress: bool | str = False,
    **fit_kwargs: Any,
) -> PowerResult:
    """Simulation-based power of a design grid for one coefficient.

    Parameters
    ----------
    spec
        Formula, dict/YAML spec or ``ModelSpec`` (priors in it are used for fitting).
    truth
        Parameter values to simulate from (as in :func:`bayesmixed.simulate`; the rest take
        its defaults). ``truth[target]`` is the effect whose detection is studied.
    n_groups, n_per_group
        Grids of sizes: every combination is a design.
    sims
        Simulated data sets per design. The Monte Carlo standard error of a power ``p`` is
        ``sqrt(p (1 - p) / sims)``: 0.035 at p = 0.5 with 200 sims.
    target
        The coefficient (a summary row name: ``"x"``, ``"treatment[B]"``).
    seed
        Seeds every simulation and fit: the same seed gives the same table serially and on any
        cluster.
    prob
        Probability of the central interval; "detected" means the interval excludes 0.
    family, link, predictors, trials
        As in :func:`bayesmixed.simulate`.
    client
        ``None`` (in this process), ``"local"``, a scheduler address or a
        ``dask.distributed.Client`` (see :mod:`bayesmixed.parallel`).
    progress
        A progress bar on stderr (``True`` or a label).
    **fit_kwargs
        Passed to :func:`bayesmixed.fit`. Default sampler settings suit many fits:
        2 chains x 500 draws after 500 tuning steps (:data:`DEFAULT_SAMPLER`).

    Returns
    -------
    PowerResult
        ``.table`` (one row per design), ``.sims`` (one row per simulation) and ``.plot()``.

    Examples
    --------
    >>> res = power("y ~ x + (1 | g)", {"x": 1.0}, n_groups=[6], n_per_group=[4], sims=2,
    ...             chains=1, draws=60, tune=60, seed=1)
    >>> res.table[["n_groups", "n_per_group", "sims"]].values.tolist()
    [[6, 4, 2]]
    """
    from bayesmixed.api import make_spec

    spec = make_spec(spec, family, link)
    if isinstance(sims, bool) or not isinstance(sims, int | np.integer) or sims < 1:
        raise SpecError(f"sims must be an integer >= 1, got {sims!r}")
    if not 0 < float(prob) < 1:
        raise SpecError(f"prob must lie strictly between 0 and 1, got {prob!r}")
    if not isinstance(truth, Mapping):
        raise SpecError(f"truth must be a dict of parameter -> value, got {type(truth).__name__}")
    bad = {"seed", "progress", "auto_retry", "family", "link"} & set(fit_kwargs)
    if bad:
        raise SpecError(f"power sets {sorted(bad)[0]!r} itself; do not pass it")
    groups, per = _sizes(n_groups, "n_groups"), _sizes(n_per_group, "n_per_group")
    if fit_kwargs.get("priors"):
        spec = make_spec(spec, priors=fit_kwargs.pop("priors"))
    fit_kwargs.pop("priors", None)
    tasks = []
    for g, m in itertools.product(groups, per):
        # the priors of one design, resolved once (see the module docstring)
        kwargs = {**DEFAULT_SAMPLER, **fit_kwargs,
                  "priors": _design_priors(spec, truth, g, m, seed, predictors, trials)}
        for i in range(int(sims)):
            data_seed, fit_seed = _seeds(seed, g, m, i)
            tasks.append({"spec": spec, "truth": dict(truth), "n_groups": g, "n_per_group": m,
                          "sim": i, "data_seed": data_seed, "fit_seed": fit_seed,
                          "target": target, "prob": float(prob), "predictors": predictors,
                          "trials": trials, "fit_kwargs": kwargs})
    # check the spec, truth and target once, here, before any fitting
    from bayesmixed.simulation import simulate

    probe = simulate(spec, n_groups=groups[0], n_per_group=per[0], truth=truth,
                     predictors=predictors, trials=trials, seed=0)
    params = probe.attrs["truth"]["params"]
    if not any(str(p).replace(" ", "") == target.replace(" ", "") for p in params):
        raise SpecError(f"target {target!r} is not a parameter of the model; parameters: "
                        f"{', '.join(params)}")
    label = progress if isinstance(progress, str) else "power"
    rows = run_tasks(power_task, tasks, client, progress=label if progress else False)
    sims_df = pd.DataFrame(rows)
    settings = {"formula": spec.formula, "family": spec.family, "truth": dict(truth),
                "target": target, "prob": float(prob), "sims": int(sims), "seed": int(seed),
                "n_groups": groups, "n_per_group": per,
                "sampler": {k: v for k, v in kwargs.items() if k != "priors"}}
    return PowerResult(table=summarize(sims_df), sims=sims_df, settings=settings)
