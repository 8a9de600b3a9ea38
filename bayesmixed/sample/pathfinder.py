"""Approximate draws by multi-path Pathfinder (Zhang et al. 2022) with PSIS resampling.

``method="pathfinder"`` of :func:`bayesmixed.fit`: a fast approximation for exploring big
data, not a replacement for NUTS. Built on blackjax's Pathfinder pieces (its L-BFGS with the
optimization history, the inverse-Hessian factors and the normal draws along the path,
``blackjax.optimizers.lbfgs``) and PyMC's JAX log density:

1. ``paths`` (the fit's ``chains``) L-BFGS runs from PyMC's initial point, jittered per path
   as NUTS chains are (:func:`~bayesmixed.sample.backends.jitter_rvs`);
2. along each path, the normal approximation with the highest ELBO (``elbo_draws`` draws per
   iteration, iterations evaluated one at a time so memory does not grow with the path);
3. ``draws`` draws from each path's normal, pooled, with importance log weights
   ``log p - log q``, Pareto-smoothed (PSIS, arviz-stats): the Pareto k of the weights is
   the quality check of the approximation (k > 0.7: the approximation misses the posterior's
   shape; treat the draws as a rough guide only);
4. ``draws`` draws resampled with those weights (with replacement): one "chain".

blackjax's own ``pathfinder.approximate`` evaluates the ELBO of every iteration up to
``maxiter`` at once (``vmap``), which needs ``maxiter x elbo_draws x rows`` numbers at a time:
too much for the big data sets this method is for; step 2 does the same computation
iteration by iteration and skips the iterations L-BFGS did not take.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import numpy as np

from bayesmixed.errors import SamplerError
from bayesmixed.sample.backends import _complete, _data_key, _structure_key, jitter_rvs

__all__ = ["ELBO_DRAWS", "MAXITER", "run_pathfinder"]

#: L-BFGS iteration budget per path
MAXITER = 1000
#: draws per iteration for the ELBO that picks the normal approximation (pymc-extras' default)
ELBO_DRAWS = 10
#: L-BFGS history size
MAXCOR = 6
_COMPILED: OrderedDict[str, dict] = OrderedDict()  # jitted functions, by model and data
_CACHE_SIZE = 8


def _initial_point_fn(model):
    """``seed -> values in the order of model.value_vars``: PyMC's initial point, jittered
    as NUTS chains are (:func:`~bayesmixed.sample.backends.jitter_rvs`)."""
    from pymc.initial_point import make_initial_point_fn

    fn = make_initial_point_fn(model=model, jitter_rvs=jitter_rvs(model),
                               default_strategy="support_point", return_transformed=True)
    names = [v.name for v in model.value_vars]

    def point(seed: int) -> list[np.ndarray]:
        values = fn(seed)
        return [np.asarray(values[n], dtype=float) for n in names]

    return point


def _one_path(key, logp_flat, x0, maxiter: int, elbo_draws: int):
    """L-BFGS from ``x0`` and the normal approximation with the highest ELBO on its path."""
    import jax
    import jax.numpy as jnp
    from blackjax.optimizers.lbfgs import (
        _minimize_lbfgs,
        bfgs_sample,
        lbfgs_inverse_hessian_factors,
    )

    def objective(x):
        return -logp_flat(x)

    (_, status), history = _minimize_lbfgs(objective, x0, maxiter, MAXCOR, 1e-8, 1e-5, 1000)
    position, grad, alpha = history.x, history.g, history.alpha
    mask = history.update_mask[1:]
    s = jnp.where(mask, jnp.diff(position, axis=0), 0.0)
    z = jnp.where(mask, jnp.diff(grad, axis=0), 0.0)
    s = jnp.pad(s, ((MAXCOR, 0), (0, 0)))
    z = jnp.pad(z, ((MAXCOR, 0), (0, 0)))
    n_iter = status.iter_num

    def factors(i):
        window = i + jnp.arange(MAXCOR)
        return lbfgs_inverse_hessian_factors(s[window].T, z[window].T, alpha[i])

    def elbo_at(args):
        i, k = args
        beta, gamma = factors(i)
        phi, logq = bfgs_sample(k, elbo_draws, position[i], grad[i], alpha[i], beta, gamma)
        elbo = (jax.vmap(logp_flat)(phi) - logq).mean()
        return jnp.where(jnp.isfinite(elbo), elbo, -jnp.inf)

    def body(args):
        i, _ = args
        return jax.lax.cond(i < n_iter, elbo_at, lambda _: -jnp.inf, args)

    keys = jax.random.split(key, maxiter + 1)
    elbo = jax.lax.map(body, (jnp.arange(maxiter + 1), keys))
    best = jnp.argmax(elbo)
    beta, gamma = factors(best)
    return {"position": position[best], "grad": grad[best], "alpha": alpha[best],
            "beta": beta, "gamma": gamma, "elbo": elbo[best], "iterations": n_iter}


def _functions(built, maxiter: int, elbo_draws: int) -> dict:
    """The jitted functions of one model and data, compiled once per process (the compiled
    graph holds the data as constants): a refit of the same data only runs them."""
    import jax
    from blackjax.optimizers.lbfgs import bfgs_sample
    from jax.flatten_util import ravel_pytree
    from pymc.sampling.jax import get_jaxified_graph, get_jaxified_logp
    from pymc.util import get_default_varnames

    key = f"{_data_key(built, _structure_key(built))} {maxiter} {elbo_draws}"
    hit = _COMPILED.get(key)
    if hit is not None:
        _COMPILED.move_to_end(key)
        return hit
    model = built.model
    init = _initial_point_fn(model)
    _, unravel = ravel_pytree(init(0))
    logp = get_jaxified_logp(model)  # the log density (PyMC's flag name is inverted)

    def logp_flat(x):
        return logp(unravel(x))

    names = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    to_vars = get_jaxified_graph(inputs=model.value_vars, outputs=names)
    fns = {
        "init": lambda seed: np.asarray(ravel_pytree(init(seed))[0]),
        "path": jax.jit(lambda k, x0: _one_path(k, logp_flat, x0, maxiter, elbo_draws)),
        "draw": jax.jit(bfgs_sample, static_argnums=1),
        "logp": jax.jit(jax.vmap(logp_flat)),
        "constrain": jax.jit(jax.vmap(lambda x: to_vars(*unravel(x)))),
        "names": [v.name for v in names],
    }
    _COMPILED[key] = fns
    while len(_COMPILED) > _CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return fns


def run_pathfinder(built, config, *, maxiter: int = MAXITER, elbo_draws: int = ELBO_DRAWS):
    """Approximate posterior draws of ``built.model`` (see the module docstring).

    ``config.chains`` is the number of paths and ``config.draws`` the number of draws
    returned (one chain); ``tune``, ``target_accept`` and the NUTS options are not used.

    Returns
    -------
    (DataTree, dict, dict)
        The draws (``posterior`` with one chain; ``sample_stats`` with ``lp``, the log
        density of each draw), timings in seconds (``compile``, ``sample``) and the
        approximation's diagnostics: ``pareto_k``, ``ess`` (importance-sampling effective
        sample size of the pooled draws), per path ``elbo``, ``iterations`` and
        ``hit_maxiter``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> from bayesmixed.sample.backends import SamplerConfig
    >>> built = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"))
    >>> idata, timings, approx = run_pathfinder(built, SamplerConfig(chains=2, draws=100,
    ...                                         seed=1, method="pathfinder"))
    >>> idata["posterior"]["b"].shape, sorted(approx)[:2]
    ((1, 100, 1), ['elbo', 'ess'])
    """
    import jax

    jax.config.update("jax_enable_x64", True)  # PyMC's graphs are float64
    import jax.numpy as jnp
    from arviz_base import from_dict
    from arviz_stats.base import array_stats
    from pymc.backends.arviz import coords_and_dims_for_inferencedata

    model = built.model
    paths, draws, seed = int(config.chains), int(config.draws), int(config.seed)
    t0 = time.perf_counter()
    cached = _data_key(built, _structure_key(built)) + f" {maxiter} {elbo_draws}" in _COMPILED
    fns = _functions(built, maxiter, elbo_draws)
    timings: dict = {"compile": time.perf_counter() - t0}  # tracing: XLA compiles on first use
    t0 = time.perf_counter()
    keys = jax.random.split(jax.random.key(seed), 2 * paths)
    starts = np.random.SeedSequence(seed).generate_state(paths)
    found, phis, logqs = [], [], []
    for p in range(paths):
        res = fns["path"](keys[p], jnp.asarray(fns["init"](int(starts[p]))))
        phi, logq = fns["draw"](keys[paths + p], draws, res["position"], res["grad"],
                                res["alpha"], res["beta"], res["gamma"])
        found.append(res)
        phis.append(phi)
        logqs.append(logq)
    phi = jnp.concatenate(phis)
    lp = np.asarray(fns["logp"](phi))
    log_ratio = lp - np.concatenate([np.asarray(q) for q in logqs])
    ok = np.isfinite(log_ratio)
    if not ok.any():
        raise SamplerError("pathfinder found no draw with a finite log density: the model "
                           "could not be approximated; fit it with NUTS (method='nuts')")
    smoothed, khat = array_stats.psislw(-log_ratio[ok], r_eff=1.0)
    lw = np.full(log_ratio.shape, -np.inf)
    lw[ok] = smoothed
    w = np.exp(lw - lw.max())
    w /= w.sum()
    pick = np.sort(np.random.default_rng(seed).choice(w.size, size=draws, replace=True, p=w))
    values = fns["constrain"](phi[pick])
    posterior = {n: np.asarray(v)[None] for n, v in zip(fns["names"], values, strict=True)}
    timings["sample"] = time.perf_counter() - t0
    coords, dims = coords_and_dims_for_inferencedata(model)
    idata = from_dict({"posterior": posterior, "sample_stats": {"lp": lp[pick][None]}},
                      coords=coords, dims=dims, sample_dims=["chain", "draw"],
                      attrs={"posterior": {"inference_library": "blackjax pathfinder"}})
    approx = {
        "pareto_k": float(khat),
        "ess": float(1.0 / np.sum(w**2)),
        "pooled_draws": int(w.size),
        "elbo": [float(r["elbo"]) for r in found],
        "iterations": [int(r["iterations"]) for r in found],
        "hit_maxiter": [bool(int(r["iterations"]) >= maxiter) for r in found],
        "maxiter": int(maxiter),
    }
    timings["cached"], timings["disk_cache"] = cached, "not available for method pathfinder"
    _complete(built, idata, config)  # effects of a marginal gaussian model, drawn afterwards
    return idata, timings, approx
