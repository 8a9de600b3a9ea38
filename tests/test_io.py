"""Save / load of fits, atomic folders and interrupt handling."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed import fitfiles
from bayesmixed import io as bmio
from bayesmixed.errors import RunFolderError
from bayesmixed.report.core.draws import internal
from bayesmixed.runfolder import InterruptGuard, atomic_folder, file_sha256, jsonable

FORMULA = "y ~ x + treatment + (1 + x | g)"


@pytest.fixture(scope="module")
def fit():
    df = bm.simulate(FORMULA, n_groups=20, n_per_group=15, family="bernoulli",
                     predictors={"treatment": ["A", "B"]}, truth={"x": 1.0}, seed=4)
    return bm.fit(FORMULA, df, "bernoulli", chains=2, draws=200, tune=200, seed=3,
                  progress=False)


@pytest.fixture(scope="module")
def saved(fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("io") / "fit"
    assert fit.save(path) == path
    return path


NEWDATA = pd.DataFrame({"x": [0.0, 1.0, -1.0], "treatment": ["A", "B", "B"],
                        "g": ["g01", "g05", "unseen"]})


def test_save_writes_the_documented_files(saved):
    assert sorted(p.name for p in saved.iterdir()) == sorted(bmio.FIT_FILES)
    meta = json.loads((saved / "meta.json").read_text())
    assert meta["format"] == "bayesmixed-fit" and meta["meta"]["family"] == "bernoulli"
    assert "groups:" in (saved / "spec.yaml").read_text()
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")], "no temp leftovers"


def test_load_gives_back_the_same_fit(fit, saved):
    back = bm.load(saved)
    for name in internal(fit.idata).data_vars:
        np.testing.assert_array_equal(internal(back.idata)[name].values,
                                      internal(fit.idata)[name].values)
    assert set(back.idata.children) == set(fit.idata.children)
    np.testing.assert_array_equal(back.idata["log_likelihood"]["y"].values,
                                  fit.idata["log_likelihood"]["y"].values)
    assert back.meta == json.loads(json.dumps(fit.meta))
    assert back.config == fit.config and back.formula == fit.formula
    pd.testing.assert_frame_equal(back.summary(), fit.summary())
    pd.testing.assert_frame_equal(back.icc(), fit.icc())
    pd.testing.assert_frame_equal(back.data, fit.data, check_dtype=False)
    np.testing.assert_array_equal(back.design.X, fit.design.X)
    assert str(back) == str(fit)


@pytest.mark.parametrize("groups", ["observed", "new", "marginal"])
def test_predictions_after_loading_equal_the_original(fit, saved, groups):
    back = bm.load(saved)
    with pytest.warns() if groups == "observed" else _nothing():
        a = fit.predict(NEWDATA, groups=groups, seed=5)
    with pytest.warns() if groups == "observed" else _nothing():
        b = back.predict(NEWDATA, groups=groups, seed=5)
    pd.testing.assert_frame_equal(a, b)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_loaded_in_a_new_process(fit, saved):
    """summary, ICC and predictions in a fresh interpreter, without refitting."""
    code = (
        "import json, sys, warnings, pandas as pd, bayesmixed as bm\n"
        "warnings.simplefilter('ignore')\n"
        f"f = bm.load({str(saved)!r})\n"
        f"nd = pd.DataFrame({NEWDATA.to_dict(orient='list')!r})\n"
        "out = {'summary': f.summary()['mean'].tolist(), 'icc': f.icc()['mean'].tolist(),\n"
        "       'pred': f.predict(nd, groups='new', seed=5)['mean'].tolist(),\n"
        "       'modules': sorted(m for m in sys.modules if m.startswith('nutpie'))}\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["summary"] == fit.summary()["mean"].tolist()
    assert out["icc"] == fit.icc()["mean"].tolist()
    assert out["pred"] == fit.predict(NEWDATA, groups="new", seed=5)["mean"].tolist()
    assert out["modules"] == [], "loading must not compile or sample"


def test_save_refuses_to_overwrite_then_replaces_when_asked(fit, tmp_path):
    path = tmp_path / "f"
    path.mkdir()
    (path / "junk.txt").write_text("old")
    with pytest.raises(RunFolderError, match="already exists"):
        fit.save(path)
    assert (path / "junk.txt").exists()
    fit.save(path, overwrite=True)
    assert not (path / "junk.txt").exists() and (path / "posterior.nc").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_failed_save_leaves_nothing(fit, tmp_path, monkeypatch):
    def broken(fit, folder):
        (Path(folder) / "posterior.nc").write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(fitfiles, "write_fit_files", broken)  # what save_fit writes with
    with pytest.raises(OSError, match="disk full"):
        bmio.save_fit(fit, tmp_path / "f")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: (p / "meta.json").unlink(), "'meta.json' is missing"),
        (lambda p: (p / "meta.json").write_text("{not json"), "not valid JSON"),
        (lambda p: (p / "meta.json").write_text('{"format": "other"}'), "not a bayesmixed fit"),
        (lambda p: (p / "posterior.nc").write_bytes(b"garbage"), "cannot read the posterior"),
        (lambda p: pd.read_parquet(p / "data.parquet").query("g != 'g03'")
         .to_parquet(p / "data.parquet"), "differs from the stored description"),
    ],
)
def test_damaged_folders_raise_run_folder_error(fit, tmp_path, damage, match):
    path = fit.save(tmp_path / "f")
    damage(path)
    with pytest.raises(RunFolderError, match=match):
        bm.load(path)


def test_load_missing_folder(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        bm.load(tmp_path / "nope")


def test_atomic_folder_removes_the_temporary_folder_on_interrupt(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_folder(tmp_path / "run") as tmp:
        (tmp / "half.txt").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_folder_commits_with_ordinary_permissions(tmp_path):
    with atomic_folder(tmp_path / "run") as tmp:
        (tmp / "a.txt").write_text("x")
    assert (tmp_path / "run" / "a.txt").read_text() == "x"
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o777 & ~mask


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_guard_turns_signals_into_keyboard_interrupt(sig):
    before = signal.getsignal(sig)
    with pytest.raises(KeyboardInterrupt), InterruptGuard() as guard:
        os.kill(os.getpid(), sig)
        for _ in range(1000):  # the handler runs between bytecodes
            pass
    assert guard.interrupted and guard.signal_name == signal.Signals(sig).name
    assert guard.exit_code == 128 + sig
    assert signal.getsignal(sig) == before


def test_interrupt_guard_remembers_a_swallowed_interrupt():
    with InterruptGuard() as guard:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        except KeyboardInterrupt:
            pass  # what nutpie does: stop and return the partial draws
    assert guard.interrupted


def test_helpers(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"abc" * 1000)
    assert file_sha256(p) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert jsonable({"a": np.float64("nan"), "b": (np.int64(2), np.inf), "c": Path("x")}) == \
        {"a": None, "b": [2, None], "c": "x"}
