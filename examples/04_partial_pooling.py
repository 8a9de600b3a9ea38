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
# # Teaching partial pooling: no pooling, complete pooling, partial pooling
#
# Thirty schools, each with its own true mean score, and very different numbers of pupils
# tested. How should we estimate each school's mean? This notebook simulates data with a
# **known truth** and compares the three classic answers side by side (Gelman & Hill 2007,
# ch. 12): ignore the schools (complete pooling), treat every school on its own (no pooling),
# or let the schools inform each other through a multilevel model (partial pooling). Because
# we know the truth we can see which one is closest.
#
# Set `BAYESMIXED_EXAMPLE_DRAWS` to a small number (say 150) for a quick run.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import bayesmixed as bm

DRAWS = int(os.environ.get("BAYESMIXED_EXAMPLE_DRAWS", "1000"))
QUICK = DRAWS < 500
SAMPLER = {"chains": 2 if QUICK else 4, "draws": DRAWS, "tune": DRAWS, "progress": False}
pd.set_option("display.precision", 2)

# %% [markdown]
# ## Simulated schools with a known truth
#
# `bm.simulate` draws data from a model with parameters we choose: an average score of 50,
# schools whose true means vary with sd 5 around it, and pupils who vary with sd 15 within a
# school. It simulates 40 pupils per school; we then keep between 2 and 40 of them, because
# real data are never balanced.

# %%
TRUTH = {"Intercept": 50.0, "sd(Intercept|school)": 5.0, "sigma": 15.0}
full = bm.simulate("score ~ 1 + (1 | school)", n_groups=30, n_per_group=40, truth=TRUTH, seed=7)
true_means = TRUTH["Intercept"] + pd.Series(full.attrs["truth"]["ranef"]["school"]["Intercept"])

rng = np.random.default_rng(7)
sizes = dict(
    zip(true_means.index, rng.choice([2, 3, 5, 8, 12, 20, 40], size=len(true_means)), strict=True)
)
keep = full.groupby("school").cumcount() < full["school"].map(sizes)
df = full[keep].reset_index(drop=True)
print(f"{len(df)} pupils in {df['school'].nunique()} schools")
df.groupby("school").size().describe()

# %% [markdown]
# ## Three models
#
# | approach | formula | what it assumes |
# |---|---|---|
# | complete pooling | `score ~ 1` | all schools have the same mean |
# | no pooling | `score ~ 0 + school` | schools have nothing in common: one free mean each |
# | partial pooling | <code>score ~ 1 + (1 &#124; school)</code> | means from one distribution |
#
# Partial pooling also estimates the spread of that distribution from the data: how different
# schools really are decides how much each school borrows from the others.

# %%
complete = bm.fit("score ~ 1", df, seed=1, **SAMPLER)
no_pool = bm.fit("score ~ 0 + school", df, seed=2, **SAMPLER)
partial = bm.fit("score ~ 1 + (1 | school)", df, seed=3, **SAMPLER)
print(partial)

# %% [markdown]
# One estimate per school from each model: complete pooling gives every school the overall
# mean; no pooling gives each school's coefficient (close to its sample mean); partial pooling
# gives each school's intercept, fixed + random (`coef`).

# %%
schools = list(true_means.index)
no_pool_means = no_pool.summary()["mean"]
partial_coef = partial.coef()
partial_means = partial_coef[partial_coef["term"] == "Intercept"].set_index("level")["mean"]

table = pd.DataFrame(
    {
        "n": df.groupby("school").size(),
        "truth": true_means,
        "sample mean": df.groupby("school")["score"].mean(),
        "complete pooling": complete.summary().loc["Intercept", "mean"],
        "no pooling": [no_pool_means[f"school[{s}]"] for s in schools],
        "partial pooling": partial_means.reindex(schools).to_numpy(),
    },
    index=schools,
).sort_values("n")
table

# %% [markdown]
# ## Which is closest to the truth?
#
# The root mean squared error of each approach against the true school means, and the same for
# the small schools (at most 5 pupils) and the large ones:

# %%
def rmse(col, rows=slice(None)):
    err = table.loc[rows, col] - table.loc[rows, "truth"]
    return float(np.sqrt(np.mean(err**2)))


small, large = table["n"] <= 5, table["n"] >= 20
approaches = ["complete pooling", "no pooling", "partial pooling"]
pd.DataFrame(
    {
        "all schools": [rmse(a) for a in approaches],
        "small schools": [rmse(a, small) for a in approaches],
        "large schools": [rmse(a, large) for a in approaches],
    },
    index=approaches,
)

# %% [markdown]
# Complete pooling ignores real differences between schools; no pooling takes the noise of
# small samples at face value. Partial pooling does best overall: for small schools it leans
# on the overall mean, for large schools on the school's own data.
#
# ## The shrinkage plot
#
# Each arrow goes from a school's no-pooling estimate to its partial-pooling estimate. Arrows
# are long for small schools (their own data are weak evidence) and short for large ones.

# %%
partial.plot_shrinkage()

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(table["n"], table["no pooling"], label="no pooling", marker="o", color="C1")
ax.scatter(table["n"], table["partial pooling"], label="partial pooling", marker="s", color="C0")
ax.scatter(table["n"], table["truth"], label="truth", marker="x", color="k")
ax.axhline(table["complete pooling"].iloc[0], color="C2", ls="--", label="complete pooling")
ax.set_xscale("log")
ax.set(xlabel="pupils in the school (log scale)", ylabel="estimated school mean")
ax.legend()

# %% [markdown]
# ## Where the shrinkage comes from
#
# For this model the partial-pooling estimate is (almost exactly) a precision-weighted average
# of the school's sample mean and the overall mean:
#
# $$\hat\alpha_j \approx w_j\,\bar y_j + (1 - w_j)\,\hat\mu, \qquad
# w_j = \frac{n_j/\sigma^2}{n_j/\sigma^2 + 1/\tau^2},$$
#
# with $\tau$ the sd of the school means and $\sigma$ the sd within schools. Plugging in the
# posterior means reproduces the model's estimates:

# %%
post = partial.summary()
tau, sigma, mu = (post.loc[k, "mean"] for k in ("sd(Intercept|school)", "sigma", "Intercept"))
w = (table["n"] / sigma**2) / (table["n"] / sigma**2 + 1 / tau**2)
table["weight on own data"] = w
table["formula"] = w * table["sample mean"] + (1 - w) * mu
table[["n", "weight on own data", "sample mean", "formula", "partial pooling"]]

# %% [markdown]
# The estimated spread of the school means, and how much of the variance lies between
# schools, compared with the truth ($\tau = 5$, ICC $= 25 / (25 + 225) = 0.1$):

# %%
partial.varcorr()

# %%
partial.icc()

# %%
plt.close("all")
