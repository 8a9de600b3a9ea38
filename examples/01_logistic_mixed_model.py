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
# # Mixed-effects logistic regression, start to finish
#
# Who used contraception in Bangladesh in 1988, and how much did it depend on the district a
# woman lived in? This notebook fits a mixed-effects logistic regression to the Bangladesh
# Fertility Survey and goes through every step of a Bayesian multilevel analysis: priors and a
# prior predictive check, sampling diagnostics, odds ratios, the ICC on the latent scale and the
# median odds ratio, conditional vs population-averaged effects, predictions for a new
# district, posterior predictive checks, and model comparison with LOO and grouped K-fold
# cross-validation.
#
# Set `BAYESMIXED_EXAMPLE_DRAWS` to a small number (say 150) for a quick run; the default
# (1000 draws per chain) is what you would use for real.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import bayesmixed as bm

DRAWS = int(os.environ.get("BAYESMIXED_EXAMPLE_DRAWS", "1000"))
QUICK = DRAWS < 500  # a smoke run (tests): fewer chains and folds
SAMPLER = {"chains": 2 if QUICK else 4, "draws": DRAWS, "tune": DRAWS, "progress": False}
pd.set_option("display.precision", 3)

# %% [markdown]
# ## The data
#
# 1934 women in 60 districts (`mlmRev::Contraception`). `use` is Y/N; `age` is centered at the
# mean age (about 30), `urban` is Y/N and `livch` the number of living children (0, 1, 2, 3+).

# %%
df = bm.datasets.load("contraception")
print(df.attrs["provenance"])
df.head()

# %%
by_district = df.assign(y=df["use"].eq("Y")).groupby("district").agg(
    n=("y", "size"), share=("y", "mean"), urban=("urban", lambda s: s.eq("Y").mean())
)
print(f"overall share of users: {df['use'].eq('Y').mean():.3f}")
by_district.describe().T

# %% [markdown]
# Districts differ in size (from 2 to 118 women) and in the share of users. Small districts
# give noisy shares: the multilevel model pools them toward the overall level, the more the
# smaller they are.
#
# ## Model 1: a random intercept per district
#
# `use ~ age + I(age**2) + urban + livch + (1 | district)`: the log odds of use depend on age
# (quadratic), residence and children, plus a district effect
# $u_j \sim N(0, \sigma^2_{district})$. In lme4 this is
# `glmer(use ~ age + I(age^2) + urban + livch + (1 | district), family = binomial)`.
#
# ### Priors
#
# The default priors are weakly informative and scaled to the data (see the documentation page
# *Default priors*): `bm.prepare` builds the model without sampling and shows them.

# %%
F1 = "use ~ age + I(age**2) + urban + livch + (1 | district)"
built = bm.prepare(F1, df, family="bernoulli")
pd.Series({name: str(p) for name, p in built.priors.items()}, name="default prior")

# %% [markdown]
# ### Prior predictive check
#
# What do these priors say about the data before seeing the responses? We draw parameters and
# responses from the prior and look at the share of users they imply, overall and per district.

# %%
def prior_shares(priors=None, seed=1):
    """Share of users per prior draw: overall and the spread over districts."""
    pp = bm.prior_predictive(F1, df, family="bernoulli", priors=priors, draws=300, seed=seed)
    y = pp["prior_predictive"]["y"].values.reshape(-1, len(df))  # (draws, women)
    district = df["district"].to_numpy()
    per_district = pd.DataFrame(y.T).groupby(district).mean()  # districts x draws
    return y.mean(axis=1), per_district.std(axis=0).to_numpy()


default_overall, default_spread = prior_shares()
tight_overall, tight_spread = prior_shares({"b": "normal(0, 1)"})

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
labels = ["default priors", "b ~ normal(0, 1)"]
axes[0].hist([default_overall, tight_overall], bins=20, label=labels)
axes[0].axvline(df["use"].eq("Y").mean(), color="k", ls="--", label="observed")
axes[0].set(xlabel="share of users (prior predictive)", ylabel="draws")
axes[0].legend()
axes[1].hist([default_spread, tight_spread], bins=20)
axes[1].set(xlabel="sd of district shares (prior predictive)")
fig.tight_layout()

# %% [markdown]
# The default priors allow almost any share of users, from near 0 to near 1: they exclude
# nothing plausible, and with 1934 women the data will dominate them. The tighter prior on the
# coefficients makes extreme shares less likely. We keep the defaults here; a prior like
# `normal(0, 1)` on the coefficients is a reasonable choice for small data sets.
#
# ### Fitting

# %%
fit1 = bm.fit(F1, df, family="bernoulli", seed=1, **SAMPLER)
print(fit1)

# %% [markdown]
# ### Diagnostics
#
# Check the sampler before reading any estimate: the verdict summarizes R-hat (chains agree),
# effective sample sizes, divergent transitions and E-BFMI, and gives advice when something is
# wrong. `fit1.parameterization` says whether the district effects were sampled centered or
# non-centered and why.

# %%
print(fit1.diagnostics())
fit1.parameterization

# %%
fit1.plot_trace()

# %% [markdown]
# ### Odds ratios
#
# `exponentiate=True` reports $e^{\beta}$: odds ratios for the logit link. These are
# **conditional** (district-specific) odds ratios: they compare two women in the *same*
# district.

# %%
fit1.summary(exponentiate=True)

# %%
fit1.plot_forest()

# %% [markdown]
# Urban women have about twice the odds of using contraception as rural women of the same age
# and number of children in the same district; having any living child raises the odds
# sharply.
#
# ### How much do districts differ? ICC and median odds ratio
#
# The ICC on the **latent scale** treats the binary outcome as a thresholded latent variable
# with a logistic residual of variance $\pi^2/3$:
# $ICC = \sigma^2_{district} / (\sigma^2_{district} + \pi^2/3)$. The *adjusted* ICC leaves the
# fixed effects out of the denominator; the *conditional* ICC includes their variance.

# %%
pd.concat([fit1.icc(), fit1.icc(kind="conditional")])

# %% [markdown]
# An ICC of a few percent sounds small, but on the latent scale it is hard to read. The
# **median odds ratio** puts the district variation on the odds-ratio scale of the
# coefficients: comparing two identical women from two random districts, the one in the
# higher-use district has odds of use higher by the MOR (median over pairs of districts):
# $MOR = \exp(\sqrt{2\sigma^2}\,\Phi^{-1}(0.75))$.

# %%
fit1.mor()

# %% [markdown]
# With the default settings the MOR is about 1.6, not far below the odds ratio of urban
# residence (about 2): which district a woman lives in matters almost as much as whether she
# lives in a town.
#
# ## Model 2: the urban effect varies by district
#
# `(1 + urban | district)` lets the urban–rural difference vary between districts, with a
# correlation between district intercepts and urban slopes.

# %%
F2 = "use ~ age + I(age**2) + urban + livch + (1 + urban | district)"
fit2 = bm.fit(F2, df, family="bernoulli", seed=2, **SAMPLER)
print(fit2.diagnostics())
fit2.varcorr()

# %% [markdown]
# With a random slope the district variance depends on residence, so a single ICC no longer
# describes the model: the variance partition coefficient is reported as a function of the
# slope variable (Goldstein, Browne & Rasbash 2002): here for rural (`urban[Y] = 0`) and
# urban (`urban[Y] = 1`) women.

# %%
fit2.vpc(x="urban[Y]", values=[0, 1])

# %% [markdown]
# The intercept–slope correlation is clearly negative: districts where few rural women use
# contraception have a larger urban–rural gap. As a result the district variance comes out
# about the same for rural and urban women.

# %% [markdown]
# Random effects per district and the district-specific coefficients (fixed + random, as lme4's
# `coef`):

# %%
fit2.ranef().head()

# %%
fit2.coef().head()

# %%
fit2.plot_caterpillar()

# %% [markdown]
# ## Conditional vs population-averaged effects
#
# Under a logit link the effect for a *typical district* (random effects at zero: the
# conditional effect) is not the effect *averaged over all districts* (population-averaged):
# averaging probabilities over the districts flattens the logistic curve, so the
# population-averaged odds ratio is closer to 1. `fit.effects` computes both as average
# predictive comparisons on the probability scale: risk difference, risk ratio and odds ratio.

# %%
urban_effects = fit1.effects("urban")
urban_effects

# %% [markdown]
# Here the two differ little, because the district variance is modest: the classic
# approximation $\beta^{PA} \approx \beta^{C} / \sqrt{1 + c^2\sigma^2}$ with
# $c = 16\sqrt{3}/(15\pi)$ shrinks the log odds ratio by only a few percent for
# $\sigma \approx 0.5$. With a larger between-cluster spread the gap grows quickly.

# %%
sd_district = fit1.summary().loc["sd(Intercept|district)", "mean"]
c2 = (16 * np.sqrt(3) / (15 * np.pi)) ** 2
print(f"approximate attenuation of the log odds ratio: {1 / np.sqrt(1 + c2 * sd_district**2):.3f}")

# %%
fit1.effects("age")

# %% [markdown]
# ## Predictions for a new district
#
# Four women of mean age with two children, rural or urban, in a district that was not in the
# survey (`groups="new"` draws a new district effect from the fitted distribution, so the
# interval includes district-to-district variation), in a *typical* district (`groups="none"`)
# and averaged over districts (`groups="marginal"`). An unseen district with
# `groups="observed"` is treated as a new district too, never mapped to a surveyed one.

# %%
new = pd.DataFrame(
    {"age": 0.0, "urban": ["N", "Y"], "livch": "2", "district": "new district"}
)
pred = pd.concat(
    {
        g: fit2.predict(new, groups=g, seed=3)[["urban", "mean", "2.5%", "97.5%"]]
        for g in ("new", "none", "marginal")
    },
    names=["groups"],
)
pred

# %% [markdown]
# The point predictions for a new district and for the population average are close, but the
# interval for a single new district is much wider: it carries the uncertainty about which
# district it will be.
#
# ## Posterior predictive checks
#
# Does the model reproduce the data? For a binary outcome: calibration (observed vs predicted
# share of users in bins of predicted probability), binned residuals, and observed vs
# predicted share of users per district.

# %%
checks = fit2.check()
checks["metrics"]

# %%
fit2.plot_calibration()

# %%
fit2.plot_ppc()

# %% [markdown]
# ## Model comparison: LOO and grouped K-fold
#
# PSIS-LOO estimates how well each model predicts a *new woman* in a surveyed district. Grouped
# K-fold refits each model leaving out whole districts, so it answers a different question: how
# well does each model predict *new districts*?

# %%
bm.compare({"random intercept": fit1, "random slope": fit2})

# %%
K = 2 if QUICK else 10
kf1 = fit1.kfold(k=K, by="district", seed=4)
kf2 = fit2.kfold(k=K, by="district", seed=4)
diff = (kf2.elpd_i - kf1.elpd_i).to_numpy()  # per district: slope minus intercept model
print(f"elpd difference (slope - intercept): {diff.sum():.1f}, "
      f"se {np.sqrt(len(diff) * diff.var(ddof=1)):.1f}")
pd.DataFrame(
    {"elpd_kfold": [kf1.elpd, kf2.elpd], "se": [kf1.se, kf2.se]},
    index=["random intercept", "random slope"],
)

# %% [markdown]
# With LOO the random slope model predicts women in the surveyed districts better (by about
# two standard errors of the difference); for new districts the two models are closer, because a
# new district's urban slope is unknown either way. (Compare models by the difference and its
# standard error, computed district by district, not by the two totals' standard errors.)
#
# A full report (HTML, with all figures, plus Markdown and JSON) is one call:
# `fit2.report("contraception_report.html")`.

# %%
plt.close("all")
