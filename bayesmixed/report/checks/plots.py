"""Plots of the model checks: posterior predictive check by family, calibration and binned
residuals, binned residuals against each continuous predictor, quantile residuals and
influential clusters. Each returns the matplotlib figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayesmixed.families import get_family
from bayesmixed.report.checks.checks import (
    binned_residuals,
    calibration_table,
    check,
    posterior_predictive,
)
from bayesmixed.report.checks.linearity import linearity_checks
from bayesmixed.report.checks.residuals import fitted_mean, influential_clusters, quantile_residuals

__all__ = ["plot_calibration", "plot_influence", "plot_linearity", "plot_ppc", "plot_residuals"]

BLUE, ORANGE, GREY, RED = "#1f77b4", "#ff7f0e", "#7f7f7f", "#d62728"


def _errorbars(ax, x, mean, lo, hi, color, label, marker="o"):
    """Points with interval bars; the point need not lie inside its interval (e.g. an observed
    value against a predictive interval)."""
    ax.vlines(x, lo, hi, color=color, lw=1)
    ax.plot(x, mean, marker, ms=4, color=color, label=label, ls="none")


def plot_ppc(idata, meta, design, checks: dict | None = None, n_lines: int = 50) -> Figure:
    """Posterior predictive check by family: density overlay (gaussian), hanging rootogram
    (counts), observed vs expected frequency per category (ordinal), observed vs predicted
    proportion per cluster (binary / binomial).

    Examples
    --------
    >>> fig = plot_ppc(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    c = check(idata, meta, design, influence=False) if checks is None else checks
    fam = c["family"]
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    if not get_family(fam).discrete:
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
    elif get_family(fam).ordinal:
        r = c["categories"]
        x = np.arange(len(r))
        ax.bar(x, r["observed"], width=0.6, color="#bbbbbb", edgecolor=GREY, label="observed")
        _errorbars(ax, x, r["expected"], r["lo"], r["hi"], RED, "expected (90% predictive interval)")
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in r["category"]])
        ax.set_xlabel("category")
        ax.set_ylabel("frequency")
        ax.set_title("Observed vs predicted category frequencies")
    elif get_family(fam).count:
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


def plot_calibration(idata, meta, design, checks: dict | None = None) -> Figure:
    """Calibration (observed vs predicted by bins of the prediction) and, for binary outcomes,
    the binned residual plot with its +-2 SE band.

    Examples
    --------
    >>> fig = plot_calibration(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    cal = checks.get("calibration") if checks else None
    if cal is None:
        cal = calibration_table(idata, meta, design, posterior_predictive(idata, meta, design))
    binary = get_family(meta["family"]).uses_trials
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
        br = binned_residuals(idata, meta, design) if br is None else br
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


def plot_linearity(idata, meta, design, checks: dict | None = None, max_panels: int = 6) -> Figure:
    """Binned residuals (observed - predicted mean) against each continuous predictor with the
    +-2 SE band, one panel per predictor; the title gives the curvature z and the flag.

    Examples
    --------
    >>> fig = plot_linearity(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, [ax.get_xlabel() for ax in fig.axes]
    ('Figure', ['Days'])
    """
    if checks is not None and "linearity" in checks:
        bins, tests = checks["linearity_bins"], checks["linearity"]
    else:
        bins, tests = linearity_checks(idata, meta, design)
    names = list(tests.index)[:max_panels]
    ncol = min(3, max(len(names), 1))
    nrow = max(1, -(-len(names) // ncol))
    fig = Figure(figsize=(4.2 * ncol, 3.4 * nrow), layout="constrained")
    if not names:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, tests.attrs.get("skipped", "no continuous predictor"), ha="center")
        return fig
    for k, v in enumerate(names):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        b = bins[bins["predictor"] == v].sort_values("x")
        x, se = b["x"].to_numpy(), b["se"].to_numpy()
        ax.fill_between(x, -2 * se, 2 * se, color=GREY, alpha=0.25, label="+-2 SE")
        ax.scatter(x, b["residual"], s=14, c=np.where(b["inside"], "black", RED).tolist(),
                   label="bin residual")
        ax.axhline(0, color=GREY, lw=1)
        t = tests.loc[v]
        flag = "  CURVED" if t["flagged"] else ""
        ax.set_title(f"{v}: curvature z = {t['z']:.2f}{flag}", fontsize=9,
                     color=RED if t["flagged"] else "black")
        ax.set_xlabel(v)
        ax.set_ylabel("observed - predicted")
        if k == 0:
            ax.legend(fontsize=7)
    return fig


def plot_residuals(idata, meta, design, checks: dict | None = None) -> Figure:
    """Randomized quantile residuals against the fitted mean and against normal quantiles.

    Examples
    --------
    >>> fig = plot_residuals(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    from scipy import stats

    if checks and "residuals" in checks:
        fitted, q = (
            checks["residuals"]["fitted"].to_numpy(),
            checks["residuals"]["quantile"].to_numpy(),
        )
    else:
        fitted = fitted_mean(idata, meta, design).mean(axis=0)
        q = quantile_residuals(idata, meta, design)
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


def plot_influence(idata, meta, design, table: pd.DataFrame | None = None) -> Figure:
    """Pareto k of leave-one-cluster-out PSIS per cluster, with the reliability threshold.

    Examples
    --------
    >>> fig = plot_influence(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    t = influential_clusters(idata, meta, design) if table is None else table
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
