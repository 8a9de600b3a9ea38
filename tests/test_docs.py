"""Build the documentation site with warnings as errors, and check the generated pages.

The build is the one command users run (``python -m mkdocs build --strict``), into a temporary
site folder. Generated pages must hold what they are generated from: every CLI subcommand's
help, every library model, every example, the API entry points.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def _page(site: Path, name: str) -> str:
    path = site / name / "index.html" if name else site / "index.html"
    assert path.is_file(), f"page {name!r} was not built"
    return path.read_text()


def _nav_pages() -> list[str]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # !!python tags
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)
    found: list[str] = []

    def walk(item):
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            for x in item.values():
                walk(x)

    walk(config["nav"])
    return found


def test_site_builds_with_every_page(site):
    for page in _nav_pages():
        name = page.removesuffix(".md").removesuffix("index").rstrip("/")
        _page(site, name)


def test_hand_written_pages_are_in_the_nav():
    nav = set(_nav_pages())
    written = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert written <= nav, f"pages missing from the nav: {sorted(written - nav)}"


def test_cli_reference_is_generated_from_the_parser(site):
    sys.path.insert(0, str(DOCS))
    try:
        import gen_cli
    finally:
        sys.path.remove(str(DOCS))
    html = _page(site, "cli")
    subs = gen_cli.subcommands(gen_cli.find_parser())
    assert {"fit", "report", "summary", "compare", "predict", "models", "simulate"} <= set(subs)
    for name, parser in subs.items():
        assert f"usage: bayesmixed {name}" in html, name
        for action in parser._actions:
            for flag in action.option_strings:
                assert flag in html, f"{name} {flag} missing from the CLI reference"


def test_model_library_page_lists_every_model(site):
    html = _page(site, "models")
    files = sorted((ROOT / "bayesmixed" / "models").glob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        entry = yaml.safe_load(path.read_text())
        assert f'id="{str(entry.get("name", path.stem)).lower()}"' in html, path.name


def test_example_pages_match_the_examples(site):
    examples = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
    assert len(examples) == 6
    nav = _nav_pages()
    for path in examples:
        assert f"examples/{path.stem}.md" in nav, path.name
        html = _page(site, f"examples/{path.stem}")
        title = re.search(r"^# # (.+)$", path.read_text(), re.M).group(1)
        assert title.split(":")[0] in html, f"{path.name}: title not rendered"
        assert "BAYESMIXED_EXAMPLE_DRAWS" in html, f"{path.name}: code not rendered"


def test_api_reference_is_generated_from_docstrings(site):
    html = _page(site, "api")
    anchors = ("bayesmixed.api.fit", "bayesmixed.api.prior_predictive", "bayesmixed.result.Fit")
    for anchor in anchors:
        assert f'id="{anchor}"' in html, anchor
    report = _page(site, "api/report")
    assert 'id="bayesmixed.report.tables.variance.mor_table"' in report


def test_report_quantities_page_has_the_formulas(site):
    html = _page(site, "report-quantities")
    for word in ("Median odds ratio", "Bayesian R", "Population-averaged", "VPC", "Nakagawa"):
        assert word.lower() in html.lower(), word


def test_getting_started_shows_the_two_commands():
    text = (DOCS / "getting-started.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("example", "test"):
        assert f"make {target}" in text
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no {target!r} target"
