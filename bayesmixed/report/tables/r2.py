"""R-squared of a multilevel model, as posterior distributions.

Bayesian R2 (Gelman, Goodrich, Gabry & Vehtari 2019, The American Statistician 73:307-309):
for each draw ``s``

``R2_s = V_i(mu_is) / (V_i(mu_is) + var_res_s)``

with ``mu_is`` the expected response of row ``i`` given the draw's parameters and random
effects (observed groups), ``V_i`` the sample variance over rows, and the residual variance

- ``method="model"`` (default; the paper's model-based version): the mean over rows of the
  model's variance of ``y_i``: gaussian ``sigma^2``; bernoulli ``mu (1 - mu)``; binomial
  counts ``n p (1 - p)``; poisson ``mu``; negative binomial ``mu + mu^2 / alpha``; gamma
  ``mu^2 / shape``; beta ``mu (1 - mu) / (1 + phi)``; lognormal ``(exp(sigma^2) - 1) mean^2``;
  cumulative the variance of the category code;
- ``method="residual"``: ``V_i(y_i - mu_is)`` (the residual-based version, as ``brms``).

Marginal and conditional R2 (Nakagawa & Schielzeth 2013, Methods Ecol. Evol. 4:133-142;
Johnson 2014; Nakagawa, Johnson & Schielzeth 2017):

``R2_m = sigma2_f / (sigma2_f + sum_g sigma2_g + sigma2_e)``,
``R2_c = (sigma2_f + sum_g sigma2_g) / (sigma2_f + sum_g sigma2_g + sigma2_e)``,

with the variance components of :mod:`bayesmixed.report.tables.variance` (latent / link scale
for non-gaussian families), computed draw by draw. The stationary variance ``sigma2_ar`` of a
latent AR(1) process (``ar()`` with a non-gaussian family) joins both denominators, not the
numerators (row-level variation, as an observation-level random effect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixed.errors import PredictionError
from bayesmixed.families import get_family
from bayesmixed.report.core.draws import summarize_draws
from bayesmixed.report.core.linpred import aux_draws, fitted_process, inverse_link, linpred
from bayesmixed.report.tables.variance import variance_components

__all__ = ["bayes_r2_draws", "nakagawa_r2_draws", "r2_table"]


def _mu_counts(idata, meta, design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draws of the expected response (counts for binomial), the observed response and the
    draws of the inverse link."""
    groups = [(b.index, b.Z) for b in design.blocks]
    eta = linpred(idata, meta, design.X, groups, design.offset,
                  process=fitted_process(idata, meta, design.ar_codes))
    mu = link_mu = inverse_link(meta["link"], eta)
    family = get_family(meta["family"])
    if family.response == "binomial" and design.trials is not None:
        mu = mu * np.asarray(design.trials, dtype=float)[None, :]
    if family.response_mean is not None and not family.dpars:
        # lognormal: mu is E[log y]; ordinal: the expected category code needs the thresholds
        mu = family.expected(mu, aux_draws(idata, family, link=meta["link"]), None)
    return mu, np.asarray(design.y, dtype=float), link_mu


def _binomial_counts(meta: dict) -> bool:
    """Whether the fit's family counts successes out of trials."""
    return get_family(meta["family"]).response == "binomial"


def model_variance(idata, meta, design, mu: np.ndarray) -> np.ndarray:
    """Draws x rows model variance of ``y`` given the inverse link ``mu`` (the mean; counts for
    binomial; the mean of ``log y`` for lognormal)."""
    family = get_family(meta["family"])
    aux = aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X)
    if family.response == "binomial":
        n = design.trials
        n = (np.ones(mu.shape[1]) if n is None else np.asarray(n, dtype=float))[None, :]
        return family.variance(mu / n, aux, n)
    return family.variance(mu, aux, None)


def bayes_r2_draws(idata, meta, design, method: str = "model") -> np.ndarray:
    """Draws of the Bayesian R2 (see the module docstring).

    Examples
    --------
    >>> r2 = bayes_r2_draws(fit.idata, fit.meta, fit.design)
    >>> r2.shape, bool(0 < r2.mean() < 1)
    ((400,), True)
    """
    mu, y, link_mu = _mu_counts(idata, meta, design)
    var_fit = mu.var(axis=1, ddof=1)
    if method == "model":
        counts = _binomial_counts(meta)
        var_res = model_variance(idata, meta, design, mu if counts else link_mu).mean(axis=1)
    elif method == "residual":
        var_res = (y[None, :] - mu).var(axis=1, ddof=1)
    else:
        raise PredictionError(f"method must be 'model' or 'residual', got {method!r}")
    return var_fit / (var_fit + var_res)


def nakagawa_r2_draws(idata, meta, design) -> dict[str, np.ndarray]:
    """Draws of Nakagawa's marginal and conditional R2.

    Examples
    --------
    >>> r2 = nakagawa_r2_draws(fit.idata, fit.meta, fit.design)
    >>> bool(np.all(r2["marginal"] <= r2["conditional"]))
    True
    """
    comp = variance_components(idata, meta, design)
    rand = np.sum([v for k, v in comp.items() if k not in ("fixed", "residual", "ar")], axis=0)
    # the latent AR(1) process (component "ar"): in the total, not explained (row-level)
    total = comp["fixed"] + rand + comp["residual"] + comp.get("ar", 0.0)
    return {"marginal": comp["fixed"] / total, "conditional": (comp["fixed"] + rand) / total}


def r2_table(idata, meta, design, prob: float = 0.95, method: str = "model") -> pd.DataFrame:
    """Posterior summary of the Bayesian, marginal and conditional R2.

    Returns
    -------
    pandas.DataFrame
        Index ``bayes``, ``marginal``, ``conditional``; columns mean, sd, interval and
        ``scale`` (``response`` for the Bayesian R2; ``latent``/``data`` for Nakagawa's).

    Examples
    --------
    >>> r2_table(fit.idata, fit.meta, fit.design).index.tolist()
    ['bayes', 'marginal', 'conditional']
    """
    draws = {
        "bayes": bayes_r2_draws(idata, meta, design, method),
        **nakagawa_r2_draws(idata, meta, design),
    }
    table = summarize_draws(draws, prob, index_name="r2")
    latent = "latent" if get_family(meta["family"]).latent_scale else "data"
    table["scale"] = ["response", latent, latent]
    return table
