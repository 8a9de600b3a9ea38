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
- VIF of the population-level design ``1 / (1 - R2_j)`` (diagonal of the inverse correlation
  matrix of the non-intercept columns), with a warning above 5.
- Plain-language warnings for overdispersion, zero-inflation, VIF and influential clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse, stats

from bayesmixed.report.draws import flat, summary_row
from bayesmixed.report.predict import sample_response
from bayesmixed.report.residuals import (
    fitted_mean,
    influential_clusters,
    pearson_residuals,
    quantile_residuals,
)

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


def posterior_predictive(fit, seed=0) -> xr.DataTree:
    """Replicated responses for the fitted rows (groups ``posterior_predictive`` with dims
    chain, draw, obs and ``observed_data``).

    Examples
    --------
    >>> ppc = posterior_predictive(fit)
    >>> ppc["posterior_predictive"]["y"].shape
    (2, 200, 180)
    """
    post = fit.idata["posterior"]
    c, d = post.sizes["chain"], post.sizes["draw"]
    mu = fitted_mean(fit)
    yrep = sample_response(fit.idata, fit.meta, mu, fit.design.trials, np.random.default_rng(seed))
    coords = {"chain": post["chain"].values, "draw": post["draw"].values}
    ppd = xr.Dataset({"y": (("chain", "draw", "obs"), yrep.reshape(c, d, -1))}, coords=coords)
    obs = xr.Dataset({"y": (("obs",), np.asarray(fit.design.y, dtype=float))})
    return xr.DataTree.from_dict({"posterior_predictive": ppd, "observed_data": obs})


def _yrep(ppc: xr.DataTree) -> np.ndarray:
    v = np.asarray(ppc["posterior_predictive"]["y"].values)
    return v.reshape(-1, v.shape[-1])


def _trials(fit) -> np.ndarray:
    y = np.asarray(fit.design.y, dtype=float)
    return np.ones_like(y) if fit.design.trials is None else np.asarray(fit.design.trials, float)


def binned_residuals(fit, n_bins: int | None = None, mu: np.ndarray | None = None) -> pd.DataFrame:
    """Binned residuals for binary / binomial outcomes (Gelman & Hill 2007).

    Bins hold about equal numbers of trials, ordered by the posterior mean fitted probability.
    Columns bin, n (trials), predicted, observed, residual, se, inside (``|residual| <= 2 se``).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> br = binned_residuals(bfit)
    >>> list(br.columns)
    ['bin', 'n', 'predicted', 'observed', 'residual', 'se', 'inside']
    """
    y, n = np.asarray(fit.design.y, dtype=float), _trials(fit)
    p = (fitted_mean(fit) if mu is None else mu).mean(axis=0)
    if n_bins is None:
        n_bins = int(np.clip(np.sqrt(n.sum()), 5, 40))
    order = np.argsort(p, kind="stable")
    cum = np.cumsum(n[order])
    bins = np.minimum((cum - 1) * n_bins // cum[-1], n_bins - 1).astype(int)
    rows = []
    for b in range(n_bins):
        sel = order[bins == b]
        if sel.size == 0:
            continue
        nb = n[sel].sum()
        pred = float(np.sum(n[sel] * p[sel]) / nb)
        obs = float(y[sel].sum() / nb)
        se = float(np.sqrt(pred * (1 - pred) / nb))
        rows.append(
            {
                "bin": b,
                "n": nb,
                "predicted": pred,
                "observed": obs,
                "residual": obs - pred,
                "se": se,
                "inside": abs(obs - pred) <= 2 * se,
            }
        )
    return pd.DataFrame(rows)


def calibration_table(
    fit, ppc: xr.DataTree, n_bins: int = 10, prob: float = 0.9, mu: np.ndarray | None = None
) -> pd.DataFrame:
    """Observed proportion per bin of predicted probability, with the posterior predictive
    interval of that proportion (``lo``, ``hi``) from replicated data.

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> cal = calibration_table(bfit, posterior_predictive(bfit), n_bins=5)
    >>> list(cal.columns), len(cal) <= 5
    (['bin', 'n', 'predicted', 'observed', 'lo', 'hi'], True)
    """
    y, n = np.asarray(fit.design.y, dtype=float), _trials(fit)
    p = (fitted_mean(fit) if mu is None else mu).mean(axis=0)
    yrep = _yrep(ppc)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        sel = which == b
        if not sel.any():
            continue
        nb = n[sel].sum()
        rep = yrep[:, sel].sum(axis=1) / nb
        rows.append(
            {
                "bin": b,
                "n": nb,
                "predicted": float(np.sum(n[sel] * p[sel]) / nb),
                "observed": float(y[sel].sum() / nb),
                "lo": float(np.quantile(rep, (1 - prob) / 2)),
                "hi": float(np.quantile(rep, 1 - (1 - prob) / 2)),
            }
        )
    return pd.DataFrame(rows)


def group_proportions(
    fit,
    ppc: xr.DataTree,
    factor: str | None = None,
    prob: float = 0.9,
    mu: np.ndarray | None = None,
) -> pd.DataFrame:
    """Observed vs predicted mean response per cluster, with the posterior predictive interval
    of the cluster mean; ``outside`` flags clusters whose observed mean falls outside.

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> groups = group_proportions(bfit, posterior_predictive(bfit))
    >>> list(groups.columns)
    ['factor', 'level', 'n', 'observed', 'predicted', 'lo', 'hi', 'outside']
    >>> len(groups)  # one row per child
    50
    """
    y, n = np.asarray(fit.design.y, dtype=float), _trials(fit)
    mu = fitted_mean(fit) if mu is None else mu
    scale = n if fit.meta["family"] in ("bernoulli", "binomial") else np.ones_like(n)
    yrep = _yrep(ppc)
    parts = []
    for blk in fit.design.blocks:
        if factor is not None and blk.factor != factor:
            continue
        L = blk.n_levels
        denom = np.bincount(blk.index, n if scale is n else np.ones_like(n), L)
        obs = np.bincount(blk.index, y, L) / denom
        onehot = sparse.csr_matrix(
            (np.ones(blk.index.size), (np.arange(blk.index.size), blk.index)),
            shape=(blk.index.size, L),
        )
        pred = np.asarray((onehot.T @ (mu * scale).T).T)
        rep = np.asarray((onehot.T @ yrep.T).T) / denom
        lo, hi = (
            np.quantile(rep, (1 - prob) / 2, axis=0),
            np.quantile(rep, 1 - (1 - prob) / 2, axis=0),
        )
        parts.append(
            pd.DataFrame(
                {
                    "factor": blk.factor,
                    "level": list(blk.levels),
                    "n": np.bincount(blk.index, minlength=L),
                    "observed": obs,
                    "predicted": pred.mean(axis=0) / denom,
                    "lo": lo,
                    "hi": hi,
                    "outside": (obs < lo) | (obs > hi),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _auc(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """AUC per row of ``scores`` (draws x obs) by the Mann-Whitney rank statistic."""
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    ranks = stats.rankdata(scores, axis=1)
    return (ranks[:, pos].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def classification_metrics(fit, prob: float = 0.95, mu: np.ndarray | None = None) -> pd.DataFrame:
    """Accuracy (threshold 0.5), AUC and Brier score of a bernoulli model, draw by draw, plus
    the value at the posterior mean probability (column ``at_mean``).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> metrics = classification_metrics(bfit)
    >>> list(metrics.index)
    ['accuracy', 'auc', 'brier']
    >>> bool(0.5 < metrics.loc["auc", "mean"] <= 1)
    True
    """
    y = np.asarray(fit.design.y, dtype=float)
    p = fitted_mean(fit) if mu is None else mu
    pm = p.mean(axis=0, keepdims=True)
    out = {}
    for name, f in {
        "accuracy": lambda q: np.mean((q > 0.5) == (y == 1), axis=1),
        "auc": lambda q: _auc(q, y),
        "brier": lambda q: np.mean((y[None, :] - q) ** 2, axis=1),
    }.items():
        out[name] = {**summary_row(f(p), prob), "at_mean": float(f(pm)[0])}
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index.name = "metric"
    return table


def _pmf(fit, mu: np.ndarray, c: int) -> np.ndarray:
    if fit.meta["family"] == "poisson":
        return stats.poisson.pmf(c, mu)
    alpha = flat(fit.idata, "alpha").reshape(-1, 1)
    return stats.nbinom.pmf(c, alpha, alpha / (alpha + mu))


def rootogram_table(
    fit,
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
    >>> table = rootogram_table(cfit, posterior_predictive(cfit), max_count=5)
    >>> table["count"].tolist()
    [0, 1, 2, 3, 4, 5]
    >>> list(table.columns)
    ['count', 'observed', 'expected', 'lo', 'hi']
    """
    y = np.asarray(fit.design.y, dtype=float)
    mu = fitted_mean(fit) if mu is None else mu
    yrep = _yrep(ppc)
    top = int(max_count if max_count is not None else max(np.quantile(y, 0.99), 1))
    rows = []
    for c in range(top + 1):
        rep = (yrep == c).sum(axis=1)
        rows.append(
            {
                "count": c,
                "observed": int((y == c).sum()),
                "expected": float(_pmf(fit, mu, c).mean(axis=0).sum()),
                "lo": float(np.quantile(rep, (1 - prob) / 2)),
                "hi": float(np.quantile(rep, 1 - (1 - prob) / 2)),
            }
        )
    return pd.DataFrame(rows)


def count_checks(fit, ppc: xr.DataTree, mu: np.ndarray | None = None) -> dict:
    """Share of zeros and dispersion for count models, with posterior predictive p-values.

    Examples
    --------
    >>> cfit = bm.fit("y ~ trt + (1 | subject)", bm.datasets.load("epil"), family="poisson",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> cc = count_checks(cfit, posterior_predictive(cfit))
    >>> round(cc["zeros_observed"], 3)
    0.097
    >>> bool(cc["dispersion_ratio"] > 1)  # more variance than a poisson allows
    True
    """
    y = np.asarray(fit.design.y, dtype=float)
    mu = fitted_mean(fit) if mu is None else mu
    yrep = _yrep(ppc)
    var = (
        mu
        if fit.meta["family"] == "poisson"
        else mu + mu**2 / flat(fit.idata, "alpha").reshape(-1, 1)
    )
    zeros_rep = (yrep == 0).mean(axis=1)
    t_obs = np.sum((y[None, :] - mu) ** 2 / var, axis=1)
    t_rep = np.sum((yrep - mu) ** 2 / var, axis=1)
    n, p = y.size, len(fit.meta["x_names"])
    return {
        "zeros_observed": float(np.mean(y == 0)),
        "zeros_predicted": float(_pmf(fit, mu, 0).mean()),
        "zeros_replicated": summary_row(zeros_rep, 0.9),
        "zeros_ppp": float(np.mean(zeros_rep >= np.mean(y == 0))),
        "dispersion_ratio": float(np.mean(t_obs) / max(n - p, 1)),
        "dispersion_ppp": float(np.mean(t_rep >= t_obs)),
    }


def vif_table(fit) -> pd.DataFrame:
    """Variance inflation factor of each non-intercept population-level column.

    Examples
    --------
    >>> vif_table(fit).loc["Days", "vif"]  # one predictor: no collinearity
    np.float64(1.0)
    """
    names = [n for n in fit.meta["x_names"] if n != "Intercept"]
    X = np.asarray(fit.design.X, dtype=float)[:, [fit.meta["x_names"].index(n) for n in names]]
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


def check(fit, seed=0, influence: bool = True) -> dict:
    """Run every check that applies to the fit's family.

    Returns
    -------
    dict
        ``family``; ``ppc`` (DataTree of replicated data); ``residuals`` (DataFrame with
        pearson and quantile residuals and the fitted mean); ``vif``; family-specific tables
        (``binned_residuals``, ``calibration``, ``groups``, ``metrics`` for binary;
        ``rootogram``, ``counts`` for counts); ``influence`` (clusters) and ``warnings`` (list
        of plain-language strings).

    Examples
    --------
    >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
    ...               chains=2, draws=200, tune=200, seed=1, progress=False)
    >>> checks = check(bfit, influence=False)
    >>> {"binned_residuals", "calibration", "metrics", "residuals", "warnings"} <= set(checks)
    True
    """
    fam = fit.meta["family"]
    mu = fitted_mean(fit)
    ppc = posterior_predictive(fit, seed)
    out: dict = {"family": fam, "ppc": ppc}
    out["residuals"] = pd.DataFrame(
        {
            "fitted": mu.mean(axis=0),
            "pearson": pearson_residuals(fit),
            "quantile": quantile_residuals(fit, seed),
        }
    )
    out["vif"] = vif_table(fit)
    warn: list[str] = []
    for term, r in out["vif"].iterrows():
        if r["warn"]:
            warn.append(
                f"VIF of {term!r} is {r['vif']:.1f} > {VIF_WARN:g}: collinear predictors; "
                "its coefficient is poorly determined"
            )
    if fit.design.blocks:
        out["groups"] = group_proportions(fit, ppc, mu=mu)
    if fam in ("bernoulli", "binomial"):
        out["binned_residuals"] = binned_residuals(fit, mu=mu)
        out["calibration"] = calibration_table(fit, ppc, mu=mu)
        if fam == "bernoulli" or np.all(_trials(fit) == 1):
            out["metrics"] = classification_metrics(fit, mu=mu)
        br = out["binned_residuals"]
        share = 1 - br["inside"].mean() if len(br) else 0.0
        if share > 0.1:
            warn.append(
                f"{share:.0%} of binned residuals fall outside +-2 SE (expected about 5%): "
                "the mean structure may be misspecified (non-linearity, missing terms)"
            )
    if fam in ("poisson", "negbinomial"):
        out["rootogram"] = rootogram_table(fit, ppc, mu=mu)
        cc = count_checks(fit, ppc, mu=mu)
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
                "consider a zero-inflated or hurdle model"
            )
    if influence and fit.design.blocks:
        inf = influential_clusters(fit)
        out["influence"] = inf
        out["influence_notes"] = [f"{f}: {why}" for f, why in inf.attrs.get("skipped", {}).items()]
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
