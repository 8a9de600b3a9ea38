"""The :class:`Fit` result: posterior plus everything needed to read it.

``Fit`` holds state (posterior, model description, spec, data, sampler settings); its methods
come from one mixin per topic (:mod:`.tables`, :mod:`.predict`, :mod:`.checks`,
:mod:`.compare`, :mod:`.plots`, :mod:`.render`), each a thin call of a report function with
``(fit.idata, fit.meta, fit.design)``, so each quantity lives in its own module and can be used
without a ``Fit``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bayesmixed.design.matrices import Design, build_design
from bayesmixed.fitfiles import save_fit
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.pipeline import Refitter
from bayesmixed.report.core import native as _native
from bayesmixed.report.core.params import group_levels
from bayesmixed.result.checks import ChecksMixin
from bayesmixed.result.compare import CompareMixin
from bayesmixed.result.plots import PlotsMixin
from bayesmixed.result.predict import PredictMixin
from bayesmixed.result.render import RenderMixin
from bayesmixed.result.tables import TablesMixin

__all__ = ["Fit", "FitRefitter"]


class Fit(TablesMixin, PredictMixin, ChecksMixin, CompareMixin, PlotsMixin, RenderMixin):
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
        """The ArviZ-native :class:`xarray.DataTree` of the fit (see
        :mod:`bayesmixed.report.core.native`).

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
        return group_levels(self.meta)

    @property
    def priors(self) -> pd.DataFrame:
        """The prior used for every parameter (defaults and overrides)."""
        return pd.DataFrame({"prior": pd.Series(self.meta["priors"])}).rename_axis("parameter")

    @property
    def parameterization(self) -> dict[str, dict]:
        """Per grouping factor: centered or not, chosen how, and the information ratio."""
        return self.meta["parameterization"]

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

    def _refit_callable(self, parts: Refitter) -> FitRefitter:
        """How :meth:`kfold` refits: a picklable callable making a ``Fit`` of each fold."""
        return FitRefitter(parts)

    # -- display -------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<bayesmixed.Fit {self.family}({self.link}): {self.formula}>"


@dataclass(frozen=True)
class FitRefitter:
    """The K-fold refit callable of :meth:`Fit.kfold`: ``refit(train, seed) -> Fit``.

    A module-level class around a picklable :class:`~bayesmixed.pipeline.Refitter`, so the
    folds can run on Dask workers (a closure over a ``Fit`` could not travel).

    Examples
    --------
    >>> from bayesmixed.pipeline import refitter
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
