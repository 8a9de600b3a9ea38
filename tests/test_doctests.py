"""Run the docstring examples of every bayesmixed module (``pytest --doctest-modules`` style).

Each module is one test. Examples run with ``bm`` (the package), ``np`` and ``pd`` available,
and ``fit``: a small sleepstudy fit, ``Reaction ~ Days + (Days | Subject)``, made the way the
:class:`~bayesmixed.result.Fit` docstring shows (it is built only for modules whose examples use
it). The test also checks that every public function and class has a docstring with an
``Examples`` section, and that the examples count is not zero, so the doctests cannot silently
disappear.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: modules whose import needs something optional or that only run as programs
SKIP_MODULES = {"bayesmixed.__main__"}

#: the shared example fit, as in the ``Fit`` class docstring
FIT_CALL = dict(chains=2, draws=200, tune=200, seed=1, progress=False)


def _module_names() -> list[str]:
    names = ["bayesmixed"]
    for info in pkgutil.walk_packages(bm.__path__, prefix="bayesmixed."):
        if info.name not in SKIP_MODULES and ".tests" not in info.name:
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()


@pytest.fixture(scope="session")
def example_fit():
    """The sleepstudy fit that docstring examples call ``fit``."""
    df = bm.datasets.load("sleepstudy")
    return bm.fit("Reaction ~ Days + (Days | Subject)", df, **FIT_CALL)


def _uses_fit(tests: list[doctest.DocTest]) -> bool:
    """Whether some example uses ``fit`` before (or without) assigning it."""
    for t in tests:
        for ex in t.examples:
            if re.match(r"\s*fit\s*=", ex.source):
                break  # this docstring makes its own fit
            if re.search(r"\bfit\b(?!\s*=)", ex.source) and "bm.fit" not in ex.source:
                return True
    return False


def _public_objects(module) -> list[tuple[str, object]]:
    """Functions and classes listed in ``__all__`` and defined in the module."""
    out = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            out.append((name, obj))
    return out


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name, request):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name) if t.examples]
    if not tests:
        pytest.skip(f"{name} has no docstring examples")
    globs = {"bm": bm, "np": np, "pd": pd}
    if _uses_fit(tests):
        globs["fit"] = request.getfixturevalue("example_fit")
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report: list[str] = []
    for test in tests:
        test.globs.update({k: v for k, v in globs.items() if k not in test.globs})
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
    if result.attempted == 0:
        pytest.skip(f"every docstring example of {name} is skipped")


def test_public_api_has_examples():
    """Every public function and class of the package documents itself with an example."""
    missing = []
    for name in MODULES:
        module = importlib.import_module(name)
        for obj_name, obj in _public_objects(module):
            doc = inspect.getdoc(obj) or ""
            if ">>>" not in doc:
                missing.append(f"{name}.{obj_name}")
    assert not missing, "public objects without a docstring example:\n" + "\n".join(missing)


def test_fit_methods_have_examples():
    """The methods of ``Fit`` are the main public API: each shows a runnable example (those of
    the class and of the mixins it is composed of)."""
    from bayesmixed.result import Fit

    own = [k for k in Fit.__mro__ if k.__module__.startswith("bayesmixed.result")]
    assert len(own) > 1, "Fit is composed of its topic mixins"
    members = {name: m for k in reversed(own) for name, m in vars(k).items()}
    missing = [
        name
        for name, member in members.items()
        if not name.startswith("_")
        and callable(member)
        and ">>>" not in (inspect.getdoc(getattr(Fit, name)) or "")
    ]
    assert not missing, f"Fit methods without a docstring example: {missing}"
    assert len([n for n in members if not n.startswith("_")]) >= 40  # none lost in the split


def test_doctests_are_collected():
    finder = doctest.DocTestFinder(exclude_empty=True)
    n = sum(
        len(t.examples)
        for name in MODULES
        for t in finder.find(importlib.import_module(name), name)
    )
    assert n >= 20, f"only {n} docstring examples in the package"
