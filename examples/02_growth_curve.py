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
# # Growth curves: repeated measures with correlated random slopes
#
# Reaction times of 18 subjects over 10 days of sleep deprivation (Belenky et al. 2003;
# `lme4::sleepstudy`). Each subject has their own starting level and their own rate of
# decline: a gaussian model with correlated random intercepts and slopes, the classic
# growth-curve model, compared with simpler random-effects structures.
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
# ## The data: one line per subject

# %%
df = bm.datasets.load("sleepstudy")
fig, ax = plt.subplots(figsize=(7, 4))
for _, rows in df.groupby("Subject"):
    ax.plot(rows["Days"], rows["Reaction"], color="C0", alpha=0.5, lw=1)
ax.set(xlabel="days of sleep deprivation", ylabel="reaction time (ms)")
df.head()

# %% [markdown]
# Lines start at different heights and rise at different rates. The model
#
# $$\text{Reaction}_{ij} = (\beta_0 + u_{0j}) + (\beta_1 + u_{1j})\,\text{Days}_{ij}
#   + \varepsilon_{ij}, \qquad (u_{0j}, u_{1j}) \sim N(0, \Sigma), \quad
#   \varepsilon_{ij} \sim N(0, \sigma^2)$$
#
# is `Reaction ~ Days + (Days | Subject)`, exactly as in lme4. The correlation in $\Sigma$
# says whether subjects who start slow also deteriorate faster.

# %%
fit = bm.fit("Reaction ~ Days + (Days | Subject)", df, seed=1, **SAMPLER)
print(fit)

# %%
fit.parameterization

# %% [markdown]
# `fit.parameterization` says whether the subject effects were sampled centered or
# non-centered, and the statistic the automatic rule used: how strongly each subject's ten
# measurements inform its intercept and slope relative to their spread (see *Parameterization*
# in the documentation). Either way the model is the same; only the sampler's view differs.
#
# ## Variance components
#
# lme4's REML fit gives fixed effects 251.4 and 10.47, subject sds 24.7 (intercept) and 5.9
# (slope), a correlation of 0.07 and a residual sd of 25.6. The posterior means are close (the
# subject sds a little larger: with 18 subjects their posteriors are skewed to the right); the
# posterior intervals show how poorly 18 subjects pin down the correlation.

# %%
fit.varcorr()

# %% [markdown]
# With a random slope, the share of variance between subjects grows with the days of
# deprivation: the variance partition coefficient as a function of `Days`
# (Goldstein, Browne & Rasbash 2002).

# %%
vpc = fit.vpc(x="Days", values=[0, 3, 6, 9])
vpc

# %% [markdown]
# ## Subject-specific lines
#
# `fit.coef()` gives each subject's intercept and slope (fixed + random). The partial-pooling
# lines are pulled toward the population line compared with lines fitted to each subject
# alone; subjects with unusual data move most.

# %%
coefs = fit.coef()
coefs.head()

# %%
fit.plot_shrinkage(term="Days")

# %% [markdown]
# Predictions for the observed subjects (conditional on their own effects) and for a new
# subject (a new draw of the subject effects, so a much wider band):

# %%
grid = pd.DataFrame({"Days": np.arange(10), "Subject": "308"})
observed = fit.predict(grid, groups="observed")
new_subject = fit.predict(grid.assign(Subject="new"), groups="new", seed=2)

fig, ax = plt.subplots(figsize=(7, 4))
rows = df[df["Subject"] == "308"]
ax.plot(rows["Days"], rows["Reaction"], "o", color="C0", label="subject 308 (data)")
ax.plot(grid["Days"], observed["mean"], color="C0", label="subject 308 (fit)")
ax.fill_between(grid["Days"], observed["2.5%"], observed["97.5%"], color="C0", alpha=0.2)
ax.plot(grid["Days"], new_subject["mean"], color="C1", label="a new subject")
ax.fill_between(grid["Days"], new_subject["2.5%"], new_subject["97.5%"], color="C1", alpha=0.15)
ax.set(xlabel="days", ylabel="expected reaction time (ms)")
ax.legend()

# %% [markdown]
# ## Does the model fit? R² and a posterior predictive check

# %%
fit.r2()

# %%
fit.plot_ppc()

# %% [markdown]
# ## Is the random slope, and its correlation, worth it?
#
# Compare three structures with PSIS-LOO: random intercept only, uncorrelated intercept and
# slope (`||`), and the correlated model.

# %%
fit_int = bm.fit("Reaction ~ Days + (1 | Subject)", df, seed=3, **SAMPLER)
fit_unc = bm.fit("Reaction ~ Days + (Days || Subject)", df, seed=4, **SAMPLER)
bm.compare({"intercept only": fit_int, "uncorrelated": fit_unc, "correlated": fit})

# %% [markdown]
# The random slope clearly improves the expected predictive accuracy (by about two standard
# errors of the difference); whether the intercept–slope correlation is estimated makes no
# real difference, matching the wide interval of the correlation above.

# %%
plt.close("all")
