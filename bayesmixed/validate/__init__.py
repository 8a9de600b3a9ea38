"""Validation of the inference machinery: simulation-based calibration (SBC).

>>> from bayesmixed.validate import sbc  # doctest: +SKIP
>>> res = sbc("y ~ x + (1 + x | g)", 200, family="bernoulli", n_groups=10, n_per_group=10,
...           priors={...}, seed=1)  # doctest: +SKIP
>>> res.uniformity()  # doctest: +SKIP
"""

from __future__ import annotations

from bayesmixed.validate.sbc import SBCResult, ecdf_uniformity_test, rank_statistic, sbc

__all__ = ["SBCResult", "ecdf_uniformity_test", "rank_statistic", "sbc"]
