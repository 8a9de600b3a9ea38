"""Render a fit's summary as text (the brms layout) and as HTML for notebooks."""

from __future__ import annotations

import html

import pandas as pd

from bayesmixed.report.core.params import group_levels
from bayesmixed.report.tables.diagnostics import Diagnostics, diagnose
from bayesmixed.report.tables.summary import approximate_note, summary_table

__all__ = ["format_fit", "format_table", "html_fit"]

_HEAD = ["Estimate", "Est.Error", "l-95% CI", "u-95% CI", "Rhat", "Bulk_ESS", "Tail_ESS"]


def _rows(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "Estimate": table["mean"],
            "Est.Error": table["sd"],
            "l-95% CI": table["2.5%"],
            "u-95% CI": table["97.5%"],
            "Rhat": table["r_hat"],
            "Bulk_ESS": table["ess_bulk"],
            "Tail_ESS": table["ess_tail"],
        }
    )
    return out


def format_table(table: pd.DataFrame) -> str:
    """Fixed-width text of summary rows.

    Examples
    --------
    >>> print(format_table(fit.summary().loc[["Days"]]).splitlines()[0])
         Estimate Est.Error l-95% CI u-95% CI Rhat Bulk_ESS Tail_ESS
    """
    if table.empty:
        return "  (none)"
    rows = _rows(table)
    fmt = {c: (lambda v: f"{v:.2f}") for c in ["Estimate", "Est.Error", "l-95% CI", "u-95% CI"]}
    fmt["Rhat"] = lambda v: f"{v:.2f}" if pd.notna(v) else "NA"
    fmt["Bulk_ESS"] = fmt["Tail_ESS"] = lambda v: f"{int(v)}" if pd.notna(v) else "NA"
    return rows.to_string(formatters=fmt)


def _sections(meta, table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for blk_factor, n_levels in group_levels(meta).items():
        names = [n for n in table.index if n.endswith(f"|{blk_factor})")]
        suffix = f"|{blk_factor})"
        sub = table.loc[names].rename(index=lambda n, s=suffix: n.replace(s, ")"))
        out.append((f"~{blk_factor} (Number of levels: {n_levels})", sub))
    # an ordinal model's thresholds come first, as brms prints them (Intercept[1], ...)
    fixed = pd.concat([table[table["kind"] == "threshold"], table[table["kind"] == "fixed"]])
    out.append(("Regression Coefficients:", fixed))
    aux = table[table["kind"] == "aux"]
    if len(aux):
        out.append(("Further Distributional Parameters:", aux))
    return out


def format_fit(
    idata,
    meta: dict,
    design=None,
    config: dict | None = None,
    *,
    summary: pd.DataFrame | None = None,
    diagnostics: Diagnostics | None = None,
) -> str:
    """The brms-style printed summary of a fit.

    Parameters
    ----------
    idata, meta, design
        Posterior tree, model description and design of the fit (the design is not read).
    config
        Sampler settings (the ``Draws:`` line; left out when empty).
    summary, diagnostics
        The fit's :func:`~bayesmixed.report.tables.summary.summary_table` and
        :func:`~bayesmixed.report.tables.diagnostics.diagnose` when already computed.

    Examples
    --------
    >>> print(format_fit(fit.idata, fit.meta, fit.design).splitlines()[2])
    Formula: Reaction ~ Days + (1 + Days | Subject)
    """
    cfg = config
    table = summary_table(idata, meta) if summary is None else summary
    diag = diagnose(idata, meta) if diagnostics is None else diagnostics
    method = meta.get("method", "nuts")
    # issue 14: approximate draws are labelled in the first line a reader sees
    lines = [approximate_note(method)] if method != "nuts" else []
    lines += [
        f" Family: {meta['family']} ",
        f"  Links: mu = {meta['link']}",
        f"Formula: {meta['formula']}",
        f"   Data: {meta['n_obs']} observations"
        + (f" (sampled as {meta['n_cells']} aggregated cells)" if meta.get("n_cells") else ""),
    ]
    if cfg and method != "nuts":
        lines.append(
            f"  Draws: {cfg['draws']} draws resampled from {cfg['chains']} {method} paths "
            f"(seed {cfg['seed']})"
        )
    elif cfg:
        lines.append(
            f"  Draws: {cfg['chains']} chains, each with iter = {cfg['draws'] + cfg['tune']}; "
            f"warmup = {cfg['tune']}; total post-warmup draws = {cfg['chains'] * cfg['draws']} "
            f"(backend {cfg['backend']}, seed {cfg['seed']})"
        )
    if meta["parameterization"]:
        parts = []
        for f, c in meta["parameterization"].items():
            kind = "centered" if c["centered"] else "non-centered"
            if c.get("partial"):  # issue 5: weights between the two forms, per level
                lo, med, hi = c["weights"]
                kind = f"partially centered, weights {lo:.2f}-{hi:.2f} (median {med:.2f})"
            if c.get("pivot_level"):  # issue 6: a data-rich level carries the intercept
                kind += f", pivot level {c['pivot_level']!r}"
            why = f"auto, information ratio {c['ratio']:.2f}" if c["rule"] == "auto" else "user"
            if c.get("integrated_into"):  # issue 13: out of the nested factor's prior
                kind = f"integrated into {c['integrated_into']}'s prior, drawn from its conditional"
            if c.get("marginal"):  # issue 5: gaussian effects integrated out exactly
                kind, why = "integrated out", "exact for a gaussian model; effects drawn afterwards"
            parts.append(f"{f}: {kind} ({why})")
        lines.append("Parameterization: " + "; ".join(parts))
    sections = _sections(meta, table)
    if meta["blocks"]:
        lines += ["", "Multilevel Hyperparameters:"]
    for title, sub in sections:
        if title.startswith("~"):
            lines += [title, format_table(sub), ""]
        else:
            lines += ["", title, format_table(sub)]
    if meta.get("reference_levels"):
        refs = ", ".join(f"{k} = {v!r}" for k, v in meta["reference_levels"].items())
        lines += ["", f"Reference levels: {refs}"]
    if meta.get("response_note"):
        lines.append(f"Response: {meta['response_note']}")
    if meta.get("ar"):
        lines.append(f"Residuals: {meta['ar']}, AR(1) within series (sigma: marginal residual "
                     "sd; ar[1]: lag-1 correlation; LOO conditional on the previous row)")
    lines += ["", str(diag)]
    return "\n".join(lines)


def html_fit(
    idata,
    meta: dict,
    design=None,
    *,
    summary: pd.DataFrame | None = None,
    diagnostics: Diagnostics | None = None,
) -> str:
    """HTML version of :func:`format_fit` for notebooks (same parameters).

    Examples
    --------
    >>> html_fit(fit.idata, fit.meta, fit.design).lstrip().startswith("<")
    True
    """
    method = meta.get("method", "nuts")
    parts = [
        "<div class='bayesmixed-fit'>",
        *([f"<p><b>{html.escape(approximate_note(method))}</b></p>"] if method != "nuts" else []),
        f"<p><b>Family</b>: {html.escape(meta['family'])} (link {html.escape(meta['link'])})<br>"
        f"<b>Formula</b>: <code>{html.escape(meta['formula'])}</code><br>"
        f"<b>Observations</b>: {meta['n_obs']}</p>",
        (diagnose(idata, meta) if diagnostics is None else diagnostics)._repr_html_(),
    ]
    table = summary_table(idata, meta) if summary is None else summary
    for title, sub in _sections(meta, table):
        parts.append(f"<h4>{html.escape(title)}</h4>")
        parts.append(_rows(sub).round(3).to_html(na_rep="NA"))
    if meta.get("reference_levels"):
        refs = ", ".join(f"{k} = {v!r}" for k, v in meta["reference_levels"].items())
        parts.append(f"<p>Reference levels: {html.escape(refs)}</p>")
    parts.append("</div>")
    return "\n".join(parts)
