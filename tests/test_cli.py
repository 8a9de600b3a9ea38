"""The command line, through real subprocesses (``python -m bayesmixed ...``).

Fits are tiny (2 chains x 200 draws); each fitting subprocess compiles its model once. The
table of bad inputs calls ``main()`` in-process (what ``python -m bayesmixed`` runs).
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesmixed as bm
from bayesmixed.runfolder import file_sha256

FORMULA = "Reaction ~ Days + (Days | Subject)"
FIT = ["fit", "--data", "sleep.csv", "--formula", FORMULA, "--chains", "2", "--draws", "200",
       "--tune", "200", "--seed", "11"]
RUN_FILES = {"manifest.json", "posterior.nc", "spec.yaml", "data.parquet", "meta.json",
             "sampler.json", "summary.txt", "diagnostics.json", "report.html"}


def cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bayesmixed", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    bm.datasets.load("sleepstudy").to_csv(d / "sleep.csv", index=False)
    pd.DataFrame({"Days": [0, 5, 5], "Subject": ["308", "308", "999"]}).to_csv(
        d / "new.csv", index=False)
    return d


@pytest.fixture(scope="module")
def run_a(work):
    res = cli(*FIT, "--out", "runs/a", cwd=work)
    assert res.returncode == 0, res.stderr
    return work / "runs" / "a", res


@pytest.fixture(scope="module")
def run_b(work, run_a):
    """The same command and seed again, over an existing folder with --force, as JSON."""
    b = work / "runs" / "b"
    b.mkdir(parents=True)
    (b / "junk.txt").write_text("to be replaced")
    res = cli(*FIT, "--out", "runs/b", "--force", "--quiet", "--json", "--strict", "--no-report",
              cwd=work)
    return b, res


def test_fit_writes_a_complete_run_folder(work, run_a):
    path, res = run_a
    assert "Regression Coefficients:" in res.stdout and "Verdict:" in res.stdout
    assert f"Run folder: {Path('runs/a')}" in res.stdout and "Report:" in res.stdout
    assert "Traceback" not in res.stderr
    assert RUN_FILES <= {p.name for p in path.iterdir()}
    assert _hidden(path.parent) == [], "no temporary folders left behind"
    m = json.loads((path / "manifest.json").read_text())
    assert m["seed"] == 11 and m["sampler"]["chains"] == 2 and m["sampler"]["draws"] == 200
    assert m["command"][:2] == ["bayesmixed", "fit"] and "--seed" in m["command"]
    for pkg in ("pymc", "nutpie", "arviz", "numpy", "pandas"):
        assert m["packages"][pkg] == metadata.version(pkg)
    assert m["data"]["sha256"] == file_sha256(work / "sleep.csv")
    assert m["data"]["path"] == str(work / "sleep.csv")
    assert m["data"]["stored_sha256"] == file_sha256(path / "data.parquet")
    for name, digest in m["files"].items():
        assert file_sha256(path / name) == digest
    diag = json.loads((path / "diagnostics.json").read_text())
    assert m["diagnostics"]["verdict"] == diag["verdict"] in ("ok", "warning", "fail")
    assert {"compile", "sample", "write", "total", "read_data"} <= set(m["timings"])
    assert m["timings"]["total"] >= m["timings"]["sample"] > 0
    assert m["report"] == {"file": "report.html"}
    assert "<html" in (path / "report.html").read_text()[:2000].lower()
    assert (path / "summary.txt").read_text().startswith(" Family: gaussian")
    loaded = bm.load(path)
    assert loaded.formula == m["model"]["formula"] == bm.make_spec(FORMULA).formula
    assert f"Formula: {loaded.formula}" in res.stdout


def test_same_seed_gives_identical_draws(run_a, run_b):
    (a, _), (b, res) = run_a, run_b
    out = json.loads(res.stdout)  # --quiet --json: stdout holds only the JSON result
    assert res.returncode == (3 if out["verdict"] == "fail" else 0), res.stderr
    assert out["status"] == "ok" and out["seed"] == 11 and out["run_dir"] == str(b)
    assert not (b / "junk.txt").exists(), "--force replaced the old folder"
    assert out["report"] == {"file": None, "skipped": True} and not (b / "report.html").exists()
    with xr.open_datatree(a / "posterior.nc", engine="h5netcdf") as ta, \
            xr.open_datatree(b / "posterior.nc", engine="h5netcdf") as tb:
        post_a, post_b = ta["posterior"], tb["posterior"]
        assert set(post_a.data_vars) == set(post_b.data_vars)
        for name in post_a.data_vars:
            np.testing.assert_array_equal(post_a[name].values, post_b[name].values)
    summary = bm.load(a).summary()
    assert {k: v["mean"] for k, v in out["summary"].items()} == summary["mean"].to_dict()


@pytest.fixture(scope="module")
def failing_run(work):
    """A fit of 15 draws per chain with --strict --auto-retry: every attempt fails (R-hat on
    15 draws), so it ends with the verdict "fail" after recording each retry. One process
    serves both tests below (a fitting process costs a compilation)."""
    res = cli("fit", "--data", "sleep.csv", "--formula", FORMULA, "--chains", "2", "--draws", "15",
              "--tune", "15", "--seed", "3", "--out", "runs/strict", "--quiet", "--json",
              "--strict", "--no-report", "--auto-retry", cwd=work)
    return work / "runs" / "strict", res


def test_strict_exits_3_when_the_verdict_is_fail(failing_run):
    path, res = failing_run
    out = json.loads(res.stdout)
    assert out["verdict"] == "fail", out["diagnostics"]
    assert res.returncode == 3 and out["exit_code"] == 3
    assert "verdict FAIL (--strict)" in res.stderr
    assert (path / "manifest.json").is_file(), "the folder is kept to inspect"


def test_auto_retry_records_every_attempt(failing_run):
    path, res = failing_run
    assert res.returncode in (0, 3), res.stderr
    meta = json.loads((path / "meta.json").read_text())["meta"]
    retries = meta["retries"]
    assert retries[0]["attempt"] == 0 and retries[0]["verdict"] == "fail"  # 15 draws: fails
    assert len(retries) >= 2 and "target_accept 0.8 -> 0.95" in retries[1]["changes"]
    assert meta["retry_chosen"] in range(len(retries))


def test_refuses_to_overwrite_without_force(work, run_a):
    path, _ = run_a
    before = file_sha256(path / "manifest.json")
    t0 = time.monotonic()
    res = cli(*FIT, "--out", "runs/a", cwd=work)
    assert res.returncode == 2
    assert "already exists" in res.stderr and "--force" in res.stderr
    assert "Traceback" not in res.stderr
    assert time.monotonic() - t0 < 60, "refused before loading data or compiling"
    assert file_sha256(path / "manifest.json") == before


def _run_until_sampling(args: list[str], cwd: Path, sig: int) -> tuple[int, str, bool]:
    """Run under a pseudo-terminal (so the progress bar shows), send ``sig`` once sampling runs."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bayesmixed", *args], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out, sampling, sent_at = b"", False, None
    deadline = time.monotonic() + 400
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not sampling and b"Progress" in out and b"Draws" in out:
                sampling, sent_at = True, time.monotonic() + 2.0  # a moment into sampling
            if sent_at is not None and time.monotonic() >= sent_at:
                proc.send_signal(sig)
                sent_at = None
            if proc.poll() is not None and not ready:
                break
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return rc, out.decode(errors="replace"), sampling


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_no_folder(work, sig):
    name = signal.Signals(sig).name
    out_dir = work / "runs" / f"int-{name}"
    rc, text, sampling = _run_until_sampling(
        ["fit", "--model", "sleepstudy", "--chains", "2", "--draws", "1000000", "--tune", "100",
         "--seed", "1", "--out", str(out_dir)], work, sig)
    assert sampling, f"never reached sampling:\n{text[-2000:]}"
    assert rc == 128 + sig, text[-2000:]
    assert f"interrupted ({name}) while compiling and sampling; no run folder was written" in text
    assert "Traceback" not in text
    assert not out_dir.exists()
    assert not [h for h in _hidden(out_dir.parent) if h.startswith(f".int-{name}")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fit", "--data", "missing.csv", "--formula", FORMULA], "does not exist"),
        (["fit", "--data", "sleep.xlsx", "--formula", FORMULA], "cannot tell the format"),
        (["fit", "--data", "sleep.csv", "--formula", "Reaction ~ Dayz + (1 | Subject)"],
         "column 'Dayz'"),
        (["fit", "--data", "sleep.csv", "--formula", FORMULA, "--family", "weibull"],
         "unknown family 'weibull'"),
        (["fit", "--data", "sleep.csv", "--formula", "Reaction ~ Days + (1 | Subject"],
         "Reaction"),
        (["fit", "--data", "sleep.csv", "--formula", FORMULA, "--chains", "two"],
         "invalid int value"),
        (["fit", "--model", "sleepstudy", "--chains", "0"], "chains must be an integer >= 1"),
        (["fit", "--data", "sleep.csv", "--formula", FORMULA, "--target-accept", "1.5"],
         "target_accept"),
        (["fit", "--data", "sleep.csv", "--formula", FORMULA, "--prior", "q=normal(0, 1)"],
         "matches no parameter"),
        (["fit", "--formula", FORMULA], "--data is required"),
        (["fit", "--data", "sleep.csv"], "give a model"),
        (["fit", "--model", "sleepstudy", "--formula", FORMULA], "only one of"),
        (["fit", "--model", "nosuch"], "no library model named 'nosuch'"),
        (["fit", "--spec", "missing.yaml", "--data", "sleep.csv"], "does not exist"),
        (["fit", "--bogus"], "unrecognized arguments"),
        (["summary", "no_such_run"], "does not exist"),
        (["report", "sleep.csv"], "does not exist"),
        (["predict", "no_such_run", "--data", "sleep.csv"], "does not exist"),
        (["compare", "only_one"], "at least two"),
        (["models", "nosuch"], "no library model"),
        (["simulate", "--formula", "y ~ x + (1 | g)", "--set", "zz=1", "--out", "s.csv"],
         "'zz', which is not a parameter"),
        (["frobnicate"], "invalid choice"),
        (["kfold", "runs/none", "--k", "1"], "--k must be at least 2"),
        (["kfold", "runs/none", "--workers", "0"], "--workers must be at least 1"),
        (["kfold", "runs/none"], "runs/none"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(work, tmp_path, monkeypatch, capsys, args, message):
    # in-process: ``python -m bayesmixed`` is ``raise SystemExit(main())``, so main() takes the
    # same path without an interpreter start per case (22 subprocesses took a minute); the
    # real exit status of a process is checked by the tests around this one
    from bayesmixed.cli import main

    (tmp_path / "sleep.csv").write_bytes((work / "sleep.csv").read_bytes())
    monkeypatch.chdir(tmp_path)
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("bayesmixed: error: "), err
    assert err.strip().splitlines()[-1] == errors[0], "the error is the last word"
    assert message in errors[0]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "s.csv").exists()


def test_error_as_json(tmp_path):
    res = cli("fit", "--json", "--data", "missing.csv", "--formula", FORMULA, cwd=tmp_path)
    assert res.returncode == 2
    out = json.loads(res.stdout)
    assert out["status"] == "error" and out["exit_code"] == 2 and "does not exist" in out["error"]


def test_no_command_prints_usage_and_exits_2(tmp_path):
    res = cli(cwd=tmp_path)
    assert res.returncode == 2 and "usage: bayesmixed" in res.stderr


def test_report_rerenders_in_a_new_process(work, run_a):
    path, _ = run_a
    for name in ("report.html", "report.md", "report.json"):
        (path / name).unlink(missing_ok=True)
    res = cli("report", str(path), cwd=work)
    assert res.returncode == 0, res.stderr
    html = (path / "report.html").read_text()
    assert "<html" in html.lower() and "Days" in html
    assert (path / "report.md").is_file() and (path / "report.json").is_file()
    assert _hidden(path) == []


@pytest.mark.parametrize("groups", ["observed", "new", "marginal"])
def test_predict_from_a_folder_written_earlier(work, run_a, groups):
    path, _ = run_a
    out = work / f"pred_{groups}.csv"
    res = cli("predict", str(path), "--data", "new.csv", "--out", out.name, "--groups", groups,
              "--seed", "4", cwd=work)
    assert res.returncode == 0, res.stderr
    pred = pd.read_csv(out, dtype={"Subject": str})
    assert list(pred.columns) == ["Days", "Subject", "mean", "sd", "2.5%", "97.5%"]
    newdata = pd.read_csv(work / "new.csv", dtype={"Subject": str})
    with pytest.warns() if groups == "observed" else _Quiet():
        expected = bm.load(path).predict(newdata, groups=groups, seed=4)
    np.testing.assert_allclose(pred["mean"], expected["mean"], rtol=1e-12)
    np.testing.assert_allclose(pred["97.5%"], expected["97.5%"], rtol=1e-12)
    if groups == "observed":
        assert "1 level(s) of 'Subject' not in the fitted data" in res.stderr
    again = cli("predict", str(path), "--data", "new.csv", "--out", out.name, cwd=work)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_predict_matches_levels_as_text(work, run_a):
    """Subjects fitted as integers (read from CSV); new rows name them as text, "308.0" too."""
    path, _ = run_a
    pd.DataFrame({"Days": [3, 3, 3], "Subject": ["308.0", "new-person", "309"]}).to_csv(
        work / "new_text.csv", index=False)
    out = work / "pred_text.csv"
    res = cli("predict", str(path), "--data", "new_text.csv", "--out", out.name, "--seed", "4",
              cwd=work)
    assert res.returncode == 0, res.stderr
    assert "1 level(s) of 'Subject' not in the fitted data" in res.stderr
    pred = pd.read_csv(out, dtype={"Subject": str})
    expected = bm.load(path).predict(pd.DataFrame({"Days": [3, 3], "Subject": [308, 309]}))
    np.testing.assert_allclose(pred["mean"].iloc[[0, 2]], expected["mean"], rtol=1e-12)


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_summary_of_a_folder(work, run_a):
    path, _ = run_a
    res = cli("summary", str(path), cwd=work)
    assert res.returncode == 0 and "sd(Days)" in res.stdout
    res = cli("summary", str(path), "--json", "--exponentiate", cwd=work)
    out = json.loads(res.stdout)
    table = bm.load(path).summary()
    assert {k: v["mean"] for k, v in out["summary"].items()} == table["mean"].to_dict()
    assert set(out["icc"]) == {"Subject"} and out["verdict"] in ("ok", "warning", "fail")


def test_compare_two_runs(work, run_a, run_b):
    res = cli("compare", str(run_a[0]), str(run_b[0]), "--json", cwd=work)
    assert res.returncode == 0, res.stderr
    table = json.loads(res.stdout)["comparison"]
    assert set(table) == {"a", "b"}
    assert table["a"]["elpd"] == pytest.approx(table["b"]["elpd"], abs=1e-9)  # identical draws


def test_kfold_of_a_run_folder_equals_the_python_api(work, run_a, tmp_path):
    from bayesmixed.cli import main

    path, _ = run_a
    opts = dict(k=3, by="Subject", seed=5, chains=1, draws=60, tune=60)
    out = tmp_path / "cv" / "kfold.json"
    code = main(["kfold", str(path), "--k", "3", "--by", "Subject", "--seed", "5", "--chains",
                 "1", "--draws", "60", "--tune", "60", "--quiet", "--out", str(out)])
    assert code == 0
    rec = json.loads(out.read_text())
    assert rec["k"] == 3 and rec["by"] == "Subject" and len(rec["elpd_cluster"]) == 18
    assert rec["elpd"] == pytest.approx(sum(rec["elpd_fold"]), abs=1e-9)
    assert [p.name for p in out.parent.iterdir()] == ["kfold.json"]  # no temporary left
    res = bm.load(path).kfold(**opts)  # the same refits through the Python API
    assert rec["elpd"] == res.elpd and rec["se"] == res.se
    assert list(rec["elpd_fold"]) == [float(v) for v in res.elpd_fold]


def test_models_lists_and_shows(work):
    res = cli("models", cwd=work)
    assert res.returncode == 0
    for name in bm.library.names():
        assert name in res.stdout
    res = cli("models", "cbpp", "--json", cwd=work)
    out = json.loads(res.stdout)
    assert out["family"] == "binomial" and out["reference"]["estimates"]["period[2]"] < 0


def test_simulate_writes_data_and_truth(tmp_path):
    args = ["simulate", "--formula", "y ~ x + treatment + (1 + x | g)", "--family", "bernoulli",
            "--n-groups", "10", "--n-per-group", "5", "--levels", "treatment=A,B", "--set",
            "x=1.2", "--set", "sd(Intercept|g)=0.7", "--seed", "3", "--out", "sim.csv"]
    res = cli(*args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = pd.read_csv(tmp_path / "sim.csv")
    truth = json.loads((tmp_path / "sim.truth.json").read_text())
    assert len(data) == 50 and truth["params"]["x"] == 1.2
    assert truth["params"]["sd(Intercept|g)"] == 0.7
    same = bm.simulate("y ~ x + treatment + (1 + x | g)", n_groups=10, n_per_group=5,
                       family="bernoulli", predictors={"treatment": {"levels": ["A", "B"]}},
                       truth={"x": 1.2, "sd(Intercept|g)": 0.7}, seed=3)
    pd.testing.assert_frame_equal(data, same.reset_index(drop=True), check_dtype=False)
    assert truth == json.loads(json.dumps(same.attrs["truth"]))
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_simulate_crossed_design_from_the_command_line(tmp_path):
    res = cli("simulate", "--formula", "r ~ z + (1 | id) + (1 | item)", "--family", "bernoulli",
              "--n-groups", "id=6,item=4", "--n-per-group", "1", "--level-by", "z=item",
              "--seed", "1", "--out", "crossed.parquet", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = pd.read_parquet(tmp_path / "crossed.parquet")
    assert len(data) == 24 and data.groupby("item")["z"].nunique().eq(1).all()
    assert json.loads(res.stdout)["rows"] == 24


def test_version(tmp_path):
    res = cli("--version", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == f"bayesmixed {bm.__version__}"
