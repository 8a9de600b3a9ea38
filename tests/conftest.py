"""Shared test settings: quiet, small fits; matplotlib without a display."""

from __future__ import annotations

import os
import tempfile
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYTHONWARNINGS", "ignore")
# compiled models go to a cache of this test session (inherited by subprocesses), not the user's
os.environ["BAYESMIXED_CACHE_DIR"] = tempfile.mkdtemp(prefix="bayesmixed-test-cache-")

#: sampler settings for quick fits in tests
QUICK = {"chains": 2, "draws": 300, "tune": 300, "progress": False}


@pytest.fixture(autouse=True)
def _quiet_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*BLAS.*")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield
