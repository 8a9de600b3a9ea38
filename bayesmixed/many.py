"""Many fits at once: :func:`fit_many` (several formulas and/or several data sets).

Fits run through :func:`bayesmixed.parallel.run_tasks`: in this process by default, or on a
Dask cluster with ``client=`` (``"local"``, a scheduler address or a ``Client``). Every fit runs
inside :func:`~bayesmixed.sample.backends.reuse_compiled`, so a process compiles each model
structure once, and serial and distributed runs give bit-identical draws.

What ships back from workers. A whole :class:`~bayesmixed.result.Fit` carries its draws, its
pointwise log-likelihood and a copy of the data: megabytes per fit. By default
(``keep="summary"``) a worker returns a :class:`FitSummary` instead: the posterior summary
table, the diagnostics figures and verdict, the timings and which worker compiled what (a few
kilobytes). ``keep="fit"`` ships whole fits back, for a handful of fits.
"""

from __future__ import annotations

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

__all__ = ["FitSummary", "fit_many", "fit_task"]

Model = str | ModelSpec | Mapping[str, Any] | Path


@dataclass
class FitSummary:
    """What a worker sends back for one fit of :func:`fit_many` (``keep="summary"``).

    Attributes
    ----------
    model
        The formula fitted.
    model_index, data_index
        Positions of the model and the data set in the arguments of :func:`fit_many`.
    seed
        The sampler seed.
    summary
        :meth:`Fit.summary` (empty when the fit failed).
    diagnostics
        :meth:`Fit.diagnostics` as a dict (verdict, max R-hat, ESS, divergences, advice).
    timings
        Seconds spent building, compiling and sampling; ``cached`` is True when the compiled
        model was reused (no compilation in that fit).
    worker
        Process id of the process that ran the fit.
    error
        The error message of a fit that failed ("" otherwise).

    Examples
    --------
    >>> FitSummary("y ~ x + (1 | g)", 0, 0, seed=1, error="DataError: ...").verdict
    'error'
    """

    model: str
    model_index: int
    data_index: int
    seed: int
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    worker: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        """The fit ran (it may still have a ``"fail"`` diagnostics verdict)."""
        return not self.error

    @property
    def verdict(self) -> str:
        """The diagnostics verdict, or ``"error"`` for a fit that failed."""
        return self.diagnostics.get("verdict", "error") if self.ok else "error"


def fit_task(task: Mapping[str, Any]):
    """Run one fit described by ``task`` (the worker-side function; picklable).

    ``task`` holds ``model``, ``data``, ``family``, ``seed``, ``fit_kwargs`` and ``keep``
    (``"summary"`` or ``"fit"``) plus ``model_index``/``data_index``. The fit runs inside
    :func:`~bayesmixed.sample.backends.reuse_compiled` (one compilation per structure and
    process, the same draws wherever it runs).

    Examples
    --------
    >>> out = fit_task({"model": "y ~ z", "data": pd.DataFrame({"y": [1.0, 2.0]}), "seed": 1})
    >>> out.ok, out.error.split(":")[0]
    (False, 'DataError')
    """
    from bayesmixed.api import fit
    from bayesmixed.sample.backends import reuse_compiled

    keep = task.get("keep", "summary")
    out = FitSummary(
        model=str(getattr(task["model"], "formula", task["model"])),
        model_index=int(task.get("model_index", 0)),
        data_index=int(task.get("data_index", 0)),
        seed=int(task["seed"]),
        worker=os.getpid(),
    )
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(), reuse_compiled():
            warnings.simplefilter("ignore")
            result = fit(task["model"], task["data"], task.get("family"), seed=int(task["seed"]),
                         progress=False, **dict(task.get("fit_kwargs") or {}))
    except BayesmixedError as exc:
        if keep == "fit":
            raise
        out.error = f"{type(exc).__name__}: {exc}"
        out.timings = {"total": time.perf_counter() - t0}
        return out
    if keep == "fit":
        return result
    out.model = result.formula
    out.summary = result.summary()
    out.diagnostics = result.diagnostics().to_dict()
    out.timings = {**result.timings, "total": time.perf_counter() - t0}
    return out


def _as_list(value: Any, kind: type | tuple) -> list:
    if isinstance(value, kind) or not isinstance(value, Sequence) or isinstance(value, str):
        return [value]
    return list(value)


def fit_many(
    models: Model | Sequence[Model],
    data: pd.DataFrame | Sequence[pd.DataFrame],
    family: str | None = None,
    *,
    client: ClientLike = None,
    seed: int | None = 0,
    keep: str = "summary",
    progress: bool | str = False,
    **fit_kwargs: Any,
) -> list:
    """Fit several models to one data set, one model to several data sets, or every pair.

    Parameters
    ----------
    models
        One model (formula, dict/YAML spec, ``ModelSpec``) or a list of them.
    data
        One data frame or a list of data frames. With lists of both, every model is fitted to
        every data set (model-major order).
    family
        As in :func:`bayesmixed.fit` (applied to every model).
    client
        ``None`` (in this process, the default), ``"local"`` (a ``LocalCluster`` of one
        process per core, closed afterwards), a scheduler address or a
        ``dask.distributed.Client`` (see :mod:`bayesmixed.parallel`).
    seed
        Sampler seed of every fit (one is drawn when None). The same seed gives the same draws
        serially and on any cluster.
    keep
        ``"summary"`` (default): a :class:`FitSummary` per fit (summary table, diagnostics,
        timings; a failed fit is recorded in ``error``); ``"fit"``: whole
        :class:`~bayesmixed.result.Fit` objects (large: draws and data travel back; a failed
        fit raises).
    progress
        A progress bar on stderr (``True`` or a label).
    **fit_kwargs
        Passed to :func:`bayesmixed.fit` (``chains``, ``draws``, ``tune``, ``priors``, ...).

    Returns
    -------
    list
        One :class:`FitSummary` (or ``Fit``) per (model, data set), model-major.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.simulate("y ~ x + (1 | g)", n_groups=8, n_per_group=5, seed=1)
    >>> out = fit_many(["y ~ x + (1 | g)", "y ~ 1 + (1 | g)"], df, chains=1, draws=50,
    ...                tune=50, seed=2)
    >>> [(f.model, "x" in f.summary.index) for f in out]
    [('y ~ x + (1 | g)', True), ('y ~ 1 + (1 | g)', False)]
    """
    if keep not in ("summary", "fit"):
        raise SpecError(f"keep must be 'summary' or 'fit', got {keep!r}")
    bad = {"seed", "progress", "auto_retry"} & set(fit_kwargs)
    if bad:
        raise SpecError(f"fit_many sets {sorted(bad)[0]!r} itself; do not pass it")
    model_list = _as_list(models, (str, ModelSpec, Mapping, Path))
    data_list = _as_list(data, pd.DataFrame)
    if not model_list or not data_list:
        raise SpecError("fit_many needs at least one model and one data set")
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    tasks = [
        {"model": m, "data": d, "family": family, "seed": int(seed), "keep": keep,
         "fit_kwargs": fit_kwargs, "model_index": i, "data_index": j}
        for i, m in enumerate(model_list)
        for j, d in enumerate(data_list)
    ]
    label = progress if isinstance(progress, str) else "fits"
    return run_tasks(fit_task, tasks, client, progress=label if progress else False)
