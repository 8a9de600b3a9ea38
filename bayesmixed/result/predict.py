"""Predictions and marginal effects of a :class:`~bayesmixed.result.Fit` (:mod:`bayesmixed.report.predict`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bayesmixed.design.matrices import Design
from bayesmixed.report.predict.effects import effects_table
from bayesmixed.report.predict.predict import predict as _predict

__all__ = ["PredictMixin"]


class PredictMixin:
    """Prediction methods of ``Fit``, delegating to :mod:`bayesmixed.report.predict`.

    Examples
    --------
    >>> isinstance(fit, PredictMixin)
    True
    """

    idata: Any
    _idata: Any
    meta: dict[str, Any]
    design: Design

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
        return _predict(self.idata, self.meta, self.design, newdata, kind=kind, groups=groups, **kwargs)

    def effects(self, variable: str, **kwargs) -> pd.DataFrame:
        """Average marginal effects and contrasts, conditional and population-averaged (see
        :func:`bayesmixed.report.predict.effects.effects_table`).

        Examples
        --------
        >>> fit.effects("Days")[["measure", "type"]].values.tolist()
        [['ame', 'conditional'], ['ame', 'population-averaged']]
        """
        return effects_table(self.idata, self.meta, self.design, variable, **kwargs)
