"""Everything the rendered report shows, gathered as data: tables (DataFrames), dicts and
figure data, section by section. :mod:`bayesmixed.report.render.html_report` renders it.

Each step is guarded: a quantity that does not apply to the model (an ICC without a random
intercept, a median odds ratio under an identity link) is left out with the reason recorded in
``notes``; an unexpected failure is recorded in ``errors`` rather than hidden.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from bayesmixed.errors import BayesmixedError
from bayesmixed.report.checks import checks as ch
from bayesmixed.report.compare import loo as compare
from bayesmixed.report.core.params import group_levels
from bayesmixed.report.predict import effects
from bayesmixed.report.tables import r2, ranef, variance
from bayesmixed.report.tables.diagnostics import diagnose
from bayesmixed.report.tables.summary import summary_table

__all__ = ["collect", "fixed_variables"]

MAX_EFFECT_VARIABLES = 6


def fixed_variables(design) -> list[str]:
    """Data columns used by the population-level terms, in formula order.

    Examples
    --------
    >>> fixed_variables(fit.design)
    ['Days']
    """
    out: list[str] = []
    for term in design.fixed_matrix.terms.values():
        for v in sorted(getattr(term, "var_names", set()) or set()):
            if v in design.data.columns and v not in out:
                out.append(v)
    return out


class _Collector:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.errors: list[str] = []

    def run(self, what: str, func: Callable, *args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return func(*args, **kwargs)
        except BayesmixedError as exc:
            self.notes.append(f"{what}: not available ({exc})")
        except Exception as exc:
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}")
            self.errors.append(traceback.format_exc(limit=3))
        return None


def _model_info(meta: dict, config: dict | None) -> dict:
    cfg = config or {}
    return {
        "formula": meta["formula"],
        "family": meta["family"],
        "link": meta["link"],
        "n_obs": meta["n_obs"],
        "levels": group_levels(meta),
        "sampler": {
            k: cfg.get(k) for k in ("backend", "chains", "draws", "tune", "target_accept", "adaptation", "seed")
        },
        "method": meta.get("method", "nuts"),
        "approximation": meta.get("approximation"),
        "parameterization": meta.get("parameterization", {}),
        "reference_levels": meta.get("reference_levels", {}),
        "response_note": meta.get("response_note"),
    }


def _slope_terms(meta: dict) -> list[str]:
    terms = []
    for b in meta["blocks"]:
        for t in b["terms"]:
            if t != "Intercept" and t not in terms:
                terms.append(t)
    return terms


def collect(
    idata, meta: dict, design, config: dict | None = None, seed=0, effect_draws: int | None = 400
) -> dict:
    """Gather every report quantity of a fit.

    Parameters
    ----------
    idata, meta, design
        Posterior tree (with its log-likelihood, for LOO), model description and design.
    config
        Sampler settings, shown under ``model``.
    seed
        Seed of the simulation-based checks and of the effect draws.
    effect_draws
        Posterior draws used for the marginal effects (``None``: all).

    Returns
    -------
    dict
        Keys ``model``, ``diagnostics``, ``summary``, ``summary_exp``, ``variance`` (varcorr,
        icc, icc_conditional, icc_draws, mor, r2, vpc), ``effects`` (per variable: table and
        curve), ``random`` (ranef, coef, shrinkage), ``checks`` (the :func:`check` dict, loo),
        ``notes``, ``errors``.

    Examples
    --------
    >>> data = collect(fit.idata, fit.meta, fit.design)
    >>> {"model", "diagnostics", "summary", "variance", "checks"} <= set(data)
    True
    """
    c = _Collector()
    diag = diagnose(idata, meta)
    out: dict = {"model": _model_info(meta, config), "diagnostics": diag.to_dict()}
    out["diagnostics_text"] = str(diag)
    out["summary"] = summary_table(idata, meta)
    if meta["link"] in ("logit", "log"):
        out["summary_exp"] = summary_table(idata, meta, exponentiate=True)
    has_re = bool(meta["blocks"])
    var: dict = {}
    if has_re:
        var["varcorr"] = c.run("VarCorr", variance.varcorr_table, idata, meta)
        var["icc"] = c.run("ICC", variance.icc_table, idata, meta, design, "adjusted")
        var["icc_conditional"] = c.run(
            "conditional ICC", variance.icc_table, idata, meta, design, "conditional"
        )
        var["icc_draws"] = c.run("ICC draws", variance.icc_draws, idata, meta, design, "adjusted")
        if meta["link"] in ("logit", "log", "cloglog"):
            var["mor"] = c.run("median odds/rate ratio", variance.mor_table, idata, meta)
        slopes = _slope_terms(meta)
        if slopes:
            var["vpc"] = c.run(
                f"VPC over {slopes[0]}", variance.vpc_table, idata, meta, design, slopes[0]
            )
            var["vpc_term"] = slopes[0]
    else:
        c.notes.append("no grouping factor: no variance components, ICC or random effects")
    var["r2"] = c.run("R2", r2.r2_table, idata, meta, design)
    out["variance"] = var

    eff: dict = {}
    for v in fixed_variables(design)[:MAX_EFFECT_VARIABLES]:
        eff[v] = {
            "table": c.run(
                f"effects of {v}", effects.effects_table, idata, meta, design, v, draws=effect_draws, seed=seed
            ),
            "curve": c.run(
                f"effect curve of {v}",
                effects.effect_curve,
                idata, meta, design,
                v,
                draws=effect_draws,
                seed=seed,
                n_points=15,
            ),
        }
    out["effects"] = eff

    rnd: dict = {}
    if has_re:
        rnd["ranef"] = c.run("ranef", ranef.ranef_table, idata, meta)
        rnd["coef"] = c.run("coef", ranef.coef_table, idata, meta)
        shrink = {}
        for f in dict.fromkeys(b["factor"] for b in meta["blocks"] if "Intercept" in b["terms"]):
            shrink[f] = c.run(f"shrinkage of {f}", ranef.shrinkage_table, idata, meta, design, f)
        rnd["shrinkage"] = shrink
    out["random"] = rnd

    checks = c.run("model checks", ch.check, idata, meta, design, seed) or {"warnings": []}
    out["checks"] = checks
    out["loo"] = c.run("PSIS-LOO", compare.loo, idata, meta, design, False)
    out["notes"], out["errors"] = c.notes, c.errors
    return out


def loo_summary(res) -> dict | None:
    """JSON-able summary of an ``ELPDDataLOO``."""
    if res is None:
        return None
    k = np.asarray(res.pareto_k.values, dtype=float)
    return {
        "elpd_loo": float(res.elpd),
        "se": float(res.se),
        "p_loo": float(res.p),
        "good_k": float(res.good_k),
        "n_k_above_good_k": int(np.sum(k > res.good_k)),
        "n_k_above_1": int(np.sum(k > 1)),
        "n_k_nan": int(np.sum(~np.isfinite(k))),
        "n_data_points": int(res.n_data_points),
        "n_samples": int(res.n_samples),
    }


def to_jsonable(obj):
    """Convert report data (DataFrames, arrays, numpy scalars, DataTrees) to JSON types."""
    if isinstance(obj, pd.DataFrame):
        df = (
            obj.reset_index()
            if obj.index.name is not None or not isinstance(obj.index, pd.RangeIndex)
            else obj
        )
        return [to_jsonable(r) for r in df.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if obj is None or isinstance(obj, str | int):
        return obj
    if obj is pd.NA:
        return None
    return str(obj)
