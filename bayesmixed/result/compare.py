"""Hypotheses and model comparison of a :class:`~bayesmixed.result.Fit`: LOO, WAIC, K-fold
(:mod:`bayesmixed.report.compare`)."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from bayesmixed.design.matrices import Design
from bayesmixed.formula.terms import ModelSpec
from bayesmixed.parallel import run_tasks
from bayesmixed.pipeline import Refitter, refitter
from bayesmixed.pipeline import prior_draws as _prior_draws
from bayesmixed.report.compare.hypothesis import hypothesis_table
from bayesmixed.report.compare.kfold import Refit
from bayesmixed.report.compare.kfold import kfold as _kfold
from bayesmixed.report.compare.loo import loo as _loo
from bayesmixed.report.compare.loo import waic as _waic

__all__ = ["CompareMixin"]


class CompareMixin:
    """Comparison methods of ``Fit``, delegating to :mod:`bayesmixed.report.compare`.

    K-fold refits through ``self._refit_callable(parts)`` (the class that owns the
    state says how a refit becomes a fit: :class:`~bayesmixed.result.fit.FitRefitter`).

    Examples
    --------
    >>> isinstance(fit, CompareMixin)
    True
    """

    idata: Any
    _idata: Any
    meta: dict[str, Any]
    design: Design
    spec: ModelSpec
    data: pd.DataFrame
    config: dict[str, Any]
    _memo: dict[tuple | str, Any]

    def _refit_callable(self, parts: Refitter) -> Refit:
        raise NotImplementedError  # the state class (Fit) says how a refit becomes a fit

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

        return hypothesis_table(self._idata, self.meta, hypotheses, prob=prob,
                                            rope=rope, prior=prior)

    def loo(self, warn: bool = True):
        """PSIS-LOO-CV (arviz-stats) with Pareto k warnings.

        Examples
        --------
        >>> int(fit.loo(warn=False).n_data_points)
        180
        """
        return _loo(self.idata, self.meta, self.design, warn)

    def waic(self, warn: bool = True):
        """WAIC with a warning when some p_waic_i > 0.4.

        Examples
        --------
        >>> bool(fit.waic(warn=False).elpd < 0)
        True
        """
        return _waic(self.idata, self.meta, self.design, warn)

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
        return _kfold(self.idata, self.meta, self.design, self._refit_callable(parts), k, by, seed=seed,
                     n_new=n_new, run=run)
