"""Plots of a fit. Every function computes (or takes) its data from the report modules, draws
with matplotlib and returns the :class:`matplotlib.figure.Figure`; nothing is shown or saved.

Trace and rank plots use arviz-plots; the others are plain matplotlib figures created without
pyplot (no global figure state).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayesmixed.errors import PredictionError

__all__ = [
    "plot_calibration",
    "plot_caterpillar",
    "plot_effects",
    "plot_forest",
    "plot_icc",
    "plot_influence",
    "plot_ppc",
    "plot_rank",
    "plot_residuals",
    "plot_shrinkage",
    "plot_trace",
]

BLUE, ORANGE, GREY, RED = "#1f77b4", "#ff7f0e", "#7f7f7f", "#d62728"


def _param_tree(fit, var_names):
    import xarray as xr

    from bayesmixed.report.params import parameter_dataset

    ds = parameter_dataset(fit.idata, fit.meta)
    if var_names is not None:
        ds = ds[list(var_names)]
    return xr.DataTree.from_dict({"posterior": ds})


def _tidy(fig: Figure) -> Figure:
    """Re-layout an arviz-plots figure so titles and labels do not overlap."""
    fig.set_layout_engine("constrained")
    return fig


def plot_trace(fit, var_names=None) -> Figure:
    """Trace and marginal density per parameter and chain (arviz-plots ``plot_trace_dist``).

    Examples
    --------
    >>> fig = plot_trace(fit, var_names=["Days", "sigma"])
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    import arviz_plots as azp

    pc = azp.plot_trace_dist(_param_tree(fit, var_names), backend="matplotlib")
    return _tidy(pc.viz["figure"].item())


def plot_rank(fit, var_names=None) -> Figure:
    """Rank plots (fractional rank ECDF per chain; arviz-plots ``plot_rank``).

    Examples
    --------
    >>> fig = plot_rank(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    import arviz_plots as azp

    pc = azp.plot_rank(_param_tree(fit, var_names), backend="matplotlib")
    return _tidy(pc.viz["figure"].item())


def _interval_plot(ax, labels, mean, lo, hi, lo50=None, hi50=None, color=BLUE):
    y = np.arange(len(labels))[::-1]
    ax.hlines(y, lo, hi, color=color, lw=1.2)
    if lo50 is not None:
        ax.hlines(y, lo50, hi50, color=color, lw=3.5)
    ax.plot(mean, y, "o", color=color, ms=4)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    return y


def plot_forest(
    fit, exponentiate: bool = False, prob: float = 0.95, intercept: bool = False
) -> Figure:
    """Posterior mean, 50% and ``prob`` intervals of the population-level coefficients
    (odds / rate ratios on a log axis with ``exponentiate``).

    Examples
    --------
    >>> fig = plot_forest(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.linpred import fixed_coefficients

    names = list(fit.meta["x_names"])
    beta = fixed_coefficients(fit.idata, fit.meta)
    keep = [j for j, n in enumerate(names) if intercept or n != "Intercept"]
    if not keep:
        raise PredictionError("the model has no population-level coefficient to plot")
    d = beta[:, keep]
    d = np.exp(d) if exponentiate else d
    q = np.quantile(d, [(1 - prob) / 2, 0.25, 0.75, 1 - (1 - prob) / 2], axis=0)
    fig = Figure(figsize=(6.5, 0.5 * len(keep) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    _interval_plot(ax, [names[j] for j in keep], d.mean(axis=0), q[0], q[3], q[1], q[2])
    ax.axvline(1.0 if exponentiate else 0.0, color=GREY, ls="--", lw=1)
    if exponentiate:
        from matplotlib.ticker import LogLocator, ScalarFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="x", which="minor", labelsize=7)
    label = {"logit": "odds ratio", "log": "rate ratio"}.get(fit.meta["link"], "exp(coefficient)")
    ax.set_xlabel(label if exponentiate else "coefficient (link scale)")
    ax.set_title(f"Population-level effects (thick 50%, thin {prob:.0%})")
    return fig


def plot_caterpillar(
    fit, factor: str | None = None, prob: float = 0.95, max_levels: int = 60
) -> Figure:
    """Random effects per level, sorted, with intervals: one panel per (factor, term).

    Examples
    --------
    >>> fig = plot_caterpillar(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.ranef import ranef_table

    table = ranef_table(fit.idata, fit.meta, factor, prob)
    lo_c, hi_c = table.columns[-2], table.columns[-1]
    panels = list(table.groupby(["factor", "term"], sort=False))
    n = max(min(len(g), max_levels) for _, g in panels)
    fig = Figure(figsize=(4.2 * len(panels), 0.16 * n + 1.6), layout="constrained")
    for i, ((f, t), g) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        g = g.sort_values("mean")
        if len(g) > max_levels:  # keep the extremes
            g = pd.concat([g.head(max_levels // 2), g.tail(max_levels // 2)])
        _interval_plot(
            ax,
            g["level"].tolist()[::-1],
            g["mean"].to_numpy()[::-1],
            g[lo_c].to_numpy()[::-1],
            g[hi_c].to_numpy()[::-1],
        )
        ax.axvline(0, color=GREY, ls="--", lw=1)
        ax.tick_params(axis="y", labelsize=6 if len(g) > 30 else 8)
        ax.set_title(f"{t} | {f}")
        ax.set_xlabel("deviation (link scale)")
    return fig


def plot_shrinkage(fit, factor: str | None = None, term: str = "Intercept", table=None) -> Figure:
    """No-pooling vs partial-pooling estimates per level: arrows from each level's own
    estimate to its multilevel estimate, toward the population mean (dashed).

    Examples
    --------
    >>> fig = plot_shrinkage(fit, term="Days")
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.ranef import shrinkage_table

    t = shrinkage_table(fit, factor, term) if table is None else table
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    sizes_vary = t["n"].max() > 1.5 * max(t["n"].min(), 1)
    if sizes_vary:  # small levels shrink most: show it along the x axis (jittered)
        x = t["n"].to_numpy(dtype=float) * np.exp(
            np.random.default_rng(0).uniform(-0.08, 0.08, len(t))
        )
    else:  # equal sizes: levels ordered by their own estimate
        x = np.argsort(np.argsort(t["no_pooling"].fillna(t["partial_pooling"]).to_numpy())).astype(
            float
        )
    ok = np.isfinite(t["no_pooling"].to_numpy())
    ax.scatter(
        x[ok], t["no_pooling"][ok], s=18, color=ORANGE, label="no pooling (own data)", zorder=3
    )
    ax.scatter(x, t["partial_pooling"], s=18, color=BLUE, label="partial pooling (model)", zorder=3)
    for xi, a, b in zip(x[ok], t["no_pooling"][ok], t["partial_pooling"][ok], strict=True):
        ax.annotate(
            "",
            xy=(xi, b),
            xytext=(xi, a),
            arrowprops={"arrowstyle": "->", "color": GREY, "lw": 0.8},
        )
    ax.axhline(
        float(t["population"].iloc[0]), color="black", ls="--", lw=1, label="population mean"
    )
    if sizes_vary:
        ax.set_xscale("log")
    ax.set_xlabel(
        "rows in the level"
        if sizes_vary
        else f"level (ordered by own estimate; {int(t['n'].iloc[0])} rows each)"
    )
    ax.set_ylabel(f"{term} (link scale)")
    ax.set_title(f"Shrinkage of {term} by {t.attrs.get('factor', factor or '')}")
    ax.legend(fontsize=8, loc="best")
    return fig


def plot_icc(fit, kind: str = "adjusted", draws: dict | None = None) -> Figure:
    """Posterior distribution of the ICC of each grouping factor.

    Examples
    --------
    >>> fig = plot_icc(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.variance import icc_draws

    draws = icc_draws(fit.idata, fit.meta, fit.design, kind) if draws is None else draws
    if not draws:
        raise PredictionError("the model has no random intercept: no ICC")
    fig = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for i, (f, d) in enumerate(draws.items()):
        ax.hist(d, bins=40, range=(0, 1), density=True, alpha=0.55, label=f, color=f"C{i}")
        ax.axvline(np.mean(d), color=f"C{i}", lw=1.5)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{kind} ICC" + (" (latent scale)" if fit.meta["family"] != "gaussian" else ""))
    ax.set_ylabel("posterior density")
    ax.set_title("Intraclass correlation")
    ax.legend(fontsize=8)
    return fig


def _errorbars(ax, x, mean, lo, hi, color, label, marker="o"):
    """Points with interval bars; the point need not lie inside its interval (e.g. an observed
    value against a predictive interval)."""
    ax.vlines(x, lo, hi, color=color, lw=1)
    ax.plot(x, mean, marker, ms=4, color=color, label=label, ls="none")


def plot_ppc(fit, checks: dict | None = None, n_lines: int = 50) -> Figure:
    """Posterior predictive check by family: density overlay (gaussian), hanging rootogram
    (counts), observed vs predicted proportion per cluster (binary / binomial).

    Examples
    --------
    >>> fig = plot_ppc(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.checks import check

    c = check(fit, influence=False) if checks is None else checks
    fam = c["family"]
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    if fam == "gaussian":
        from scipy.stats import gaussian_kde

        y = np.asarray(c["ppc"]["observed_data"]["y"].values)
        rep = np.asarray(c["ppc"]["posterior_predictive"]["y"].values).reshape(-1, y.size)
        grid = np.linspace(
            min(y.min(), np.quantile(rep, 0.001)), max(y.max(), np.quantile(rep, 0.999)), 200
        )
        idx = np.linspace(0, rep.shape[0] - 1, min(n_lines, rep.shape[0])).astype(int)
        for j, s in enumerate(idx):
            ax.plot(
                grid,
                gaussian_kde(rep[s])(grid),
                color=BLUE,
                alpha=0.15,
                lw=0.8,
                label="replicated" if j == 0 else None,
            )
        ax.plot(grid, gaussian_kde(y)(grid), color="black", lw=2, label="observed")
        ax.set_xlabel("response")
        ax.set_ylabel("density")
        ax.set_title("Posterior predictive check: density overlay")
    elif fam in ("poisson", "negbinomial"):
        r = c["rootogram"]
        exp_s = np.sqrt(r["expected"].to_numpy())
        bottom = exp_s - np.sqrt(r["observed"].to_numpy())
        ax.bar(
            r["count"],
            np.sqrt(r["observed"]),
            bottom=bottom,
            width=0.8,
            color="#bbbbbb",
            edgecolor=GREY,
            label="observed (hanging)",
        )
        ax.plot(r["count"], exp_s, "o-", color=RED, ms=4, label="expected")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("count")
        ax.set_ylabel("sqrt(frequency)")
        ax.set_title("Hanging rootogram")
    else:
        g = c["groups"]
        g = g[g["factor"] == g["factor"].iloc[0]].sort_values("predicted").reset_index(drop=True)
        _errorbars(
            ax,
            np.arange(len(g)),
            g["predicted"],
            g["lo"],
            g["hi"],
            BLUE,
            "predicted (90% predictive interval)",
        )
        ax.plot(np.arange(len(g)), g["observed"], "D", color="black", ms=4, label="observed")
        out = g[g["outside"]]
        if len(out):
            ax.plot(out.index, out["observed"], "D", color=RED, ms=5, label="outside interval")
        ax.set_xticks(np.arange(len(g)))
        ax.set_xticklabels(g["level"], rotation=90, fontsize=6 if len(g) > 30 else 8)
        ax.set_xlabel(g["factor"].iloc[0])
        ax.set_ylabel("proportion")
        ax.set_title("Observed vs predicted proportion per cluster")
    ax.legend(fontsize=8)
    return fig


def plot_calibration(fit, checks: dict | None = None) -> Figure:
    """Calibration (observed vs predicted by bins of the prediction) and, for binary outcomes,
    the binned residual plot with its +-2 SE band.

    Examples
    --------
    >>> fig = plot_calibration(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.checks import binned_residuals, calibration_table, posterior_predictive

    cal = checks.get("calibration") if checks else None
    if cal is None:
        cal = calibration_table(fit, posterior_predictive(fit))
    binary = fit.meta["family"] in ("bernoulli", "binomial")
    fig = Figure(figsize=(11 if binary else 5.5, 4.2), layout="constrained")
    ax = fig.add_subplot(1, 2 if binary else 1, 1)
    _errorbars(
        ax,
        cal["predicted"],
        cal["observed"],
        cal["lo"],
        cal["hi"],
        BLUE,
        "observed (bar: 90% predictive interval)",
    )
    lim = [
        min(cal["predicted"].min(), cal["lo"].min()),
        max(cal["predicted"].max(), cal["hi"].max()),
    ]
    ax.plot(lim, lim, color=GREY, ls="--", lw=1, label="perfect calibration")
    ax.set_xlabel("predicted (bin mean)")
    ax.set_ylabel("observed (bin mean)")
    ax.set_title("Calibration")
    ax.legend(fontsize=8)
    if binary:
        br = checks.get("binned_residuals") if checks else None
        br = binned_residuals(fit) if br is None else br
        ax2 = fig.add_subplot(1, 2, 2)
        order = np.argsort(br["predicted"].to_numpy())
        p, se = br["predicted"].to_numpy()[order], br["se"].to_numpy()[order]
        ax2.fill_between(p, -2 * se, 2 * se, color=GREY, alpha=0.25, label="+-2 SE")
        ax2.scatter(
            br["predicted"],
            br["residual"],
            s=14,
            c=np.where(br["inside"], "black", RED).tolist(),
            label="bin residual",
        )
        ax2.axhline(0, color=GREY, lw=1)
        ax2.set_xlabel("predicted probability (bin mean)")
        ax2.set_ylabel("observed - predicted")
        ax2.set_title("Binned residuals")
        ax2.legend(fontsize=8)
    return fig


def plot_residuals(fit, checks: dict | None = None) -> Figure:
    """Randomized quantile residuals against the fitted mean and against normal quantiles.

    Examples
    --------
    >>> fig = plot_residuals(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from scipy import stats

    from bayesmixed.report.residuals import fitted_mean, quantile_residuals

    if checks and "residuals" in checks:
        fitted, q = (
            checks["residuals"]["fitted"].to_numpy(),
            checks["residuals"]["quantile"].to_numpy(),
        )
    else:
        fitted, q = fitted_mean(fit).mean(axis=0), quantile_residuals(fit)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ax1.scatter(fitted, q, s=8, alpha=0.6, color=BLUE)
    ax1.axhline(0, color=GREY, lw=1)
    for v in (-2, 2):
        ax1.axhline(v, color=GREY, ls="--", lw=0.8)
    ax1.set_xlabel("fitted mean")
    ax1.set_ylabel("quantile residual")
    ax1.set_title("Randomized quantile residuals")
    theo = stats.norm.ppf((np.arange(1, q.size + 1) - 0.5) / q.size)
    ax2.scatter(theo, np.sort(q), s=8, color=BLUE)
    ax2.plot(theo[[0, -1]], theo[[0, -1]], color=GREY, ls="--")
    ax2.set_xlabel("normal quantile")
    ax2.set_ylabel("residual quantile")
    ax2.set_title("Normal Q-Q")
    return fig


def plot_influence(fit, table: pd.DataFrame | None = None) -> Figure:
    """Pareto k of leave-one-cluster-out PSIS per cluster, with the reliability threshold.

    Examples
    --------
    >>> fig = plot_influence(fit)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.residuals import influential_clusters

    t = influential_clusters(fit) if table is None else table
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for i, (f, g) in enumerate(t.groupby("factor", sort=False)):
        ax.scatter(np.arange(len(g)), g["pareto_k"], s=16, color=f"C{i}", label=f)
        for r in g[g["influential"]].itertuples():
            ax.annotate(str(r.level), (list(g.index).index(r.Index), r.pareto_k), fontsize=7)
    ax.axhline(float(t["good_k"].iloc[0]), color=RED, ls="--", lw=1, label="threshold")
    ax.set_xlabel("cluster (sorted by k)")
    ax.set_ylabel("Pareto k")
    ax.set_title("Influential clusters (leave-one-cluster-out PSIS)")
    ax.legend(fontsize=8)
    return fig


def plot_effects(fit, variable: str, curve: pd.DataFrame | None = None, **kwargs) -> Figure:
    """Average predicted mean as ``variable`` varies, conditional (random effects at zero) and
    population-averaged, with posterior bands (points with bars for a categorical variable).

    Examples
    --------
    >>> fig = plot_effects(fit, "Days")
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from bayesmixed.report.effects import effect_curve, is_categorical

    c = effect_curve(fit, variable, **kwargs) if curve is None else curve
    lo_c, hi_c = c.columns[-2], c.columns[-1]
    categorical = is_categorical(fit.data[variable])
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.add_subplot()
    for i, (t, g) in enumerate(c.groupby("type", sort=False)):
        if categorical:
            x = np.arange(len(g)) + (i - 0.5) * 0.15
            _errorbars(ax, x, g["mean"], g[lo_c], g[hi_c], f"C{i}", t)
            ax.set_xticks(np.arange(len(g)))
            ax.set_xticklabels([str(v) for v in g[variable]])
        else:
            ax.plot(g[variable], g["mean"], color=f"C{i}", label=t)
            ax.fill_between(g[variable].astype(float), g[lo_c], g[hi_c], color=f"C{i}", alpha=0.2)
    ax.set_xlabel(variable)
    fam = fit.meta["family"]
    ax.set_ylabel("probability" if fam in ("bernoulli", "binomial") else "expected response")
    ax.set_title(f"Average predicted {ax.get_ylabel()} by {variable}")
    ax.legend(fontsize=8)
    return fig
