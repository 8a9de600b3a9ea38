"""No leaks (issue 16, point 6): a Fit whose results were asked for is freed when the user
drops it (per-fit memo, no process-wide ``functools.cache`` holding every fit and its draws).
The memory of many fits in a loop is measured by ``python -m benchmarks.leak``."""

from __future__ import annotations

import gc
import weakref

from bayesmixed.result import Fit
from tests.fixtures_report import fit_fixture

gauss_fit = fit_fixture("gauss")


def test_a_dropped_fit_is_freed_after_its_results_were_asked_for(gauss_fit):
    src = gauss_fit
    fit = Fit(src.idata, src.meta, src.spec, src.data, src.config, src.timings, src.design)
    fit.summary()
    fit.summary(exponentiate=True, prob=0.9)
    fit.diagnostics()
    fit.tidy(["fixed", "ran_pars"])
    ref = weakref.ref(fit)
    del fit
    gc.collect()
    assert ref() is None, [type(r).__name__ for r in gc.get_referrers(ref())]


def test_memoized_results_are_per_fit_and_returned_as_copies(gauss_fit):
    fit = gauss_fit
    a = fit.summary()
    a.loc[a.index[0], "mean"] = -1e9  # a caller editing its table does not change the fit's
    assert fit.summary().iloc[0]["mean"] != -1e9
    assert fit.diagnostics() is fit.diagnostics()
