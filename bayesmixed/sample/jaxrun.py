"""JAX NUTS (numpyro, blackjax) on the model's jaxified log-density, on any JAX device.

The model's log-density is compiled to JAX once (PyMC's ``get_jaxified_logp``) and handed to
numpyro's ``NUTS(potential_fn=...)`` or blackjax's NUTS directly, so that this module, not
``pm.sample``, chooses:

- how chains run (``chain_method``): ``"parallel"`` (one per device, ``pmap``), ``"vectorized"``
  (one program for all chains, ``vmap``: the form that uses a GPU) or ``"sequential"``;
  ``"auto"`` takes ``"parallel"`` when JAX has at least as many devices as chains, else
  ``"vectorized"``;
- the floating-point precision: ``"float64"`` (default) or ``"float32"``, the log-density and
  the sampler then running in single precision (``jax_enable_x64`` off for the run, restored
  after; data are cast as JAX reads them). Draws are mapped back to the constrained space in
  double precision;
- the start points: the model's initial point with nutpie's jitter (see
  :func:`bayesmixed.sample.backends.jitter_rvs`, which ``run`` passes), one per chain from
  the seed;
- what is timed: ``compile`` is the time JAX spent tracing, lowering and compiling (or loading
  compiled code) during the run (JAX's own compilation events), ``sample`` the rest of the run.
  Compilation is most of a small model's time on a CPU (sleepstudy, 2 chains x 200
  iterations: 41-57 s of 56-62 s on a loaded 2-core machine, see ``benchmarks/JAX.md``);
- progress: numpyro's progress bar when ``progress`` is on (numpyro then dispatches each
  iteration from Python, slower for a small model than one compiled loop; numpyro also turns
  it off when ``CI`` is set); blackjax runs without one;
- compiled code is kept: when bayesmixed's disk cache is on
  (:mod:`bayesmixed.sample.diskcache`), JAX's persistent compilation cache is pointed at its
  ``jax`` folder (unless the user set one), so a later process fitting the same model and data
  loads the XLA executables instead of compiling them (``disk_cache`` timing: ``"hit"``).

PyMC's ``pymc.sampling.jax`` sets ``XLA_FLAGS=--xla_force_host_platform_device_count=100``
when it is imported (100 fake CPU devices); :func:`import_pymc_jax` imports it and puts the
user's ``XLA_FLAGS`` back, so JAX sees the machine's real devices unless the user asked
otherwise (set ``XLA_FLAGS`` or call ``numpyro.set_host_device_count`` before the first fit to
run CPU chains in parallel).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Any

import numpy as np

from bayesmixed.errors import SamplerError
from bayesmixed.sample.config import CHAIN_METHODS

__all__ = ["device_info", "import_pymc_jax", "run_jax"]

#: JAX's monitoring events that make up compilation (tracing, lowering, XLA compilation)
_COMPILE_EVENTS = frozenset({
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
    "/jax/compilation_cache/cache_retrieval_time_sec",
})
_CACHE_HIT = "/jax/compilation_cache/cache_hits"
#: numpyro's statistics kept per draw
_NUMPYRO_FIELDS = ("num_steps", "potential_energy", "energy", "diverging", "accept_prob",
                   "adapt_state.step_size")


def import_pymc_jax():
    """``import pymc.sampling.jax`` keeping the user's ``XLA_FLAGS``.

    Examples
    --------
    >>> import os
    >>> before = os.environ.get("XLA_FLAGS")
    >>> import_pymc_jax().__name__
    'pymc.sampling.jax'
    >>> os.environ.get("XLA_FLAGS") == before
    True
    """
    import sys

    if "pymc.sampling.jax" in sys.modules:
        return sys.modules["pymc.sampling.jax"]
    before = os.environ.get("XLA_FLAGS")
    import pymc.sampling.jax as pmjax

    if before is None:
        os.environ.pop("XLA_FLAGS", None)
    else:
        os.environ["XLA_FLAGS"] = before
    return pmjax


def device_info() -> dict[str, Any]:
    """The JAX device chains run on: ``device`` (``"cpu"`` or ``"gpu:<kind>"``), ``n_devices``
    and ``jax_version``.

    Examples
    --------
    >>> info = device_info()
    >>> sorted(info)
    ['device', 'jax_version', 'n_devices']
    """
    import jax

    dev = jax.devices()[0]
    name = "cpu" if dev.platform == "cpu" else f"{dev.platform}:{dev.device_kind}"
    return {"device": name, "n_devices": jax.local_device_count(), "jax_version": jax.__version__}


def resolve_chain_method(method: str, chains: int) -> str:
    """``"auto"`` made concrete: ``"parallel"`` with a device per chain, else ``"vectorized"``;
    one chain runs ``"sequential"``.

    Examples
    --------
    >>> resolve_chain_method("auto", 1)
    'sequential'
    >>> resolve_chain_method("vectorized", 4)
    'vectorized'
    """
    if method not in CHAIN_METHODS:
        raise SamplerError(f"chain_method must be one of {', '.join(CHAIN_METHODS)}, got {method!r}")
    if chains == 1:
        return "sequential"
    if method != "auto":
        return method
    import jax

    return "parallel" if jax.local_device_count() >= chains else "vectorized"


@contextmanager
def precision(name: str):
    """Run JAX in ``name`` (``"float64"`` or ``"float32"``) inside the block; the global
    ``jax_enable_x64`` flag is restored afterwards."""
    import warnings

    import jax

    before = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", name == "float64")
    try:
        with warnings.catch_warnings():
            # the graph's float64 constants and casts become float32: what was asked for
            warnings.filterwarnings("ignore", message="Explicitly requested dtype")
            yield
    finally:
        jax.config.update("jax_enable_x64", before)


@contextmanager
def compile_clock():
    """Seconds JAX spends compiling inside the block in ``clock[0]``, persistent-cache hits in
    ``clock[1]``."""
    from jax import monitoring

    clock = [0.0, 0]

    def listen(event: str, duration: float, **kwargs) -> None:
        if event in _COMPILE_EVENTS:
            clock[0] += duration

    def count(event: str, **kwargs) -> None:
        if event == _CACHE_HIT:
            clock[1] += 1

    monitoring.register_event_duration_secs_listener(listen)
    monitoring.register_event_listener(count)
    try:
        yield clock
    finally:
        monitoring.unregister_event_duration_listener(listen)
        monitoring.unregister_event_listener(count)


def persistent_cache() -> str:
    """Point JAX's persistent compilation cache at bayesmixed's disk cache (``jax`` folder);
    returns ``"on"``, ``"off"`` (disk cache off) or ``"user"`` (the user chose a folder)."""
    import jax

    from bayesmixed.sample import diskcache

    current = jax.config.jax_compilation_cache_dir
    if current:
        return "on" if current == str(diskcache.cache_dir() / "jax") else "user"
    if not diskcache.enabled():
        return "off"
    jax.config.update("jax_compilation_cache_dir", str(diskcache.cache_dir() / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_compilation_cache_max_size", diskcache._max_bytes())
    return "on"


def _initial_points(model, logp, chains: int, seed: int, dtype, jitter) -> list[np.ndarray]:
    """One jittered start per chain (stacked per value variable); a start whose log-density
    is not finite is redrawn (up to 10 times)."""
    from pymc.initial_point import make_initial_point_fn

    fn = make_initial_point_fn(model=model, jitter_rvs=jitter,
                               default_strategy="support_point", return_transformed=True)
    names = [v.name for v in model.value_vars]
    rng = np.random.default_rng(seed)
    starts = []
    for chain in range(chains):
        for _attempt in range(10):
            point = fn(int(rng.integers(2**31 - 1)))
            values = [np.asarray(point[n], dtype=dtype) for n in names]
            if np.isfinite(float(logp(values))):
                break
        else:
            raise SamplerError(f"chain {chain}: no start point with a finite log-density in 10 "
                               "jittered tries; check the priors and the data")
        starts.append(values)
    return [np.stack(v) for v in zip(*starts, strict=True)]


def _numpyro(logp, init, key, config, method: str):
    import jax
    from numpyro.infer import MCMC, NUTS

    def potential(x):
        return -logp(x)

    kernel = NUTS(potential_fn=potential, target_accept_prob=float(config.target_accept),
                  max_tree_depth=config.max_treedepth, dense_mass=False)
    mcmc = MCMC(kernel, num_warmup=config.tune, num_samples=config.draws,
                num_chains=config.chains, chain_method=method, progress_bar=config.progress)
    chains = config.chains
    keys = jax.random.split(key, chains) if chains > 1 else key
    start = init if chains > 1 else [v[0] for v in init]
    mcmc.run(keys, init_params=start, extra_fields=_NUMPYRO_FIELDS)
    draws = mcmc.get_samples(group_by_chain=True)
    extra = mcmc.get_extra_fields(group_by_chain=True)
    steps = np.asarray(extra["num_steps"])
    depth = np.ceil(np.log2(steps + 1)).astype(np.int64)
    diverging = np.asarray(extra["diverging"], dtype=bool)
    stats = {
        "diverging": diverging,
        "energy": np.asarray(extra["energy"]),
        "lp": -np.asarray(extra["potential_energy"]),
        "n_steps": steps,
        "tree_depth": depth,
        "reached_max_treedepth": (depth >= config.max_treedepth) & ~diverging,
        "acceptance_rate": np.asarray(extra["accept_prob"]),
        "step_size": np.asarray(extra["adapt_state.step_size"]),
    }
    return draws, stats


def _blackjax(logp, init, key, config, method: str):
    import blackjax
    import jax

    def one_chain(chain_key, position):
        warm_key, draw_key = jax.random.split(chain_key)
        adapt = blackjax.window_adaptation(
            blackjax.nuts, logp, target_acceptance_rate=float(config.target_accept),
            max_num_doublings=config.max_treedepth)
        (state, params), _ = adapt.run(warm_key, position, num_steps=max(config.tune, 1))
        step = blackjax.nuts(logp, **{**params, "max_num_doublings": config.max_treedepth}).step

        def one_draw(state, k):
            state, info = step(k, state)
            return state, (state.position, {
                "diverging": info.is_divergent, "energy": info.energy, "lp": state.logdensity,
                "tree_depth": info.num_trajectory_expansions,
                "n_steps": info.num_integration_steps, "acceptance_rate": info.acceptance_rate})

        _, out = jax.lax.scan(one_draw, state, jax.random.split(draw_key, config.draws))
        return out

    keys = jax.random.split(key, config.chains)
    if method == "parallel":
        draws, stats = jax.pmap(one_chain)(keys, init)
    elif method == "vectorized":
        draws, stats = jax.jit(jax.vmap(one_chain))(keys, init)
    else:
        draws, stats = jax.jit(lambda k, x: jax.lax.map(lambda a: one_chain(*a), (k, x)))(keys, init)
    stats = {k: np.asarray(v) for k, v in stats.items()}
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["reached_max_treedepth"] = (stats["tree_depth"] >= config.max_treedepth) & ~stats[
        "diverging"]
    return draws, stats


def _constrained(model, draws: list) -> dict[str, np.ndarray]:
    """The model's variables (constrained, deterministics) at each draw, in float64."""
    import jax
    from pymc.util import get_default_varnames

    pmjax = import_pymc_jax()
    outputs = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    fn = pmjax.get_jaxified_graph(inputs=model.value_vars, outputs=outputs)
    with precision("float64"):
        values = [np.asarray(d, dtype=np.float64) for d in draws]
        result = jax.jit(jax.vmap(jax.vmap(fn)))(*values)
        return {v.name: np.asarray(r) for v, r in zip(outputs, result, strict=True)}


def run_jax(built, config, jitter: set | None = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Sample ``built.model`` with numpyro's or blackjax's NUTS (``config.backend``).

    Returns
    -------
    (DataTree, dict, dict)
        The posterior with ``sample_stats`` (``diverging``, ``energy``, ``lp``, ``n_steps``,
        ``tree_depth``, ``reached_max_treedepth``, ``acceptance_rate``); timings in seconds
        (``compile``: PyTensor's graph to JAX and JAX's compilation; ``sample``: the rest of
        the sampler's run; ``transform``: draws to the constrained space); and the run's
        ``device``, ``n_devices``, ``jax_version``, ``precision`` and ``chain_method``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.sample.backends import SamplerConfig
    >>> built = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"))
    >>> cfg = SamplerConfig(backend="numpyro", chains=2, draws=20, tune=20, seed=1,
    ...                     progress=False)
    >>> idata, timings, info = run_jax(built, cfg)  # doctest: +SKIP
    >>> idata["posterior"]["sigma"].shape, info["chain_method"], info["precision"]  # doctest: +SKIP
    ((2, 20), 'vectorized', 'float64')

    (Skipped here: the compilation takes tens of seconds on a CPU; ``tests/test_jax_backend.py``
    runs it.)
    """
    import jax
    from arviz_base import from_dict
    from pymc.backends.arviz import coords_and_dims_for_inferencedata

    pmjax = import_pymc_jax()
    model = built.model
    method = resolve_chain_method(config.chain_method, config.chains)
    if method == "parallel" and jax.local_device_count() < config.chains:
        raise SamplerError(f"chain_method 'parallel' needs a device per chain: {config.chains} "
                           f"chains, {jax.local_device_count()} JAX devices")
    dtype = np.float32 if config.precision == "float32" else np.float64
    cache = persistent_cache()
    t0 = time.perf_counter()
    logp = pmjax.get_jaxified_logp(model)  # the log-density (despite the name)
    t_graph = time.perf_counter() - t0
    t0 = time.perf_counter()
    with compile_clock() as clock:
        with precision(config.precision):
            init = _initial_points(model, jax.jit(logp), config.chains, int(config.seed), dtype,
                                   set(model.free_RVs) if jitter is None else jitter)
            key = jax.random.PRNGKey(int(config.seed))
            sampler = _numpyro if config.backend == "numpyro" else _blackjax
            draws, stats = sampler(logp, init, key, config, method)
            draws = [np.asarray(d) for d in draws]
        total = time.perf_counter() - t0
    compile_s = min(clock[0], total)
    t0 = time.perf_counter()
    posterior = _constrained(model, draws)
    coords, dims = coords_and_dims_for_inferencedata(model)
    idata = from_dict({"posterior": posterior, "sample_stats": stats}, coords=coords, dims=dims)
    info = {**device_info(), "precision": config.precision, "chain_method": method}
    disk = "off" if cache == "off" else ("hit" if clock[1] else "stored")
    timings = {"compile": t_graph + compile_s, "sample": total - compile_s,
               "transform": time.perf_counter() - t0, "cached": False,
               "disk_cache": disk if cache != "user" else "user's JAX cache"}
    return idata, timings, info
