"""QR reparameterization of collinear population-level predictors, with the priors unchanged.

With strongly correlated predictors the posterior of their coefficients is a long, thin ridge
(individually weak, jointly sharp); NUTS with a diagonal mass matrix then needs many small
steps along it. Writing the centered row-level predictors as ``X = Q* R*`` (thin QR,
``Q* = Q sqrt(n - 1)``, ``R* = R / sqrt(n - 1)``, as in the Stan manual's "QR reparameterization"
and brms's ``decomp = "QR"``), the linear predictor is ``X b = Q* theta`` with
``theta = R* b``: the columns of ``Q*`` are orthogonal, so ``theta`` is close to independent
under the likelihood.

Unlike brms and rstanarm, which put the priors on ``theta`` (a different model), the prior
density here stays the user's prior on ``b``: ``theta`` gets the density
``p_b(R*^-1 theta) |det R*^-1|`` (a linear change of variables), so the posterior of ``b`` is
exactly the one without QR. ``b`` is recorded as before; only the sampler sees ``theta``.

It is used only when it helps: at least two row-level predictors, one with a variance
inflation factor above :data:`VIF_THRESHOLD` (the threshold of the VIF warning in the
report), and every prior of those coefficients on the whole real line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesmixed.formula.priors import Prior
from bayesmixed.names import r_inv_data

__all__ = ["VIF_THRESHOLD", "QRFactors", "needs_qr", "qr_coefficients", "qr_factors"]

#: largest variance inflation factor (1 / (1 - R^2) of a column on the others) left alone
VIF_THRESHOLD = 5.0
_REAL_LINE = {"Normal", "StudentT", "Cauchy", "Laplace", "Logistic"}


def max_vif(X: np.ndarray) -> float:
    """Largest variance inflation factor of the columns of ``X`` (inf when singular).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x1 = rng.normal(size=500)
    >>> round(max_vif(np.column_stack([x1, rng.normal(size=500)])), 1)
    1.0
    >>> max_vif(np.column_stack([x1, x1 + 0.1 * rng.normal(size=500)])) > 50
    True
    """
    if X.shape[1] < 2:
        return 1.0
    sd = X.std(axis=0)
    if np.any(sd == 0):
        return float("inf")
    corr = np.corrcoef(X, rowvar=False)
    try:
        return float(np.max(np.diag(np.linalg.inv(corr))))
    except np.linalg.LinAlgError:
        return float("inf")


def needs_qr(X: np.ndarray, priors: Sequence[Prior]) -> bool:
    """Whether the row-level predictors ``X`` (centered columns) get the QR parameterization.

    Examples
    --------
    >>> from bayesmixed.formula.priors import prior
    >>> rng = np.random.default_rng(0)
    >>> x1 = rng.normal(size=300)
    >>> X = np.column_stack([x1, x1 + 0.1 * rng.normal(size=300)])
    >>> needs_qr(X, [prior("normal", 0, 2.5)] * 2)
    True
    >>> needs_qr(X, [prior("normal", 0, 2.5), prior("half_normal", 1)])  # bounded prior
    False
    """
    if X.shape[1] < 2 or X.shape[0] <= X.shape[1]:
        return False
    if not all(p.dist in _REAL_LINE for p in priors):
        return False
    vif = max_vif(X)
    return bool(np.isfinite(vif) and vif > VIF_THRESHOLD)


class QRFactors:
    """``X = Q* R*`` for centered predictors ``X`` (n x k, full column rank).

    Attributes
    ----------
    Q : ndarray
        ``Q*``, n x k, orthogonal columns with sum of squares ``n - 1``.
    R : ndarray
        ``R*``, k x k upper triangular.
    R_inv : ndarray
        ``R*^-1``: ``b = R_inv @ theta``.

    Examples
    --------
    >>> X = np.random.default_rng(2).normal(size=(40, 2))
    >>> f = QRFactors(X - X.mean(axis=0))
    >>> bool(np.all(np.diag(f.R) > 0)), np.allclose(f.R @ f.R_inv, np.eye(2))
    (True, True)
    """

    def __init__(self, X: np.ndarray):
        q, r = np.linalg.qr(X)
        signs = np.sign(np.diag(r))
        signs[signs == 0] = 1.0
        q, r = q * signs, r * signs[:, None]  # positive diagonal: a unique factorization
        scale = np.sqrt(max(X.shape[0] - 1, 1))
        self.Q = q * scale
        self.R = r / scale
        self.R_inv = np.linalg.inv(self.R)


def qr_factors(X: np.ndarray) -> QRFactors:
    """The scaled thin QR factors of ``X`` (see :class:`QRFactors`).

    Examples
    --------
    >>> X = np.random.default_rng(1).normal(size=(50, 3))
    >>> f = qr_factors(X - X.mean(axis=0))
    >>> np.allclose(f.Q @ f.R, X - X.mean(axis=0)), np.allclose(f.Q.T @ f.Q, 49 * np.eye(3))
    (True, True)
    """
    return QRFactors(X)


def _prior_logp(priors: Sequence[Prior], b):
    total = 0.0
    for k, p in enumerate(priors):
        dist = getattr(pm, p.dist).dist(**{key: float(v) for key, v in p.params.items()})
        total = total + pm.logp(dist, b[k])
    return total


def qr_coefficients(name: str, priors: Sequence[Prior], factors: QRFactors, dims: str):
    """``theta = R* b`` as a variable whose density is the prior of ``b`` (see module doc).

    ``R*^-1`` is held in ``pm.Data(f"{name}__R_inv")``, so a compiled model swapped to new data
    (:mod:`bayesmixed.sample.backends`) uses the new data's factors.

    Returns ``(theta, b)``: the sampled variable and ``b = R*^-1 theta`` (a tensor).

    Examples
    --------
    >>> from bayesmixed.formula.priors import prior
    >>> X = np.random.default_rng(1).normal(size=(50, 2))
    >>> f = qr_factors(X - X.mean(axis=0))
    >>> with pm.Model(coords={"q": ["a", "b"]}) as model:
    ...     theta, b = qr_coefficients("theta", [prior("normal", 0, 2)] * 2, f, "q")
    >>> draws = pm.draw(b, draws=4000, random_seed=1)  # the prior of b, through theta
    >>> bool(np.all(np.abs(draws.std(axis=0) - 2) < 0.15))
    True
    """
    R_inv = pm.Data(r_inv_data(name), factors.R_inv)
    R = factors.R
    k = R.shape[0]

    def logp(value):
        # log |det R*^-1| = sum log |diag R*^-1| (triangular)
        log_jac = pt.sum(pt.log(pt.abs(pt.diagonal(R_inv))))
        return _prior_logp(priors, pt.dot(R_inv, value)) + log_jac

    def random(rng=None, size=None):
        rng = np.random.default_rng(rng)
        shape = () if size is None else tuple(np.atleast_1d(size))
        b = np.stack([_draw_prior(p, rng, shape) for p in priors], axis=-1)
        return b @ R.T

    theta = pm.CustomDist(name, logp=logp, random=random, signature=f"->({k})", dims=dims)
    return theta, pt.dot(R_inv, theta)


#: numpy draws of the real-line priors (``pm.draw`` compiles a function on every call: a
#: prior predictive of 4,000 draws took minutes)
_NUMPY_DRAW = {
    "Normal": lambda rng, q, shape: rng.normal(q["mu"], q["sigma"], shape),
    "StudentT": lambda rng, q, shape: q["mu"] + q["sigma"] * rng.standard_t(q["nu"], shape),
    "Cauchy": lambda rng, q, shape: q["alpha"] + q["beta"] * rng.standard_cauchy(shape),
    "Laplace": lambda rng, q, shape: rng.laplace(q["mu"], q["b"], shape),
    "Logistic": lambda rng, q, shape: rng.logistic(q["mu"], q["s"], shape),
}


def _draw_prior(p: Prior, rng: np.random.Generator, shape: tuple) -> np.ndarray:
    params = {key: float(v) for key, v in p.params.items()}
    if p.dist in _NUMPY_DRAW:
        return np.asarray(_NUMPY_DRAW[p.dist](rng, params, shape), dtype=float)
    dist = getattr(pm, p.dist).dist(**params, size=shape)
    return np.asarray(pm.draw(dist, random_seed=rng))


def population_coefficients(
    priors: Sequence[Prior], X_rows: np.ndarray, row_cols: list[int], *, row_term: bool = True
):
    """The population-level slopes ``b`` (dims ``coef``) and their row-level linear predictor.

    ``X_rows`` holds the centered columns ``row_cols`` of ``b`` that enter the row-level
    predictor (the others enter random-effect means: hierarchical centering). When those
    columns are collinear (:func:`needs_qr`) they are sampled as ``b_qr`` and ``b`` becomes a
    Deterministic; the posterior of ``b`` is unchanged. ``row_term=False``: the caller forms
    the predictor itself (``X_rows @ b`` or ``Q* @ b_qr``), and None is returned for it.

    Returns
    -------
    (b, row_term, qr)
        ``row_term`` is ``X_rows @ b[row_cols]`` (None without row columns); ``qr`` says
        whether the QR parameterization is used.
    """
    from bayesmixed.graph.distributions import vector_rv

    row_priors = [priors[k] for k in row_cols]
    if not needs_qr(X_rows, row_priors):
        # the priors are scaled to the data: held as data (bayesmixed.sample.staticshape)
        b = vector_rv("b", list(priors), dims="coef", as_data=True)
        term = pt.dot(pm.Data("X", X_rows), b[row_cols]) if row_cols and row_term else None
        return b, term, False
    model = pm.modelcontext(None)
    factors = qr_factors(X_rows)
    model.add_coord("coef_qr", [f"q{i + 1}" for i in range(len(row_cols))])
    theta, b_rows = qr_coefficients("b_qr", row_priors, factors, dims="coef_qr")
    b = pt.zeros(len(priors))
    b = pt.set_subtensor(b[row_cols], b_rows)
    rest = [k for k in range(len(priors)) if k not in row_cols]
    if rest:
        names = [str(n) for n in model.coords["coef"]]
        model.add_coord("coef_rest", [names[k] for k in rest])
        b = pt.set_subtensor(b[rest], vector_rv("b_rest", [priors[k] for k in rest], dims="coef_rest"))
    b = pm.Deterministic("b", b, dims="coef")
    return b, (pt.dot(pm.Data("Q", factors.Q), theta) if row_term else None), True
