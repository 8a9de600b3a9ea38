"""Generate the API reference pages (``api/*.md``) from the package's modules.

Modules are discovered on disk (nothing is imported), so a new module appears in the reference
without editing the docs; mkdocstrings renders each from its docstrings.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bayesmixed"

#: page -> (title, introduction, subpackage or None for top-level modules)
PAGES: dict[str, tuple[str, str, str | None]] = {
    "api/index.md": (
        "API reference",
        "The entry points most users need: `bayesmixed.fit`, `bayesmixed.prior_predictive` and "
        "the other functions of `bayesmixed.api`, and the `Fit` result with its methods. "
        "Everything below is generated from the docstrings.\n\n"
        "Pages: [formulas](formula.md) (formulas, YAML specs, priors), "
        "[design](design.md) (validation against the data, design matrices), "
        "[model graph](graph.md) (PyMC graphs), [samplers](sample.md), "
        "[report layer](report.md) (every quantity a `Fit` reports) and "
        "[other modules](other.md) (families, data sets, errors, command line, ...).",
        None,
    ),
    "api/formula.md": ("Formulas", "Formulas and YAML specs to a model spec; never imports PyMC.",
                       "formula"),
    "api/design.md": ("Design", "A spec validated against the data, as numeric design matrices.",
                      "design"),
    "api/graph.md": ("Model graph", "Design and priors to a PyMC model.", "graph"),
    "api/sample.md": ("Samplers", "NUTS backends (nutpie, PyMC, numpyro, blackjax).", "sample"),
    "api/report.md": (
        "Report layer",
        "Functions behind the `Fit` methods; each reads posterior draws and design matrices.",
        "report",
    ),
    "api/other.md": ("Other modules", "Families, data sets, errors and the rest.", None),
}

#: top-level modules shown on the index page; the others go to ``api/other.md``
MAIN = ("api", "result")
LAYERS = ("formula", "design", "graph", "sample", "report")


def _modules(path: Path, prefix: str) -> list[tuple[str, bool]]:
    """(dotted name, is_package) of the modules directly under ``path``."""
    return sorted(
        (f"{prefix}.{m.name}", m.ispkg)
        for m in pkgutil.iter_modules([str(path)])
        if not m.name.startswith("_")
    )


def _walk(path: Path, prefix: str) -> list[str]:
    """All non-private modules under a package folder, recursively."""
    out = []
    for name, ispkg in _modules(path, prefix):
        if ispkg:
            out.append(name)
            out += _walk(path / name.rsplit(".", 1)[1], name)
        else:
            out.append(name)
    return out


def api_pages(package: Path = PACKAGE) -> dict[str, str]:
    """Page path -> Markdown for every API page."""
    top = _modules(package, "bayesmixed")
    groups: dict[str, list[str]] = {page: [] for page in PAGES}
    for m in MAIN:  # a module, or a package with its modules (result: Fit and its mixins)
        if (package / f"{m}.py").exists():
            groups["api/index.md"].append(f"bayesmixed.{m}")
        elif (package / m / "__init__.py").exists():
            groups["api/index.md"] += [f"bayesmixed.{m}", *_walk(package / m, f"bayesmixed.{m}")]
    for name, ispkg in top:
        short = name.split(".", 1)[1]
        if short in MAIN:
            continue
        if ispkg and short in LAYERS:
            groups[f"api/{short}.md"] = _walk(package / short, name)
        elif ispkg:
            groups["api/other.md"] += [name, *_walk(package / short, name)]
        else:
            groups["api/other.md"].append(name)
    pages = {}
    for page, (title, intro, _) in PAGES.items():
        body = "\n\n".join(f"::: {mod}" for mod in groups[page])
        pages[page] = f"# {title}\n\n{intro}\n\n{body}\n"
    return pages


if __name__ == "__main__":
    for name, text in api_pages().items():
        print(f"==> {name}\n{text}")
