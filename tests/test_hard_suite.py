"""The hard suite (benchmarks/hard): every hard design converges at default settings on seeds
1-3: max R-hat <= 1.01 over every parameter (random effects included), no divergences, min bulk
ESS >= 400 (4 chains x 1,000 draws after 1,000 tuning). Slow: about 10 minutes on 2 cores.

Cases still short of the goal are marked xfail with the figures measured (non-strict, so a
run that meets the goal shows as XPASS): they are the open part of the trust issue.
"""

from __future__ import annotations

import pytest

from benchmarks.hard.cases import CASES
from benchmarks.hard.measure import ESS_MIN, RHAT_MAX, fit_case

#: (case, seed) -> what was measured, for rows still short of the goal (python -m
#: benchmarks.hard; see docs/parameterization.md, "The hard suite", for what was tried). None
#: since 2026-12-01 (branch hard3: the mass-matrix adaptation follows the parameterization;
#: guimmun 1, negbin_crossed 3 and slopes_few_groups 2 were the last).
SHORT: dict[tuple[str, int], str] = {}


def _params():
    out = []
    for name in CASES:
        for seed in (1, 2, 3):
            marks = [pytest.mark.xfail(reason=SHORT[name, seed], strict=False)] if (
                name, seed) in SHORT else []
            out.append(pytest.param(name, seed, marks=marks, id=f"{name}-{seed}"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("name", "seed"), _params())
def test_hard_design_converges_at_default_settings(name, seed):
    fit, r = fit_case(name, seed)
    assert r["divergences"] == 0, r
    assert r["max_rhat"] <= RHAT_MAX, r
    assert r["min_ess_bulk"] >= ESS_MIN, r
    s = fit.summary()
    for param, value in CASES[name].truth.items():  # simulated cases: the truth is recovered
        mean, sd = s.loc[param, "mean"], s.loc[param, "sd"]  # 4 sd: a 99.99% band
        assert abs(mean - value) <= 4 * sd, (param, value, mean, sd)
