"""The suite's models, one module each; :data:`SUITE` maps a name to its :class:`BenchModel`."""

from __future__ import annotations

from benchmarks.models import (
    crossed_binary,
    few_groups,
    gaussian_slope,
    large_logistic,
    logistic_corr_slope,
    poisson_olre,
)
from benchmarks.models.base import BenchModel

SUITE: dict[str, BenchModel] = {
    m.MODEL.name: m.MODEL
    for m in (
        gaussian_slope,
        crossed_binary,
        logistic_corr_slope,
        poisson_olre,
        few_groups,
        large_logistic,
    )
}

__all__ = ["SUITE", "BenchModel"]
