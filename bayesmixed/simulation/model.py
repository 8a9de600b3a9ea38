"""The model side of :func:`simulate`: the truth (defaults and checks), group effects drawn
from the random-effects distribution, the response drawn from the family; see
:mod:`bayesmixed.simulation`."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmixed.api import make_spec
from bayesmixed.design.evaluate import names_in
from bayesmixed.design.latent_ar import draw_latent
from bayesmixed.design.matrices import build_design
from bayesmixed.errors import SpecError
from bayesmixed.families import AUX_NAMES, Family, get_family, resolve_link
from bayesmixed.families.ordinal import threshold_names, thresholds_in, truth_categories
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.names import (
    AR_LATENT_SD,
    ar_label,
    cor_label,
    dpar_label,
    parse_prior_key,
    sd_label,
)
from bayesmixed.report.core.linpred import inverse_link
from bayesmixed.simulation.predictors import (  # the package's own helpers
    _column_name,
    _layout,
    _level_counts,
    _names,
    _values,
)

__all__ = ["default_truth", "simulate"]

_MAX_MEAN = 1e8


def _placeholder(fam: Family, link: str, n: int, n_categories: int = 4):
    if fam.ordinal:  # every category present, so that the design has K of them
        k = np.arange(n) % n_categories + 1
        return pd.Categorical(k, categories=range(1, n_categories + 1), ordered=True)
    if fam.response == "binomial":
        return np.zeros(n, dtype=np.int64)
    if fam.response == "unit":
        return np.full(n, 0.5)
    return np.ones(n, dtype=np.int64 if fam.discrete else float)


def default_truth(design) -> dict[str, float]:
    """Default parameter values for a design: a modest, plausible model.

    Intercept 0 (1 under a log link, about 2.7 events per row), other coefficients 0.5,
    sd 1 for random intercepts and 0.5 for random slopes, correlations 0, sigma 1, alpha 5.

    Examples
    --------
    >>> from bayesmixed.design.matrices import build_design
    >>> df = simulate("y ~ x + (1 | g)", n_groups=5, n_per_group=2, seed=1)
    >>> default_truth(build_design(bm.make_spec("y ~ x + (1 | g)"), df))
    {'Intercept': 0.0, 'x': 0.5, 'sd(Intercept|g)': 1.0, 'sigma': 1.0}
    """
    out: dict[str, float] = {}
    for name in design.x_names:
        out[name] = (1.0 if design.link == "log" else 0.0) if name == "Intercept" else 0.5
    for b in design.blocks:
        for t in b.terms:
            out[sd_label(t, b.factor)] = 1.0 if t == "Intercept" else 0.5
        if b.correlated:
            for i, j in itertools.combinations(range(b.n_terms), 2):
                out[cor_label(b.terms[i], b.terms[j], b.factor)] = 0.0
    for aux in design.family.aux_params:
        if aux.vector:  # ordinal thresholds, evenly spread on (-truth, truth)
            k = len(design.categories)
            values = np.linspace(-aux.truth, aux.truth, k - 1) if k > 2 else [0.0]
            out.update({n: float(v) for n, v in zip(threshold_names(k), values, strict=True)})
        else:
            out[aux.name] = aux.truth
    for dpar, names in design.dpar_names.items():  # zero part: about 27% extra zeros
        for name in names:
            out[dpar_label(dpar, name)] = -1.0 if name == "Intercept" else 0.5
    if design.ar_codes is not None:  # the latent AR(1) process of an ar() term
        out[ar_label(1)], out[AR_LATENT_SD] = 0.5, 0.5
    return out


def _resolve_truth(design, truth: Mapping[str, Any] | None) -> dict[str, float]:
    params = default_truth(design)
    for key, value in (truth or {}).items():
        k = str(key).replace(" ", "")
        match = [p for p in params if p.replace(" ", "") == k]
        if not match:
            raise SpecError(f"truth names {key!r}, which is not a parameter of this model; "
                            f"parameters: {', '.join(params)}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise SpecError(f"truth value of {key!r} must be a number, got {value!r}") from None
        if not np.isfinite(v):
            raise SpecError(f"truth value of {key!r} must be finite, got {value!r}")
        params[match[0]] = v
    for p, v in params.items():
        kind = getattr(parse_prior_key(p), "kind", None)
        if kind == "sd" and v < 0:
            raise SpecError(f"truth value of {p!r} must be >= 0, got {v}")
        if (p in AUX_NAMES or p == AR_LATENT_SD) and v <= 0:
            raise SpecError(f"truth value of {p!r} must be positive, got {v}")
        if (kind == "cor" or p == ar_label(1)) and not -1 < v < 1:
            raise SpecError(f"truth value of {p!r} must lie strictly between -1 and 1, got {v}")
    if design.categories:
        th = [params[n] for n in threshold_names(len(design.categories))]
        if np.any(np.diff(th) <= 0):
            raise SpecError(f"the thresholds Intercept[1], ... must increase, got {th}")
    return params


def _ar_times(ar, data: pd.DataFrame) -> np.ndarray:
    """1, 2, ... within each level of the ``ar()`` term's group column (or over all rows)."""
    if ar.gr is None:
        return np.arange(1, len(data) + 1)
    return data.groupby(ar.gr, sort=False).cumcount().to_numpy() + 1


def _block_effects(block, params: Mapping[str, float], rng: np.random.Generator) -> np.ndarray:
    k = block.n_terms
    sd = np.array([params[sd_label(t, block.factor)] for t in block.terms])
    R = np.eye(k)
    if block.correlated:
        for i, j in itertools.combinations(range(k), 2):
            R[i, j] = R[j, i] = params[cor_label(block.terms[i], block.terms[j], block.factor)]
    try:
        L = np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        raise SpecError(f"the correlations given for {block.factor!r} do not form a valid "
                        "(positive definite) correlation matrix") from None
    z = rng.standard_normal((block.n_levels, k))
    return (z @ L.T) * sd[None, :]


def _aux_truth(fam: Family, params: Mapping[str, float], link: str) -> dict:
    aux: dict[str, Any] = {a.name: thresholds_in(params) if a.vector else params[a.name]
                           for a in fam.aux_params}
    return {**aux, "link": link} if fam.ordinal else aux


def _invlogit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _draw_response(fam: Family, mu: np.ndarray, params: Mapping[str, float], trials,
                   rng: np.random.Generator, link: str = "logit",
                   dpars: Mapping[str, np.ndarray] | None = None):
    if fam.count and (not np.all(np.isfinite(mu)) or mu.max() > _MAX_MEAN):
        raise SpecError(f"the truth gives expected counts up to {np.nanmax(mu):.3g}; use smaller "
                        "coefficients or a smaller intercept")
    if fam.response == "positive" and fam.transform is None and not np.all(mu > 0):
        raise SpecError(f"the truth gives means down to {np.nanmin(mu):.3g}, but a {fam.name} mean "
                        "must be positive; use another link or other coefficients")
    draw = fam.simulate_draw or fam.draw
    y = draw(rng, mu, {**_aux_truth(fam, params, link), **(dpars or {})}, trials)
    if fam.ordinal:  # codes 0..K-1 -> ordered categories 1..K (unobserved ones kept)
        k = len(thresholds_in(params)) + 1
        return pd.Categorical(np.asarray(y) + 1, categories=range(1, k + 1), ordered=True)
    return y.astype(np.int64) if fam.discrete else y


def simulate(
    spec: str | ModelSpec | Mapping[str, Any] | Path,
    n_groups: int | Mapping[str, int] = 20,
    n_per_group: int = 10,
    truth: Mapping[str, Any] | None = None,
    *,
    family: str | None = None,
    link: str | None = None,
    predictors: Mapping[str, Any] | None = None,
    trials: int | Sequence[int] | Callable = 10,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate a data set from a model spec with known parameters.

    Parameters
    ----------
    spec
        A formula, a dict/YAML spec or a :class:`ModelSpec`.
    n_groups
        Levels per grouping column: one number for all, or a dict by column
        (``{"id": 50, "item": 20}``). Grouping columns are crossed: every combination of levels
        is a cell; nested factors ``(1 | a/b)`` give ``b`` levels within each ``a`` level.
    n_per_group
        Rows per cell (for one grouping factor: rows per group). Without grouping factors the
        data have ``n_groups * n_per_group`` rows.
    truth
        Parameter values by summary name (``Intercept``, ``x``, ``treatment[B]``, ``sd(x|g)``,
        ``cor(Intercept,x|g)``, ``sigma``, ``alpha``); the rest take :func:`default_truth`.
    family, link
        Override the spec's family and link.
    predictors
        How to generate each predictor column (default: standard normal per row; columns used
        only in the offset: positive, uniform on (0.5, 2)). A value may be a list of levels (a
        categorical predictor, levels balanced over rows), a dist name (``"normal"``,
        ``"uniform"``, ``"binary"``, ``"lognormal"``), a dict with ``dist``/``levels``, ``loc``,
        ``scale``, ``p`` and ``by`` (a grouping column: constant within its levels, a
        group-level predictor), an array with one value per row, or a function ``(rng, n)``.
    trials
        Trials per row for a binomial response (a number, one per row, or a function).
    seed
        Seed or generator; the same seed gives the same data.

    Returns
    -------
    pandas.DataFrame
        The data. ``attrs["truth"]`` holds ``params`` (every parameter by name), ``ranef``
        (realized group effects: factor -> term -> level -> value) and ``design`` (formula,
        family, link, sizes, seed).

    Raises
    ------
    SpecError
        For a truth key that is not a parameter, invalid values, or a response or trials
        expression that is not a plain column name.

    Examples
    --------
    >>> df = simulate("y ~ x + (1 + x | g)", n_groups=30, n_per_group=8, family="bernoulli",
    ...               truth={"x": 1.0, "sd(Intercept|g)": 0.8}, seed=1)
    >>> df.shape, df.attrs["truth"]["params"]["x"]
    ((240, 3), 1.0)
    """
    spec = make_spec(spec, family, link)
    fam = get_family(spec.family)
    link_name = resolve_link(fam, spec.link)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    resp = spec.response
    y_col = _column_name(resp.expr, "response")
    other = _column_name(resp.other, "failures" if resp.kind == "cbind" else "trials")

    group_cols: list[str] = []
    for g in spec.groups:
        for c in g.factor_columns:
            if c not in group_cols:
                group_cols.append(c)
    if spec.ar is not None and spec.ar.gr and spec.ar.gr not in group_cols:
        group_cols.append(spec.ar.gr)  # the series of an ar() term without a random effect
    counts = _level_counts(group_cols, n_groups if group_cols else {})
    data = _layout(group_cols, counts, n_per_group, n_groups)
    n = len(data)

    reserved = {y_col, other, *group_cols}
    if spec.ar is not None:  # time: the measurement index within each series
        data[spec.ar.time] = _ar_times(spec.ar, data)
        reserved.add(spec.ar.time)
    offset_cols: list[str] = []
    if spec.offset:
        offset_cols = sorted(names_in(spec.offset, []))
    used = set(_names(spec.fixed)) | {v for g in spec.groups for v in _names(g.expr)}
    used |= {v for _, rhs in spec.dpars for v in _names(rhs)}
    pred_specs = dict(predictors or {})
    unknown = set(pred_specs) - (used | set(offset_cols))
    if unknown:
        raise SpecError(f"predictors names {sorted(unknown)[0]!r}, which the model does not use")
    for name in sorted((used | set(offset_cols)) - reserved):
        positive = name in offset_cols and name not in used
        data[name] = _values(pred_specs.get(name), name, data, rng, positive)

    n_trials = None
    if fam.response == "binomial":
        t = trials(rng, n) if callable(trials) else trials
        n_trials = np.broadcast_to(np.asarray(t, dtype=np.int64), (n,)).copy()
        if (n_trials < 1).any():
            raise SpecError("trials must be at least 1")
        if other is not None:
            data[other] = n_trials
    data[y_col] = _placeholder(fam, link_name, n, truth_categories(truth))
    if resp.kind == "single" and fam.response == "binomial":
        n_trials = np.ones(n, dtype=np.int64)

    design = build_design(spec, data)
    if spec.ar is not None and design.ar_codes is None:  # gaussian_ar1: draws follow the series
        fam, n_trials = design.family, design.trials
    params = _resolve_truth(design, truth)
    eta = design.X @ np.array([params[x] for x in design.x_names])
    if design.offset is not None:
        eta = eta + design.offset
    ranef: dict[str, dict[str, dict[str, float]]] = {}
    for block in design.blocks:
        r = _block_effects(block, params, rng)
        eta = eta + np.sum(r[block.index] * block.Z, axis=1)
        per_term = ranef.setdefault(block.factor, {})
        for k, term in enumerate(block.terms):
            per_term[term] = {lv: float(r[j, k]) for j, lv in enumerate(block.levels)}
    if design.ar_codes is not None:  # a latent AR(1) process within each series
        eta = eta + draw_latent(rng, 1, params[ar_label(1)], params[AR_LATENT_SD],
                                design.ar_codes)[0]
    with np.errstate(over="ignore"):
        mu = inverse_link(link_name, eta)
    dpars = {
        d: _invlogit(X @ np.array([params[dpar_label(d, c)] for c in design.dpar_names[d]]))
        for d, X in design.dpar_X.items()
    }
    y = _draw_response(fam, mu, params, n_trials, rng, link_name, dpars)
    if resp.kind == "cbind":
        data[y_col] = y
        data[other] = n_trials - y
    else:
        data[y_col] = y
    data = data[[y_col, *[c for c in data.columns if c != y_col]]]
    data.attrs["truth"] = {
        "params": params,
        "ranef": ranef,
        "design": {
            "formula": spec.formula,
            "family": fam.name,
            "link": link_name,
            "n_groups": counts,
            "n_per_group": int(n_per_group),
            "n_obs": int(n),
            "seed": seed if isinstance(seed, int | None) else "generator",
        },
    }
    return data
