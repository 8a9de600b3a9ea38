# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A command-line batch run, and reading its run folder
#
# Long fits belong in a terminal or a batch job, not in a notebook that must stay open. The
# `bayesmixed` command fits a model from a data file and writes everything into one **run
# folder**: the posterior, the spec, a manifest for reproducibility, the summary, the
# diagnostics and an HTML report. This notebook runs a small batch of two models from the
# command line (through `subprocess`, exactly as a shell would), then reads the run folders
# back: from the terminal and in Python with `bm.load`.
#
# Set `BAYESMIXED_EXAMPLE_DRAWS` to a small number (say 150) for a quick run.

# %%
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd

import bayesmixed as bm

DRAWS = int(os.environ.get("BAYESMIXED_EXAMPLE_DRAWS", "1000"))
CHAINS = 2 if DRAWS < 500 else 4
RUNS = Path("runs")
RUNS.mkdir(exist_ok=True)


def bayesmixed(*args):
    """Run ``bayesmixed ARGS`` as a terminal would; print the command and its output."""
    print("$ bayesmixed " + " ".join(shlex.quote(str(a)) for a in args))
    done = subprocess.run(
        [sys.executable, "-m", "bayesmixed", *map(str, args)], capture_output=True, text=True
    )
    print(done.stdout)
    if done.returncode != 0:
        raise RuntimeError(f"exit status {done.returncode}:\n{done.stderr}")
    return done.stdout


# %% [markdown]
# ## The data file
#
# The command line reads CSV, TSV, Parquet or Feather files. We write the contraception survey
# to a CSV file, as it would arrive from elsewhere.

# %%
data_file = RUNS / "contraception.csv"
bm.datasets.load("contraception").to_csv(data_file, index=False)
pd.read_csv(data_file).head(3)

# %% [markdown]
# ## A batch of fits
#
# In a shell script the batch would read:
#
# ```bash
# for name in intercept slope; do
#   case $name in
#     intercept) block="1 | district" ;;
#     slope)     block="1 + urban | district" ;;
#   esac
#   bayesmixed fit --data runs/contraception.csv --family bernoulli \
#       --formula "use ~ age + I(age**2) + urban + livch + ($block)" \
#       --chains 4 --draws 1000 --seed 1 --out "runs/contraception-$name" --quiet --json
# done
# ```
#
# `--json` prints a machine-readable result (exit status, run folder, verdict, summary);
# `--quiet` turns off the progress bar. With `--strict` the command exits with status 3 when the
# diagnostics verdict is "fail", so a batch script can stop on a bad fit. An existing run folder
# is never overwritten unless `--force` is given; an interrupted fit (Ctrl-C) leaves no
# half-written folder behind.

# %%
MODELS = {"intercept": "1 | district", "slope": "1 + urban | district"}
results = {}
for name, block in MODELS.items():
    out = bayesmixed(
        "fit", "--data", data_file, "--family", "bernoulli",
        "--formula", f"use ~ age + I(age**2) + urban + livch + ({block})",
        "--chains", CHAINS, "--draws", DRAWS, "--tune", DRAWS, "--seed", 1,
        "--out", RUNS / f"contraception-{name}", "--force", "--quiet", "--json",
    )
    results[name] = json.loads(out)

KEYS = ("status", "run_dir", "verdict", "seed")
pd.DataFrame({name: {k: r[k] for k in KEYS} for name, r in results.items()}).T

# %% [markdown]
# ## What is in a run folder

# %%
run_dir = Path(results["slope"]["run_dir"])
pd.DataFrame(
    [(p.name, p.stat().st_size) for p in sorted(run_dir.iterdir())], columns=["file", "bytes"]
)

# %% [markdown]
# - `posterior.nc`: the posterior, sample statistics and pointwise log-likelihood (ArviZ, NetCDF);
# - `spec.yaml`: the model, with every prior written out; `data.parquet`: the rows used;
# - `manifest.json`: package versions, the seed, the command line, the sha256 of the data file,
#   timings and the diagnostics verdict: what you need to reproduce or audit the run;
# - `summary.txt`, `diagnostics.json`, `report.html` (plus `report.md` / `report.json`).

# %%
manifest = json.loads((run_dir / "manifest.json").read_text())
{k: manifest[k] for k in ("seed", "command", "data", "diagnostics")}

# %%
print((run_dir / "spec.yaml").read_text())

# %% [markdown]
# ## Reading it back from the terminal

# %%
summary_text = bayesmixed("summary", run_dir)

# %%
bayesmixed("compare", RUNS / "contraception-intercept", RUNS / "contraception-slope")

# %% [markdown]
# Predictions for new rows, here population-averaged (averaged over districts), written to a
# CSV file. The new rows go in a Parquet file, which keeps column types (`livch` is a
# categorical column whose levels look like numbers).

# %%
new = pd.DataFrame({"age": 0.0, "urban": ["N", "Y"], "livch": "2", "district": "new"})
new.to_parquet(RUNS / "new_women.parquet", index=False)
bayesmixed(
    "predict", run_dir, "--data", RUNS / "new_women.parquet", "--groups", "marginal",
    "--out", RUNS / "predictions.csv", "--force",
)
pd.read_csv(RUNS / "predictions.csv")

# %% [markdown]
# ## Reading it back in Python
#
# `bm.load` gives back the full `Fit`, in any later process, without refitting or compiling:
# every report method works as after `bm.fit`.

# %%
fit = bm.load(run_dir)
print(fit.diagnostics())
fit.summary(exponentiate=True)

# %%
fit.mor()

# %% [markdown]
# The same round trip works from Python: `fit.save("runs/my-fit")` writes a folder that
# `bm.load` (and `bayesmixed summary` / `predict`) can read.
#
# ## Ready-made models
#
# `bayesmixed models` lists the library of classic models; `bayesmixed fit --model NAME` fits
# one on its bundled data set (`make example` runs `bayesmixed fit --model contraception`).

# %%
models_text = bayesmixed("models")
