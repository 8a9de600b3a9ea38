"""The rendered report: one self-contained HTML file with every section and embedded images,
plus Markdown and JSON next to it."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import pytest

from bayesmixed.report.render.html_report import SECTIONS
from tests.fixtures_report import fit_fixture

bern_fit = fit_fixture("bern")
pois_fit = fit_fixture("pois")


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h2: list[str] = []
        self.images: list[str] = []
        self.figures: list[str] = []
        self.external: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.h2.append(a.get("id"))
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "figure":
            self.figures.append(a.get("id"))
        if tag == "table":
            self.tables += 1
        if tag in ("link", "script") and (a.get("href") or a.get("src")):
            self.external.append(a.get("href") or a.get("src"))


@pytest.fixture
def written(bern_fit, tmp_path):
    path = bern_fit.report(tmp_path / "out" / "report.html")
    return path


def test_html_has_every_section_in_order_and_embedded_images(written):
    p = Collector()
    p.feed(written.read_text(encoding="utf-8"))
    assert p.h2 == list(SECTIONS)  # diagnostics first, then summary, variance, effects, checks
    assert not p.external  # self-contained
    assert len(p.images) >= 10
    for src in p.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    for fig in (
        "fig-icc",
        "fig-caterpillar",
        "fig-shrinkage-school",
        "fig-forest",
        "fig-effect-x",
        "fig-effect-trt",
        "fig-ppc",
        "fig-calibration",
        "fig-residuals",
        "fig-linearity",
        "fig-influence",
        "fig-trace",
        "fig-rank",
    ):
        assert fig in p.figures
    assert p.tables >= 8
    text = written.read_text(encoding="utf-8")
    for phrase in (
        "Sampler diagnostics",
        "Intraclass correlation",
        "Median odds",
        "Odds ratios",
        "Average marginal effect",
        "PSIS-LOO",
        "VarCorr",
        "Linearity on the link scale",
        "Curvature test per predictor",
    ):
        assert phrase in text


def test_markdown_and_json_next_to_the_html(written):
    md = written.with_suffix(".md").read_text(encoding="utf-8")
    assert md.startswith("# bayesmixed report")
    for title in SECTIONS.values():
        assert f"## {title}" in md
    assert md.index("## Diagnostics") < md.index("## Model summary") < md.index("## Effects")
    data = json.loads(written.with_suffix(".json").read_text(encoding="utf-8"))
    for key in (
        "model",
        "diagnostics",
        "summary",
        "variance",
        "effects",
        "random",
        "checks",
        "loo",
        "figures",
    ):
        assert key in data
    assert data["diagnostics"]["verdict"] in ("ok", "warning", "fail")
    figs = data["figures"]
    assert "data" in figs["caterpillar"] and len(figs["caterpillar"]["data"]) == 60
    assert len(figs["shrinkage-school"]["data"]) == 30
    assert figs["icc"]["data"]["school"]  # histogram counts
    assert data["errors"] == []


def test_report_for_nested_count_model(pois_fit, tmp_path):
    path = pois_fit.report(tmp_path)  # a directory gets report.html
    assert path.name == "report.html"
    p = Collector()
    p.feed(path.read_text(encoding="utf-8"))
    assert p.h2 == list(SECTIONS)
    assert "fig-ppc" in p.figures and "fig-shrinkage-site:brood" in p.figures
    data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["errors"] == []
    assert data["figures"]["ppc"]["data"][0]["count"] == 0  # rootogram data
