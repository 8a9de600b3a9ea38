"""The tables of a :class:`~bayesmixed.result.Fit`: summary, diagnostics, variance components, ICC, R2,
random effects, tidy (:mod:`bayesmixed.report.tables`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bayesmixed.design.matrices import Design
from bayesmixed.report.tables.diagnostics import Diagnostics, diagnose
from bayesmixed.report.tables.r2 import r2_table
from bayesmixed.report.tables.ranef import coef_table, ranef_table
from bayesmixed.report.tables.summary import summary_table
from bayesmixed.report.tables.tidy import tidy_table
from bayesmixed.report.tables.variance import icc_table, mor_table, varcorr_table, vpc_table

__all__ = ["TablesMixin"]


class TablesMixin:
    """Table methods of ``Fit``; each delegates to a function of ``(idata, meta, design)``.

    Examples
    --------
    >>> isinstance(fit, TablesMixin)
    True
    """

    idata: Any
    _idata: Any
    meta: dict[str, Any]
    design: Design
    _memo: dict[tuple | str, Any]

    def _summary(self, exponentiate: bool, prob: float) -> pd.DataFrame:
        key = ("summary", exponentiate, prob)
        if key not in self._memo:  # a Fit is immutable after creation
            self._memo[key] = summary_table(
                self._idata, self.meta, exponentiate=exponentiate, prob=prob)
        return self._memo[key]

    def summary(self, exponentiate: bool = False, prob: float = 0.95) -> pd.DataFrame:
        """Posterior summary, one row per parameter, named the brms/lme4 way.

        Parameters
        ----------
        exponentiate
            Report ``exp`` of population-level coefficients: odds ratios (logit link) or
            rate ratios (log link).
        prob
            Probability of the central interval.

        Returns
        -------
        pandas.DataFrame
            Columns mean, sd, lower and upper quantiles, r_hat, ess_bulk, ess_tail.

        Examples
        --------
        >>> fit.summary().index.tolist()[:3]
        ['Intercept', 'Days', 'sd(Intercept|Subject)']
        >>> bool(fit.summary().loc["Days", "2.5%"] > 0)  # slower with each day without sleep
        True
        """
        return self._summary(bool(exponentiate), float(prob)).copy()

    def diagnostics(self) -> Diagnostics:
        """Convergence diagnostics with a verdict (``ok``, ``warning``, ``fail``) and advice;
        ``approximate`` for the draws of ``method="pathfinder"`` (no convergence checks, the
        Pareto k of the importance weights instead).

        Examples
        --------
        >>> fit.diagnostics().verdict in ("ok", "warning", "fail")
        True
        """
        if "diagnostics" not in self._memo:
            self._memo["diagnostics"] = diagnose(self._idata, self.meta)
        return self._memo["diagnostics"]

    def icc(self, prob: float = 0.95, kind: str = "adjusted") -> pd.DataFrame:
        """Posterior ICC per grouping factor (latent scale for non-gaussian families).

        ``kind="adjusted"`` (random over random + residual variance) or ``"conditional"``
        (fixed-effect variance in the denominator too); see :mod:`bayesmixed.report.tables.variance`.

        Examples
        --------
        >>> fit.icc().loc["Subject", "kind"], fit.icc(kind="conditional").loc["Subject", "kind"]
        ('adjusted', 'conditional')
        """
        return icc_table(self._idata, self.meta, self.design, kind=kind, prob=prob)

    def vpc(self, x: str, values=None, prob: float = 0.95) -> pd.DataFrame:
        """Variance partition coefficient per factor as a function of the random-slope term
        ``x`` (Goldstein et al. 2002).

        Examples
        --------
        >>> fit.vpc(x="Days", values=[0, 9])[["factor", "Days"]].values.tolist()
        [['Subject', 0.0], ['Subject', 9.0]]
        """
        return vpc_table(self._idata, self.meta, self.design, x, values, prob)

    def mor(self, prob: float = 0.95) -> pd.DataFrame:
        """Median odds ratio (logit) / rate ratio (log) per factor (Larsen & Merlo 2005).

        Examples
        --------
        >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
        ...               chains=2, draws=200, tune=200, seed=1, progress=False)
        >>> bfit.mor().loc["ID", "measure"]
        'MOR'
        """
        return mor_table(self._idata, self.meta, prob)

    def varcorr(self, prob: float = 0.95) -> pd.DataFrame:
        """Variance components in lme4's VarCorr layout with posterior intervals.

        Examples
        --------
        >>> fit.varcorr()["name"].tolist()
        ['Intercept', 'Days', 'cor(Intercept,Days)', '']
        """
        return varcorr_table(self._idata, self.meta, prob)

    def r2(self, prob: float = 0.95, method: str = "model") -> pd.DataFrame:
        """Bayesian R2 (Gelman et al. 2019) and marginal / conditional R2 (Nakagawa).

        Examples
        --------
        >>> fit.r2().index.tolist()
        ['bayes', 'marginal', 'conditional']
        """
        return r2_table(self.idata, self.meta, self.design, prob, method)

    def ranef(self, factor: str | None = None, prob: float = 0.95) -> pd.DataFrame:
        """Random-effect deviations per level, tidy (factor, level, term, mean, sd, interval).

        Examples
        --------
        >>> fit.ranef().shape[0]  # 18 subjects x (intercept, slope)
        36
        """
        return ranef_table(self._idata, self.meta, factor, prob)

    def coef(self, factor: str | None = None, prob: float = 0.95, wide: bool = False):
        """Group-specific coefficients, fixed + random per level (lme4's ``coef``).

        Examples
        --------
        >>> fit.coef(wide=True)["Subject"].columns.tolist()
        ['Intercept', 'Days']
        """
        return coef_table(self._idata, self.meta, factor, prob, wide)

    def tidy(self, effects="fixed", prob: float = 0.95, exponentiate: bool = False):
        """Estimates in broom.mixed's layout: ``effects`` is ``"fixed"``, ``"ran_pars"``,
        ``"ran_vals"`` or a list of them (see :func:`bayesmixed.report.tables.tidy.tidy_table`).

        Examples
        --------
        >>> fit.tidy(["fixed", "ran_pars"]).columns.tolist()
        ['effect', 'group', 'term', 'estimate', 'std.error', 'conf.low', 'conf.high']
        """
        return tidy_table(self._idata, self.meta, effects, prob, exponentiate)
