"""NUTS backends behind one interface: ``run(built, config) -> (DataTree, timings)``.

- ``nutpie`` (default): nutpie's Rust NUTS on a numba-compiled logp. A fit compiles its model
  with the small data arrays frozen in as constants (numba compiles that 2-4 s faster: most of
  the time to the first draw of a small model); refitting the same data reuses it. Inside
  :func:`reuse_compiled` (simulation studies, SBC, K-fold), one model structure is compiled
  once with every data array swappable and then swapped to each new data set with
  ``with_data``: no further compilation. That form rounds differently in the last bits, so a
  fit outside that block uses the frozen form or, from the second data set of a model shape
  on, one input form checked bit for bit against the frozen form
  (:mod:`bayesmixed.sample.staticshape`): the same seed and data give the same draws whatever
  was fitted before in the process, and a loop over data sets compiles twice per shape.

  Compiled without numba's fast-math flags (:func:`_strict_math`): with them LLVM may reassociate
  and contract floating-point operations differently when a kernel is compiled afresh and
  inlined than when it is loaded from PyTensor's on-disk numba cache, so the first process on a
  machine (cold cache) drew different numbers from later ones with the same seed.
- ``pymc``: PyMC's own NUTS, chains in parallel processes.
- ``numpyro`` / ``blackjax`` (alias ``jax``): JAX-based NUTS on the model's jaxified
  log-density, chains vectorized or one per device, in float64 or float32, on CPU or an
  accelerator (:mod:`bayesmixed.sample.jaxrun`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

from bayesmixed.names import is_prior_data
from bayesmixed.sample import extraction, staticshape
from bayesmixed.sample.config import (
    ADAPTATIONS,
    BACKENDS,
    METHODS,
    SamplerConfig,
    resolve_adaptation,
)
from bayesmixed.sample.imports import defer_dask_check, import_nutpie

__all__ = ["ADAPTATIONS", "BACKENDS", "METHODS", "SamplerConfig", "clear_cache", "reuse_compiled", "run"]

_CACHE: OrderedDict[str, object] = OrderedDict()  # swappable data, by structure
_FROZEN: OrderedDict[str, object] = OrderedDict()  # data frozen in, by structure and data
_REUSE = threading.local()  # inside reuse_compiled(): swap data into one compiled structure
_CACHE_SIZE = 16
#: data arrays up to this many elements are frozen into a first compilation as constants;
#: larger ones stay shared (numba would copy them into the compiled code)
FREEZE_MAX_SIZE = 20_000


def clear_cache() -> None:
    """Forget compiled models.

    Examples
    --------
    >>> clear_cache()  # the next fit of any model compiles it again
    """
    _CACHE.clear()
    _FROZEN.clear()
    staticshape.clear()


@contextmanager
def reuse_compiled():
    """Within the block, fits of one model structure share one compiled model (data swapped).

    For loops over many data sets of one structure (simulation studies, SBC, K-fold): the
    first fit compiles the structure with swappable data, later fits only swap the data in.

    Examples
    --------
    >>> with reuse_compiled():
    ...     pass  # bm.fit(...) on many simulated data sets
    """
    before = getattr(_REUSE, "on", False)
    _REUSE.on = True
    try:
        yield
    finally:
        _REUSE.on = before


def _structure_key(built) -> str:
    """The model's structure (:func:`~bayesmixed.sample.staticshape.shape_key`)."""
    return staticshape.shape_key(built)


def _data_key(built, key: str) -> str:
    """``key`` plus a digest of the data values and coordinate labels."""
    h = hashlib.sha256(key.encode())
    for v in sorted(built.model.data_vars, key=lambda v: v.name):
        value = np.ascontiguousarray(v.get_value())
        h.update(f"{v.name}{value.dtype}{value.shape}".encode())
        h.update(value.tobytes())
    h.update(json.dumps({k: list(map(str, c)) for k, c in built.model.coords.items()}).encode())
    return h.hexdigest()


def _remember(cache: OrderedDict, key: str, compiled) -> None:
    cache[key] = compiled
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


@contextmanager
def _strict_math():
    """Compile numba kernels with IEEE semantics (no fast-math), so that the draws of a seed do
    not depend on whether PyTensor's numba cache was cold or warm (see the module docstring)."""
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        yield


#: free variables started at their prior's centre without jitter: population coefficients
#: live on the scale of their predictor (a coefficient of a predictor with sd 36 has prior sd
#: 0.07), where a U(-1, 1) jitter starts a log-link model at rates of e^60
UNJITTERED = frozenset({"b", "b_qr"})


def jitter_rvs(model) -> set:
    """Free variables whose initial values get PyMC's U(-1, 1) jitter (all scale-free ones).

    Chains start apart in the sds (log scale), the standardized effects and the intercept;
    the population coefficients start at their prior mean (see :data:`UNJITTERED`). Measured on
    lme4's grouseticks (poisson, observation-level effect, 4 chains): with every variable
    jittered one chain of four started at an overflowing rate on seeds 1, 2 and 3 and never
    moved (step size 1e-199, 1,000 divergences); without jitter on ``b`` no chain stuck.
    """
    return {v for v in model.free_RVs if v.name not in UNJITTERED}


def _compile(model, key: str | None = None):
    """``nutpie.compile_pymc_model(model)`` with strict floating-point semantics and the
    initial-point jitter of :func:`jitter_rvs`, loaded from or stored in the persistent cache
    (:mod:`bayesmixed.sample.diskcache`) under ``key``; returns it and the cache status."""
    from bayesmixed.sample import diskcache

    if key is None or not diskcache.enabled():
        status = "off"
    else:
        status = "miss"
        import_nutpie()
        from nutpie.compile_pymc import _wrap_with_lock
        from pymc.initial_point import make_initial_point_fn

        with _strict_math():
            init = make_initial_point_fn(model=model, jitter_rvs=jitter_rvs(model),
                                         default_strategy="support_point", return_transformed=True)
            hit = diskcache.load(key, model, _wrap_with_lock(init))
        if hit is not None:
            return hit, "hit"
    nutpie = import_nutpie()
    extraction.install()  # straight-line reading of the shared data: faster numba typing
    with _strict_math():
        compiled = nutpie.compile_pymc_model(model, jitter_rvs=jitter_rvs(model))
    if status != "off":
        status = diskcache.store(key, compiled)
    return compiled, status


def _compiled_nutpie(built, status: dict | None = None):
    """The compiled model for ``built`` and whether it came from the in-process cache; the
    persistent cache's status goes into ``status["disk_cache"]``, the form compiled
    (``"frozen"``, ``"input"``: data swapped in) into ``status["compiled_form"]``."""
    status = {} if status is None else status
    status["disk_cache"] = "memory"
    key = _structure_key(built)
    data_key = _data_key(built, key)
    hit = _FROZEN.get(data_key)
    if hit is not None:
        _FROZEN.move_to_end(data_key)
        status["compiled_form"] = "frozen"
        return hit, True
    if getattr(_REUSE, "on", False):
        status["compiled_form"] = "input"
        cached = key in _CACHE
        compiled = _input_form(built, key, status)
        return (staticshape.swap_data(compiled, staticshape.data_of(built)), True) if cached \
            else (compiled, False)
    # outside the block: frozen for the first data set of a shape, then (when it gives the
    # same numbers) one input form for the shape (bayesmixed.sample.staticshape)
    return staticshape.compiled_for(built, key, lambda: _frozen_form(built, data_key, status),
                                    lambda: _input_form(built, key, status, static=True), status)


def _input_form(built, key: str, status: dict, static: bool = False):
    """The structure's compiled model with every data array swappable (cached by structure).

    ``static``: the model rebuilt as the frozen form is (``freeze_dims_and_data``: its
    variables in the frozen form's order, the dimensions fixed) with the data left as inputs,
    so that it can give the frozen form's numbers (:mod:`bayesmixed.sample.staticshape`).
    """
    from bayesmixed.sample import diskcache

    key = f"static {key}" if static else key
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    model = built.model
    if static:
        from pymc.model.transform.optimization import freeze_dims_and_data

        model = freeze_dims_and_data(model, data=[])
    disk = diskcache.graph_key(built.model, f"swappable {key}") if diskcache.enabled() else None
    compiled, status["disk_cache"] = _compile(model, disk)
    _remember(_CACHE, key, compiled)
    return compiled


def _frozen_form(built, data_key: str, status: dict):
    """``built``'s compiled model with its small data arrays frozen in as constants."""
    from pymc.model.transform.optimization import freeze_dims_and_data

    from bayesmixed.sample import diskcache

    # prior data stay inputs: frozen, PyTensor folds the prior scale into constants and the
    # gradient of b differed in the last bit from the input form's at 24 of 400 posterior
    # points (bayesmixed.sample.staticshape); as inputs, the two forms agreed at 2,000 of 2,000
    small = [v.name for v in built.model.data_vars
             if v.get_value().size <= FREEZE_MAX_SIZE and not is_prior_data(v.name)]
    disk = None
    if diskcache.enabled():
        disk = diskcache.graph_key(built.model, f"frozen {small} {data_key}")
    compiled, status["disk_cache"] = _compile(freeze_dims_and_data(built.model, data=small), disk)
    _remember(_FROZEN, data_key, compiled)
    return compiled


def _relabel(idata, coords: dict) -> None:
    """Give the draws of a reused compiled model the current model's coordinate labels."""
    for group in ("posterior", "sample_stats"):
        if group not in idata.children:
            continue
        ds = idata[group].to_dataset()
        new = {d: list(coords[d]) for d in ds.dims if d in coords and len(coords[d]) == ds.sizes[d]}
        if new:
            idata[group] = ds.assign_coords(new)


def _cores(chains: int) -> int:
    return max(1, min(chains, os.cpu_count() or 1))


def run(built, config: SamplerConfig, info: dict | None = None):
    """Sample the posterior of ``built.model``.

    Parameters
    ----------
    built
        The built model.
    config
        Sampler settings (with a seed).
    info
        When given, filled with how the run went: ``device`` (``"cpu"``, ``"gpu:<kind>"``),
        ``precision``, for nutpie the mass-matrix ``adaptation`` used (what ``"auto"``
        chose, :func:`~bayesmixed.sample.config.resolve_adaptation`), and for the JAX
        backends ``chain_method``, ``n_devices`` and ``jax_version``.

    Returns
    -------
    (DataTree, dict)
        The posterior (with ``sample_stats``) and timings in seconds (``compile``,
        ``sample``), ``cached`` (compiled model reused from this process), ``disk_cache``
        (the persistent cache: ``"hit"``, ``"stored"``, ``"off"``, ``"memory"`` for a reuse in
        the process, or why it was not used) and, for nutpie, ``compiled_form``: ``"frozen"``
        (data compiled in), ``"input"`` (data swapped into a compiled structure) or
        ``"input (compiled)"`` (:mod:`bayesmixed.sample.staticshape`).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = bm.prepare("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"))
    >>> info = {}
    >>> idata, timings = run(built, SamplerConfig(chains=2, draws=100, tune=100, seed=1,
    ...                                             progress=False), info)
    >>> idata["posterior"]["b"].shape, info
    ((2, 100, 1), {'device': 'cpu', 'precision': 'float64', 'adaptation': 'diag'})
    >>> sorted(timings)
    ['cached', 'compile', 'compiled_form', 'disk_cache', 'sample']
    """
    timings: dict[str, float | bool] = {}
    defer_dask_check()  # issue 18: xarray would import dask (1.5-2 s) to build the tree
    info = {} if info is None else info
    info.update(device="cpu", precision="float64")
    if config.backend == "nutpie":
        nutpie = import_nutpie()
        adaptation = resolve_adaptation(config.adaptation, built.meta()["parameterization"])
        info["adaptation"] = adaptation  # issue 13: what "auto" chose

        t0 = time.perf_counter()
        compiled, cached = _compiled_nutpie(built, timings)
        timings["compile"] = time.perf_counter() - t0
        timings["cached"] = cached
        t0 = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=config.draws,
            tune=max(config.tune, 1),
            chains=config.chains,
            cores=_cores(config.chains),
            seed=int(config.seed),
            progress_bar=config.progress,
            target_accept=float(config.target_accept),
            maxdepth=config.max_treedepth,
            adaptation=adaptation,
            save_warmup=False,
        )
        timings["sample"] = time.perf_counter() - t0
        if cached:
            _relabel(idata, built.model.coords)
        _complete(built, idata, config)
        return idata, timings

    if config.backend in ("numpyro", "blackjax"):
        from bayesmixed.sample.jaxrun import run_jax

        idata, timings, run_info = run_jax(built, config, jitter_rvs(built.model))
        info.update(run_info)
    else:
        import pymc as pm

        t0 = time.perf_counter()
        with built.model:
            idata = pm.sample(
                draws=config.draws,
                tune=config.tune,
                chains=config.chains,
                random_seed=int(config.seed),
                progressbar=config.progress,
                nuts_sampler="pymc",  # PyMC 6's default is nutpie where it is installed
                compute_convergence_checks=False,
                cores=_cores(config.chains),
                target_accept=float(config.target_accept),
                max_treedepth=config.max_treedepth,
            )
        timings = {"compile": 0.0, "sample": time.perf_counter() - t0, "cached": False,
                   "disk_cache": "not available for backend pymc"}
    _complete(built, idata, config)
    return idata, timings


def _complete(built, idata, config: SamplerConfig) -> None:
    """Add the draws the sampler does not make (effects of a marginal gaussian model)."""
    complete = getattr(built, "complete", None)
    if complete is not None:
        complete(idata, config.seed)
