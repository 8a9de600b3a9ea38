"""Every plot returns a non-empty matplotlib figure."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from bayesmixed.report.render import plots
from tests.fixtures_report import fit_fixture, parts

bern_fit = fit_fixture("bern")
pois_fit = fit_fixture("pois")
gauss_fit = fit_fixture("gauss")


def assert_drawn(fig):
    assert isinstance(fig, Figure)
    assert fig.axes
    drawn = sum(len(ax.lines) + len(ax.collections) + len(ax.patches) for ax in fig.axes)
    assert drawn > 0
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=float)
    assert img.std() > 5  # not a blank canvas


@pytest.mark.parametrize(
    "name",
    [
        "trace",
        "rank",
        "forest",
        "caterpillar",
        "shrinkage",
        "icc",
        "ppc",
        "calibration",
        "residuals",
        "influence",
    ],
)
def test_fit_plots_bernoulli(bern_fit, name):
    assert_drawn(getattr(bern_fit, f"plot_{name}")())


def test_effect_plots(bern_fit):
    assert_drawn(bern_fit.plot_effects("x", draws=100, n_points=6))
    assert_drawn(bern_fit.plot_effects("trt", draws=100))
    assert_drawn(bern_fit.plot_forest(exponentiate=True))
    assert_drawn(bern_fit.plot_shrinkage(term="x"))


def test_family_specific_plots(pois_fit, gauss_fit):
    fig = pois_fit.plot_ppc()  # rootogram
    assert_drawn(fig)
    assert "rootogram" in fig.axes[0].get_title().lower()
    assert_drawn(pois_fit.plot_caterpillar())
    fig = gauss_fit.plot_ppc()  # density overlay
    assert_drawn(fig)
    assert len(fig.axes[0].lines) > 10
    assert_drawn(gauss_fit.plot_calibration())
    assert_drawn(gauss_fit.plot_icc())
    assert_drawn(plots.plot_shrinkage(*parts(gauss_fit), "sample"))
