"""Run every example notebook (``examples/*.py``, jupytext percent format) top to bottom.

Each example runs as a script in a fresh process, in a temporary working directory. In the
fast suite ``BAYESMIXED_EXAMPLE_DRAWS`` is set low (120 draws), so the whole set stays quick;
a failing cell fails the test with the example's output. Sampling results are not checked
here (too few draws): the point is that the examples cannot rot as the API changes. The slow
suite (``make test-all``) also runs them at the settings a reader gets (1,000 draws, 4 chains,
10 folds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
DRAWS = "120"
ENV_VAR = "BAYESMIXED_EXAMPLE_DRAWS"


def _run(path: Path, cwd: Path, draws: str | None = DRAWS) -> subprocess.CompletedProcess:
    """Run ``path`` as a script; ``draws=None`` leaves the example's full-size default."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    env.pop(ENV_VAR, None)
    if draws is not None:
        env[ENV_VAR] = draws
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=3600
    )


def _check_ran(path: Path, done: subprocess.CompletedProcess, cwd: Path) -> None:
    assert done.returncode == 0, (
        f"{path.name} failed (exit {done.returncode})\n--- stdout ---\n{done.stdout[-6000:]}"
        f"\n--- stderr ---\n{done.stderr[-6000:]}"
    )
    if path.stem == "05_command_line_run":
        for name in ("contraception-intercept", "contraception-slope"):
            run = cwd / "runs" / name
            assert (run / "manifest.json").is_file() and (run / "posterior.nc").is_file()
        assert (cwd / "runs" / "predictions.csv").is_file()


def test_the_six_examples_exist():
    names = [p.stem for p in EXAMPLES]
    assert names == [
        "01_logistic_mixed_model",
        "02_growth_curve",
        "03_overdispersed_counts",
        "04_partial_pooling",
        "05_command_line_run",
        "06_power_analysis",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_a_percent_notebook(path):
    import jupytext

    nb = jupytext.read(path, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds.count("markdown") >= 3 and kinds.count("code") >= 3
    first_md = next(c.source for c in nb.cells if c.cell_type == "markdown")
    assert first_md.startswith("# "), "an example opens with a '# Title' markdown cell"
    assert ENV_VAR in path.read_text(), f"{path.name} must read {ENV_VAR}"


#: the smoke runs of 1-2.5 min each on 2 cores (CLI subprocesses, K-fold, power simulations,
#: growth curves, overdispersed counts) run in the slow suite; what they call is covered by the
#: fast tests of test_cli, test_report_compare, test_parallel, test_power, test_families and
#: test_report_checks. 04_partial_pooling (about 45 s) stays in the fast suite.
SLOW_SMOKE = {"01_logistic_mixed_model", "02_growth_curve", "03_overdispersed_counts",
              "05_command_line_run", "06_power_analysis"}
SMOKE = [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW_SMOKE else p for p in EXAMPLES]


@pytest.mark.parametrize("path", SMOKE, ids=lambda p: p.stem)
def test_example_runs(path, tmp_path):
    _check_ran(path, _run(path, tmp_path), tmp_path)


@pytest.mark.slow  # minutes each: 4 chains x 1,000 draws, and 2 x 10 K-fold refits in 01
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_full_size(path, tmp_path):
    _check_ran(path, _run(path, tmp_path, draws=None), tmp_path)
