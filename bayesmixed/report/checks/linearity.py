"""Linearity of continuous predictors on the link scale: binned residuals against each
continuous population-level predictor, with a curvature test.

For every continuous predictor ``x`` (a numeric data column with at least
:data:`MIN_DISTINCT` distinct values that a population-level term uses, also through a
transform such as ``log(x)`` or ``I(x**2)``; grouping columns excluded) the rows are sorted by
``x`` and cut into bins holding about equal numbers of trials (rows, outside binomial models).
Per bin ``b``:

- ``observed`` = sum of ``y`` / trials, ``predicted`` = sum of the posterior mean of the
  expected response ``E[y_i]`` / trials, ``residual = observed - predicted``;
- ``se``: binary / binomial, ``sqrt(p (1 - p) / n)`` at the bin's predicted proportion ``p``
  with ``n`` trials (Gelman & Hill 2007, sec. 5.6); other families,
  ``sqrt(sum_i V_i) / n_b`` with ``V_i`` the posterior mean of the family's variance function
  at the fitted mean of row ``i`` (the model-based standard error of the bin mean). Outside
  bernoulli data (where the mean fixes the variance) the se is multiplied by
  ``sqrt(max(1, phi))``, with ``phi = sum_i (y_i - E_i)^2 / V_i / (N - p)`` the Pearson
  dispersion ratio, so that overdispersion (reported separately) is not read as curvature;
- ``inside``: ``|residual| <= 2 se``.

**Curvature test.** If the predictor enters the link scale linearly and the model is right,
the bin residuals have mean zero whatever the bin centre. With the standardized bin centres
``t_b`` and weights ``w_b = 1 / se_b^2``, ``q_b`` is ``t_b^2`` made orthogonal to ``1`` and
``t_b`` under the weights; the weighted least-squares coefficient of the residuals on ``q`` is
``g = sum w q r / sum w q^2`` with standard error ``1 / sqrt(sum w q^2)``, and ``z = g / se(g)``.
A predictor is flagged when ``|z| > Phi^-1(1 - alpha / (2 K))`` (two-sided, Bonferroni over
the ``K`` predictors checked), so the chance of any false alarm per fit is at most ``alpha``
(default :data:`ALPHA` = 1%) under the normal approximation. The residuals of a fitted model
vary less than ``se`` says (the fit has absorbed the linear trend and part of the noise), so
the test is conservative. Also reported: the share of bins outside the +-2 se band (about 5%
expected), which does not raise the flag on its own.

Families: every family with an expected value and a variance function (all of bayesmixed's);
a family without either is skipped with the reason in ``attrs["skipped"]``.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
from scipy import stats

from bayesmixed.families import get_family
from bayesmixed.report.checks.residuals import fitted_mean
from bayesmixed.report.core.linpred import aux_draws

__all__ = [
    "ALPHA",
    "MIN_DISTINCT",
    "binned_by_predictor",
    "continuous_predictors",
    "curvature_test",
    "linearity_checks",
    "pearson_dispersion",
    "suggested_formula",
]

#: family-wise false-alarm rate of the curvature flag over the predictors of one fit
ALPHA = 0.01
#: fewest distinct values of a numeric column treated as continuous
MIN_DISTINCT = 8


def continuous_predictors(design) -> list[str]:
    """Numeric data columns with at least :data:`MIN_DISTINCT` distinct values used by the
    population-level terms (also inside a transform), in formula order.

    Examples
    --------
    >>> continuous_predictors(fit.design)
    ['Days']
    """
    data = design.data
    fm = getattr(design, "fixed_matrix", None)
    names: list[str] = []
    if fm is not None and hasattr(fm, "terms"):
        for term in fm.terms.values():
            names += sorted(v for v in (getattr(term, "var_names", None) or ()) if v)
    else:  # no formulae matrix (e.g. a loaded design): the column names the formula mentions
        names = re.findall(r"[A-Za-z_.][\w.]*", design.spec.fixed)
    skip = set()
    for f in design.spec.factors:
        skip.update(c.strip() for c in f.split(":"))
    out: list[str] = []
    for v in dict.fromkeys(names):
        if v not in data.columns or v in skip:
            continue
        col = data[v]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            continue
        if col.nunique() >= MIN_DISTINCT:
            out.append(v)
    return out


def binned_by_predictor(
    x: np.ndarray,
    y: np.ndarray,
    expected: np.ndarray,
    variance: np.ndarray,
    trials: np.ndarray | None = None,
    n_bins: int | None = None,
    binary_se: bool = False,
    dispersion: float = 1.0,
) -> pd.DataFrame:
    """Binned residuals against the predictor ``x`` (see the module docstring).

    Parameters
    ----------
    x, y
        Predictor and response per row (``y``: successes when ``trials`` is given).
    expected, variance
        Posterior mean of the expected response and of its variance per row.
    trials
        Trials per row (binomial), else every row counts once.
    n_bins
        Number of bins; default ``clip(sqrt(rows), 5, 20)``, at most the distinct values of x.
    binary_se
        Use the Gelman & Hill standard error ``sqrt(p (1 - p) / n)`` (binary / binomial).
    dispersion
        Multiply the standard errors by ``sqrt(max(1, dispersion))``.

    Returns
    -------
    pandas.DataFrame
        Columns bin, n, x (trial-weighted mean of the predictor), x_lo, x_hi, predicted,
        observed, residual, se, inside.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> p = 1 / (1 + np.exp(-x))
    >>> y = rng.binomial(1, p)
    >>> t = binned_by_predictor(x, y, p, p * (1 - p), n_bins=10, binary_se=True)
    >>> len(t), int(t["n"].sum())
    (10, 400)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = np.ones_like(y) if trials is None else np.asarray(trials, dtype=float)
    if n_bins is None:
        n_bins = int(np.clip(np.sqrt(y.size), 5, 20))
    n_bins = max(1, min(n_bins, np.unique(x).size))
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(n[order])
    which = np.minimum((cum - 1) * n_bins // cum[-1], n_bins - 1).astype(int)
    inflate = np.sqrt(max(1.0, float(dispersion)))
    rows = []
    for b in range(n_bins):
        sel = order[which == b]
        if sel.size == 0:
            continue
        nb = n[sel].sum()
        pred = float(expected[sel].sum() / nb)
        obs = float(y[sel].sum() / nb)
        if binary_se:
            se = np.sqrt(max(pred * (1 - pred), 0.0) / nb)
        else:
            se = np.sqrt(variance[sel].sum()) / nb
        se = float(se * inflate)
        rows.append(
            {
                "bin": b,
                "n": nb,
                "x": float(np.sum(n[sel] * x[sel]) / nb),
                "x_lo": float(x[sel].min()),
                "x_hi": float(x[sel].max()),
                "predicted": pred,
                "observed": obs,
                "residual": obs - pred,
                "se": se,
                "inside": bool(abs(obs - pred) <= 2 * se),
            }
        )
    return pd.DataFrame(rows)


def pearson_dispersion(
    y: np.ndarray, expected: np.ndarray, variance: np.ndarray, n_params: int
) -> float:
    """Pearson dispersion ratio ``sum_i (y_i - E_i)^2 / V_i / (N - n_params)``.

    Examples
    --------
    >>> y = np.array([0.0, 2.0, 4.0])
    >>> pearson_dispersion(y, np.full(3, 2.0), np.full(3, 2.0), 1)
    2.0
    """
    y = np.asarray(y, dtype=float)
    dof = max(y.size - n_params, 1)
    return float(np.sum((y - expected) ** 2 / np.maximum(variance, 1e-300)) / dof)


def curvature_test(table: pd.DataFrame, alpha: float = ALPHA, n_tests: int = 1) -> dict:
    """Weighted test of a quadratic trend of the bin residuals in the bin centre.

    The rule (module docstring): flag when ``|z| > Phi^-1(1 - alpha / (2 n_tests))``.

    Returns
    -------
    dict
        ``z``, ``p_value`` (two-sided, one test), ``threshold``, ``flagged``, ``share_outside``
        (bins outside +-2 se), ``n_bins``. Fewer than 4 usable bins: ``z`` is NaN, not flagged.

    Examples
    --------
    >>> t = pd.DataFrame({"x": np.arange(9.0), "residual": (np.arange(9.0) - 4) ** 2 / 100,
    ...                   "se": np.full(9, 0.05), "inside": True})
    >>> res = curvature_test(t)
    >>> bool(res["flagged"]), round(res["threshold"], 3)
    (True, 2.576)
    """
    threshold = float(stats.norm.ppf(1 - alpha / (2 * max(n_tests, 1))))
    share = float(1 - table["inside"].mean()) if len(table) else 0.0
    out = {"z": np.nan, "p_value": np.nan, "threshold": threshold, "flagged": False,
           "share_outside": share, "n_bins": len(table)}
    ok = (table["se"] > 0).to_numpy() if len(table) else np.zeros(0, bool)
    if ok.sum() < 4:
        return out
    x, r = table["x"].to_numpy()[ok], table["residual"].to_numpy()[ok]
    w = 1.0 / table["se"].to_numpy()[ok] ** 2
    t = (x - np.average(x, weights=w)) / np.sqrt(np.average((x - np.average(x, weights=w)) ** 2,
                                                            weights=w))
    base = np.column_stack([np.ones_like(t), t])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(base * sw[:, None], t**2 * sw, rcond=None)[0]
    q = t**2 - base @ coef
    sq = float(np.sum(w * q**2))
    if not sq > 1e-12:
        return out
    z = float(np.sum(w * q * r) / np.sqrt(sq))
    out.update(z=z, p_value=float(2 * stats.norm.sf(abs(z))), flagged=bool(abs(z) > threshold))
    return out


def suggested_formula(spec, predictor: str) -> str:
    """The formula with one more polynomial degree in ``predictor``.

    A plain term ``x`` becomes the orthogonal polynomial ``poly(x, 2)`` and ``poly(x, k)``
    becomes ``poly(x, k + 1)``; otherwise (``x`` inside another transform or an interaction)
    the lowest power ``I(x**k)``, ``k >= 2``, not yet in the formula is added.

    Examples
    --------
    >>> from bayesmixed.formula.parse import parse_formula
    >>> suggested_formula(parse_formula("y ~ x + z + (1 | g)"), "x")
    'y ~ poly(x, 2) + z + (1 | g)'
    >>> suggested_formula(parse_formula("y ~ poly(x, 2) + (1 | g)"), "x")
    'y ~ poly(x, 3) + (1 | g)'
    >>> suggested_formula(parse_formula("y ~ np.log(x) + I(x**2) + (1 | g)"), "x")
    'y ~ np.log(x) + I(x**2) + I(x**3) + (1 | g)'
    """
    terms, depth, cur = [], 0, ""
    for ch in spec.fixed:
        depth += (ch in "([") - (ch in ")]")
        if ch == "+" and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    terms.append(cur.strip())
    bare = [re.sub(r"\s+", "", t) for t in terms]
    poly = re.compile(rf"poly\({re.escape(predictor)},(\d+)\)")
    for j, t in enumerate(bare):
        m = poly.fullmatch(t)
        if t == predictor or m:
            terms[j] = f"poly({predictor}, {int(m.group(1)) + 1 if m else 2})"
            break
    else:
        k = 2
        while f"I({predictor}**{k})" in bare:
            k += 1
        terms.append(f"I({predictor}**{k})")
    return dataclasses.replace(spec, fixed=" + ".join(terms)).formula


def linearity_checks(
    idata,
    meta,
    design, mu: np.ndarray | None = None, n_bins: int | None = None, alpha: float = ALPHA
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Binned residuals against every continuous predictor and the curvature test of each.

    Returns
    -------
    bins : pandas.DataFrame
        :func:`binned_by_predictor` rows with a ``predictor`` column first.
    tests : pandas.DataFrame
        Indexed by predictor: n_bins, z, p_value, threshold, flagged, share_outside, advice,
        suggested_formula. ``tests.attrs["skipped"]`` says why nothing was checked, if so.

    Examples
    --------
    >>> bins, tests = linearity_checks(fit.idata, fit.meta, fit.design)
    >>> list(tests.index), list(bins.columns[:3])
    (['Days'], ['predictor', 'bin', 'n'])
    """
    family = get_family(meta["family"])
    cols = ["n_bins", "z", "p_value", "threshold", "flagged", "share_outside", "advice",
            "suggested_formula"]
    tests = pd.DataFrame(columns=cols, index=pd.Index([], name="predictor"))
    predictors = continuous_predictors(design)
    if family.variance is None:
        tests.attrs["skipped"] = f"family {family.name!r} has no variance function"
        return pd.DataFrame(), tests
    if not predictors:
        tests.attrs["skipped"] = "no continuous predictor among the population-level terms"
        return pd.DataFrame(), tests
    mu = fitted_mean(idata, meta, design) if mu is None else mu
    aux = aux_draws(idata, family, meta=meta, dpar_X=design.dpar_X)
    trials = design.trials
    expected = np.asarray(family.expected(mu, aux, trials), dtype=float).mean(axis=0)
    var = np.broadcast_to(family.variance(mu, aux, trials), mu.shape).mean(axis=0)
    y = np.asarray(design.y, dtype=float)
    binary = family.uses_trials and (trials is None or np.all(np.asarray(trials) == 1))
    dispersion = 1.0
    if not binary:
        dispersion = pearson_dispersion(y, expected, var, len(meta["x_names"]))
    parts, rows = [], {}
    for v in predictors:
        table = binned_by_predictor(
            design.data[v].to_numpy(dtype=float), y, expected, var,
            trials if family.uses_trials else None, n_bins, family.uses_trials, dispersion,
        )
        parts.append(table.assign(predictor=v))
        res = curvature_test(table, alpha, len(predictors))
        formula = suggested_formula(design.spec, v)
        advice = (
            f"non-linear effect of {v!r} on the link scale: the binned residuals curve against "
            f"it (curvature z = {res['z']:.2f}, threshold {res['threshold']:.2f}; "
            f"{res['share_outside']:.0%} of bins outside +-2 SE); add a quadratic or spline "
            f"term, e.g. {formula!r} (or bs({v}, df=4))"
        )
        rows[v] = {**{k: res[k] for k in cols[:6]}, "advice": advice if res["flagged"] else "",
                   "suggested_formula": formula}
    tests = pd.DataFrame.from_dict(rows, orient="index")[cols].rename_axis("predictor")
    bins = pd.concat(parts, ignore_index=True)
    bins = bins[["predictor", *[c for c in bins.columns if c != "predictor"]]]
    return bins, tests
