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
# # How many schools do I need? Simulation-based power analysis
#
# We plan a study of a teaching method: pupils in schools, a pupil-level predictor `x` (say,
# hours of tutoring, standardized), schools that differ in their average score. Before
# collecting data we want to know: **with how many schools, and how many pupils per school,
# would a 95% posterior interval for the effect of `x` exclude zero?** That probability is the
# *power* of the design.
#
# There is no formula for it in a multilevel model, but there is a recipe (Green & MacLeod's
# simr in R, here Bayesian): choose a plausible truth, simulate many data sets from it for each
# design, fit each one and count. `bm.power` does exactly that.
#
# Set `BAYESMIXED_EXAMPLE_DRAWS` to a small number (say 150) for a quick run.

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd

import bayesmixed as bm

DRAWS = int(os.environ.get("BAYESMIXED_EXAMPLE_DRAWS", "1000"))
QUICK = DRAWS < 500
SIMS = 3 if QUICK else 100  # simulations per design (use 200 or more for a real study)
GROUPS, PER_GROUP = ([10, 20], [4]) if QUICK else ([10, 20, 40], [4, 8])
SAMPLER = {"chains": 2, "draws": min(DRAWS, 500), "tune": min(DRAWS, 500)}
pd.set_option("display.precision", 3)

# %% [markdown]
# ## The assumed truth
#
# A small effect: one sd more of `x` raises the score by 0.25 (residual sd 1), schools vary
# with sd 0.5. `bm.simulate` shows what one simulated study looks like.

# %%
FORMULA = "score ~ x + (1 | school)"
TRUTH = {"x": 0.25, "sd(Intercept|school)": 0.5, "sigma": 1.0}
one = bm.simulate(FORMULA, n_groups=10, n_per_group=8, truth=TRUTH, seed=1)
one.head()

# %% [markdown]
# ## Power over a grid of designs
#
# Every combination of 10, 20 or 40 schools and 4 or 8 pupils per school is a design (a quick
# run keeps two of them). Each
# simulation has its own seed, so the table is reproducible. Each fit is small (2 chains), and
# every simulated data set of a design has the same model structure, compiled once.
#
# On a multi-core machine or a cluster add `client="local"` (or a `dask.distributed.Client`):
# the same seeds give exactly the same table (see the [scaling guide](../scaling.md)).

# %%
res = bm.power(FORMULA, TRUTH, n_groups=GROUPS, n_per_group=PER_GROUP, sims=SIMS,
               target="x", seed=2026, **SAMPLER)
res.table[["n_groups", "n_per_group", "n_obs", "power", "power_mcse", "coverage",
           "mean_width", "converged"]]

# %% [markdown]
# `power_mcse` is the Monte Carlo standard error of the power estimate,
# $\sqrt{p(1-p)/\text{sims}}$: with 100 simulations a power of 0.8 is known to about +-0.04.
# Coverage should sit near 0.95 for every design: if it does not, the intervals are not
# trustworthy at that size, whatever the power says.

# %%
fig = res.plot()
plt.show()

# %% [markdown]
# ## Reading the curve
#
# Power grows with the number of rows, but not only: the effect of a **pupil-level** predictor
# is estimated within schools, so pupils per school and schools both count. For a
# **school-level** predictor (constant within a school: `predictors={"x": {"by": "school"}}`)
# only the number of schools would matter much. The interval width shrinks roughly as
# $1/\sqrt{n}$.

# %%
res.table.plot(x="n_obs", y="mean_width", marker="o", logx=True, logy=True, legend=False,
               ylabel="mean 95% interval width", title="Precision against sample size")
plt.show()

# %% [markdown]
# ## A check: zero effect
#
# With the truth at zero, "power" is the false-positive rate and should be close to 5% (the
# nominal error of a 95% interval). A quick look on one design:

# %%
null = bm.power(FORMULA, {**TRUTH, "x": 0.0}, n_groups=[10], n_per_group=[4], sims=SIMS,
                target="x", seed=7, **SAMPLER)
null.table[["n_groups", "n_per_group", "power", "power_mcse", "coverage"]]

# %% [markdown]
# The same study from the command line, with a progress bar, on 4 worker processes:
#
# ```bash
# bayesmixed power --formula "score ~ x + (1 | school)" --set x=0.25 \
#     --set "sd(Intercept|school)=0.5" --n-groups 10,20,40 --n-per-group 4,8 \
#     --sims 200 --target x --seed 2026 --workers 4 --plot power.png
# ```
