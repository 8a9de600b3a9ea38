"""The latent AR(1) process of an ``ar()`` term with a non-gaussian family, in numpy.

With a family that has no exact autocorrelated likelihood (``Family.exact_ar`` is None:
bernoulli, binomial, poisson, negbinomial, ...), ``ar(time, gr)`` adds a latent term ``e`` to
every row's linear predictor, as brms does (``ar(..., cov = FALSE)`` with latent residuals).
Within each series (the rows of one level of ``gr``, in time order) ``e`` is a stationary AR(1)
process on the link scale:

* first row of a series: ``e ~ N(0, s)`` with ``s = sigma_ar / sqrt(1 - phi^2)`` the stationary
  (marginal) sd;
* a row ``d`` time steps after the previous row of its series:
  ``e = phi^d e_prev + s sqrt(1 - phi^(2d)) z``, so two rows ``d`` steps apart correlate
  ``phi^d`` (gaps are handled as for the gaussian family);

``phi`` is ``ar[1]`` and ``sigma_ar`` the innovation sd of one step. The sampler draws the
innovations ``z ~ N(0, 1)`` (``z_ar``, one per row; a non-centered form) and builds ``e`` from
them (:mod:`bayesmixed.graph.latent_ar`); the functions here build the same process from draws
of ``z``, ``phi`` and ``sigma_ar`` for the report, and draw new processes for simulation and
predictions on new series.

The series are laid out on a ``(series, position)`` grid (:class:`SeriesLayout`): each row's
cell, and the gap to the previous cell of its series (0 on a series' first cell and on the
padding after its last).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesmixed.families.autocor import decode_links

__all__ = ["SeriesLayout", "draw_latent", "latent_process", "series_layout", "stationary_sd"]


@dataclass(frozen=True)
class SeriesLayout:
    """The rows of the series on a ``(series, position)`` grid.

    Attributes
    ----------
    cell
        Flat grid index of every row, shape ``(rows,)``.
    gap
        Time steps from the previous cell of the same series, shape ``(series, positions)``;
        0 on the first cell of a series and on padding cells.

    Examples
    --------
    >>> lay = SeriesLayout(cell=np.array([0, 1, 2]), gap=np.array([[0, 1], [0, 0]]))
    >>> lay.shape
    (2, 2)
    """

    cell: np.ndarray
    gap: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(series, positions)``."""
        return tuple(self.gap.shape)


def series_layout(codes: np.ndarray) -> SeriesLayout:
    """The grid of the series encoded by :func:`~bayesmixed.families.autocor.link_codes`.

    Examples
    --------
    >>> from bayesmixed.families.autocor import link_codes
    >>> codes = link_codes(np.array([0, 0, 1, 0]), np.array([0, 1, 2, 0]))  # rows 0-1-2 and 3
    >>> lay = series_layout(codes)
    >>> lay.cell.tolist(), lay.gap.tolist()
    ([0, 1, 2, 3], [[0, 1, 2], [0, 0, 0]])
    """
    first, prev, gap = decode_links(codes)
    n = first.shape[0]
    nxt = np.full(n, -1, dtype=np.int64)
    nxt[prev[~first]] = np.flatnonzero(~first)
    heads = np.flatnonzero(first)
    series = np.full(n, -1, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    cur, k = heads.copy(), 0
    while cur.size:
        series[cur] = np.arange(heads.size) if k == 0 else series[prev[cur]]
        pos[cur] = k
        cur = nxt[cur]
        cur = cur[cur >= 0]
        k += 1
    if (series < 0).any():
        raise ValueError("the series links form a cycle")
    n_pos = max(k, 1)
    grid_gap = np.zeros((heads.size, n_pos), dtype=np.int64)
    grid_gap[series, pos] = gap
    return SeriesLayout(series * n_pos + pos, grid_gap)


def stationary_sd(phi, sigma_ar):
    """Marginal sd ``sigma_ar / sqrt(1 - phi^2)`` of the process.

    Examples
    --------
    >>> float(stationary_sd(0.6, 0.8))
    1.0
    """
    phi = np.asarray(phi, dtype=float)
    return np.asarray(sigma_ar, dtype=float) / np.sqrt(1.0 - phi**2)


def latent_process(z: np.ndarray, phi, sigma_ar, codes: np.ndarray) -> np.ndarray:
    """The process ``e`` from innovations ``z`` (draws, rows), as the sampled graph builds it.

    ``phi`` and ``sigma_ar`` are numbers or arrays ``(draws,)``. One pass over the positions of
    the grid, vectorized over draws and series.

    Examples
    --------
    >>> from bayesmixed.families.autocor import link_codes
    >>> codes = link_codes(np.array([0, 0, 1]), np.array([0, 1, 2]))  # gap of 2 before row 2
    >>> latent_process(np.array([[1.0, 0.0, 0.0]]), 0.5, np.sqrt(0.75), codes).tolist()
    [[1.0, 0.5, 0.125]]
    """
    z = np.atleast_2d(np.asarray(z, dtype=float))
    lay = series_layout(codes)
    n_series, n_pos = lay.shape
    phi = np.asarray(phi, dtype=float).reshape(-1, 1)
    grid = np.zeros((z.shape[0], n_series * n_pos))
    grid[:, lay.cell] = z
    grid = grid.reshape(z.shape[0], n_series, n_pos)
    u = np.zeros_like(grid)
    u[:, :, 0] = grid[:, :, 0]
    for t in range(1, n_pos):
        gap = lay.gap[:, t]
        rho = np.where(gap > 0, phi ** gap, 0.0)
        u[:, :, t] = rho * u[:, :, t - 1] + np.where(gap > 0, np.sqrt(1.0 - rho**2), 0.0) * (
            grid[:, :, t])
    e = u.reshape(z.shape[0], -1)[:, lay.cell]
    return e * stationary_sd(phi, np.asarray(sigma_ar, dtype=float).reshape(-1, 1))


def draw_latent(rng: np.random.Generator, n_draws: int, phi, sigma_ar, codes) -> np.ndarray:
    """New draws of the process of the series in ``codes``, ``(n_draws, rows)``.

    Examples
    --------
    >>> from bayesmixed.families.autocor import link_codes
    >>> codes = link_codes(np.array([0, 0]), np.array([0, 1]))
    >>> e = draw_latent(np.random.default_rng(1), 20000, 0.6, 0.8, codes)
    >>> round(float(np.corrcoef(e.T)[0, 1]), 1), np.round(e.std(axis=0), 1).tolist()
    (0.6, [1.0, 1.0])
    """
    n = np.asarray(codes).reshape(-1).shape[0]
    z = rng.standard_normal((n_draws, n))
    return latent_process(z, phi, sigma_ar, codes)
