"""The :class:`Fit` result: posterior plus everything needed to read it.

``Fit`` holds state (posterior, model description, spec, data, sampler settings) and delegates
every computation to a function of the report layer, so each quantity lives in its own module
and can be used without a ``Fit``.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bayesmixed.design.matrices import Design, build_design
from bayesmixed.fitfiles import save_fit
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.parallel import run_tasks
from bayesmixed.pipeline import Refitter, refitter
from bayesmixed.pipeline import prior_draws as _prior_draws
from bayesmixed.report.checks import checks as _checks
from bayesmixed.report.compare import hypothesis as _hypothesis
from bayesmixed.report.compare import loo as _compare
from bayesmixed.report.core import native as _native
from bayesmixed.report.predict import effects as _effects
from bayesmixed.report.predict import predict as _predict
from bayesmixed.report.render import text as _text
from bayesmixed.report.tables import diagnostics as _diag
from bayesmixed.report.tables import r2 as _r2
from bayesmixed.report.tables import ranef as _ranef
from bayesmixed.report.tables import summary as _summary
from bayesmixed.report.tables import variance as _variance

__all__ = ["Fit", "FitRefitter"]


class Fit:
    """A fitted multilevel model.

    Attributes
    ----------
    idata : xarray.DataTree
        Posterior draws, sample stats, pointwise log-likelihood and observed data (ArviZ).
        The log-likelihood is computed on the first access (see :attr:`idata`).
    meta : dict
        Model description: formula, family, link, terms, blocks, parameterization, priors.
    spec : ModelSpec
        The model specification.
    data : pandas.DataFrame
        The rows used for fitting.
    config : dict
        Sampler settings (backend, chains, draws, tune, target_accept, seed).
    timings : dict
        Seconds spent building, compiling and sampling.

    Examples
    --------
    A fit of the sleepstudy data; the examples of the methods below use this ``fit``:

    >>> import bayesmixed as bm
    >>> df = bm.datasets.load("sleepstudy")
    >>> fit = bm.fit("Reaction ~ Days + (Days | Subject)", df, chains=2, draws=200, tune=200,
    ...              seed=1, progress=False)
    >>> fit
    <bayesmixed.Fit gaussian(identity): Reaction ~ Days + (1 + Days | Subject)>
    >>> fit.levels
    {'Subject': 18}
    """

    def __init__(
        self,
        idata,
        meta: dict[str, Any],
        spec: ModelSpec,
        data: pd.DataFrame,
        config: dict[str, Any] | None = None,
        timings: dict[str, Any] | None = None,
        design: Design | None = None,
    ) -> None:
        self._idata = idata
        self.meta = meta
        self.spec = spec
        self.data = data
        self.config = config or {}
        self.timings = timings or {}
        self._design = design
        self._memo: dict[tuple, Any] = {}  # per fit: dropped with it (no process-wide cache)

    # -- state ---------------------------------------------------------------------------
    @property
    def idata(self):
        """The ArviZ-native :class:`xarray.DataTree` of the fit (see :mod:`bayesmixed.report.core.native`).

        A fit computes its pointwise log-likelihood on first use (issue 18): the first access
        to ``fit.idata`` adds the ``log_likelihood`` group (:meth:`add_log_likelihood`), so
        ``arviz_stats.loo(fit.idata)`` works as usual, while summaries, diagnostics, saving
        and the other draws-only methods, which read :attr:`base_idata`, never pay for it.

        Examples
        --------
        >>> sorted(fit.idata.children)[:2]
        ['log_likelihood', 'observed_data']
        """
        if _native.pending_log_likelihood(self._idata):
            self.add_log_likelihood()
        return self._idata

    @idata.setter
    def idata(self, tree) -> None:
        self._idata = tree

    @property
    def base_idata(self):
        """The tree as held: :attr:`idata` without computing a pending log-likelihood.

        Examples
        --------
        >>> "posterior" in fit.base_idata.children
        True
        """
        return self._idata

    def add_log_likelihood(self):
        """Compute the pointwise log-likelihood now (if not held) and return :attr:`idata`.

        Also for fits made with ``log_likelihood=False``. The seconds it took are recorded in
        ``fit.timings["log_likelihood"]``.

        Examples
        --------
        >>> fit.add_log_likelihood()["log_likelihood"]["y"].sizes["obs"]
        180
        """
        if "log_likelihood" not in self._idata.children:
            t0 = time.perf_counter()
            self._idata = _native.complete_log_likelihood(self._idata, self.meta, self.design)
            self.timings["log_likelihood"] = time.perf_counter() - t0
        return self._idata

    @property
    def design(self) -> Design:
        """Numeric design of the fitted data (rebuilt from spec and data after loading)."""
        if self._design is None:
            self._design = build_design(self.spec, self.data)
        return self._design

    @property
    def family(self) -> str:
        """Response family name."""
        return self.meta["family"]

    @property
    def link(self) -> str:
        """Link function name."""
        return self.meta["link"]

    @property
    def formula(self) -> str:
        """The model formula."""
        return self.meta["formula"]

    @property
    def levels(self) -> dict[str, int]:
        """Number of levels per grouping factor."""
        out: dict[str, int] = {}
        for b in self.meta["blocks"]:
            out.setdefault(b["factor"], b["n_levels"])
        return out

    @property
    def priors(self) -> pd.DataFrame:
        """The prior used for every parameter (defaults and overrides)."""
        return pd.DataFrame({"prior": pd.Series(self.meta["priors"])}).rename_axis("parameter")

    @property
    def parameterization(self) -> dict[str, dict]:
        """Per grouping factor: centered or not, chosen how, and the information ratio."""
        return self.meta["parameterization"]

    # -- results -------------------------------------------------------------------------
    def _summary(self, exponentiate: bool, prob: float) -> pd.DataFrame:
        key = ("summary", exponentiate, prob)
        if key not in self._memo:  # a Fit is immutable after creation
            self._memo[key] = _summary.summary_table(
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

    def diagnostics(self) -> _diag.Diagnostics:
        """Convergence diagnostics with a verdict (``ok``, ``warning``, ``fail``) and advice;
        ``approximate`` for the draws of ``method="pathfinder"`` (no convergence checks, the
        Pareto k of the importance weights instead).

        Examples
        --------
        >>> fit.diagnostics().verdict in ("ok", "warning", "fail")
        True
        """
        if "diagnostics" not in self._memo:
            self._memo["diagnostics"] = _diag.diagnose(self._idata, self.meta)
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
        return _variance.icc_table(self._idata, self.meta, self.design, kind=kind, prob=prob)

    # -- persistence (issue 4) ----------------------------------------------------------
    def save(self, path, overwrite: bool = False):
        """Save to the folder ``path`` (atomically); ``bm.load(path)`` gives the fit back.

        See :mod:`bayesmixed.fitfiles` for the files written. Returns the folder's path.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> folder = fit.save(pathlib.Path(tempfile.mkdtemp()) / "sleepstudy")
        >>> bm.load(folder).summary().equals(fit.summary())
        True
        """
        return save_fit(self, path, overwrite=overwrite)

    # -- report layer (issue 3) ----------------------------------------------------------
    def vpc(self, x: str, values=None, prob: float = 0.95) -> pd.DataFrame:
        """Variance partition coefficient per factor as a function of the random-slope term
        ``x`` (Goldstein et al. 2002).

        Examples
        --------
        >>> fit.vpc(x="Days", values=[0, 9])[["factor", "Days"]].values.tolist()
        [['Subject', 0.0], ['Subject', 9.0]]
        """
        return _variance.vpc_table(self._idata, self.meta, self.design, x, values, prob)

    def mor(self, prob: float = 0.95) -> pd.DataFrame:
        """Median odds ratio (logit) / rate ratio (log) per factor (Larsen & Merlo 2005).

        Examples
        --------
        >>> bfit = bm.fit("y ~ trt + (1 | ID)", bm.datasets.load("bacteria"), family="bernoulli",
        ...               chains=2, draws=200, tune=200, seed=1, progress=False)
        >>> bfit.mor().loc["ID", "measure"]
        'MOR'
        """
        return _variance.mor_table(self._idata, self.meta, prob)

    def varcorr(self, prob: float = 0.95) -> pd.DataFrame:
        """Variance components in lme4's VarCorr layout with posterior intervals.

        Examples
        --------
        >>> fit.varcorr()["name"].tolist()
        ['Intercept', 'Days', 'cor(Intercept,Days)', '']
        """
        return _variance.varcorr_table(self._idata, self.meta, prob)

    def r2(self, prob: float = 0.95, method: str = "model") -> pd.DataFrame:
        """Bayesian R2 (Gelman et al. 2019) and marginal / conditional R2 (Nakagawa).

        Examples
        --------
        >>> fit.r2().index.tolist()
        ['bayes', 'marginal', 'conditional']
        """
        return _r2.r2_table(self, prob, method)

    def hypothesis(
        self,
        *hypotheses: str,
        prob: float = 0.95,
        rope: tuple[float, float] | None = None,
        prior_draws: int = 10_000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Test hypotheses such as ``"Days > 0"`` or ``"a - b = 0"`` (``brms::hypothesis``).

        One-sided hypotheses get the posterior probability and evidence ratio ``p / (1 - p)``;
        point hypotheses the Savage-Dickey Bayes factor from ``prior_draws`` draws of this
        model's prior (``seed``); ``rope=(lo, hi)`` adds the share inside the region of
        practical equivalence. See :func:`bayesmixed.report.compare.hypothesis.hypothesis_table`.

        Examples
        --------
        >>> fit.hypothesis("Days > 0", "Days = 10", rope=(-1, 1))[["post_prob", "rope"]].shape
        (2, 2)
        """
        key = ("prior", prior_draws, seed)

        def prior():
            if key not in self._memo:
                self._memo[key] = _prior_draws(self.spec, self.data, prior_draws, seed)
            return self._memo[key]

        return _hypothesis.hypothesis_table(self._idata, self.meta, hypotheses, prob=prob,
                                            rope=rope, prior=prior)

    def predict(self, newdata=None, kind: str = "mean", groups: str = "observed", **kwargs):
        """Predictions: ``kind`` mean / linpred / response; ``groups`` observed / new / none /
        marginal (see :func:`bayesmixed.report.predict.predict.predict`).

        Examples
        --------
        >>> import pandas as pd
        >>> new = pd.DataFrame({"Days": [0, 9], "Subject": "a new subject"})
        >>> typical = fit.predict(new, groups="none")
        >>> newcomer = fit.predict(new, groups="new", seed=1)
        >>> bool((newcomer["sd"] > typical["sd"]).all())  # a new subject adds subject spread
        True
        """
        return _predict.predict(self, newdata, kind=kind, groups=groups, **kwargs)

    def effects(self, variable: str, **kwargs) -> pd.DataFrame:
        """Average marginal effects and contrasts, conditional and population-averaged (see
        :func:`bayesmixed.report.predict.effects.effects_table`).

        Examples
        --------
        >>> fit.effects("Days")[["measure", "type"]].values.tolist()
        [['ame', 'conditional'], ['ame', 'population-averaged']]
        """
        return _effects.effects_table(self, variable, **kwargs)

    def ranef(self, factor: str | None = None, prob: float = 0.95) -> pd.DataFrame:
        """Random-effect deviations per level, tidy (factor, level, term, mean, sd, interval).

        Examples
        --------
        >>> fit.ranef().shape[0]  # 18 subjects x (intercept, slope)
        36
        """
        return _ranef.ranef_table(self._idata, self.meta, factor, prob)

    def coef(self, factor: str | None = None, prob: float = 0.95, wide: bool = False):
        """Group-specific coefficients, fixed + random per level (lme4's ``coef``).

        Examples
        --------
        >>> fit.coef(wide=True)["Subject"].columns.tolist()
        ['Intercept', 'Days']
        """
        return _ranef.coef_table(self._idata, self.meta, factor, prob, wide)

    def tidy(self, effects="fixed", prob: float = 0.95, exponentiate: bool = False):
        """Estimates in broom.mixed's layout: ``effects`` is ``"fixed"``, ``"ran_pars"``,
        ``"ran_vals"`` or a list of them (see :func:`bayesmixed.report.tables.tidy.tidy_table`).

        Examples
        --------
        >>> fit.tidy(["fixed", "ran_pars"]).columns.tolist()
        ['effect', 'group', 'term', 'estimate', 'std.error', 'conf.low', 'conf.high']
        """
        from bayesmixed.report.tables import tidy

        return tidy.tidy_table(self._idata, self.meta, effects, prob, exponentiate)

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
        ppc = _checks.posterior_predictive(self, seed)
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
        return _checks.check(self, seed, influence)

    def loo(self, warn: bool = True):
        """PSIS-LOO-CV (arviz-stats) with Pareto k warnings.

        Examples
        --------
        >>> int(fit.loo(warn=False).n_data_points)
        180
        """
        return _compare.loo(self, warn)

    def waic(self, warn: bool = True):
        """WAIC with a warning when some p_waic_i > 0.4.

        Examples
        --------
        >>> bool(fit.waic(warn=False).elpd < 0)
        True
        """
        return _compare.waic(self, warn)

    def kfold(
        self,
        k: int = 10,
        by: str | None = None,
        *,
        seed=0,
        n_new: int = 20,
        chains: int | None = None,
        draws: int | None = None,
        tune: int | None = None,
        progress: bool = False,
        client=None,
    ):
        """Grouped K-fold CV refitting without whole clusters of ``by``.

        The refits keep this fit's spec, parameterization and sampler settings (``chains``,
        ``draws``, ``tune`` override them); see :func:`bayesmixed.report.compare.kfold.kfold` for
        ``seed``, ``n_new`` and the result. ``client`` runs the folds through
        :func:`bayesmixed.parallel.run_tasks`: ``None`` in this process, ``"local"``, a
        scheduler address or a ``dask.distributed.Client``; the same seed gives the same
        result on any executor. ``progress``: sampler progress bars (in this process), or a
        progress bar of the folds (with a client).

        Examples
        --------
        >>> cv = fit.kfold(k=3, by="Subject")  # doctest: +SKIP
        >>> cv.elpd_i.sizes["cluster"]  # doctest: +SKIP
        18
        """
        parts = refitter(self.spec, self.meta, self.config, chains=chains, draws=draws,
                         tune=tune, progress=progress and client is None)
        bar = "kfold" if progress and client is not None else False
        run = functools.partial(run_tasks, client=client, progress=bar)
        return _compare.kfold(self, FitRefitter(parts), k, by, seed=seed, n_new=n_new, run=run)

    def plot_trace(self, var_names=None):
        """Trace and density plot (matplotlib figure).

        Examples
        --------
        >>> fit.plot_trace()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_trace(self, var_names)

    def plot_rank(self, var_names=None):
        """Rank plots (matplotlib figure).

        Examples
        --------
        >>> fit.plot_rank()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_rank(self, var_names)

    def plot_forest(self, exponentiate: bool = False, prob: float = 0.95):
        """Forest plot of the population-level effects.

        Examples
        --------
        >>> fit.plot_forest()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_forest(self, exponentiate, prob)

    def plot_caterpillar(self, factor: str | None = None):
        """Caterpillar plot of the random effects per level.

        Examples
        --------
        >>> fit.plot_caterpillar()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_caterpillar(self, factor)

    def plot_shrinkage(self, factor: str | None = None, term: str = "Intercept"):
        """No-pooling vs partial-pooling estimates per level.

        Examples
        --------
        >>> fit.plot_shrinkage(term="Days")
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_shrinkage(self, factor, term)

    def plot_icc(self, kind: str = "adjusted"):
        """Posterior of the ICC per factor.

        Examples
        --------
        >>> fit.plot_icc()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_icc(self, kind)

    def plot_ppc(self):
        """Posterior predictive check for the family.

        Examples
        --------
        >>> fit.plot_ppc()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_ppc(self)

    def plot_calibration(self):
        """Calibration (and binned residuals for binary outcomes).

        Examples
        --------
        >>> fit.plot_calibration()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_calibration(self)

    def plot_linearity(self):
        """Binned residuals against each continuous predictor with +-2 SE bands and the
        curvature test (:mod:`bayesmixed.report.checks.linearity`).

        Examples
        --------
        >>> fit.plot_linearity()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_linearity(self)

    def plot_residuals(self):
        """Randomized quantile residuals.

        Examples
        --------
        >>> fit.plot_residuals()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_residuals(self)

    def plot_influence(self):
        """Pareto k of leave-one-cluster-out PSIS per cluster.

        Examples
        --------
        >>> fit.plot_influence()
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_influence(self)

    def plot_effects(self, variable: str, **kwargs):
        """Average predicted response as ``variable`` varies, with bands.

        Examples
        --------
        >>> fit.plot_effects("Days")
        <Figure size ... with ... Axes>
        """
        from bayesmixed.report.render import plots

        return plots.plot_effects(self, variable, **kwargs)

    def report(self, path, seed=0, hypotheses=None, rope=None):
        """Write a self-contained HTML report plus Markdown and JSON next to it (with a table
        of ``hypotheses``, as in :meth:`hypothesis`, when asked).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = fit.report(pathlib.Path(tempfile.mkdtemp()) / "report.html")
        >>> pathlib.Path(path).is_file()
        True
        """
        from bayesmixed.report.render import html_report

        return html_report.write_report(self, path, seed=seed, hypotheses=hypotheses,
                                        rope=rope)

    # -- display -------------------------------------------------------------------------
    def __str__(self) -> str:
        return _text.format_fit(self)

    def __repr__(self) -> str:
        return f"<bayesmixed.Fit {self.family}({self.link}): {self.formula}>"

    def _repr_html_(self) -> str:
        return _text.html_fit(self)


@dataclass(frozen=True)
class FitRefitter:
    """The K-fold refit callable of :meth:`Fit.kfold`: ``refit(train, seed) -> Fit``.

    A module-level class around a picklable :class:`~bayesmixed.pipeline.Refitter`, so the
    folds can run on Dask workers (a closure over a ``Fit`` could not travel).

    Examples
    --------
    >>> from bayesmixed.report.compare.kfold import Refit
    >>> refit = FitRefitter(refitter(fit.spec, fit.meta, fit.config, chains=1, draws=50,
    ...                              tune=50))
    >>> isinstance(refit, Refit), refit.parts.settings.draws
    (True, 50)
    """

    parts: Refitter

    def __call__(self, train: pd.DataFrame, seed: int) -> Fit:
        """Refit on ``train`` with sampler seed ``seed``."""
        return Fit(*self.parts(train, seed).as_tuple())
