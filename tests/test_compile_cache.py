"""The persistent cache of compiled models: writes are atomic, damaged entries are misses,
clearing and the size bound work, and a fresh process loads what another one compiled (the
same draws: tests/test_reproducibility.py)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from bayesmixed.sample import diskcache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYESMIXED_CACHE_DIR", str(tmp_path / "bm"))
    return diskcache.cache_dir()


def _fill(folder, n: int, size: int) -> list:
    paths = []
    for i in range(n):
        path = folder / f"{i:064x}{diskcache.SUFFIX}"
        diskcache.write_atomic(path, bytes(size))
        os.utime(path, (1000 + i, 1000 + i))  # entry i used before entry i + 1
        paths.append(path)
    return paths


def test_info_and_clear(cache):
    assert diskcache.info()["entries"] == 0
    _fill(cache, 3, 100)
    info = diskcache.info()
    assert (info["entries"], info["bytes"], info["directory"]) == (3, 300, str(cache))
    assert diskcache.clear() == 3
    assert diskcache.info()["entries"] == 0


def test_cli_cache_info_and_clear(cache):
    _fill(cache, 2, 10)
    env = {**os.environ, "BAYESMIXED_CACHE_DIR": str(cache.parent)}
    run = [sys.executable, "-m", "bayesmixed", "cache"]
    out = subprocess.run([*run, "info", "--json"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["entries"] == 2
    out = subprocess.run([*run, "clear"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "deleted 2 compiled models" in out.stdout
    assert not list(cache.glob("*" + diskcache.SUFFIX))


def test_the_size_bound_deletes_the_least_recently_used(cache):
    paths = _fill(cache, 4, 1000)
    diskcache._prune(3000, keep=paths[0])
    assert [p.exists() for p in paths] == [True, False, True, True]


def test_a_damaged_entry_is_a_miss_and_is_deleted(cache):
    path = cache / f"{'ab' * 32}{diskcache.SUFFIX}"
    diskcache.write_atomic(path, pickle.dumps({"format": diskcache.FORMAT})[:-3])
    assert diskcache.load("ab" * 32, model=None, initial_point_fn=None) is None
    assert not path.exists()
    assert diskcache.load("cd" * 32, model=None, initial_point_fn=None) is None  # absent


_WRITER = """
import sys
from pathlib import Path
from bayesmixed.sample.diskcache import write_atomic
path, byte = Path(sys.argv[1]), int(sys.argv[2])
for _ in range(200):
    write_atomic(path, bytes([byte]) * 2_000_000)
"""


def test_concurrent_writers_never_leave_a_partial_entry(cache):
    """Two processes write one entry 200 times each while this one reads it: every read is
    all of one writer's payload."""
    path = cache / f"{'ef' * 32}{diskcache.SUFFIX}"
    diskcache.write_atomic(path, bytes([1]) * 2_000_000)
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(b)])
             for b in (1, 2)]
    reads = 0
    while any(p.poll() is None for p in procs) or reads < 20:
        data = path.read_bytes()
        assert len(data) == 2_000_000 and data.count(data[:1]) == len(data)
        reads += 1
    assert all(p.wait() == 0 for p in procs)
    assert not list(cache.glob(".tmp-*")), "no temporary file left behind"


def test_off_switch(monkeypatch):
    monkeypatch.setenv("BAYESMIXED_CACHE", "0")
    assert not diskcache.enabled()
    monkeypatch.setenv("BAYESMIXED_CACHE", "1")
    assert diskcache.enabled()
