"""Where a fit's tree keeps the sampler's draws: the one accessor the report reads them by.

Kept apart from :mod:`bayesmixed.report.core.draws` so that every report module (the linear
predictor included) can import it without an import cycle.
"""

from __future__ import annotations

__all__ = ["INTERNAL_GROUP", "internal"]

#: the group of a fit's tree holding the draws under the sampler's names
INTERNAL_GROUP = "sampler_posterior"


def internal(idata):
    """The draws under the sampler's names (``Intercept_c``, ``b``, ``sd__g``, ``r__g``, ...).

    The one accessor through which the report reads the model's internal draws: the
    ``sampler_posterior`` group of a fit's tree, or ``posterior`` of a tree not yet converted to
    the ArviZ-native layout (right after sampling).

    Examples
    --------
    >>> sorted(internal(fit.idata).data_vars)[:3]
    ['Intercept', 'Intercept_c', 'b']
    """
    children = getattr(idata, "children", {})
    return idata[INTERNAL_GROUP] if INTERNAL_GROUP in children else idata["posterior"]
