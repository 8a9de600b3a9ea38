"""The LKJ prior on a block's correlation matrix, as a Cholesky factor.

Two terms (the common random intercept + slope) use the exact closed form of LKJ(eta) for a
2 x 2 matrix: its density in the one correlation ``r`` is proportional to
``(1 - r^2)^(eta - 1)``, which is the statement that ``(r + 1) / 2 ~ Beta(eta, eta)``. Sampling
that single Beta variable (free variable ``cor_u__L``) gives the same prior as PyMC's general
``LKJCorr`` with a smaller graph: measured on the benchmark's ``logistic_corr_slope`` model
(docs/parameterization.md) the fit is about 25 % faster end to end. Three or more terms use
``pm.LKJCorr`` (free variable ``corr_chol__L``).

Either way the correlation matrix is recorded as the Deterministic ``cor__L``
(dims ``L__term``, ``L__term_b``), which is what reports read.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from bayesmixed.names import cor_u_var, cor_var, corr_chol_var, term_b_dim, term_dim

__all__ = ["correlation_cholesky"]


def correlation_cholesky(label: str, k: int, eta: float):
    """Create the LKJ(eta) correlation variables of block ``label`` with ``k`` terms.

    Parameters
    ----------
    label : str
        Block label (the model's dims ``label__term`` and ``label__term_b`` must exist).
    k : int
        Number of correlated terms (>= 2).
    eta : float
        LKJ shape; 1 is uniform over correlation matrices, larger values favour zero.

    Returns
    -------
    TensorVariable
        Lower-triangular Cholesky factor of the correlation matrix, shape (k, k).

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> with pm.Model(coords={"g__term": ["a", "b"], "g__term_b": ["a", "b"]}) as model:
    ...     chol = correlation_cholesky("g", 2, 2.0)
    >>> [v.name for v in model.free_RVs]
    ['cor_u__g']
    >>> R = pm.draw(model["cor__g"], random_seed=3)
    >>> bool(np.allclose(np.diag(R), 1.0) and abs(R[0, 1]) < 1)
    True
    """
    if k == 2:
        u = pm.Beta(cor_u_var(label), alpha=eta, beta=eta)
        r = 2.0 * u - 1.0
        # sqrt(1 - r^2) = 2 sqrt(u (1 - u)): no cancellation near |r| = 1
        chol = pt.stack([pt.stack([pt.ones_like(r), pt.zeros_like(r)]), pt.stack([r, 2.0 * pt.sqrt(u * (1.0 - u))])])
    else:
        chol = pm.LKJCorr(corr_chol_var(label), n=k, eta=eta)
    pm.Deterministic(cor_var(label), chol @ chol.T, dims=(term_dim(label), term_b_dim(label)))
    return chol
