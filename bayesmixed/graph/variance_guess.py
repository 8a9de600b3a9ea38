"""A quick, approximate fit of the variance components, for choices made before sampling.

The parameterization rule needs, per grouping factor, the spread of its effects and how much
the data say about each level's effect. Both depend on the covariates and on the other factors
(a covariate that varies between levels, or a crossed factor, inflates naive level means), so
they come from a small penalized quasi-likelihood (PQL) fit, all numpy, linear in the rows:

1. working weights ``w`` and working response ``z`` of the GLM at the current linear predictor
   (gaussian identity: ``w = 1 / sigma^2``, ``z = y``);
2. the population-level coefficients by weighted least squares on ``z`` minus the effects;
3. per block, by backfitting on the partial working residual: each level's effects are the
   ridge solution ``(A_j + D^-1)^-1 c_j`` with ``A_j = Z_j' W Z_j``, and the term variances
   ``D`` are updated by EM, ``tau_k^2 = mean_j(u_jk^2 + [(A_j + D^-1)^-1]_kk)``;
4. repeat. For gaussian models ``sigma^2`` is the residual sum of squares over the residual
   degrees of freedom (on the response scale, also under a log link). The negative binomial's
   ``alpha`` comes from the moments of the residuals, ``var = mu + mu^2 / alpha``.

5. for a random intercept of a non-gaussian model whose median level carries little data
   (``A_j tau^2 < FLAT_LEVELS``, 0.25), the larger of the PQL variance and the maximum
   marginal likelihood variance by Gauss-Hermite quadrature over each level's effect, the rest
   of the linear predictor held at the PQL fit. PQL's variance is biased low exactly there
   (binary data with few rows per level: Breslow & Clayton 1993; Rodriguez & Goldman 1995,
   whose guImmun data are in the hard suite: sd(mom) 0.51 by PQL, 1.13 by quadrature); the
   quadrature is biased low too where another factor's modes absorbed the spread (nested
   factors), hence the larger of the two. Through the nested-factor rule of
   :mod:`bayesmixed.graph.parameterization`, an underestimated inner variance overstates the
   information about the outer factor (guImmun: ``comm`` partially centered at 0.57 with PQL,
   non-centered at 0.44; min bulk ESS of sd(mom) 314-351 against 422-462 on seeds 1-3).

Ten sweeps are plenty for a decision that depends on orders of magnitude. The result is not
reported anywhere; it only steers the parameterization and the hierarchical centering.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from bayesmixed.design.matrices import Design
from bayesmixed.families import get_link

__all__ = ["BlockGuess", "VarianceGuess", "guess_variances"]

#: A random intercept whose median level has data precision below this fraction of the prior
#: precision (``A_j tau^2`` at the PQL fit) gets its variance by quadrature instead of PQL
#: (:func:`_quadrature_tau2`): such levels are where PQL's variance is biased low.
FLAT_LEVELS = 0.25


@dataclass(frozen=True)
class BlockGuess:
    """Approximate facts about one random-effects block.

    Attributes
    ----------
    tau2
        Variance of each term's effects, shape ``(terms,)``.
    A
        Per level, the data's precision about the level's effects, ``Z_j' W Z_j``, shape
        ``(levels, terms, terms)``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design
    >>> block = guess_variances(design).blocks[0]
    >>> block.tau2.shape, block.A.shape  # (terms,), (levels, terms, terms)
    ((2,), (18, 2, 2))
    """

    tau2: np.ndarray
    A: np.ndarray

    @property
    def info(self) -> np.ndarray:
        """Per level and term, the precision about that effect given the other terms."""
        return np.diagonal(self.A, axis1=1, axis2=2)


@dataclass(frozen=True)
class VarianceGuess:
    """Per-block guesses, in design order, and the residual variance (gaussian only).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (1 | Subject)", df).design
    >>> guess = guess_variances(design)
    >>> len(guess.blocks), guess.sigma2 is not None  # one block; gaussian: a residual variance
    (1, True)
    """

    blocks: tuple[BlockGuess, ...]
    sigma2: float | None


def _dmu(link: str, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and derivative of the inverse link (probability scale for binary families)."""
    if link == "logit":
        p = special.expit(eta)
        return p, p * (1 - p)
    if link == "probit":
        return special.ndtr(eta), np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
    if link == "cloglog":
        e = np.exp(eta)
        return -np.expm1(-e), np.exp(eta - e)
    if link == "log":
        mu = np.exp(eta)
        return mu, mu
    if link == "inverse":
        mu = 1.0 / np.maximum(eta, 1e-6)
        return mu, mu**2
    return eta, np.ones_like(eta)


def _precision(y: np.ndarray, kind: str) -> float:
    from bayesmixed.families.positive import moment_precision

    return moment_precision(y, kind)


def _working(
    design: Design, eta: np.ndarray, sigma2: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Working weights and response of the GLM at ``eta`` (offset included)."""
    family, link = design.family, design.link
    y = design.y.astype(float)
    if family.response == "real" and link == "identity":
        return np.full(y.shape, 1.0 / sigma2), y
    if family.ordinal:  # codes rescaled to the latent scale, taken as gaussian there
        lv = float(get_link(link).latent_variance)
        c = np.sqrt(lv / max(float(np.var(y)), 1e-12))
        return np.full(y.shape, 1.0 / lv), c * (y - float(np.mean(y)))
    eta = np.clip(eta, -20.0, 20.0)
    mu, d = _dmu(link, eta)
    d = np.maximum(d, 1e-10)
    if family.uses_trials:
        n = np.ones_like(y) if design.trials is None else design.trials.astype(float)
        p = np.clip(mu, 1e-6, 1 - 1e-6)
        w = n * d**2 / (p * (1 - p))
        z = eta + (y / np.maximum(n, 1e-12) - p) / d
    elif "sigma" in family.aux:  # gaussian, log link
        w = d**2 / sigma2
        z = eta + (y - mu) / d
    else:  # counts and the positive / unit-interval families, at a moment precision
        mu = np.maximum(mu, 1e-6)
        if family.response == "unit":
            mu = np.minimum(mu, 1.0 - 1e-6)
        # the count part's variance (distributional parameters such as zi at 0)
        aux = {"alpha": alpha, "shape": _precision(y, "gamma"), "phi": _precision(y, "beta"),
               **dict.fromkeys(family.dpars, 0.0)}
        var = np.maximum(family.variance(mu, aux, None), 1e-12)
        w = d**2 / var
        z = eta + (y - mu) / d
    return np.maximum(w, 1e-12), np.clip(z, -30.0, 30.0)


def _start(design: Design) -> tuple[np.ndarray, float, float]:
    """Starting linear predictor (without offset), sigma^2 and negative-binomial alpha."""
    y = design.y.astype(float)
    family, link = design.family, design.link
    off = 0.0 if design.offset is None else design.offset
    sigma2 = float(np.var(y)) if y.size > 1 else 1.0
    alpha = 1e3
    if family.uses_trials or family.response == "unit":
        n = np.ones_like(y) if design.trials is None else design.trials.astype(float)
        p = (y.sum() + 0.5) / (n.sum() + 1.0)
        cloglog = np.log(-np.log1p(-p))
        eta0 = {"logit": special.logit(p), "probit": special.ndtri(p)}.get(link, cloglog)
    elif family.ordinal:
        eta0 = 0.0
    elif link == "log":
        rate = y / np.exp(off)
        eta0 = np.log(max(float(rate.mean()), 1e-3))
        if "alpha" in family.aux:  # NB2 dispersion by moments
            m, v = float(y.mean()), float(y.var())
            alpha = m**2 / (v - m) if v > 1.01 * m else 1e3
    elif link == "inverse":
        eta0 = 1.0 / float(y.mean())
    else:
        eta0 = float(y.mean())
    return np.full(y.shape, float(eta0)), max(sigma2, 1e-12), alpha


def _loglik(design: Design, eta: np.ndarray, alpha: float) -> np.ndarray:
    """Per-row log likelihood at linear predictor ``eta`` (offset included), up to constants in
    the parameters, for the non-gaussian families; ``eta`` may carry trailing node axes."""
    fam = design.family.name
    y = design.y.astype(float).reshape((-1,) + (1,) * (eta.ndim - 1))
    mu, _ = _dmu(design.link, np.clip(eta, -30.0, 30.0))
    if fam in ("bernoulli", "binomial"):
        n = 1.0 if design.trials is None else design.trials.astype(float).reshape(y.shape)
        p = np.clip(mu, 1e-12, 1 - 1e-12)
        return y * np.log(p) + (n - y) * np.log1p(-p)
    mu = np.maximum(mu, 1e-12)
    if fam == "negbinomial":
        return (special.gammaln(y + alpha) - special.gammaln(alpha) + alpha * np.log(alpha)
                + y * np.log(mu) - (y + alpha) * np.log(mu + alpha))
    return y * np.log(mu) - mu


def _quadrature_tau2(design: Design, rest: np.ndarray, index: np.ndarray, levels: int,
                     alpha: float) -> float:
    """Variance of a random intercept by maximum marginal likelihood, the rest of the linear
    predictor (``rest``) held at the PQL fit, each level's integral by 30-node Gauss-Hermite.

    Only for factors whose levels carry little data (see :data:`FLAT_LEVELS`): there PQL is
    biased low (Breslow & Clayton 1993; Rodriguez & Goldman 1995, on the guImmun data), while
    each level's likelihood is nearly flat over the spread of its effect, so quadrature on the
    prior's nodes, without adapting them to the level, is accurate.
    """
    from scipy import optimize

    x, wq = special.roots_hermite(30)
    logw = np.log(wq / np.sqrt(np.pi))

    def negll(log_tau: float) -> float:
        u = np.sqrt(2.0) * np.exp(log_tau) * x
        ll = _loglik(design, rest[:, None] + u[None, :], alpha)  # (rows, nodes)
        per = np.stack([np.bincount(index, weights=ll[:, k], minlength=levels)
                        for k in range(x.size)], axis=1)
        return -float(np.sum(special.logsumexp(per + logw[None, :], axis=1)))

    lo, hi = np.log(1e-3), np.log(10.0)
    res = optimize.minimize_scalar(negll, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-3})
    return float(np.exp(2 * res.x)) if res.success else 0.0


def guess_variances(design: Design, sweeps: int = 10) -> VarianceGuess:
    """Approximate variance components of ``design``'s model (see the module docstring).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> design = bm.prepare("Reaction ~ Days + (Days | Subject)", df).design
    >>> g = guess_variances(design)  # lme4: sd 24.7 and 5.9, sigma 25.6
    >>> [round(float(s)) for s in np.sqrt(g.blocks[0].tau2)], round(g.sigma2 ** 0.5)
    ([24, 6], 26)
    """
    if design.family.transform is not None:  # lognormal: a gaussian model of log(y)
        from bayesmixed.families import get_family

        y = design.family.transform(design.y.astype(float))
        design = replace(design, y=y, family=get_family("gaussian"), link="identity")
    X = design.X
    off = np.zeros(design.n_obs) if design.offset is None else design.offset
    fixed, sigma2, alpha = _start(design)
    gaussian = design.family.response == "real" and design.link == "identity"
    scale = float(np.var(design.y)) if gaussian else 1.0
    tau2 = []
    for b in design.blocks:
        sd = np.std(b.Z, axis=0)
        sd[np.all(b.Z == 1.0, axis=0) | (sd < 1e-12)] = 1.0
        tau2.append(0.25 * max(scale, 1e-12) / sd**2)
    effects = [np.zeros((b.n_levels, b.n_terms)) for b in design.blocks]
    contrib = [np.zeros(design.n_obs) for _ in design.blocks]
    A_last: list[np.ndarray] = [np.zeros((b.n_levels, b.n_terms, b.n_terms)) for b in design.blocks]
    for _ in range(sweeps):
        eta = off + fixed + sum(contrib)
        w, z = _working(design, eta, sigma2, alpha)
        if X.shape[1]:
            t = z - off - sum(contrib)
            XtW = X.T * w
            beta = np.linalg.lstsq(XtW @ X + 1e-9 * np.eye(X.shape[1]), XtW @ t, rcond=None)[0]
            fixed = X @ beta
            eta = off + fixed + sum(contrib)
            w, z = _working(design, eta, sigma2, alpha)
        edf = float(X.shape[1])
        for i, b in enumerate(design.blocks):
            part = eta - contrib[i]
            e = z - part
            k, J = b.n_terms, b.n_levels
            A = np.empty((J, k, k))
            for a in range(k):
                for c in range(a, k):
                    wzz = w * b.Z[:, a] * b.Z[:, c]
                    A[:, a, c] = A[:, c, a] = np.bincount(b.index, weights=wzz, minlength=J)
            we = w * e
            rhs = np.stack(
                [np.bincount(b.index, weights=we * b.Z[:, a], minlength=J) for a in range(k)],
                axis=1,
            )
            M = A + np.diag(1.0 / tau2[i])[None]
            Minv = np.linalg.inv(M)
            u = np.einsum("jab,jb->ja", Minv, rhs)
            em = np.mean(u**2 + np.diagonal(Minv, axis1=1, axis2=2), axis=0)
            tau2[i] = np.maximum(em, 1e-10 * max(scale, 1e-12))
            effects[i] = u
            contrib[i] = np.sum(b.Z * u[b.index], axis=1)
            eta = part + contrib[i]
            A_last[i] = A
            edf += float(np.einsum("jab,jba->", A, Minv))
        if "alpha" in design.family.aux:  # moments: var = mu + mu^2 / alpha
            mu = np.exp(np.clip(eta, -30.0, 30.0))
            excess = float(np.sum((design.y - mu) ** 2 - mu)) / max(float(np.sum(mu**2)), 1e-12)
            alpha = 1.0 / max(excess, 1e-3)
        if "sigma" in design.family.aux:  # residual variance on the response scale
            resid = design.y - (eta if gaussian else np.exp(np.clip(eta, -30.0, 30.0)))
            rss = float(resid @ resid)
            sigma2 = max(rss / max(design.n_obs - edf, 1.0), 1e-12 * max(scale, 1e-12))
    if not gaussian:
        eta = off + fixed + sum(contrib)
        for i, b in enumerate(design.blocks):
            flat = b.n_terms == 1 and bool(np.all(b.Z[:, 0] == 1.0))
            if flat and np.median(A_last[i][:, 0, 0]) * tau2[i][0] < FLAT_LEVELS:
                q = _quadrature_tau2(design, eta - contrib[i], b.index, b.n_levels, alpha)
                tau2[i] = np.maximum(tau2[i], q)
    blocks = tuple(
        BlockGuess(tau2=np.asarray(t, float), A=A)
        for t, A in zip(tau2, A_last, strict=True)
    )
    return VarianceGuess(blocks, sigma2 if "sigma" in design.family.aux else None)
