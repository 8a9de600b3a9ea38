"""Random effects per level (``ranef``), group-specific coefficients (``coef``, as lme4's
``coef``) and the no-pooling vs partial-pooling comparison behind the shrinkage plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixed.errors import PredictionError
from bayesmixed.families import get_family
from bayesmixed.names import r_var
from bayesmixed.report.core.draws import flat, internal, interval_columns, mean_and_slope
from bayesmixed.report.core.linpred import fixed_coefficients

__all__ = ["coef_draws", "coef_table", "no_pooling_fit", "ranef_table", "shrinkage_table"]


def _summ(d: np.ndarray, prob: float) -> dict[str, np.ndarray]:
    """Column-wise summary of draws (S, ...)."""
    lo_name, hi_name = interval_columns(prob)
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    return {
        "mean": d.mean(axis=0),
        "sd": d.std(axis=0, ddof=1),
        lo_name: np.quantile(d, lo, axis=0),
        hi_name: np.quantile(d, hi, axis=0),
    }


def _check_factor(meta: dict, factor: str | None) -> list[dict]:
    blocks = meta["blocks"]
    if factor is None:
        return blocks
    sel = [b for b in blocks if b["factor"] == factor]
    if not sel:
        raise PredictionError(
            f"{factor!r} is not a grouping factor; factors: {[b['factor'] for b in blocks]}"
        )
    return sel


def ranef_table(idata, meta: dict, factor: str | None = None, prob: float = 0.95) -> pd.DataFrame:
    """Posterior of every random-effect deviation, one row per (factor, level, term).

    Returns
    -------
    pandas.DataFrame
        Columns factor, level, term, mean, sd and the interval bounds (deviations from the
        population-level coefficients, on the link scale).

    Examples
    --------
    >>> table = ranef_table(fit.idata, fit.meta)
    >>> len(table), table["term"].unique().tolist()  # 18 subjects x 2 terms
    (36, ['Intercept', 'Days'])
    """
    parts = []
    for blk in _check_factor(meta, factor):
        r = flat(idata, r_var(blk["label"]))  # (S, levels, terms)
        levels = [str(v) for v in internal(idata)[blk["label"]].values]
        s = _summ(r, prob)
        for j, term in enumerate(blk["terms"]):
            parts.append(
                pd.DataFrame(
                    {
                        "factor": blk["factor"],
                        "level": levels,
                        "term": term,
                        **{k: v[:, j] for k, v in s.items()},
                    }
                )
            )
    if not parts:
        return pd.DataFrame(
            columns=["factor", "level", "term", "mean", "sd", *interval_columns(prob)]
        )
    return pd.concat(parts, ignore_index=True)


def coef_draws(idata, meta: dict, factor: str) -> tuple[list[str], list[str], np.ndarray]:
    """Draws of the group-specific coefficients of ``factor``: (levels, terms, (S, L, T)).

    Examples
    --------
    >>> levels, terms, draws = coef_draws(fit.idata, fit.meta, "Subject")
    >>> levels[:3], terms, draws.shape
    (['308', '309', '310'], ['Intercept', 'Days'], (400, 18, 2))
    """
    blocks = _check_factor(meta, factor)
    beta = fixed_coefficients(idata, meta)
    names = list(meta["x_names"])
    extra = [t for b in blocks for t in b["terms"] if t not in names]
    terms = names + list(dict.fromkeys(extra))
    levels = [str(v) for v in internal(idata)[blocks[0]["label"]].values]
    S, L = beta.shape[0], len(levels)
    out = np.zeros((S, L, len(terms)))
    out[:, :, : len(names)] = beta[:, None, :]
    for blk in blocks:
        r = flat(idata, r_var(blk["label"]))
        blk_levels = [str(v) for v in internal(idata)[blk["label"]].values]
        pos = [levels.index(lv) for lv in blk_levels]
        for j, t in enumerate(blk["terms"]):
            out[:, pos, terms.index(t)] += r[:, :, j]
    return levels, terms, out


def coef_table(
    idata, meta: dict, factor: str | None = None, prob: float = 0.95, wide: bool = False
):
    """Group-specific coefficients ``fixed + random`` per level, draw by draw (lme4's ``coef``).

    Parameters
    ----------
    factor
        One grouping factor (default all).
    wide
        Return, per factor, a levels x terms DataFrame of posterior means (the lme4 layout)
        instead of the tidy table.

    Returns
    -------
    pandas.DataFrame or dict of DataFrame
        Tidy: columns factor, level, term, mean, sd, interval bounds.

    Examples
    --------
    >>> table = coef_table(fit.idata, fit.meta)
    >>> list(table.columns)
    ['factor', 'level', 'term', 'mean', 'sd', '2.5%', '97.5%']
    >>> coef_table(fit.idata, fit.meta, wide=True)["Subject"].shape  # levels x terms
    (18, 2)
    """
    factors = list(dict.fromkeys(b["factor"] for b in _check_factor(meta, factor)))
    tidy, wides = [], {}
    for f in factors:
        levels, terms, d = coef_draws(idata, meta, f)
        s = _summ(d, prob)
        wides[f] = pd.DataFrame(s["mean"], index=pd.Index(levels, name=f), columns=terms)
        for j, term in enumerate(terms):
            tidy.append(
                pd.DataFrame(
                    {
                        "factor": f,
                        "level": levels,
                        "term": term,
                        **{k: v[:, j] for k, v in s.items()},
                    }
                )
            )
    if wide:
        return wides if factor is None else wides[factor]
    return pd.concat(tidy, ignore_index=True)


def _variance(fam: str, mu: np.ndarray, trials: np.ndarray, alpha: float, aux=None) -> np.ndarray:
    # unit sigma: the gaussian weights only need to be proportional
    family = get_family(fam)  # the count part of a zero-inflated / hurdle family (zero part 0)
    aux = {"sigma": 1.0, "alpha": alpha, **(aux or {}), **dict.fromkeys(family.dpars, 0.0)}
    return family.variance(mu, aux, trials)


def _ordinal_no_pooling(link, y, offset, Z, th, ridge: float = 0.01) -> np.ndarray:
    """Ridge-stabilized maximum likelihood of one group's varying coefficients in an ordinal
    model, thresholds ``th`` (1, K-1) held fixed."""
    from scipy import optimize

    family = get_family("cumulative")
    codes = y.astype(np.int64)

    def nll(theta):
        eta = (offset + Z @ theta)[None, :]
        return -family.loglik(codes, eta, link, {"Intercept": th}).sum() + ridge * theta @ theta / 2

    return optimize.minimize(nll, np.zeros(Z.shape[1]), method="BFGS").x


def no_pooling_fit(
    fam: str,
    link: str,
    y,
    trials,
    offset,
    Z,
    *,
    ridge: float = 0.01,
    alpha: float = np.inf,
    iters: int = 50,
    aux: dict | None = None,
) -> np.ndarray:
    """Maximum-likelihood estimate of one group's varying coefficients, by iteratively
    reweighted least squares with a small ridge penalty ``ridge * |theta|^2 / 2`` (a
    Normal(0, 10) prior for ``ridge=0.01``) that keeps separated binary groups finite. Plain
    least squares for the gaussian identity link and for lognormal (on ``log y``). ``aux``:
    values of the family's auxiliary parameters (e.g. their posterior means).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 1])
    >>> theta = no_pooling_fit("bernoulli", "logit", y, np.ones(4), np.zeros(4), np.ones((4, 1)))
    >>> round(float(theta[0]), 2)  # logit(3/4) = 1.10, pulled slightly toward 0 by the ridge
    1.08
    """
    k = Z.shape[1]
    family = get_family(fam)
    if family.response == "real" and link == "identity":
        return np.linalg.lstsq(Z, y - offset, rcond=None)[0]
    if family.transform is not None:
        return np.linalg.lstsq(Z, family.transform(np.asarray(y, float)) - offset, rcond=None)[0]
    theta = np.zeros(k)
    for _ in range(iters):
        eta = np.clip(offset + Z @ theta, -30, 30)
        mu, dmu = mean_and_slope(link, eta)
        m, dm = family.mean_and_slope(mu, dmu, trials, aux)
        var = np.maximum(_variance(fam, mu, trials, alpha, aux), 1e-10)
        w = dm**2 / var
        grad = Z.T @ ((y - m) * dm / var) - ridge * theta
        H = Z.T @ (Z * w[:, None]) + ridge * np.eye(k)
        step = np.linalg.solve(H, grad)
        theta = theta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta


def shrinkage_table(
    idata, meta: dict, design, factor: str | None = None, term: str = "Intercept"
) -> pd.DataFrame:
    """No-pooling vs partial-pooling estimate of each level's coefficient ``term``.

    - no pooling: the level's own estimate of its varying coefficients, fitted on the level's
      rows alone with the population-level part of the other columns and the effects of the
      other grouping factors held at their posterior means (:func:`no_pooling_fit`: least
      squares for gaussian data, ridge-stabilized maximum likelihood on the link scale
      otherwise);
    - partial pooling: posterior mean of the group-specific coefficient (``coef``: fixed +
      random);
    - population: posterior mean of the population-level coefficient.

    Returns
    -------
    pandas.DataFrame
        Columns level, n (rows), no_pooling, partial_pooling, population; ``attrs`` hold the
        factor and term.

    Examples
    --------
    >>> table = shrinkage_table(fit.idata, fit.meta, fit.design, term="Days")
    >>> list(table.columns)
    ['level', 'n', 'no_pooling', 'partial_pooling', 'population']
    >>> spread = table[["no_pooling", "partial_pooling"]].std()  # partial pooling is less spread
    >>> bool(spread["partial_pooling"] < spread["no_pooling"])
    True
    """
    cands = [
        (b, d)
        for b, d in zip(meta["blocks"], design.blocks, strict=True)
        if term in b["terms"] and (factor is None or b["factor"] == factor)
    ]
    if not cands:
        raise PredictionError(f"no random effect of {term!r} for factor {factor!r}")
    blk, dblk = cands[0]
    levels, terms, d = coef_draws(idata, meta, blk["factor"])
    beta = fixed_coefficients(idata, meta).mean(axis=0)
    names = list(meta["x_names"])
    X = np.asarray(design.X, dtype=float)
    varying = [names.index(t) for t in dblk.terms if t in names]
    keep = np.ones(len(names), dtype=bool)
    keep[varying] = False
    base = X[:, keep] @ beta[keep] + (0.0 if design.offset is None else design.offset)
    for mb, db in zip(meta["blocks"], design.blocks, strict=True):
        if db is not dblk:  # other factors' effects (crossed / nested) at their posterior means
            r_bar = flat(idata, r_var(mb["label"])).mean(axis=0)
            base = base + np.sum(db.Z * r_bar[db.index], axis=1)
    y = np.asarray(design.y, dtype=float)
    trials = np.ones_like(y) if design.trials is None else np.asarray(design.trials, float)
    family = get_family(meta["family"])
    aux = family.aux
    alpha = float(flat(idata, "alpha").mean()) if "alpha" in aux else np.inf
    # an ordinal model's own-rows fit holds the thresholds at their posterior means
    th = flat(idata, "Intercept").mean(axis=0)[None, :] if family.ordinal else None
    aux_means = {a.name: float(flat(idata, a.name).mean()) for a in family.aux_params if not a.vector}
    j = list(dblk.terms).index(term)
    raw = np.full(dblk.n_levels, np.nan)
    n = np.bincount(dblk.index, minlength=dblk.n_levels)
    for lv in range(dblk.n_levels):
        rows = dblk.index == lv
        if rows.sum() < dblk.n_terms:
            continue
        if th is not None:
            raw[lv] = _ordinal_no_pooling(meta["link"], y[rows], base[rows], dblk.Z[rows], th)[j]
            continue
        theta = no_pooling_fit(
            meta["family"],
            meta["link"],
            y[rows],
            trials[rows],
            base[rows],
            dblk.Z[rows],
            alpha=alpha,
            aux=aux_means,
        )
        raw[lv] = theta[j]
    partial = d[:, :, terms.index(term)].mean(axis=0)
    pos = [levels.index(lv) for lv in dblk.levels]
    pop = float(beta[names.index(term)]) if term in names else 0.0
    out = pd.DataFrame(
        {
            "level": list(dblk.levels),
            "n": n.astype(int),
            "no_pooling": raw,
            "partial_pooling": partial[pos],
            "population": pop,
        }
    )
    out.attrs.update({"factor": blk["factor"], "term": term})
    return out
