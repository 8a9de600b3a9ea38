"""Render a fit's report: one self-contained HTML file (plots embedded as base64 PNG), a
Markdown/text version and a JSON file with every table, figure's data and diagnostic.

Order of the sections: diagnostics verdict, model summary, variance components and ICC (with
the random effects per level), effects, checks, then the sampler plots.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmixed.report.checks.linearity import ALPHA
from bayesmixed.report.render import plots
from bayesmixed.report.render.document import CSS, SECTIONS, Document
from bayesmixed.report.render.report_data import collect, loo_summary, to_jsonable

__all__ = ["SECTIONS", "write_report"]


def _summary_rows(table: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in table.columns if c != "kind"]
    return table[keep].rename_axis("parameter")


def _round(v):
    return "NA" if v is None else round(v)


def _diagnostics(doc: Document, data: dict) -> None:
    d = data["diagnostics"]
    doc.section("diagnostics")
    if d["verdict"] == "approximate":
        _approximate(doc, data)
        return
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
                    "min bulk ESS": _round(d["min_ess_bulk"]),
                    "min tail ESS": _round(d["min_ess_tail"]),
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


def _approximate(doc: Document, data: dict) -> None:
    """The diagnostics section of approximate draws: the approximation's checks only."""
    d, m = data["diagnostics"], data["model"]
    a = m.get("approximation") or {}
    word = (f"APPROXIMATE: {m['method']} draws, no R-hat/ESS; convergence not checked, for "
            "exploration only")
    doc.html.append(f"<div class='verdict approximate'>Sampler diagnostics: {word}</div>")
    doc.md.append(f"**Verdict: APPROXIMATE** ({word})\n")
    k = d.get("pareto_k")
    doc.table(
        pd.DataFrame(
            {
                "value": {
                    "method": m["method"],
                    "Pareto k (PSIS of the importance weights)": "NA" if k is None else round(k, 2),
                    "importance-sampling ESS of the pooled draws": _round(a.get("ess")),
                    "paths x draws per path": f"{len(a.get('elbo', []))} x "
                                              f"{a.get('pooled_draws', 0) // max(1, len(a.get('elbo', [])))}",
                    "L-BFGS iterations per path": ", ".join(map(str, a.get("iterations", []))),
                    "resampled draws": d["n_draws"],
                    "R-hat, ESS, divergences": "not applicable (no Markov chain)",
                }
            }
        ).rename_axis("diagnostic")
    )
    doc.items([f"problem: {p}" for p in d["problems"]] + [f"advice: {a}" for a in d["advice"]])
    if data["checks"].get("warnings"):
        doc.text("Model-check warnings (details under Model checks):")
        doc.items(data["checks"]["warnings"], "warn")


def _summary(doc: Document, idata, meta, design, data: dict) -> None:
    m = data["model"]
    doc.section("summary")
    levels = ", ".join(f"{f}: {n} levels" for f, n in m["levels"].items()) or "none"
    s = m["sampler"]
    doc.items(
        [
            f"Formula: {m['formula']}",
            f"Family: {m['family']} (link {m['link']})",
            f"Observations: {m['n_obs']}; grouping factors: {levels}",
            (f"Sampler: {s.get('backend')}, {s.get('chains')} chains x {s.get('draws')} draws "
             f"(tune {s.get('tune')}, seed {s.get('seed')})") if m["method"] == "nuts" else
            (f"APPROXIMATE: {m['method']} draws ({s.get('draws')} resampled from "
             f"{s.get('chains')} paths, seed {s.get('seed')}); no R-hat/ESS/MCSE"),
        ]
        + ([f"Reference levels: {m['reference_levels']}"] if m["reference_levels"] else [])
        + ([f"Response: {m['response_note']}"] if m["response_note"] else [])
    )
    doc.table(_summary_rows(data["summary"]))
    th = data["summary"][data["summary"]["kind"] == "threshold"]
    if len(th):  # ordinal: P(y <= k) = F(Intercept[k] - eta)
        doc.heading("Thresholds (cut-points on the latent scale: P(y <= k) = F(Intercept[k] - eta))")
        doc.table(_summary_rows(th))


def _variance(doc: Document, idata, meta, design, data: dict) -> None:
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
            lambda: plots.plot_icc(idata, meta, design, draws=draws),
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
            lambda: plots.plot_caterpillar(idata, meta, design),
            rnd["ranef"],
        )
        for f, t in (rnd.get("shrinkage") or {}).items():
            if t is not None:
                doc.figure(
                    f"shrinkage-{f}",
                    f"Shrinkage of the intercept by {f}: no pooling -> partial pooling",
                    lambda t=t: plots.plot_shrinkage(idata, meta, design, table=t),
                    t,
                )


def _effects(doc: Document, idata, meta, design, data: dict) -> None:
    doc.section("effects")
    if "summary_exp" in data:
        label = "Odds ratios" if meta["link"] == "logit" else "Rate ratios"
        doc.heading(f"{label} (exponentiated coefficients)")
        s = data["summary_exp"]
        doc.table(_summary_rows(s[s["kind"] == "fixed"]))
    doc.figure(
        "forest",
        "Population-level effects",
        lambda: plots.plot_forest(idata, meta, design, exponentiate="summary_exp" in data),
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
                lambda e=e, var=var: plots.plot_effects(idata, meta, design, var, curve=e["curve"]),
                e["curve"],
            )


def _checks(doc: Document, idata, meta, design, data: dict) -> None:
    c = data["checks"]
    doc.section("checks")
    if c.get("warnings"):
        doc.items(c["warnings"], "warn")
    else:
        doc.text("No check raised a warning.")
    if "ppc" in c:
        ppc_data = next((c[k] for k in ("rootogram", "categories") if k in c), c.get("groups"))
        doc.figure("ppc", "Posterior predictive check",
                   lambda: plots.plot_ppc(idata, meta, design, c), ppc_data)
        doc.figure(
            "calibration",
            "Calibration" + (" and binned residuals" if "binned_residuals" in c else ""),
            lambda: plots.plot_calibration(idata, meta, design, c),
            {"calibration": c.get("calibration"), "binned_residuals": c.get("binned_residuals")},
        )
        doc.figure(
            "residuals",
            "Randomized quantile residuals",
            lambda: plots.plot_residuals(idata, meta, design, c),
            c.get("residuals"),
        )
    lin = c.get("linearity")
    if lin is not None and len(lin):
        doc.figure(
            "linearity",
            "Linearity on the link scale: binned residuals against each continuous predictor",
            lambda: plots.plot_linearity(idata, meta, design, c),
            {"tests": lin, "bins": c.get("linearity_bins")},
        )
        doc.text(
            f"Curvature test per predictor (flagged when |z| exceeds the threshold: family-wise "
            f"false-alarm rate {ALPHA:.0%} over the {len(lin)} predictor(s))."
        )
        doc.table(lin.drop(columns=["advice"]))
    elif lin is not None and lin.attrs.get("skipped"):
        doc.text(f"Linearity check: {lin.attrs['skipped']}.")
    for key, title in (
        ("metrics", "Classification (in-sample: accuracy, AUC, Brier score)"),
        ("rootogram", "Rootogram data"),
    ):
        if c.get(key) is not None:
            doc.heading(title)
            doc.table(c[key], max_rows=25)
    if c.get("binned_residuals") is not None:
        br = c["binned_residuals"]
        doc.text(
            f"Binned residuals: {int(br['inside'].sum())} of {len(br)} bins within +-2 SE "
            "(about 95% expected)."
        )
    g = c.get("groups")
    if g is not None and len(g):
        doc.heading("Observed vs predicted mean per cluster (90% posterior predictive interval)")
        out = g[g["outside"]]
        doc.text(
            f"{len(out)} of {len(g)} clusters have an observed mean outside their interval "
            "(about 10% expected)." + (" They are:" if len(out) else "")
        )
        if len(out):
            doc.table(out, max_rows=25)
    if c.get("counts"):
        doc.heading("Zeros and dispersion")
        stats = {k: v for k, v in c["counts"].items() if not isinstance(v, dict)}
        doc.table(pd.DataFrame({"value": stats}).rename_axis("statistic"))
    if c.get("influence") is not None and len(c["influence"]):
        doc.heading(
            "Influential clusters (leave-one-cluster-out PSIS, random effects integrated out)"
        )
        doc.figure(
            "influence",
            "Pareto k per cluster",
            lambda: plots.plot_influence(idata, meta, design, c["influence"]),
            c["influence"],
        )
        doc.table(c["influence"], max_rows=10)
    if c.get("influence_notes"):
        doc.items(c["influence_notes"])
    doc.heading("Collinearity (VIF of the population-level design)")
    doc.table(c.get("vif"))
    loo = loo_summary(data.get("loo"))
    if loo:
        doc.heading("PSIS-LOO")
        doc.table(pd.DataFrame({"value": loo}).rename_axis("statistic"))


def _sampler(doc: Document, idata, meta, design) -> None:
    doc.section("sampler")
    if meta.get("method", "nuts") != "nuts":
        doc.text("No trace or rank plots: approximate draws are resampled, not a Markov chain.")
        return
    doc.figure("trace", "Trace and density per chain",
               lambda: plots.plot_trace(idata, meta, design))
    doc.figure("rank", "Rank plots per chain", lambda: plots.plot_rank(idata, meta, design))


def _hypotheses(doc: Document, table: pd.DataFrame | None) -> pd.DataFrame | None:
    if table is None:
        return None
    doc.heading("Hypotheses")
    doc.text("One-sided: posterior probability and evidence ratio p/(1-p); point (=): "
             "Savage-Dickey Bayes factor (posterior over prior density at the point).")
    doc.table(table)
    return table


def write_report(
    idata,
    meta: dict,
    design,
    path: str | Path,
    *,
    config: dict | None = None,
    seed=0,
    dpi: int = 90,
    hypotheses: pd.DataFrame | None = None,
) -> Path:
    """Write ``path`` (a self-contained HTML report) and, next to it, the same report as
    Markdown (``.md``) and all tables, figures' data and diagnostics as JSON (``.json``).

    Parameters
    ----------
    idata, meta, design
        Posterior tree (with its log-likelihood, for LOO), model description and design.
    path
        The HTML file (``report.html``); a directory gets ``report.html`` inside it.
    seed
        Seed of the simulation-based checks.
    config
        Sampler settings, shown in the model section.
    hypotheses
        A table of :func:`~bayesmixed.report.compare.hypothesis.hypothesis_table` to add under
        the model summary (:meth:`bayesmixed.Fit.report` computes it from its hypotheses).

    Returns
    -------
    pathlib.Path
        The path of the HTML file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_report(fit.idata, fit.meta, fit.design,
    ...                     pathlib.Path(tempfile.mkdtemp()) / "report.html")
    >>> path.name, path.read_text().startswith("<!DOCTYPE html>")
    ('report.html', True)
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        path = path / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = collect(idata, meta, design, config, seed=seed)
    doc = Document(dpi)
    _diagnostics(doc, data)
    _summary(doc, idata, meta, design, data)
    hyp = _hypotheses(doc, hypotheses)
    _variance(doc, idata, meta, design, data)
    _effects(doc, idata, meta, design, data)
    _checks(doc, idata, meta, design, data)
    _sampler(doc, idata, meta, design)
    notes = data["notes"] + [e for e in data["errors"] if not e.startswith("Traceback")]
    if notes:
        doc.heading("Notes")
        doc.items(notes)
    title = f"bayesmixed report: {meta['formula']}"
    nav = "".join(f"<a href='#{k}'>{v}</a>" for k, v in SECTIONS.items())
    sub = f"{meta['family']} model, link {meta['link']}"
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
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
        "hypotheses": None if hyp is None else hyp.to_dict(orient="index"),
        "figures": doc.figures,
        "notes": data["notes"],
        "errors": data["errors"],
    }
    path.with_suffix(".json").write_text(
        json.dumps(to_jsonable(payload), indent=1), encoding="utf-8"
    )
    return path
