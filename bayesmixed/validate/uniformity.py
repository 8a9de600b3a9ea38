"""Ranks of true values among posterior draws and tests of their uniformity (for SBC).

The chi-square test on binned ranks, and the simultaneous ECDF test of Säilynoja, Bürkner &
Vehtari (2022), whose null distribution is simulated exactly. Plain numpy/scipy, no model.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from bayesmixed.errors import SamplerError

__all__ = [
    "chisq_uniformity_test",
    "default_bins",
    "ecdf_uniformity_test",
    "rank_statistic",
    "thin_indices",
]


def thin_indices(n_total: int, n_rank_draws: int) -> np.ndarray:
    """Indexes of ``n_rank_draws`` evenly spaced draws out of ``n_total`` pooled draws."""
    if n_total < n_rank_draws:
        raise SamplerError(
            f"{n_total} posterior draws cannot be thinned to n_rank_draws={n_rank_draws}: "
            "raise draws or chains"
        )
    stride = n_total // n_rank_draws
    return np.arange(n_rank_draws) * stride


def rank_statistic(
    draws: np.ndarray, truth: float, n_rank_draws: int, rng: np.random.Generator | None = None
) -> int:
    """Rank of ``truth`` among ``n_rank_draws`` thinned posterior draws (0..n_rank_draws).

    Parameters
    ----------
    draws
        Posterior draws of one scalar, any shape (flattened chain-major).
    truth
        The value the data were simulated from.
    n_rank_draws
        ``L``: how many evenly spaced draws are kept.
    rng
        Breaks ties at random (ties have probability zero for continuous parameters).

    Examples
    --------
    >>> rank_statistic(np.arange(100.0), 49.5, 10)
    5
    """
    flat = np.asarray(draws, dtype=float).reshape(-1)
    kept = flat[thin_indices(flat.size, n_rank_draws)]
    below = int(np.sum(kept < truth))
    ties = int(np.sum(kept == truth))
    if ties:
        below += int((rng or np.random.default_rng(0)).integers(0, ties + 1))
    return below


def default_bins(n_sims: int, n_values: int, min_expected: float = 5.0, max_bins: int = 20) -> int:
    """Most bins (dividing ``n_values``, at most ``max_bins``) with >= ``min_expected`` per bin.

    Examples
    --------
    >>> default_bins(n_sims=100, n_values=100), default_bins(n_sims=30, n_values=100)
    (20, 5)
    """
    best = 1
    for b in range(1, min(max_bins, n_values) + 1):
        if n_values % b == 0 and n_sims / b >= min_expected:
            best = b
    return best


def chisq_uniformity_test(ranks: np.ndarray, n_values: int, bins: int) -> tuple[float, int, float]:
    """Pearson chi-square test that ``ranks`` are uniform on ``0..n_values-1``.

    ``bins`` must divide ``n_values`` so every bin holds the same number of rank values.

    Returns
    -------
    (statistic, degrees of freedom, p-value)

    Examples
    --------
    >>> import numpy as np
    >>> chisq_uniformity_test(np.arange(100) % 10, n_values=10, bins=5)  # perfectly uniform
    (0.0, 4, 1.0)
    """
    if n_values % bins:
        raise ValueError(f"bins={bins} must divide the number of rank values {n_values}")
    ranks = np.asarray(ranks, dtype=np.int64)
    counts = np.bincount(ranks // (n_values // bins), minlength=bins)
    res = stats.chisquare(counts)
    return float(res.statistic), bins - 1, float(res.pvalue)


def _ecdf_gamma(counts_below: np.ndarray, n: int, z: np.ndarray) -> np.ndarray:
    """Smallest two-sided binomial tail probability over evaluation points (last axis)."""
    lower = stats.binom.cdf(counts_below, n, z)
    upper = stats.binom.sf(counts_below - 1, n, z)
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper)).min(axis=-1)


def ecdf_uniformity_test(
    ranks: np.ndarray, n_values: int, *, n_null: int = 4000, seed: int = 0
) -> float:
    """p-value of the simultaneous ECDF test of discrete uniformity (Säilynoja et al. 2022).

    At every rank value ``k`` the number of ranks below ``k`` is Binomial(n, k / n_values)
    under uniformity. The statistic is the smallest two-sided binomial tail probability over
    all ``k``; its null distribution is simulated with ``n_null`` uniform samples of the same
    size, so the test is exact up to Monte Carlo error (about ``sqrt(p (1 - p) / n_null)``).

    Examples
    --------
    >>> import numpy as np
    >>> ranks = np.random.default_rng(1).integers(0, 100, 200)
    >>> bool(ecdf_uniformity_test(ranks, 100, n_null=500) > 0.05)  # uniform ranks pass
    True
    >>> bool(ecdf_uniformity_test(np.full(200, 99), 100, n_null=500) < 0.01)  # piled up: fail
    True
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    n = ranks.size
    z = np.arange(1, n_values) / n_values

    def stat(r: np.ndarray) -> np.ndarray:
        hist = np.apply_along_axis(np.bincount, -1, r, minlength=n_values)
        below = np.cumsum(hist, axis=-1)[..., :-1]
        return _ecdf_gamma(below, n, z)

    observed = float(stat(ranks[None, :])[0])
    rng = np.random.default_rng(seed)
    null = stat(rng.integers(0, n_values, size=(n_null, n)))
    return float((np.sum(null <= observed) + 1) / (n_null + 1))
