"""The observation model, written by the family table's ``observed`` builder."""

from __future__ import annotations

import numpy as np

from bayesmixed.design.matrices import Design
from bayesmixed.families.links import get_link
from bayesmixed.formula.priors import Prior
from bayesmixed.graph.distributions import prior_rv, vector_rv
from bayesmixed.names import dpar_b_var, dpar_coef_dim, dpar_intercept_c_var, dpar_label

__all__ = ["add_dpars", "add_likelihood", "dpar_coords", "inverse_link"]


def inverse_link(link: str, eta):
    """Mean of the response given the linear predictor (pytensor).

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> float(inverse_link("logit", pt.constant(0.0)).eval())
    0.5
    """
    return get_link(link).inverse_pt(eta)


def add_likelihood(design: Design, eta, priors: dict[str, Prior], y, trials=None):
    """Add the observed variable ``y`` (and auxiliary parameters) to the current model.

    The auxiliary parameters are created first, in the family's order, with their priors; a
    vector parameter (ordinal thresholds) is built by the family row (``AuxParam.build``).

    Examples
    --------
    >>> import pymc as pm
    >>> import bayesmixed as bm
    >>> from bayesmixed.design.default_priors import resolve_priors
    >>> design = bm.prepare("Reaction ~ Days", bm.datasets.load("sleepstudy")).design
    >>> with pm.Model() as model:
    ...     y = add_likelihood(design, 250.0, resolve_priors(design), design.y)
    >>> [v.name for v in model.observed_RVs], [v.name for v in model.free_RVs]
    (['y'], ['sigma'])
    """
    fam = design.family
    aux = fam.build_aux(priors, design) if fam.build_aux is not None else {
        a.name: a.build(a.name, priors[a.name], design) if a.vector
        else prior_rv(a.name, priors[a.name])
        for a in fam.aux_params
    }
    aux.update(add_dpars(design, priors))
    return fam.observed(eta, design.link, aux, y, trials)


def dpar_coords(design: Design) -> dict[str, list[str]]:
    """Model coordinates of the distributional parameters' slopes (``zi_coef``).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.simulate("y ~ x + (1 | g)", family="poisson", n_groups=4, n_per_group=5, seed=1)
    >>> dpar_coords(bm.prepare(bm.bf("y ~ x + (1 | g)", zi="~ x"), df, family="zip").design)
    {'zi_coef': ['x']}
    """
    return {
        dpar_coef_dim(d): [n for n in names if n != "Intercept"]
        for d, names in design.dpar_names.items()
    }


def add_dpars(design: Design, priors: dict[str, Prior]) -> dict:
    """Distributional parameters (``zi``, ``hu``) per row, logit link, in the current model.

    Slopes ``<dpar>_b`` multiply the centered columns; the sampled intercept is
    ``<dpar>_Intercept_c`` and the Deterministic ``<dpar>_Intercept`` the one at ``x = 0``.
    Returns name -> probability vector (pytensor).

    Examples
    --------
    >>> import bayesmixed as bm
    >>> df = bm.simulate("y ~ x + (1 | g)", n_groups=5, n_per_group=4,
    ...                  family="zero_inflated_poisson", seed=1)
    >>> built = bm.prepare(bm.bf("y ~ x + (1 | g)", zi="~ x"), df, "zero_inflated_poisson")
    >>> "zi_b" in built.model.named_vars  # add_dpars made the zero part's slopes
    True
    """
    import pymc as pm
    import pytensor.tensor as pt

    out = {}
    for dpar, names in design.dpar_names.items():
        X = design.dpar_X[dpar]
        slopes = [j for j, n in enumerate(names) if n != "Intercept"]
        has_int = "Intercept" in names
        means = X[:, slopes].mean(axis=0) if has_int else np.zeros(len(slopes))
        eta = pt.zeros(design.n_obs)
        shift = 0.0
        if slopes:
            b = vector_rv(
                dpar_b_var(dpar), [priors[dpar_label(dpar, names[j])] for j in slopes],
                dpar_coef_dim(dpar),
            )
            eta = eta + pt.dot(pm.Data(f"{dpar}_X", X[:, slopes] - means), b)
            shift = pt.dot(pt.as_tensor(means), b)
        if has_int:
            c = prior_rv(dpar_intercept_c_var(dpar), priors[dpar_label(dpar, "Intercept")])
            pm.Deterministic(dpar_label(dpar, "Intercept"), c - shift)
            eta = eta + c
        out[dpar] = pm.math.invlogit(eta)
    return out
