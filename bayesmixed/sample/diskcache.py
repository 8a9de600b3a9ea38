"""Persistent cache of compiled nutpie models: later processes skip the compilation.

A nutpie model of a PyMC model is two numba C callbacks (log density with gradient, and the
expansion of a draw into every traced variable) around PyTensor's generated kernels. Compiling
them (numba typing, lowering and LLVM) is most of the time to the first draw, and nothing of it
survives the process: PyTensor's own numba cache holds the inner kernels only, which the
callbacks inline and compile again. This module stores the machine code of both callbacks
(numba's object-code serialization, as numba's ``cache=True`` does) with what nutpie needs
around it (dimensions, shapes, coordinates, the layout of the shared-data record), and loads
it in later processes: the same machine code, hence the same draws for a seed, whether the
cache was cold or warm.

An entry is keyed by a hash of the model graph (PyTensor's printout of its random variables),
the data compiled in as constants, the library versions, bayesmixed's own source, and the CPU
(the code is compiled for the host CPU). Entries are written to a temporary file and renamed
into place (atomic: concurrent processes never see half an entry); the directory is kept
under a size bound by deleting the least recently used entries.

Settings: ``BAYESMIXED_CACHE_DIR`` (directory; default the user's cache directory, e.g.
``~/.cache/bayesmixed``), ``BAYESMIXED_CACHE=0`` (off), ``BAYESMIXED_CACHE_MAX_MB`` (size
bound, default 500).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

from bayesmixed.sample import native

__all__ = ["cache_dir", "clear", "enabled", "graph_key", "info", "write_atomic"]

FORMAT = 1  #: bump when the layout of an entry changes
SUFFIX = ".nutpie"
_ENV_DIR = "BAYESMIXED_CACHE_DIR"
_ENV_ON = "BAYESMIXED_CACHE"
_ENV_MAX = "BAYESMIXED_CACHE_MAX_MB"
_ENVIRONMENT: str | None = None


def cache_dir() -> Path:
    """The directory of the compiled models (``$BAYESMIXED_CACHE_DIR`` or the user's cache).

    Examples
    --------
    >>> cache_dir().name
    'compiled'
    """
    root = os.environ.get(_ENV_DIR)
    if not root:
        try:
            import platformdirs

            root = platformdirs.user_cache_dir("bayesmixed", appauthor=False)
        except ImportError:
            root = str(Path.home() / ".cache" / "bayesmixed")
    return Path(root).expanduser() / "compiled"


def enabled() -> bool:
    """Whether the persistent cache is used (``BAYESMIXED_CACHE`` is not ``0``/``off``).

    Examples
    --------
    >>> import os
    >>> enabled() == (os.environ.get("BAYESMIXED_CACHE", "1") not in ("0", "off"))
    True
    """
    return os.environ.get(_ENV_ON, "1").strip().lower() not in ("0", "off", "false", "no")


def _max_bytes() -> int:
    try:
        return int(float(os.environ.get(_ENV_MAX, "500")) * 2**20)
    except ValueError:
        return 500 * 2**20


def _environment() -> str:
    """Versions, bayesmixed's source and the CPU: everything the machine code depends on."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import importlib
        from importlib.metadata import version

        import llvmlite.binding as llvm
        import pytensor

        h = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
        for pkg in ("numpy", "numba", "llvmlite", "pytensor", "pymc", "nutpie"):
            # the module's own version string (the distribution's, as importlib.metadata
            # gives it, whose scan of site-packages took 0.4 s of a warm fit: issue 18)
            v = getattr(importlib.import_module(pkg), "__version__", None) or version(pkg)
            h.update(f"{pkg}={v};".encode())
        h.update(llvm.get_host_cpu_name().encode())
        h.update(llvm.get_host_cpu_features().flatten().encode())
        h.update(str(pytensor.config.numba__fastmath).encode())
        package = Path(__file__).resolve().parents[1]
        for path in sorted(package.rglob("*.py")):  # a change of the graph code: a new key
            h.update(path.read_bytes())
        _ENVIRONMENT = h.hexdigest()
    return _ENVIRONMENT


def graph_key(model, extra: str) -> str:
    """Hash of ``model``'s graph (random variables, deterministics, potentials), ``extra`` (the
    in-process key: structure and, for a model with data frozen in, their values) and the
    environment.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> built = bm.prepare("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"))
    >>> len(graph_key(built.model, "x"))
    64
    """
    from pytensor.printing import debugprint

    out = io.StringIO()
    outputs = [*model.basic_RVs, *model.deterministics, *model.potentials]
    debugprint(outputs, file=out, print_type=True, print_shape=True)
    names = [(v.name, model.rvs_to_values[v].name) for v in model.free_RVs]
    blob = f"{_environment()}\n{extra}\n{names}\n{out.getvalue()}"
    return hashlib.sha256(blob.encode()).hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / f"{key}{SUFFIX}"


def store(key: str, compiled) -> str:
    """Write ``compiled`` (a nutpie ``CompiledPyMCModel``) under ``key``; returns the cache
    status for ``fit.timings``: ``"stored"``, or why not."""
    import numpy as np

    funcs = (compiled.compiled_logp_func, compiled.compiled_expand_func)
    libs = [getattr(f, "_library", None) for f in funcs]
    if any(lib is None for lib in libs):
        return "not cacheable: already loaded"
    if any(lib.has_dynamic_globals for lib in libs):
        return "not cacheable: the compiled code holds process addresses"
    shared = []
    for var, k in compiled.shared_var_keys.items():
        if not var.name:
            return "not cacheable: unnamed shared data"
        shared.append((k, var.name))
    envs = native.environments(libs)
    if envs is None:
        return "not cacheable: the compiled code uses a dynamic numba environment"
    point = np.asarray(compiled.initial_point_func(0), dtype=np.float64)
    check = native.call(funcs[0].address, funcs[1].address, compiled, point)
    if check is None:
        return "not cacheable: the log density failed at the initial point"
    entry = {
        "format": FORMAT,
        "envs": envs,
        "check": (point, *check),
        "libs": [lib.serialize_using_object_code() for lib in libs],
        "names": [f._wrapper_name for f in funcs],
        "n_dim": compiled.n_dim,
        "n_expanded": compiled.n_expanded,
        "shape_info": compiled.shape_info,
        "dims": compiled.dims,
        "coords": compiled.coords,
        "reparameterized_names": compiled.reparameterized_names,
        "shared": shared,
    }
    try:
        write_atomic(_path(key), pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
        _prune(_max_bytes(), keep=_path(key))
    except OSError as err:
        return f"not stored: {err.strerror or err}"
    return "stored"


def write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a temporary file beside ``path`` and rename it into place: a
    concurrent reader sees the old file, or all of the new one, never part of it.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "entry"
    >>> write_atomic(path, b"abc")
    >>> path.read_bytes()
    b'abc'
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(key: str, model, initial_point_fn):
    """The compiled model stored under ``key`` for ``model`` (its shared data are swapped in by
    name), or None. ``initial_point_fn`` maps a seed to a dict of transformed initial values."""
    path = _path(key)
    try:
        with open(path, "rb") as fh:
            entry = pickle.load(fh)
        if entry.get("format") != FORMAT:
            return None
    except FileNotFoundError:
        return None
    except Exception:
        path.unlink(missing_ok=True)
        return None
    import numpy as np
    from nutpie.compile_pymc import (
        CompiledPyMCModel,
        _rv_dict_to_flat_array_wrapper,
        make_user_data,
    )

    by_name = {v.name: v for v in model.data_vars}
    if any(name not in by_name for _, name in entry["shared"]):
        return None
    shared_var_keys = {by_name[name]: k for k, name in entry["shared"]}
    shared_data = {}
    for var, k in shared_var_keys.items():
        shared_data[k] = np.array(var.get_value(), order="C", copy=True)
        shared_data[k].flags.writeable = False
    user_data = make_user_data(shared_var_keys, shared_data)
    try:
        funcs = native.load_functions(entry)
    except (ImportError, OSError):  # e.g. numba's environment module not importable here
        return None  # a miss: compile afresh
    names, _, shapes = entry["shape_info"]
    n_free = len(model.free_RVs)
    initial = _rv_dict_to_flat_array_wrapper(initial_point_fn, names=names[:n_free],
                                             shapes=shapes[:n_free])
    try:
        os.utime(path)  # recently used: pruned last
    except FileNotFoundError:  # pruned or replaced by another process meanwhile: still valid
        pass
    n_dim = entry["n_dim"]
    dims_only = native.Dims(n_dim, entry["n_expanded"], user_data)
    point, logp, grad, expanded = entry["check"]
    got = native.call(funcs[0].address, funcs[1].address, dims_only, point)
    if got is None or not all(np.array_equal(a, b) for a, b in zip(got, (logp, grad, expanded),
                                                                    strict=True)):
        path.unlink(missing_ok=True)  # not the stored function's values: never use it
        return None
    return CompiledPyMCModel(
        _n_dim=n_dim,
        dims=entry["dims"],
        _coords=entry["coords"],
        _shapes={name: tuple(shape) for name, _, shape in zip(*entry["shape_info"], strict=True)},
        compiled_logp_func=funcs[0],
        compiled_expand_func=funcs[1],
        initial_point_func=initial,
        shared_data=shared_data,
        shared_var_keys=shared_var_keys,
        user_data=user_data,
        n_expanded=entry["n_expanded"],
        shape_info=entry["shape_info"],
        logp_func=native.LogpCall(funcs[0].address, n_dim, user_data),
        expand_func=None,
        reparameterized_names=entry["reparameterized_names"],
    )


def _entries() -> list[Path]:
    folder = cache_dir()
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


def _prune(max_bytes: int, keep: Path | None = None) -> None:
    """Delete least recently used entries until the directory holds at most ``max_bytes``."""
    stats = []
    for p in _entries():
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        if p.name.startswith(".tmp-"):
            if time.time() - st.st_mtime > 3600:  # left by a killed writer
                p.unlink(missing_ok=True)
            continue
        stats.append((st.st_mtime, st.st_size, p))
    total = sum(s for _, s, _ in stats)
    for _, size, p in sorted(stats):
        if total <= max_bytes:
            break
        if p != keep:
            p.unlink(missing_ok=True)
            total -= size


def clear() -> int:
    """Delete every stored compiled model; returns how many were deleted.

    Examples
    --------
    >>> n = clear()  # the next fit of any model compiles it again
    """
    n = 0
    for p in _entries():
        p.unlink(missing_ok=True)
        n += not p.name.startswith(".tmp-")
    return n


def info() -> dict:
    """Directory, number of entries, total size in bytes, size bound and whether enabled.

    Examples
    --------
    >>> sorted(info())
    ['bytes', 'directory', 'enabled', 'entries', 'max_bytes']
    """
    entries = [p for p in _entries() if not p.name.startswith(".tmp-")]
    size = 0
    for p in entries:
        try:
            size += p.stat().st_size
        except FileNotFoundError:
            pass
    return {"directory": str(cache_dir()), "entries": len(entries), "bytes": size,
            "max_bytes": _max_bytes(), "enabled": enabled()}
