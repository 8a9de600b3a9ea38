"""Shared test settings: quiet, small fits; matplotlib without a display."""

from __future__ import annotations

import os
import tempfile
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYTHONWARNINGS", "ignore")
# compiled models go to a cache of this test run (inherited by subprocesses), not the user's;
# the pytest-xdist workers of one run share it (the cache is safe under concurrent processes),
# so a model structure both need is compiled once per run, not once per worker
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
if _RUN:
    _CACHE = os.path.join(tempfile.gettempdir(), f"bayesmixed-test-cache-{_RUN}")
    os.makedirs(_CACHE, exist_ok=True)
    os.environ["BAYESMIXED_CACHE_DIR"] = _CACHE
else:
    os.environ["BAYESMIXED_CACHE_DIR"] = tempfile.mkdtemp(prefix="bayesmixed-test-cache-")

#: sampler settings for quick fits in tests
QUICK = {"chains": 2, "draws": 300, "tune": 300, "progress": False}


@pytest.fixture(autouse=True)
def _quiet_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*BLAS.*")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield
