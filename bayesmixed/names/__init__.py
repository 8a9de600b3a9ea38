"""Every model variable name, model dimension, prior key and summary label, in one place.

The names are part of the run-folder format (``posterior.nc`` variables, ``priors.json`` keys)
and of what reports read, so they are formatted here and nowhere else, and parsed back here
too. Base layer: this package imports nothing else of bayesmixed.

Model variables of a random-effects block with label ``L`` (the grouping factor made safe
for a dimension name, :func:`block_label`):

- ``sd__L`` (dims ``L__term``): standard deviations; ``cor__L`` (``L__term`` x ``L__term_b``):
  the correlation matrix, from ``cor_u__L`` (two terms) or ``corr_chol__L`` (more);
- ``r__L`` (``L`` x ``L__term``): the deviations of the effects from their mean (what ``ranef``
  reports), sampled through ``z__L`` (non-centered), ``r_raw__L`` (centered) or ``p__L``
  (partially centered, weights ``w__L``); ``pivot__L``: a pivot level's linear predictor;
- data: ``idx__L`` (level of each row), ``Z__L__k`` (term ``k``'s column), ``W__L`` (per-level
  values of predictors moved into the effects' mean).

Prior keys and summary labels: ``sd(term|factor)``, ``cor(a,b|factor)`` (a summary row),
``cor(factor)`` (the LKJ prior of the factor's blocks), ``sd(factor)`` (an override for all
of a factor's sds).

The names live in :mod:`.variables` (model variables, data, dimensions) and :mod:`.labels`
(summary labels, prior keys); ``from bayesmixed.names import X`` gives either.
"""

from bayesmixed.names.labels import (
    PriorKey,
    ar_label,
    cor_label,
    cor_pair_label,
    cor_prior_key,
    dpar_label,
    factor_of,
    parse_prior_key,
    sd_factor_key,
    sd_label,
)
from bayesmixed.names.variables import (
    AR_INNOVATION_SD,
    AR_LATENT_SD,
    AR_LATENT_Z,
    W_data,
    Z_data,
    block_label,
    component_var,
    cor_u_var,
    cor_var,
    corr_chol_var,
    dpar_b_var,
    dpar_coef_dim,
    dpar_intercept_c_var,
    idx_data,
    is_prior_data,
    marginal_data,
    outer_idx_data,
    outer_map_data,
    outer_n_data,
    p_var,
    pivot_var,
    prior_data,
    r_inv_data,
    r_raw_var,
    r_var,
    sd_var,
    term_b_dim,
    term_dim,
    w_data,
    z_var,
)

__all__ = [
    "AR_INNOVATION_SD",
    "AR_LATENT_SD",
    "AR_LATENT_Z",
    "PriorKey",
    "W_data",
    "Z_data",
    "ar_label",
    "block_label",
    "component_var",
    "cor_label",
    "cor_pair_label",
    "cor_prior_key",
    "cor_u_var",
    "cor_var",
    "corr_chol_var",
    "dpar_b_var",
    "dpar_coef_dim",
    "dpar_intercept_c_var",
    "dpar_label",
    "factor_of",
    "idx_data",
    "is_prior_data",
    "marginal_data",
    "outer_idx_data",
    "outer_map_data",
    "outer_n_data",
    "p_var",
    "parse_prior_key",
    "pivot_var",
    "prior_data",
    "r_inv_data",
    "r_raw_var",
    "r_var",
    "sd_factor_key",
    "sd_label",
    "sd_var",
    "term_b_dim",
    "term_dim",
    "w_data",
    "z_var",
]
