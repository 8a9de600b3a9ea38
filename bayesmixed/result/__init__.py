"""The :class:`Fit` result (:mod:`.fit`) and its methods by topic, one mixin each:
:mod:`.tables`, :mod:`.predict`, :mod:`.checks`, :mod:`.compare`, :mod:`.plots`, :mod:`.render`.

Every method is a thin call of a report function with ``(fit.idata, fit.meta, fit.design)``.
"""

from bayesmixed.result.fit import Fit, FitRefitter

__all__ = ["Fit", "FitRefitter"]
