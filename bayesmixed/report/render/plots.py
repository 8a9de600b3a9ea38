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
from bayesmixed.families import get_family
from bayesmixed.report.checks.plots import (
    BLUE,
    GREY,
    ORANGE,
    _errorbars,
    plot_calibration,
    plot_influence,
    plot_linearity,
    plot_ppc,
    plot_residuals,
)
from bayesmixed.report.core.linpred import fixed_coefficients
from bayesmixed.report.core.params import parameter_dataset
from bayesmixed.report.predict.effects import effect_curve, is_categorical
from bayesmixed.report.tables.ranef import ranef_table, shrinkage_table
from bayesmixed.report.tables.variance import icc_draws

__all__ = [
    "plot_calibration",
    "plot_caterpillar",
    "plot_effects",
    "plot_forest",
    "plot_icc",
    "plot_influence",
    "plot_linearity",
    "plot_ppc",
    "plot_rank",
    "plot_residuals",
    "plot_shrinkage",
    "plot_trace",
]


def _param_tree(idata, meta, design, var_names):
    import xarray as xr

    ds = parameter_dataset(idata, meta)
    if var_names is not None:
        ds = ds[list(var_names)]
    return xr.DataTree.from_dict({"posterior": ds})


def _tidy(fig: Figure) -> Figure:
    """Re-layout an arviz-plots figure so titles and labels do not overlap."""
    fig.set_layout_engine("constrained")
    return fig


def plot_trace(idata, meta, design, var_names=None) -> Figure:
    """Trace and marginal density per parameter and chain (arviz-plots ``plot_trace_dist``).

    Examples
    --------
    >>> fig = plot_trace(fit.idata, fit.meta, fit.design, var_names=["Days", "sigma"])
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    import arviz_plots as azp

    pc = azp.plot_trace_dist(_param_tree(idata, meta, design, var_names), backend="matplotlib")
    return _tidy(pc.viz["figure"].item())


def plot_rank(idata, meta, design, var_names=None) -> Figure:
    """Rank plots (fractional rank ECDF per chain; arviz-plots ``plot_rank``).

    Examples
    --------
    >>> fig = plot_rank(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    import arviz_plots as azp

    pc = azp.plot_rank(_param_tree(idata, meta, design, var_names), backend="matplotlib")
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
    idata,
    meta,
    design, exponentiate: bool = False, prob: float = 0.95, intercept: bool = False
) -> Figure:
    """Posterior mean, 50% and ``prob`` intervals of the population-level coefficients
    (odds / rate ratios on a log axis with ``exponentiate``).

    Examples
    --------
    >>> fig = plot_forest(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    names = list(meta["x_names"])
    beta = fixed_coefficients(idata, meta)
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
    label = {"logit": "odds ratio", "log": "rate ratio"}.get(meta["link"], "exp(coefficient)")
    ax.set_xlabel(label if exponentiate else "coefficient (link scale)")
    ax.set_title(f"Population-level effects (thick 50%, thin {prob:.0%})")
    return fig


def plot_caterpillar(
    idata,
    meta,
    design, factor: str | None = None, prob: float = 0.95, max_levels: int = 60
) -> Figure:
    """Random effects per level, sorted, with intervals: one panel per (factor, term).

    Examples
    --------
    >>> fig = plot_caterpillar(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    table = ranef_table(idata, meta, factor, prob)
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


def plot_shrinkage(
    idata, meta: dict, design, factor: str | None = None, term: str = "Intercept", table=None
) -> Figure:
    """No-pooling vs partial-pooling estimates per level: arrows from each level's own
    estimate to its multilevel estimate, toward the population mean (dashed).

    Examples
    --------
    >>> fig = plot_shrinkage(fit.idata, fit.meta, fit.design, term="Days")
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    t = shrinkage_table(idata, meta, design, factor, term) if table is None else table
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


def plot_icc(idata, meta, design, kind: str = "adjusted", draws: dict | None = None) -> Figure:
    """Posterior distribution of the ICC of each grouping factor.

    Examples
    --------
    >>> fig = plot_icc(fit.idata, fit.meta, fit.design)
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    draws = icc_draws(idata, meta, design, kind) if draws is None else draws
    if not draws:
        raise PredictionError("the model has no random intercept: no ICC")
    fig = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for i, (f, d) in enumerate(draws.items()):
        ax.hist(d, bins=40, range=(0, 1), density=True, alpha=0.55, label=f, color=f"C{i}")
        ax.axvline(np.mean(d), color=f"C{i}", lw=1.5)
    ax.set_xlim(0, 1)
    latent = get_family(meta["family"]).latent_scale
    ax.set_xlabel(f"{kind} ICC" + (" (latent scale)" if latent else ""))
    ax.set_ylabel("posterior density")
    ax.set_title("Intraclass correlation")
    ax.legend(fontsize=8)
    return fig


def plot_effects(
    idata, meta: dict, design, variable: str, curve: pd.DataFrame | None = None, **kwargs
) -> Figure:
    """Average predicted mean as ``variable`` varies, conditional (random effects at zero) and
    population-averaged, with posterior bands (points with bars for a categorical variable).

    Examples
    --------
    >>> fig = plot_effects(fit.idata, fit.meta, fit.design, "Days")
    >>> type(fig).__name__, len(fig.axes) > 0
    ('Figure', True)
    """
    c = effect_curve(idata, meta, design, variable, **kwargs) if curve is None else curve
    lo_c, hi_c = c.columns[-2], c.columns[-1]
    categorical = is_categorical(design.data[variable])
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
    prob = get_family(meta["family"]).uses_trials
    ax.set_ylabel("probability" if prob else "expected response")
    ax.set_title(f"Average predicted {ax.get_ylabel()} by {variable}")
    ax.legend(fontsize=8)
    return fig
