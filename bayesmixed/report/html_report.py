"""Render a fit's report: one self-contained HTML file (plots embedded as base64 PNG), a
Markdown/text version and a JSON file with every table, figure's data and diagnostic.

Order of the sections: diagnostics verdict, model summary, variance components and ICC (with
the random effects per level), effects, checks, then the sampler plots.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmixed.report import plots
from bayesmixed.report.report_data import collect, loo_summary, to_jsonable

__all__ = ["SECTIONS", "write_report"]

SECTIONS = {
    "diagnostics": "Diagnostics",
    "summary": "Model summary",
    "variance": "Variance components and ICC",
    "effects": "Effects",
    "checks": "Model checks",
    "sampler": "Sampler plots",
}

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:24px auto;padding:0 16px;color:#1f2328;line-height:1.45}
h1{font-size:1.6em;margin-bottom:4px}
h2{border-bottom:2px solid #d0d7de;padding-bottom:4px;margin-top:36px}
h3{margin-top:22px;font-size:1.1em}
table{border-collapse:collapse;font-size:0.85em;margin:8px 0 14px 0}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:right}th{background:#f6f8fa}
td:first-child,th:first-child{text-align:left}
.verdict{padding:12px 16px;border-radius:6px;font-size:1.15em;font-weight:600;color:white}
.ok{background:#1a7f37}.warning{background:#9a6700}.fail{background:#cf222e}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px}
figure{margin:10px 0 22px 0}figure img{max-width:100%;border:1px solid #eaeef2}
figcaption{font-size:0.85em;color:#57606a}nav a{margin-right:14px}
code{background:#f6f8fa;padding:1px 4px}.note{color:#57606a;font-size:0.9em}
"""


def _fmt(v) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "NA"
        return f"{v:.3g}" if abs(v) >= 1e4 or (0 < abs(v) < 1e-3) else f"{v:.3f}"
    return str(v)


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Index as ordinary first column(s) (a named index); a plain range index dropped."""
    if df.index.name is not None or not isinstance(df.index, pd.RangeIndex):
        return df.reset_index()
    return df


def _html_table(df: pd.DataFrame | None, max_rows: int = 60) -> str:
    if df is None or len(df) == 0:
        return "<p class='note'>(none)</p>"
    more = len(df) - max_rows
    d = _flat(df.head(max_rows)).dropna(axis=1, how="all")
    body = d.to_html(formatters=dict.fromkeys(d.columns, _fmt), na_rep="", border=0, index=False)
    return body + (f"<p class='note'>... {more} more rows in the JSON file</p>" if more > 0 else "")


def _md_table(df: pd.DataFrame | None, max_rows: int = 60) -> str:
    if df is None or len(df) == 0:
        return "(none)\n"
    d = _flat(df.head(max_rows)).dropna(axis=1, how="all")
    cols = [str(c) for c in d.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in d.itertuples(index=False):
        lines.append("| " + " | ".join("" if _fmt(v) == "NA" else _fmt(v) for v in row) + " |")
    if len(df) > max_rows:
        lines.append(f"\n... {len(df) - max_rows} more rows in the JSON file")
    return "\n".join(lines) + "\n"


class _Doc:
    """Accumulates the HTML and Markdown bodies and the figures' data."""

    def __init__(self, dpi: int) -> None:
        self.html: list[str] = []
        self.md: list[str] = []
        self.figures: dict[str, dict] = {}
        self.dpi = dpi

    def section(self, key: str) -> None:
        self.html.append(f"<h2 id='{key}'>{SECTIONS[key]}</h2>")
        self.md.append(f"\n## {SECTIONS[key]}\n")

    def heading(self, text: str) -> None:
        self.html.append(f"<h3>{html.escape(text)}</h3>")
        self.md.append(f"\n### {text}\n")

    def text(self, text: str, cls: str | None = None) -> None:
        c = f" class='{cls}'" if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md.append(text + "\n")

    def items(self, items: list[str], cls: str | None = None) -> None:
        if not items:
            return
        lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
        self.html.append(f"<div class='{cls}'><ul>{lis}</ul></div>" if cls else f"<ul>{lis}</ul>")
        self.md.append("\n".join(f"- {i}" for i in items) + "\n")

    def table(self, df: pd.DataFrame | None, max_rows: int = 60) -> None:
        self.html.append(_html_table(df, max_rows))
        self.md.append(_md_table(df, max_rows))

    def figure(self, name: str, title: str, make: Callable, data=None) -> None:
        import matplotlib.pyplot as plt

        try:
            fig = make()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=self.dpi)
            plt.close(fig)
        except Exception as exc:
            self.text(f"Figure '{title}' could not be drawn: {type(exc).__name__}: {exc}", "warn")
            self.figures[name] = {"title": title, "error": str(exc), "data": to_jsonable(data)}
            return
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        self.html.append(
            f"<figure id='fig-{name}'><img alt='{html.escape(title)}' "
            f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(title)}</figcaption></figure>"
        )
        self.md.append(
            f"*Figure: {title} (embedded in the HTML report; its data in the JSON file)*\n"
        )
        self.figures[name] = {"title": title, "data": to_jsonable(data)}


def _summary_rows(table: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in table.columns if c != "kind"]
    return table[keep]


def _diagnostics(doc: _Doc, data: dict) -> None:
    d = data["diagnostics"]
    doc.section("diagnostics")
    verdict = d["verdict"]
    word = {
        "ok": "OK: the results can be used",
        "warning": "WARNING: usable with care",
        "fail": "FAIL: do not trust the results",
    }[verdict]
    doc.html.append(f"<div class='verdict {verdict}'>Sampler diagnostics: {word}</div>")
    doc.md.append(f"**Verdict: {verdict.upper()}** ({word})\n")
    doc.table(
        pd.DataFrame(
            {
                "value": {
                    "max R-hat": d["max_rhat"],
                    "min bulk ESS": d["min_ess_bulk"],
                    "min tail ESS": d["min_ess_tail"],
                    "divergences": d["divergences"],
                    "tree-depth hits": d["treedepth_hits"],
                    "min E-BFMI": d["ebfmi_min"],
                    "chains x draws": f"{d['n_chains']} x {d['n_draws']}",
                }
            }
        ).rename_axis("diagnostic")
    )
    doc.items([f"problem: {p}" for p in d["problems"]] + [f"advice: {a}" for a in d["advice"]])
    if data["checks"].get("warnings"):
        doc.text("Model-check warnings (details under Model checks):")
        doc.items(data["checks"]["warnings"], "warn")


def _summary(doc: _Doc, fit, data: dict) -> None:
    m = data["model"]
    doc.section("summary")
    levels = ", ".join(f"{f}: {n} levels" for f, n in m["levels"].items()) or "none"
    s = m["sampler"]
    doc.items(
        [
            f"Formula: {m['formula']}",
            f"Family: {m['family']} (link {m['link']})",
            f"Observations: {m['n_obs']}; grouping factors: {levels}",
            f"Sampler: {s.get('backend')}, {s.get('chains')} chains x {s.get('draws')} draws "
            f"(tune {s.get('tune')}, seed {s.get('seed')})",
        ]
        + ([f"Reference levels: {m['reference_levels']}"] if m["reference_levels"] else [])
        + ([f"Response: {m['response_note']}"] if m["response_note"] else [])
    )
    doc.table(_summary_rows(data["summary"]))


def _variance(doc: _Doc, fit, data: dict) -> None:
    v = data["variance"]
    doc.section("variance")
    if v.get("varcorr") is not None:
        doc.heading("Variance components (lme4 VarCorr layout, posterior means and 95% intervals)")
        vc = v["varcorr"]
        doc.table(vc[vc["std_dev"].notna()].dropna(axis=1, how="all"))
        cors = vc[vc["corr"].notna()]
        if len(cors):
            doc.table(cors[["group", "name", "corr", "corr_lo", "corr_hi"]])
    if v.get("icc") is not None:
        doc.heading("Intraclass correlation (adjusted and conditional, Nakagawa et al. 2017)")
        doc.table(pd.concat([v["icc"], v.get("icc_conditional")]))
        draws = v.get("icc_draws") or {}
        doc.figure(
            "icc",
            "Posterior of the adjusted ICC per factor",
            lambda: plots.plot_icc(fit, draws=draws),
            {f: np.histogram(d, bins=40, range=(0, 1))[0] for f, d in draws.items()},
        )
    if v.get("mor") is not None:
        doc.heading("Median odds / rate ratio (Larsen & Merlo 2005)")
        doc.table(v["mor"])
    if v.get("vpc") is not None:
        term = v["vpc_term"]
        doc.heading(
            f"Variance partition coefficient as a function of {term} (Goldstein et al. 2002)"
        )
        vpc = v["vpc"]
        step = max(1, len(vpc) // 8)
        doc.table(vpc.iloc[::step])
    if v.get("r2") is not None:
        doc.heading("R2 (Bayesian R2, Gelman et al. 2019; marginal / conditional, Nakagawa)")
        doc.table(v["r2"])
    rnd = data["random"]
    if rnd.get("ranef") is not None:
        doc.heading("Random effects per level")
        doc.figure(
            "caterpillar",
            "Random effects per level (caterpillar)",
            lambda: plots.plot_caterpillar(fit),
            rnd["ranef"],
        )
        for f, t in (rnd.get("shrinkage") or {}).items():
            if t is not None:
                doc.figure(
                    f"shrinkage-{f}",
                    f"Shrinkage of the intercept by {f}: no pooling -> partial pooling",
                    lambda t=t: plots.plot_shrinkage(fit, table=t),
                    t,
                )


def _effects(doc: _Doc, fit, data: dict) -> None:
    doc.section("effects")
    if "summary_exp" in data:
        label = "Odds ratios" if fit.meta["link"] == "logit" else "Rate ratios"
        doc.heading(f"{label} (exponentiated coefficients)")
        s = data["summary_exp"]
        doc.table(_summary_rows(s[s["kind"] == "fixed"]))
    doc.figure(
        "forest",
        "Population-level effects",
        lambda: plots.plot_forest(fit, exponentiate="summary_exp" in data),
        data["summary"][data["summary"]["kind"] == "fixed"],
    )
    for var, e in data["effects"].items():
        doc.heading(
            f"Average marginal effect of {var} (conditional: typical cluster; "
            "population-averaged: integrated over clusters)"
        )
        doc.table(e["table"])
        if e["curve"] is not None:
            doc.figure(
                f"effect-{var}",
                f"Average predicted response by {var}",
                lambda e=e, var=var: plots.plot_effects(fit, var, curve=e["curve"]),
                e["curve"],
            )


def _checks(doc: _Doc, fit, data: dict) -> None:
    c = data["checks"]
    doc.section("checks")
    if c.get("warnings"):
        doc.items(c["warnings"], "warn")
    else:
        doc.text("No check raised a warning.")
    if "ppc" in c:
        ppc_data = c.get("rootogram") if "rootogram" in c else c.get("groups")
        doc.figure("ppc", "Posterior predictive check", lambda: plots.plot_ppc(fit, c), ppc_data)
        doc.figure(
            "calibration",
            "Calibration" + (" and binned residuals" if "binned_residuals" in c else ""),
            lambda: plots.plot_calibration(fit, c),
            {"calibration": c.get("calibration"), "binned_residuals": c.get("binned_residuals")},
        )
        doc.figure(
            "residuals",
            "Randomized quantile residuals",
            lambda: plots.plot_residuals(fit, c),
            c.get("residuals"),
        )
    for key, title in (
        ("metrics", "Classification (in-sample: accuracy, AUC, Brier score)"),
        ("binned_residuals", "Binned residuals"),
        ("rootogram", "Rootogram data"),
        ("groups", "Observed vs predicted mean per cluster (90% predictive interval)"),
    ):
        if c.get(key) is not None:
            doc.heading(title)
            doc.table(c[key], max_rows=25)
    if c.get("counts"):
        doc.heading("Zeros and dispersion")
        doc.table(
            pd.DataFrame(
                {"value": {k: v for k, v in c["counts"].items() if not isinstance(v, dict)}}
            )
        )
    if c.get("influence") is not None and len(c["influence"]):
        doc.heading(
            "Influential clusters (leave-one-cluster-out PSIS, random effects integrated out)"
        )
        doc.figure(
            "influence",
            "Pareto k per cluster",
            lambda: plots.plot_influence(fit, c["influence"]),
            c["influence"],
        )
        doc.table(c["influence"], max_rows=10)
    doc.heading("Collinearity (VIF of the population-level design)")
    doc.table(c.get("vif"))
    loo = loo_summary(data.get("loo"))
    if loo:
        doc.heading("PSIS-LOO")
        doc.table(pd.DataFrame({"value": loo}))


def _sampler(doc: _Doc, fit) -> None:
    doc.section("sampler")
    doc.figure("trace", "Trace and density per chain", lambda: plots.plot_trace(fit))
    doc.figure("rank", "Rank plots per chain", lambda: plots.plot_rank(fit))


def write_report(fit, path: str | Path, *, seed=0, dpi: int = 90) -> Path:
    """Write ``path`` (a self-contained HTML report) and, next to it, the same report as
    Markdown (``.md``) and all tables, figures' data and diagnostics as JSON (``.json``).

    Parameters
    ----------
    path
        The HTML file (``report.html``); a directory gets ``report.html`` inside it.
    seed
        Seed of the simulation-based checks.

    Returns
    -------
    pathlib.Path
        The path of the HTML file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_report(fit, pathlib.Path(tempfile.mkdtemp()) / "report.html")
    >>> path.name, path.read_text().startswith("<!DOCTYPE html>")
    ('report.html', True)
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        path = path / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = collect(fit, seed=seed)
    doc = _Doc(dpi)
    _diagnostics(doc, data)
    _summary(doc, fit, data)
    _variance(doc, fit, data)
    _effects(doc, fit, data)
    _checks(doc, fit, data)
    _sampler(doc, fit)
    notes = data["notes"] + [e for e in data["errors"] if not e.startswith("Traceback")]
    if notes:
        doc.heading("Notes")
        doc.items(notes)
    title = f"bayesmixed report: {fit.meta['formula']}"
    nav = "".join(f"<a href='#{k}'>{v}</a>" for k, v in SECTIONS.items())
    sub = f"{fit.meta['family']} model, link {fit.meta['link']}"
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='note'>{html.escape(sub)}</p>"
        f"<nav>{nav}</nav>{''.join(doc.html)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    path.with_suffix(".md").write_text(f"# {title}\n" + "\n".join(doc.md), encoding="utf-8")
    payload = {
        "model": data["model"],
        "diagnostics": data["diagnostics"],
        "summary": data["summary"],
        "summary_exponentiated": data.get("summary_exp"),
        "variance": {k: v for k, v in data["variance"].items() if k != "icc_draws"},
        "effects": data["effects"],
        "random": data["random"],
        "checks": {k: v for k, v in data["checks"].items() if k != "ppc"},
        "loo": loo_summary(data.get("loo")),
        "figures": doc.figures,
        "notes": data["notes"],
        "errors": data["errors"],
    }
    path.with_suffix(".json").write_text(
        json.dumps(to_jsonable(payload), indent=1), encoding="utf-8"
    )
    return path
