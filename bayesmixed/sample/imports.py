"""Imports of the sampling stack, trimmed to what a fit needs."""

from __future__ import annotations

__all__ = ["import_nutpie"]


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
