"""Independent maximum-likelihood references for random-intercept GLMMs (numpy / scipy only).

The marginal likelihood of ``y_ij | b_j ~ f(y | g^-1(x_ij' beta + b_j), aux)``, ``b_j ~ N(0,
tau^2)`` is integrated per group by adaptive Gauss-Hermite quadrature (Pinheiro & Bates 1995,
J. Comput. Graph. Stat. 4:12-35; as lme4's ``nAGQ`` and glmmTMB's Laplace at one node): the
nodes are centered at the mode of each group's integrand and scaled by its curvature, found by
vectorized Newton steps with numerical derivatives. The log-densities are written here from
``scipy.stats`` directly, not taken from bayesmixed's family table, so that the reference is
independent of the code under test. The maximum is found with ``scipy.optimize.minimize``
(L-BFGS-B then Nelder-Mead polish) over ``(beta, log tau, log aux)``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats


def _logdens(family: str, y: np.ndarray, eta: np.ndarray, aux: float) -> np.ndarray:
    if family == "gamma":  # log link, mean exp(eta), shape aux
        mu = np.exp(eta)
        return stats.gamma.logpdf(y, aux, scale=mu / aux)
    if family == "beta":  # logit link, precision aux
        mu = special.expit(eta)
        return stats.beta.logpdf(y, mu * aux, (1 - mu) * aux)
    if family == "lognormal":  # meanlog eta, sdlog aux
        return stats.lognorm.logpdf(y, aux, scale=np.exp(eta))
    raise ValueError(family)


def marginal_loglik(family, y, X, g, beta, tau, aux, n_nodes: int = 15) -> float:
    """Log marginal likelihood of a random-intercept model (see the module docstring)."""
    n_g = int(g.max()) + 1
    base = X @ beta

    def h(b):  # per group: sum of log densities + log N(b | 0, tau)
        ll = _logdens(family, y, base + b[g], aux)
        return np.bincount(g, weights=ll, minlength=n_g) + stats.norm.logpdf(b, 0.0, tau)

    b = np.zeros(n_g)
    eps = 1e-4 * max(tau, 1e-3)
    for _ in range(50):
        h0, hp, hm = h(b), h(b + eps), h(b - eps)
        d1, d2 = (hp - hm) / (2 * eps), (hp - 2 * h0 + hm) / eps**2
        step = np.where(d2 < 0, -d1 / np.minimum(d2, -1e-12), 0.1 * np.sign(d1))
        b = b + np.clip(step, -1.0, 1.0)
        if np.max(np.abs(step)) < 1e-9:
            break
    h0, hp, hm = h(b), h(b + eps), h(b - eps)
    s = 1.0 / np.sqrt(np.maximum(-(hp - 2 * h0 + hm) / eps**2, 1e-12))
    t, w = np.polynomial.hermite.hermgauss(n_nodes)
    vals = np.stack([h(b + np.sqrt(2) * s * tk) + tk**2 for tk in t])  # (nodes, groups)
    per_group = special.logsumexp(vals, b=w[:, None], axis=0) + np.log(np.sqrt(2) * s)
    return float(per_group.sum())


def fit_ml(family: str, y, X, g, start_aux: float = 5.0) -> dict:
    """Maximum-likelihood estimates ``{"beta", "tau", "aux", "loglik"}`` (see module docstring)."""
    y, X = np.asarray(y, float), np.asarray(X, float)
    g = np.unique(np.asarray(g), return_inverse=True)[1]
    p = X.shape[1]

    def nll(theta):
        beta, tau, aux = theta[:p], np.exp(theta[p]), np.exp(theta[p + 1])
        val = -marginal_loglik(family, y, X, g, beta, tau, aux)
        return val if np.isfinite(val) else 1e12

    eta0 = {"gamma": np.log(y), "beta": special.logit(y), "lognormal": np.log(y)}[family]
    beta0 = np.linalg.lstsq(X, eta0, rcond=None)[0]
    x0 = np.concatenate([beta0, [np.log(0.3), np.log(start_aux)]])
    res = optimize.minimize(nll, x0, method="L-BFGS-B")
    res = optimize.minimize(nll, res.x, method="Nelder-Mead",
                            options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20000})
    return {"beta": res.x[:p], "tau": float(np.exp(res.x[p])),
            "aux": float(np.exp(res.x[p + 1])), "loglik": float(-res.fun)}
