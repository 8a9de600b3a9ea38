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
# # Counts with overdispersion: poisson vs negative binomial
#
# Epileptic seizures of 59 patients counted in four two-week periods, in a trial of progabide
# against placebo (Thall & Vail 1990; `MASS::epil`). Counts vary more than a poisson model
# allows, even after a random intercept per patient. This notebook shows how to see that in
# posterior predictive checks and how a negative binomial model fixes it, and what it changes
# in the treatment effect.
#
# Set `BAYESMIXED_EXAMPLE_DRAWS` to a small number (say 150) for a quick run.

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd

import bayesmixed as bm

DRAWS = int(os.environ.get("BAYESMIXED_EXAMPLE_DRAWS", "1000"))
QUICK = DRAWS < 500
SAMPLER = {"chains": 2 if QUICK else 4, "draws": DRAWS, "tune": DRAWS, "progress": False}
pd.set_option("display.precision", 3)

# %% [markdown]
# ## The data
#
# `y` is the seizure count in a period, `lbase` the log of the baseline count (8 weeks before
# the trial, divided by 4, centered), `lage` the log of age (centered), `trt` the treatment and
# `V4` marks the fourth period.

# %%
df = bm.datasets.load("epil")
print(df.attrs["provenance"])
df.head()

# %%
print(f"mean count {df['y'].mean():.1f}, variance {df['y'].var():.1f}")
df.groupby("period")["y"].agg(["mean", "var"])

# %% [markdown]
# The variance is many times the mean. Part of that is between patients, which a random
# intercept absorbs; whether the rest is too is a question for the model checks.
#
# ## Two models
#
# The model of Breslow & Clayton (1993) with a random intercept per patient, once with a
# poisson and once with a negative binomial response (variance $\mu + \mu^2/\alpha$):

# %%
FORMULA = "y ~ lbase * trt + lage + V4 + (1 | subject)"
pois = bm.fit(FORMULA, df, family="poisson", seed=1, **SAMPLER)
negbin = bm.fit(FORMULA, df, family="negbinomial", seed=2, **SAMPLER)
print(pois.diagnostics())
print(negbin.diagnostics())

# %% [markdown]
# ## Posterior predictive checks
#
# For counts: the rootogram (observed vs expected frequency of each count), the share of
# zeros, and a dispersion statistic $\sum_i (y_i - \mu_i)^2 / V(\mu_i)$ compared with the same
# statistic on replicated data (a posterior predictive p-value near 0 or 1 signals misfit).

# %%
checks = {"poisson": pois.check(), "negative binomial": negbin.check()}
COLUMNS = ["zeros_observed", "zeros_predicted", "zeros_ppp", "dispersion_ratio", "dispersion_ppp"]
pd.DataFrame({name: {k: c["counts"][k] for k in COLUMNS} for name, c in checks.items()}).T

# %%
for name, c in checks.items():
    for warning in c.get("warnings", []):
        print(f"{name}: {warning}")

# %%
pois.plot_ppc()  # for counts: a rootogram and the share of zeros

# %%
negbin.plot_ppc()

# %% [markdown]
# ## Which model predicts better?
#
# PSIS-LOO. Pareto k warnings are common for the poisson model here: single observations that
# the model finds very surprising have a large influence, itself a sign of misfit.

# %%
bm.compare({"poisson": pois, "negative binomial": negbin})

# %% [markdown]
# ## Rate ratios and the median rate ratio
#
# `exponentiate=True` gives rate ratios: the treatment rows, and `V4`, the fourth period
# against the first three.

# %%
ROWS = ["RR(trt[progabide])", "RR(lbase:trt[progabide])", "RR(V4)"]
pd.concat(
    {name: f.summary(exponentiate=True).loc[ROWS, ["mean", "sd", "2.5%", "97.5%"]]
     for name, f in {"poisson": pois, "negative binomial": negbin}.items()},
    names=["model"],
)

# %% [markdown]
# The treatment rate ratios hardly change. Treatment varies between patients, and the patient
# random intercept already absorbs the between-patient part of the extra variation. What the
# poisson model gets wrong is the period-to-period variation *within* a patient: effects of
# within-patient predictors such as `V4` come out too precise under the poisson model, and the
# predictive checks and LOO above show the misfit.

# %% [markdown]
# The **median rate ratio** (the count analogue of the median odds ratio) says how much two
# identical patients typically differ in seizure rate:

# %%
pd.concat({"poisson": pois.mor(), "negative binomial": negbin.mor()}, names=["model"])

# %% [markdown]
# The negative binomial shape parameter `alpha` measures the extra variation left after the
# patient effects: the variance of a count with mean $\mu$ is $\mu + \mu^2/\alpha$.

# %%
negbin.summary().loc[["alpha"]]

# %% [markdown]
# An alternative to the negative binomial is an observation-level random intercept,
# `+ (1 | obs)` with one level per row (the poisson-lognormal model); the `grouseticks` data set
# in the model library uses it.

# %%
plt.close("all")
