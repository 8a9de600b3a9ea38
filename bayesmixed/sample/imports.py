"""Imports of the sampling stack, trimmed to what a fit needs."""

from __future__ import annotations

__all__ = ["defer_dask_check", "import_nutpie"]


def import_nutpie():
    """``import nutpie`` without ArviZ's plotting stack.

    ``nutpie.sample`` imports the ``arviz`` meta-package for ``from_dict`` and
    ``dict_to_dataset`` only (both ``arviz_base``'s), and ``arviz`` imports ``arviz_plots`` and
    matplotlib's ``pyplot``: about 1.5 s of a 2-core machine's time to a first posterior. While
    nutpie is imported, ``arviz`` is a stand-in with those two functions (any other name is
    taken from the real package); the stand-in leaves ``sys.modules`` afterwards, so a later
    ``import arviz`` gets the real package.

    Examples
    --------
    >>> import_nutpie().__name__
    'nutpie'
    """
    import sys

    if "nutpie.sample" in sys.modules or "arviz" in sys.modules:
        import nutpie

        return nutpie
    import types

    try:
        import arviz_base
    except ImportError:  # an arviz before 1.0: no stand-in
        import nutpie

        return nutpie

    def real(name: str):
        import importlib

        return getattr(importlib.import_module("arviz"), name)

    shim = types.ModuleType("arviz", "stand-in for arviz while nutpie is imported")
    shim.from_dict, shim.dict_to_dataset = arviz_base.from_dict, arviz_base.dict_to_dataset
    shim.__getattr__ = real
    sys.modules["arviz"] = shim
    try:
        import nutpie
    finally:
        if sys.modules.get("arviz") is shim:
            del sys.modules["arviz"]
    return nutpie


class _DaskUntilImported:
    """xarray's cached entry for dask while ``dask.array`` is not imported (see below)."""

    def _real(self):
        import sys

        if "dask.array" not in sys.modules:
            return None
        from xarray.namedarray import pycompat

        real = pycompat.DuckArrayModule("dask")
        pycompat._cached_duck_array_modules["dask"] = real  # from now on xarray's own entry
        return real

    @property
    def type(self) -> tuple:
        real = self._real()
        return () if real is None else real.type  # no dask array exists before dask.array

    def __getattr__(self, name: str):  # version, module, available: the real entry
        import importlib

        importlib.import_module("dask.array")
        return getattr(self._real(), name)


def defer_dask_check() -> bool:
    """Keep xarray from importing dask just to ask whether an array is a dask array.

    xarray's first ``DataArray`` of a process looks up ``dask.array.Array`` for an
    ``isinstance`` check, and so imports dask when it is installed: 1.5-2 s of a 2-core
    machine's time to a first posterior (issue 18), spent while nutpie turns its draws into a
    DataTree. A dask array cannot exist before ``dask.array`` is imported, so until then the
    check is answered with "no dask array type"; once anything imports ``dask.array``, xarray's
    own entry takes over. Returns whether the stand-in was installed (not when xarray already
    looked dask up, or its internals differ).

    Examples
    --------
    >>> isinstance(defer_dask_check(), bool)
    True
    """
    try:
        from xarray.namedarray import pycompat
    except ImportError:
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    if not isinstance(cache, dict) or "dask" in cache or not hasattr(pycompat, "DuckArrayModule"):
        return False
    cache["dask"] = _DaskUntilImported()
    return True
