"""Simulate data with known parameters from a model spec (teaching, parameter recovery).

:func:`simulate` lays out a design (every grouping factor's levels, crossed with each other,
``n_per_group`` rows per cell), generates the predictors, draws group effects from the
random-effects distribution the ``truth`` describes, and draws the response from the family.
The truth, including the realized group effects, travels with the data in
``data.attrs["truth"]``.

Parameter names are the summary's (``Intercept``, ``x``, ``treatment[B]``, ``sd(x|g)``,
``cor(Intercept,x|g)``, ``sigma``, ``alpha``), so a fit's ``summary()`` lines up with the truth.

This package uses the spec layer only (no PyMC). Modules: :mod:`.predictors` (the layout
and the predictor values), :mod:`.model` (truth, effects, response and :func:`simulate`).
"""

from bayesmixed.simulation.model import default_truth, simulate

__all__ = ["default_truth", "simulate"]
