"""Model checks of a :class:`~bayesmixed.result.Fit` (:mod:`bayesmixed.report.checks`)."""

from __future__ import annotations

from typing import Any

from bayesmixed.design.matrices import Design
from bayesmixed.report.checks.checks import check as _check
from bayesmixed.report.checks.checks import posterior_predictive

__all__ = ["ChecksMixin"]


class ChecksMixin:
    """Check methods of ``Fit``, delegating to :mod:`bayesmixed.report.checks`.

    Examples
    --------
    >>> isinstance(fit, ChecksMixin)
    True
    """

    idata: Any
    _idata: Any
    meta: dict[str, Any]
    design: Design

    def ppc(self, seed=0):
        """Add posterior predictive draws of the fitted rows to ``fit.idata`` and return it.

        The ``posterior_predictive`` group has dims ``(chain, draw, obs)``, the ``obs``
        coordinate of ``observed_data``, so ``arviz_plots.plot_ppc_dist(fit.idata)`` and
        ``arviz_stats.loo_pit(fit.idata)`` work. It is not saved with the fit (recompute it).

        Examples
        --------
        >>> fit.ppc()["posterior_predictive"]["y"].shape
        (2, 200, 180)
        """
        ppc = posterior_predictive(self.idata, self.meta, self.design, seed)
        self._idata["posterior_predictive"] = ppc["posterior_predictive"].to_dataset()
        if "observed_data" not in self._idata.children:
            self._idata["observed_data"] = ppc["observed_data"].to_dataset()
        return self.idata

    def check(self, seed=0, influence: bool = True) -> dict:
        """All model checks for the family (tables, metrics, influence, warnings).

        Examples
        --------
        >>> {"ppc", "residuals", "vif", "warnings"} <= set(fit.check(influence=False))
        True
        """
        return _check(self.idata, self.meta, self.design, seed, influence)
