"""Model variable names, data names and dimensions of the PyMC model (``sd__L``, ``r__L``,
``z__L``, ``idx__L``, ``L__term`` ...); see :mod:`bayesmixed.names` for the scheme."""

from __future__ import annotations

__all__ = [
    "AR_INNOVATION_SD",
    "AR_LATENT_SD",
    "AR_LATENT_Z",
    "W_data",
    "Z_data",
    "block_label",
    "component_var",
    "cor_u_var",
    "cor_var",
    "corr_chol_var",
    "dpar_b_var",
    "dpar_coef_dim",
    "dpar_intercept_c_var",
    "idx_data",
    "is_prior_data",
    "marginal_data",
    "outer_idx_data",
    "outer_map_data",
    "outer_n_data",
    "p_var",
    "pivot_var",
    "prior_data",
    "r_inv_data",
    "r_raw_var",
    "r_var",
    "sd_var",
    "term_b_dim",
    "term_dim",
    "w_data",
    "z_var",
]


def _block(prefix: str, label: str) -> str:
    return f"{prefix}__{label}"


def block_label(base: str, k: int) -> str:
    """The label of a factor's ``k``-th block (from 0); ``base`` is the factor made safe.

    >>> block_label("g", 0), block_label("g", 1)
    ('g', 'g_2')
    """
    return base if k == 0 else f"{base}_{k + 1}"


def sd_var(label: str) -> str:
    """The block's standard deviations.

    >>> sd_var("Subject")
    'sd__Subject'
    """
    return _block("sd", label)


def r_var(label: str) -> str:
    """The block's deviations from their mean (Deterministic; what reports read).

    >>> r_var("Subject")
    'r__Subject'
    """
    return _block("r", label)


def r_raw_var(label: str) -> str:
    """The centered block's sampled effects.

    >>> r_raw_var("g")
    'r_raw__g'
    """
    return _block("r_raw", label)


def z_var(label: str) -> str:
    """The non-centered block's standard-normal innovations.

    >>> z_var("g")
    'z__g'
    """
    return _block("z", label)


def p_var(label: str) -> str:
    """The partially centered block's sampled variables.

    >>> p_var("g")
    'p__g'
    """
    return _block("p", label)


def w_data(label: str) -> str:
    """The partially centered block's weights (data).

    >>> w_data("g")
    'w__g'
    """
    return _block("w", label)


def cor_var(label: str) -> str:
    """The block's correlation matrix (Deterministic).

    >>> cor_var("Subject")
    'cor__Subject'
    """
    return _block("cor", label)


def cor_u_var(label: str) -> str:
    """The Beta variable of a two-term block's correlation.

    >>> cor_u_var("Subject")
    'cor_u__Subject'
    """
    return _block("cor_u", label)


def corr_chol_var(label: str) -> str:
    """The LKJ Cholesky factor of a block of three or more terms.

    >>> corr_chol_var("g")
    'corr_chol__g'
    """
    return _block("corr_chol", label)


def pivot_var(label: str) -> str:
    """The pivot level's linear predictor.

    >>> pivot_var("g")
    'pivot__g'
    """
    return _block("pivot", label)


def idx_data(label: str) -> str:
    """The level index of each row (data).

    >>> idx_data("g")
    'idx__g'
    """
    return _block("idx", label)


def outer_map_data(label: str, outer: str) -> str:
    """For each level of the block ``label``, the level of the factor ``outer`` it is nested
    in (data: swapped in with the rest when a compiled structure is reused).

    >>> outer_map_data("BROOD", "LOCATION")
    'outer_map__BROOD__LOCATION'
    """
    return f"{_block('outer_map', label)}__{outer}"


def outer_idx_data(label: str) -> str:
    """For each level of the block ``label``, the level of the outer factor integrated out of
    its prior (data; see :mod:`bayesmixed.graph.collapse`).

    >>> outer_idx_data("BROOD")
    'outer_idx__BROOD'
    """
    return _block("outer_idx", label)


def outer_n_data(label: str) -> str:
    """Number of levels of the block ``label`` in each level of its integrated-out outer factor.

    >>> outer_n_data("BROOD")
    'outer_n__BROOD'
    """
    return _block("outer_n", label)


def W_data(label: str) -> str:
    """Per-level values of the predictors moved into the block's mean (data).

    >>> W_data("g")
    'W__g'
    """
    return _block("W", label)


def Z_data(label: str, k: int) -> str:
    """Column ``k`` of the block's design (data), when it is not all ones.

    >>> Z_data("g", 1)
    'Z__g__1'
    """
    return f"Z__{label}__{k}"


def marginal_data(key: str) -> str:
    """A per-level or global sum of the marginal gaussian likelihood (data).

    >>> marginal_data("wtw")
    'm__wtw'
    """
    return _block("m", key)


def r_inv_data(name: str) -> str:
    """The inverse R factor of a QR-parameterized coefficient vector (data).

    >>> r_inv_data("b_qr")
    'b_qr__R_inv'
    """
    return f"{name}__R_inv"


def component_var(name: str, i: int) -> str:
    """Component ``i`` of a vector whose components have different priors.

    >>> component_var("sd__g", 0)
    'sd__g__0'
    """
    return f"{name}__{i}"


def prior_data(name: str, param: str) -> str:
    """Data holding parameter ``param`` of the prior of vector variable ``name``.

    The population coefficients' priors are scaled to the data (``sigma = 2.5 s_y / sd(x)``):
    held as data, a compiled model of the structure serves every data set
    (:mod:`bayesmixed.sample.staticshape`).

    >>> prior_data("b", "sigma")
    'b__prior_sigma'
    """
    return f"{name}__prior_{param}"


def is_prior_data(name: str) -> bool:
    """Whether data ``name`` holds a prior parameter (:func:`prior_data`).

    >>> is_prior_data("b__prior_sigma"), is_prior_data("X")
    (True, False)
    """
    return "__prior_" in name


def term_dim(label: str) -> str:
    """The dimension of the block's terms.

    >>> term_dim("Subject")
    'Subject__term'
    """
    return f"{label}__term"


def term_b_dim(label: str) -> str:
    """The second term dimension (columns of the correlation matrix).

    >>> term_b_dim("Subject")
    'Subject__term_b'
    """
    return f"{label}__term_b"


def dpar_b_var(dpar: str) -> str:
    """Model variable of a distributional parameter's slopes (dims :func:`dpar_coef_dim`).

    Examples
    --------
    >>> dpar_b_var("zi")
    'zi_b'
    """
    return f"{dpar}_b"


def dpar_coef_dim(dpar: str) -> str:
    """Dimension of a distributional parameter's slopes.

    Examples
    --------
    >>> dpar_coef_dim("zi")
    'zi_coef'
    """
    return f"{dpar}_coef"


def dpar_intercept_c_var(dpar: str) -> str:
    """Sampled (centered-predictor) intercept of a distributional parameter; the reported one
    is ``dpar_label(dpar, "Intercept")``.

    Examples
    --------
    >>> dpar_intercept_c_var("hu")
    'hu_Intercept_c'
    """
    return f"{dpar}_Intercept_c"


#: model variable of the innovation sd ``sigma * sqrt(1 - ar[1]^2)`` of an ``ar()`` term: what
#: the sampler draws (and the ``sigma`` prior applies to); ``sigma`` is derived from it
AR_INNOVATION_SD = "sigma_innovation"

#: innovation sd of the latent AR(1) process that an ``ar()`` term adds to the linear predictor
#: of a non-gaussian family (model variable, prior key and summary row; link scale)
AR_LATENT_SD = "sigma_ar"

#: standard-normal innovations of the latent AR(1) process, one per row (non-centered form)
AR_LATENT_Z = "z_ar"
