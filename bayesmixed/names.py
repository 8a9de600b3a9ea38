"""Every model variable name, model dimension, prior key and summary label, in one place.

The names are part of the run-folder format (``posterior.nc`` variables, ``priors.json`` keys)
and of what reports read, so they are formatted here and nowhere else, and parsed back here
too. Base layer: this module imports nothing from bayesmixed.

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
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
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


def sd_label(term: str, factor: str) -> str:
    """Prior key and summary label of one sd.

    >>> sd_label("Days", "Subject")
    'sd(Days|Subject)'
    """
    return f"sd({term}|{factor})"


def cor_label(a: str, b: str, factor: str) -> str:
    """Summary label (and simulation truth key) of one correlation.

    >>> cor_label("Intercept", "Days", "Subject")
    'cor(Intercept,Days|Subject)'
    """
    return f"cor({a},{b}|{factor})"


def cor_pair_label(a: str, b: str) -> str:
    """A correlation's row name within its factor (``VarCorr``).

    >>> cor_pair_label("Intercept", "Days")
    'cor(Intercept,Days)'
    """
    return f"cor({a},{b})"


def cor_prior_key(factor: str) -> str:
    """Prior key of the LKJ prior on the factor's correlations.

    >>> cor_prior_key("Subject")
    'cor(Subject)'
    """
    return f"cor({factor})"


def sd_factor_key(factor: str) -> str:
    """Override key for every sd of a factor.

    >>> sd_factor_key("Subject")
    'sd(Subject)'
    """
    return f"sd({factor})"


class PriorKey(NamedTuple):
    """A parsed ``sd(...)`` or ``cor(...)`` key: kind, terms (possibly none), factor.

    >>> PriorKey("sd", ("Days",), "Subject").factor
    'Subject'
    """

    kind: str
    terms: tuple[str, ...]
    factor: str


def parse_prior_key(key: str) -> PriorKey | None:
    """Parse an ``sd(...)``/``cor(...)`` prior key or summary label; None for any other name.

    The factor follows the last ``|``; without one the whole argument is the factor.

    Examples
    --------
    >>> parse_prior_key("sd(Days|Subject)")
    PriorKey(kind='sd', terms=('Days',), factor='Subject')
    >>> parse_prior_key("cor(Intercept,Days|Subject)")
    PriorKey(kind='cor', terms=('Intercept', 'Days'), factor='Subject')
    >>> parse_prior_key("cor(Subject)")
    PriorKey(kind='cor', terms=(), factor='Subject')
    >>> parse_prior_key("Days") is None
    True
    """
    for kind in ("sd", "cor"):
        if key.startswith(kind + "(") and key.endswith(")"):
            inner = key[len(kind) + 1 : -1]
            if "|" not in inner:
                return PriorKey(kind, (), inner)
            terms, factor = inner[: inner.rindex("|")], inner[inner.rindex("|") + 1 :]
            return PriorKey(kind, tuple(terms.split(",")) if kind == "cor" else (terms,), factor)
    return None


def factor_of(key: str) -> str | None:
    """Grouping factor of ``sd(term|factor)`` or ``cor(a,b|factor)``; else None.

    Examples
    --------
    >>> factor_of("sd(Intercept|school)")
    'school'
    >>> factor_of("sd(school)") is None, factor_of("x") is None
    (True, True)
    """
    parsed = parse_prior_key(key)
    return parsed.factor if parsed is not None and parsed.terms else None


def dpar_label(dpar: str, term: str) -> str:
    """Summary row / prior key of a distributional parameter's coefficient (brms style).

    Examples
    --------
    >>> dpar_label("zi", "Intercept"), dpar_label("hu", "x")
    ('zi_Intercept', 'hu_x')
    """
    return f"{dpar}_{term}"


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


def ar_label(k: int = 1) -> str:
    """The lag-``k`` autocorrelation of an ``ar()`` term: model variable, prior key and summary
    row (brms's name).

    >>> ar_label(1)
    'ar[1]'
    """
    return f"ar[{k}]"


#: model variable of the innovation sd ``sigma * sqrt(1 - ar[1]^2)`` of an ``ar()`` term: what
#: the sampler draws (and the ``sigma`` prior applies to); ``sigma`` is derived from it
AR_INNOVATION_SD = "sigma_innovation"

#: innovation sd of the latent AR(1) process that an ``ar()`` term adds to the linear predictor
#: of a non-gaussian family (model variable, prior key and summary row; link scale)
AR_LATENT_SD = "sigma_ar"

#: standard-normal innovations of the latent AR(1) process, one per row (non-centered form)
AR_LATENT_Z = "z_ar"
