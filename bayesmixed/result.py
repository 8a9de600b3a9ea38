"""The :class:`Fit` result: posterior plus everything needed to read it.

``Fit`` holds state (posterior, model description, spec, data, sampler settings) and delegates
every computation to a function of the report layer, so each quantity lives in its own module
and can be used without a ``Fit``.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from bayesmixed.report import diagnostics as _diag
from bayesmixed.report import icc as _icc
from bayesmixed.report import summary as _summary
from bayesmixed.report import text as _text
from bayesmixed.spec.design import Design, build_design
from bayesmixed.spec.terms import ModelSpec

__all__ = ["Fit"]


class Fit:
    """A fitted multilevel model.

    Attributes
    ----------
    idata : xarray.DataTree
        Posterior draws, sample stats, pointwise log-likelihood and observed data (ArviZ).
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
        self.idata = idata
        self.meta = meta
        self.spec = spec
        self.data = data
        self.config = config or {}
        self.timings = timings or {}
        self._design = design

    # -- state ---------------------------------------------------------------------------
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
    @functools.cache  # noqa: B019 - a Fit is immutable after creation
    def _summary(self, exponentiate: bool, prob: float) -> pd.DataFrame:
        return _summary.summary_table(self.idata, self.meta, exponentiate=exponentiate, prob=prob)

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
        """
        return self._summary(bool(exponentiate), float(prob)).copy()

    @functools.cache  # noqa: B019
    def diagnostics(self) -> _diag.Diagnostics:
        """Convergence diagnostics with a verdict (``ok``, ``warning``, ``fail``) and advice."""
        return _diag.diagnose(self.idata, self.meta)

    def icc(self, prob: float = 0.95) -> pd.DataFrame:
        """Posterior ICC per grouping factor (latent scale for non-gaussian families)."""
        return _icc.icc_table(self.idata, self.meta, prob=prob)

    # -- display -------------------------------------------------------------------------
    def __str__(self) -> str:
        return _text.format_fit(self)

    def __repr__(self) -> str:
        return f"<bayesmixed.Fit {self.family}({self.link}): {self.formula}>"

    def _repr_html_(self) -> str:
        return _text.html_fit(self)
