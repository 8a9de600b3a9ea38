"""Shared test settings: quiet, small fits; matplotlib without a display."""

from __future__ import annotations

import os
import tempfile
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYTHONWARNINGS", "ignore")
# compiled models go to a cache of this test session, not the user's: one directory for the
# pytest process, its xdist workers (which inherit the variable) and their subprocesses, so a
# model and data compiled by one worker are loaded by the other
_SESSION_CACHE = "BAYESMIXED_TEST_SESSION_CACHE"
if not os.path.isdir(os.environ.get(_SESSION_CACHE, "")):
    os.environ[_SESSION_CACHE] = tempfile.mkdtemp(prefix="bayesmixed-test-cache-")
os.environ["BAYESMIXED_CACHE_DIR"] = os.environ[_SESSION_CACHE]

#: sampler settings for quick fits in tests
QUICK = {"chains": 2, "draws": 300, "tune": 300, "progress": False}


@pytest.fixture(autouse=True)
def _quiet_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*BLAS.*")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield
