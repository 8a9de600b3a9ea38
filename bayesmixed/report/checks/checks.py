"""Model checks per family, each returned as data (DataFrame / dict); rendering is separate.

- Posterior predictive draws of the fitted rows (observed groups), as an ArviZ DataTree.
- Binary / binomial: binned residuals (Gelman & Hill 2007, sec. 5.6: bins of the fitted
  probability, observed minus predicted proportion against +-2 standard errors
  ``2 sqrt(p (1 - p) / n)``), calibration (observed proportion per bin of predicted probability
  with its posterior predictive interval), observed vs predicted proportion per cluster,
  classification accuracy (threshold 0.5), AUC (Mann-Whitney) and Brier score, each a
  posterior computed draw by draw (in-sample, conditional on the observed clusters).
- Counts: rootogram data (Kleiber & Zeileis 2016: observed vs expected frequency of every
  count), the share of zeros against its posterior predictive distribution, and the
  dispersion statistic ``sum_i (y_i - mu_i)^2 / V(mu_i)`` against the same statistic of
  replicated data (posterior predictive p-value), plus the Pearson dispersion ratio
  ``chi2 / (n - p)``.
- Gaussian: observed and replicated values for a density overlay.
- Linearity of each continuous predictor on the link scale (any family): binned residuals
  against the predictor with +-2 SE bands and a weighted test of curvature, Bonferroni over
  the predictors (:mod:`bayesmixed.report.checks.linearity`), with a warning and a suggested
  formula (``poly(x, 2)``) for a flagged predictor.
- VIF of the population-level design ``1 / (1 - R2_j)`` (diagonal of the inverse correlation
  matrix of the non-intercept columns), with a warning above 5.
- Plain-language warnings for overdispersion, zero-inflation, VIF and influential clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesmixed.families import get_family
from bayesmixed.report.checks.binary import (
    _trials,
    _yrep,
    binned_residuals,
    calibration_table,
    classification_metrics,
    group_proportions,
)
from bayesmixed.report.checks.linearity import linearity_checks
from bayesmixed.report.checks.residuals import (
    fitted_mean,
    influential_clusters,
    pearson_residuals,
    quantile_residuals,
)
from bayesmixed.report.core.draws import internal, summary_row
from bayesmixed.report.core.linpred import aux_draws
from bayesmixed.report.core.native import obs_coords
from bayesmixed.report.predict.predict import sample_response

__all__ = [
    "binned_residuals",
    "calibration_table",
    "check",
    "classification_metrics",
    "count_checks",
    "group_proportions",
    "posterior_predictive",
    "rootogram_table",
    "vif_table",
]

VIF_WARN = 5.0


def posterior_predictive(idata, meta, design, seed=0, mu: np.ndarray | None = None) -> xr.DataTree:
    """Replicated responses for the fitted rows (groups ``posterior_predictive`` with dims
    chain, draw, obs and ``observed_data``); ``mu``: :func:`fitted_mean` when already computed.

    Examples
    --------
    >>> ppc = posterior_predictive(fit.idata, fit.meta, fit.design)
    >>> ppc["posterior_predictive"]["y"].shape
    (2, 200, 180)
    """
    post = internal(idata)
    c, d = post.sizes["chain"], post.sizes["draw"]
    mu = fitted_mean(idata, meta, design) if mu is None else mu
    yrep = sample_response(
        idata, meta, mu, design.trials, np.random.default_rng(seed),
        dpar_X=design.dpar_X,
    )
    tree = idata
    rows = (tree["observed_data"]["obs"].values if "observed_data" in tree.children
            and "obs" in tree["observed_data"].coords else obs_coords(design))
    coords = {"chain": post["chain"].values, "draw": post["draw"].values, "obs": rows}
    ppd = xr.Dataset({"y": (("chain", "draw", "obs"), yrep.reshape(c, d, -1))}, coords=coords)
    obs = xr.Dataset({"y": (("obs",), np.asarray(design.y, dtype=float))}, coords={"obs": rows})
    return xr.DataTree.from_dict({"posterior_predictive": ppd, "observed_data": obs})


def _expected(idata, meta, design, mu: np.ndarray) -> np.ndarray:
    """Expected response draws (the expected category code 0..K-1 of an ordinal model)."""
    family = get_family(meta["family"])
    aux = aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X)
    return family.expected(mu, aux, None)


def _pmf(idata, meta, design, mu: np.ndarray, c: int) -> np.ndarray:
    family = get_family(meta["family"])
    return family.density(c, mu, aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X), None)


def rootogram_table(
    idata,
    meta,
    design,
    ppc: xr.DataTree,
    max_count: int | None = None,
    mu: np.ndarray | None = None,
    prob: float = 0.9,
) -> pd.DataFrame:
    """Observed and expected frequency of each count ``0..max_count`` (Kleiber & Zeileis 2016):
    expected ``sum_i mean_s P(y_i = c | theta_s)``; ``lo``/``hi`` from replicated data.

    Examples
    --------
    >>> cfit = bm.fit("y ~ trt + (1 | subject)", bm.datasets.load("epil"), family="poisson",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> parts = cfit.idata, cfit.meta, cfit.design
    >>> table = rootogram_table(*parts, posterior_predictive(*parts), max_count=5)
    >>> table["count"].tolist()
    [0, 1, 2, 3, 4, 5]
    >>> list(table.columns)
    ['count', 'observed', 'expected', 'lo', 'hi']
    """
    y = np.asarray(design.y, dtype=float)
    mu = fitted_mean(idata, meta, design) if mu is None else mu
    yrep = _yrep(ppc)
    top = int(max_count if max_count is not None else max(np.quantile(y, 0.99), 1))
    rows = []
    for c in range(top + 1):
        rep = (yrep == c).sum(axis=1)
        rows.append(
            {
                "count": c,
                "observed": int((y == c).sum()),
                "expected": float(_pmf(idata, meta, design, mu, c).mean(axis=0).sum()),
                "lo": float(np.quantile(rep, (1 - prob) / 2)),
                "hi": float(np.quantile(rep, 1 - (1 - prob) / 2)),
            }
        )
    return pd.DataFrame(rows)


def count_checks(idata, meta, design, ppc: xr.DataTree, mu: np.ndarray | None = None) -> dict:
    """Share of zeros and dispersion for count models, with posterior predictive p-values.

    Examples
    --------
    >>> cfit = bm.fit("y ~ trt + (1 | subject)", bm.datasets.load("epil"), family="poisson",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> parts = cfit.idata, cfit.meta, cfit.design
    >>> cc = count_checks(*parts, posterior_predictive(*parts))
    >>> round(cc["zeros_observed"], 3)
    0.097
    >>> bool(cc["dispersion_ratio"] > 1)  # more variance than a poisson allows
    True
    """
    y = np.asarray(design.y, dtype=float)
    mu = fitted_mean(idata, meta, design) if mu is None else mu
    yrep = _yrep(ppc)
    family = get_family(meta["family"])
    aux = aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X)
    var = family.variance(mu, aux, None)
    m = family.expected(mu, aux, None)  # the response mean (zero part included)
    zeros_rep = (yrep == 0).mean(axis=1)
    t_obs = np.sum((y[None, :] - m) ** 2 / var, axis=1)
    t_rep = np.sum((yrep - m) ** 2 / var, axis=1)
    n, p = y.size, len(meta["x_names"])
    return {
        "zeros_observed": float(np.mean(y == 0)),
        "zeros_predicted": float(_pmf(idata, meta, design, mu, 0).mean()),
        "zeros_replicated": summary_row(zeros_rep, 0.9),
        "zeros_ppp": float(np.mean(zeros_rep >= np.mean(y == 0))),
        "dispersion_ratio": float(np.mean(t_obs) / max(n - p, 1)),
        "dispersion_ppp": float(np.mean(t_rep >= t_obs)),
    }


def vif_table(idata, meta, design) -> pd.DataFrame:
    """Variance inflation factor of each non-intercept population-level column.

    Examples
    --------
    >>> vif_table(fit.idata, fit.meta, fit.design).loc["Days", "vif"]  # one predictor: none
    np.float64(1.0)
    """
    names = [n for n in meta["x_names"] if n != "Intercept"]
    X = np.asarray(design.X, dtype=float)[:, [meta["x_names"].index(n) for n in names]]
    if len(names) < 2:
        return pd.DataFrame(
            {"vif": np.ones(len(names)), "warn": False}, index=pd.Index(names, name="term")
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.corrcoef(X, rowvar=False)
        try:
            vif = np.diag(np.linalg.inv(R))
        except np.linalg.LinAlgError:
            vif = np.full(len(names), np.inf)
    vif = np.where(np.isfinite(vif) & (vif > 0), vif, np.inf)
    return pd.DataFrame({"vif": vif, "warn": vif > VIF_WARN}, index=pd.Index(names, name="term"))


def check(idata, meta, design, seed=0, influence: bool = True) -> dict:
    """Run every check that applies to the fit's family.

    Returns
    -------
    dict
        ``family``; ``ppc`` (DataTree of replicated data); ``residuals`` (DataFrame with
        pearson and quantile residuals and the fitted mean); ``vif``; family-specific tables
        (``binned_residuals``, ``calibration``, ``groups``, ``metrics`` for binary;
        ``rootogram``, ``counts`` for counts; ``categories`` for ordinal); ``influence``
        (clusters); ``linearity`` (curvature test per continuous predictor) and
        ``linearity_bins`` (binned residuals against each); ``warnings`` (list of plain-language strings).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> checks = check(bfit.idata, bfit.meta, bfit.design, influence=False)
    >>> {"binned_residuals", "calibration", "metrics", "residuals", "warnings"} <= set(checks)
    True
    """
    fam = meta["family"]
    mu = fitted_mean(idata, meta, design)
    ppc = posterior_predictive(idata, meta, design, seed, mu=mu)
    out: dict = {"family": fam, "ppc": ppc}
    out["residuals"] = pd.DataFrame(
        {
            "fitted": _expected(idata, meta, design, mu).mean(axis=0),
            "pearson": pearson_residuals(idata, meta, design, mu=mu),
            "quantile": quantile_residuals(idata, meta, design, seed, mu=mu),
        }
    )
    out["vif"] = vif_table(idata, meta, design)
    warn: list[str] = []
    for term, r in out["vif"].iterrows():
        if r["warn"]:
            warn.append(
                f"VIF of {term!r} is {r['vif']:.1f} > {VIF_WARN:g}: collinear predictors; "
                "its coefficient is poorly determined"
            )
    if design.blocks:
        out["groups"] = group_proportions(idata, meta, design, ppc, mu=mu)
    out["linearity_bins"], out["linearity"] = linearity_checks(idata, meta, design, mu=mu)
    warn += [a for a in out["linearity"]["advice"] if a]
    family = get_family(fam)
    if family.uses_trials:
        out["binned_residuals"] = binned_residuals(idata, meta, design, mu=mu)
        out["calibration"] = calibration_table(idata, meta, design, ppc, mu=mu)
        if family.response == "binary" or np.all(_trials(idata, meta, design) == 1):
            out["metrics"] = classification_metrics(idata, meta, design, mu=mu)
        br = out["binned_residuals"]
        share = 1 - br["inside"].mean() if len(br) else 0.0
        if share > 0.1:
            warn.append(
                f"{share:.0%} of binned residuals fall outside +-2 SE (expected about 5%): "
                "the mean structure may be misspecified (non-linearity, missing terms)"
            )
    if family.ordinal:  # observed vs expected frequency of each category
        top = len(meta["categories"]) - 1
        table = rootogram_table(idata, meta, design, ppc, max_count=top, mu=mu)
        out["categories"] = table.assign(category=meta["categories"])
    if family.count:
        out["rootogram"] = rootogram_table(idata, meta, design, ppc, mu=mu)
        cc = count_checks(idata, meta, design, ppc, mu=mu)
        out["counts"] = cc
        if cc["dispersion_ppp"] < 0.025:
            warn.append(
                f"overdispersion: the dispersion statistic exceeds its replications "
                f"(p = {cc['dispersion_ppp']:.3f}, ratio {cc['dispersion_ratio']:.3g}); "
                + (
                    "consider family='negbinomial' or an observation-level random effect"
                    if fam == "poisson"
                    else "consider more predictors or random effects"
                )
            )
        if cc["zeros_ppp"] < 0.025:
            warn.append(
                f"zero-inflation: {cc['zeros_observed']:.1%} zeros observed vs "
                f"{cc['zeros_predicted']:.1%} predicted (p = {cc['zeros_ppp']:.3f}); "
                + (
                    "more zeros than the zero part allows: add predictors to the "
                    f"{'/'.join(family.dpars)} formula"
                    if family.dpars
                    else "consider family='zero_inflated_poisson' / 'zero_inflated_negbinomial' "
                    "(bm.bf(formula, zi='~ x')) or 'hurdle_poisson' / 'hurdle_negbinomial' "
                    "(hu=)"
                )
            )
    if influence and design.blocks:
        inf = influential_clusters(idata, meta, design)
        out["influence"] = inf
        out["influence_notes"] = [f"{f}: {why}" for f, why in inf.attrs.get("skipped", {}).items()]
        if inf.attrs.get("draws", 0) < inf.attrs.get("total_draws", 0):
            out["influence_notes"].append(
                f"elpd_loco and Pareto k from {inf.attrs['draws']} of {inf.attrs['total_draws']}"
                " posterior draws (thinned evenly within chains; good_k follows the number)"
            )
        bad = inf[inf["influential"]]
        if len(bad):
            lv = ", ".join(
                f"{r.factor}={r.level} (k={r.pareto_k:.2f})" for r in bad.head(8).itertuples()
            )
            warn.append(
                f"{len(bad)} influential cluster(s) (leave-one-cluster-out Pareto k > "
                f"{inf['good_k'].iloc[0]:.2f}): {lv}; check them and refit without them"
            )
    out["warnings"] = warn
    return out
