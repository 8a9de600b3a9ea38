"""Figures of a :class:`~bayesmixed.result.Fit` (:mod:`bayesmixed.report.render.plots`)."""

from __future__ import annotations

from typing import Any

from bayesmixed.design.matrices import Design

__all__ = ["PlotsMixin"]


def _plots():
    """The plots module, imported on first use (it loads matplotlib)."""
    from bayesmixed.report.render import plots

    return plots


class PlotsMixin:
    """Plot methods of ``Fit``: matplotlib figures from :mod:`bayesmixed.report.render.plots`
    (imported on first use: matplotlib is not loaded by ``import bayesmixed``).

    Examples
    --------
    >>> isinstance(fit, PlotsMixin)
    True
    """

    idata: Any
    _idata: Any
    meta: dict[str, Any]
    design: Design

    def plot_trace(self, var_names=None):
        """Trace and density plot (matplotlib figure).

        Examples
        --------
        >>> fit.plot_trace()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_trace(self.idata, self.meta, self.design, var_names)

    def plot_rank(self, var_names=None):
        """Rank plots (matplotlib figure).

        Examples
        --------
        >>> fit.plot_rank()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_rank(self.idata, self.meta, self.design, var_names)

    def plot_forest(self, exponentiate: bool = False, prob: float = 0.95):
        """Forest plot of the population-level effects.

        Examples
        --------
        >>> fit.plot_forest()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_forest(self.idata, self.meta, self.design, exponentiate, prob)

    def plot_caterpillar(self, factor: str | None = None):
        """Caterpillar plot of the random effects per level.

        Examples
        --------
        >>> fit.plot_caterpillar()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_caterpillar(self.idata, self.meta, self.design, factor)

    def plot_shrinkage(self, factor: str | None = None, term: str = "Intercept"):
        """No-pooling vs partial-pooling estimates per level.

        Examples
        --------
        >>> fit.plot_shrinkage(term="Days")
        <Figure size ... with ... Axes>
        """
        return _plots().plot_shrinkage(self.idata, self.meta, self.design, factor, term)

    def plot_icc(self, kind: str = "adjusted"):
        """Posterior of the ICC per factor.

        Examples
        --------
        >>> fit.plot_icc()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_icc(self.idata, self.meta, self.design, kind)

    def plot_ppc(self):
        """Posterior predictive check for the family.

        Examples
        --------
        >>> fit.plot_ppc()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_ppc(self.idata, self.meta, self.design)

    def plot_calibration(self):
        """Calibration (and binned residuals for binary outcomes).

        Examples
        --------
        >>> fit.plot_calibration()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_calibration(self.idata, self.meta, self.design)

    def plot_linearity(self):
        """Binned residuals against each continuous predictor with +-2 SE bands and the
        curvature test (:mod:`bayesmixed.report.checks.linearity`).

        Examples
        --------
        >>> fit.plot_linearity()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_linearity(self.idata, self.meta, self.design)

    def plot_residuals(self):
        """Randomized quantile residuals.

        Examples
        --------
        >>> fit.plot_residuals()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_residuals(self.idata, self.meta, self.design)

    def plot_influence(self):
        """Pareto k of leave-one-cluster-out PSIS per cluster.

        Examples
        --------
        >>> fit.plot_influence()
        <Figure size ... with ... Axes>
        """
        return _plots().plot_influence(self.idata, self.meta, self.design)

    def plot_effects(self, variable: str, **kwargs):
        """Average predicted response as ``variable`` varies, with bands.

        Examples
        --------
        >>> fit.plot_effects("Days")
        <Figure size ... with ... Axes>
        """
        return _plots().plot_effects(self.idata, self.meta, self.design, variable, **kwargs)
