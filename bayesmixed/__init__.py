"""bayesmixed: Bayesian multilevel (mixed-effects) regression.

>>> import bayesmixed as bm
>>> df = bm.datasets.load("sleepstudy")
>>> fit = bm.fit("Reaction ~ Days + (Days | Subject)", df, chains=2, draws=200, tune=200,
...              seed=1, progress=False)
>>> fit.summary().loc[["Intercept", "Days"], "mean"].round(-1).tolist()
[250.0, 10.0]

Heavy modules (PyMC, nutpie) are imported lazily, on first use.
"""

# ruff: noqa: E402 (the BLAS kernels are pinned before any import loads numpy)
from __future__ import annotations

from bayesmixed._blas import pin_openblas_kernels

pin_openblas_kernels()  # before numpy loads OpenBLAS: the same draws on any x86-64 machine

import importlib
from typing import Any

from bayesmixed._version import __version__
from bayesmixed.errors import (
    BayesmixedError,
    DataError,
    FamilyError,
    FormulaError,
    PredictionError,
    PriorError,
    RunFolderError,
    SamplerError,
    SpecError,
)
from bayesmixed.formula.priors import Prior, prior

_LAZY = {
    "fit": ("bayesmixed.api", "fit"),
    "make_spec": ("bayesmixed.api", "make_spec"),
    "prepare": ("bayesmixed.api", "prepare"),
    "prior_predictive": ("bayesmixed.api", "prior_predictive"),
    "compare": ("bayesmixed.report.compare.loo", "compare"),
    "Fit": ("bayesmixed.result", "Fit"),
    "ModelSpec": ("bayesmixed.formula.terms", "ModelSpec"),
    "parse_formula": ("bayesmixed.formula.parse", "parse_formula"),
    "bf": ("bayesmixed.formula.parse", "bf"),
    "datasets": ("bayesmixed.datasets", None),
    "load": ("bayesmixed.io", "load"),
    "simulate": ("bayesmixed.simulation", "simulate"),
    "datagrid": ("bayesmixed.api", "datagrid"),
    "library": ("bayesmixed.library", None),
    "fit_many": ("bayesmixed.many", "fit_many"),
    "power": ("bayesmixed.power_analysis", "power"),
    "plot_power": ("bayesmixed.power_analysis", "plot_power"),
    "run_tasks": ("bayesmixed.parallel", "run_tasks"),
}

__all__ = [
    "BayesmixedError",
    "DataError",
    "FamilyError",
    "FormulaError",
    "PredictionError",
    "Prior",
    "PriorError",
    "RunFolderError",
    "SamplerError",
    "SpecError",
    "__version__",
    "prior",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bayesmixed' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
