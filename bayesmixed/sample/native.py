"""Machine code of numba C callbacks, loaded into this process from numba's serialization.

Used by :mod:`bayesmixed.sample.diskcache`: numba's object-code libraries (as numba's own
``cache=True`` stores them) with the numba environments they refer to, and plain ``ctypes``
calls of the loaded callbacks.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

__all__: list[str] = []  # internal to bayesmixed.sample.diskcache


@dataclass
class NativeFunc:
    """A loaded C callback: what nutpie reads of numba's ``CFunc`` (``address``); holds the
    code library so that the code stays mapped."""

    address: int
    library: Any
    keep: list


@dataclass
class Dims:
    """What :func:`_call` reads of a compiled model."""

    n_dim: int
    n_expanded: int
    user_data: Any


def environments(libs) -> list | None:
    """``(name, module, constants)`` of the numba environments the code refers to (as numba's
    own cache stores them), or None when one cannot be rebuilt in another process."""
    from numba.core.environment import lookup_environment

    found = {}
    for lib in libs:
        for gv in lib._final_module.global_variables:
            if gv.name.startswith("_ZN08NumbaEnv") and gv.name not in found:
                env = lookup_environment(gv.name)
                if env is None:
                    continue  # not alive: its function was not kept, as numba's cache skips it
                # PyTensor's generated kernels live in no module (``<dynamic>``); nopython code
                # reads no globals at run time, only the constants, which are stored
                module = env.globals.get("__name__") if env.can_cache() else None
                found[gv.name] = (gv.name, module, list(env.consts))
    try:
        pickle.dumps(list(found.values()))
    except Exception:
        return None
    return list(found.values())


def call(logp_address: int, expand_address: int, compiled, point):
    """``(logp, gradient, expanded draw)`` of the two C callbacks at ``point``, or None."""
    import ctypes

    import numpy as np

    dbl, u64, vp = ctypes.POINTER(ctypes.c_double), ctypes.c_uint64, ctypes.c_void_p
    logp_fn = ctypes.CFUNCTYPE(ctypes.c_int64, u64, dbl, dbl, dbl, vp)(logp_address)
    expand_fn = ctypes.CFUNCTYPE(ctypes.c_int64, u64, u64, dbl, dbl, vp)(expand_address)
    x = np.ascontiguousarray(point, dtype=np.float64)
    grad, logp, out = np.zeros(compiled.n_dim), np.zeros(()), np.zeros(compiled.n_expanded)
    ud = compiled.user_data.ctypes.data
    if logp_fn(compiled.n_dim, x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl),
               logp.ctypes.data_as(dbl), ud) != 0:
        return None
    if expand_fn(compiled.n_dim, compiled.n_expanded, x.ctypes.data_as(dbl),
                 out.ctypes.data_as(dbl), ud) != 0:
        return None
    return logp, grad, out


def native_library():
    from numba.core.registry import cpu_target

    ctx = cpu_target.target_context
    ctx.refresh()  # numba's runtime and helper symbols, which the code links against
    return ctx.codegen()


class LogpCall:
    """``flat -> (logp, gradient)`` through the loaded callback (nutpie's ``logp_func``)."""

    def __init__(self, address: int, n_dim: int, user_data) -> None:
        import ctypes

        dbl = ctypes.POINTER(ctypes.c_double)
        proto = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, dbl, dbl, dbl, ctypes.c_void_p)
        self._fn, self._n, self._user_data, self._dbl = proto(address), n_dim, user_data, dbl

    def __call__(self, flat):
        import numpy as np

        x = np.ascontiguousarray(flat, dtype=np.float64)
        grad, logp = np.zeros(self._n), np.zeros(())
        self._fn(self._n, x.ctypes.data_as(self._dbl), grad.ctypes.data_as(self._dbl),
                 logp.ctypes.data_as(self._dbl), self._user_data.ctypes.data)
        return logp[()], grad




def load_functions(entry: dict) -> list[NativeFunc]:
    """The callbacks of a cache entry (``libs``, ``names``, ``envs``), loaded and linked."""
    from numba.core.environment import Environment, _rebuild_env, lookup_environment

    codegen = native_library()
    funcs = []
    for state, name in zip(entry["libs"], entry["names"], strict=True):
        lib = codegen.unserialize_library(state)
        funcs.append(NativeFunc(lib.get_pointer_to_function(name), lib, []))
    for env_name, modname, consts in entry["envs"]:
        if modname is not None:
            env = _rebuild_env(modname, consts, env_name)
        else:
            env = lookup_environment(env_name) or Environment({"__name__": "<dynamic>"})
            env.consts[:] = consts
            env.env_name = env_name
            Environment._memo[env_name] = env
        codegen.set_env(env_name, env)
        funcs[0].keep.append(env)  # numba holds environments weakly
    return funcs
