"""What a benchmark model is: simulated data, a formula for each tool, and sizes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class BenchModel:
    """One suite model.

    Attributes
    ----------
    name
        Short identifier (command line and result files).
    title
        One-line description for the results table.
    formula
        bayesmixed formula.
    family
        Response family (same name in both tools).
    simulate
        ``simulate(seed, quick) -> DataFrame``: the data, fixed by the seed.
    bambi_formula
        bambi's formula when it differs (bambi has no correlated group effects).
    notes
        Differences between the tools' models, printed under the table.
    """

    name: str
    title: str
    formula: str
    family: str
    simulate: Callable[[int, bool], pd.DataFrame]
    bambi_formula: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
