"""The result of a simulation-based calibration run: ranks, truths, per-simulation
diagnostics, the uniformity tests per parameter and the rank histograms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayesmixed.validate.uniformity import (
    chisq_uniformity_test,
    default_bins,
    ecdf_uniformity_test,
)

__all__ = ["SBCResult"]


@dataclass
class SBCResult:
    """Ranks of the true values among posterior draws, one row per simulation.

    Attributes
    ----------
    ranks
        Simulation x parameter, values ``0..n_rank_draws``; failed simulations are absent.
    truths
        The parameter values each data set was simulated from.
    sims
        Per simulation: seed, parameterization, divergences, min bulk ESS, max R-hat,
        seconds, and the error message of a failed fit.
    n_rank_draws
        ``L``: ranks take the ``L + 1`` values ``0..L``.
    settings
        Formula, family, priors and sampler settings of the run.

    Examples
    --------
    >>> from bayesmixed.validate.sbc import sbc
    >>> res = sbc("y ~ x + (1 | g)", 2, family="bernoulli", n_groups=5, n_per_group=4,
    ...           priors={"Intercept": "normal(0, 1)", "b": "normal(0, 1)", "sd": "half_normal(1)"},
    ...           chains=1, draws=40, tune=40, n_rank_draws=9, seed=1, include_effects=False)
    >>> res.ranks.columns.tolist(), res.n_rank_draws
    (['Intercept', 'x', 'sd(Intercept|g)'], 9)
    >>> bool(res.ranks.isin(range(10)).all().all())  # ranks lie in 0..L
    True
    """

    ranks: pd.DataFrame
    truths: pd.DataFrame
    sims: pd.DataFrame
    n_rank_draws: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_values(self) -> int:
        """Number of possible rank values, ``L + 1``."""
        return self.n_rank_draws + 1

    @property
    def n_done(self) -> int:
        """Simulations with ranks."""
        return len(self.ranks)

    def uniformity(
        self, bins: int | None = None, *, n_null: int = 4000, seed: int = 0
    ) -> pd.DataFrame:
        """Uniformity tests per parameter: chi-square on ``bins`` bins and the ECDF test.

        Returns
        -------
        pandas.DataFrame
            Index: parameter; columns ``n``, ``bins``, ``chi2``, ``df``, ``p_chi2``, ``p_ecdf``.
        """
        n = self.n_done
        b = bins or default_bins(n, self.n_values)
        rows = {}
        for name in self.ranks.columns:
            r = self.ranks[name].to_numpy(dtype=np.int64)
            chi2, df, p = chisq_uniformity_test(r, self.n_values, b)
            rows[name] = {
                "n": n,
                "bins": b,
                "chi2": chi2,
                "df": df,
                "p_chi2": p,
                "p_ecdf": ecdf_uniformity_test(r, self.n_values, n_null=n_null, seed=seed),
            }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameter")

    def passes(self, alpha: float = 0.01, bins: int | None = None) -> bool:
        """Whether no test rejects uniformity at family-wise level ``alpha`` (Bonferroni).

        Both tests of every parameter count as separate tests; a chi-square test left undefined
        by too few simulations (one bin) does not count.
        """
        table = self.uniformity(bins)
        m = 2 * len(table)
        p = table[["p_chi2", "p_ecdf"]].to_numpy(dtype=float)
        return bool(
            np.all(np.isnan(p) | (p > alpha / m))
        )  # undefined tests (too few sims) do not reject

    def histogram(self, bins: int | None = None) -> pd.DataFrame:
        """Rank counts per bin (columns) for every parameter (rows)."""
        b = bins or default_bins(self.n_done, self.n_values)
        width = self.n_values // b
        return pd.DataFrame(
            {
                name: np.bincount(self.ranks[name].to_numpy(dtype=np.int64) // width, minlength=b)
                for name in self.ranks.columns
            }
        ).T.rename_axis("parameter")

    def plot_ranks(self, bins: int | None = None, prob: float = 0.99):
        """Rank histograms with the central ``prob`` band of a bin count under uniformity.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        hist = self.histogram(bins)
        b = hist.shape[1]
        lo, hi = stats.binom.interval(prob, self.n_done, 1.0 / b)
        k = len(hist)
        ncol = min(4, k)
        nrow = -(-k // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False)
        for ax, (name, counts) in zip(axes.flat, hist.iterrows(), strict=False):
            ax.axhspan(lo, hi, color="0.85", zorder=0)
            ax.axhline(self.n_done / b, color="0.5", lw=0.8)
            ax.bar(np.arange(b), counts.to_numpy(), width=1.0, color="C0", edgecolor="white")
            ax.set_title(name, fontsize=9)
            ax.set_xticks([])
        for ax in list(axes.flat)[k:]:
            ax.set_visible(False)
        fig.suptitle(f"SBC rank histograms ({self.n_done} simulations, {prob:.0%} band)")
        fig.tight_layout()
        return fig
