"""Generate the example pages (``examples/*.md``) from the notebooks in ``examples/*.py``.

The examples are jupytext percent-format scripts: ``# %% [markdown]`` cells become text and
``# %%`` cells become code blocks. Outputs are not shown (the pages are built without running
the examples; ``tests/test_examples.py`` runs them).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

INDEX_INTRO = """\
# Examples

Worked examples, kept as [jupytext](https://jupytext.readthedocs.io) percent-format scripts in
the `examples/` folder: run one as a script (`.venv/bin/python examples/01_logistic_mixed_model.py`)
or open it as a notebook (`jupytext --to ipynb examples/01_logistic_mixed_model.py`).
Every example reads `BAYESMIXED_EXAMPLE_DRAWS` (posterior draws per chain; default 1000) so the
test suite can run all of them quickly with few draws; use the default for real work.

| example | what it teaches |
|---|---|
"""


def _cells(path: Path) -> list[tuple[str, str]]:
    """(kind, source) per cell, ``kind`` being ``"markdown"`` or ``"code"``."""
    import jupytext

    nb = jupytext.read(path, fmt="py:percent")
    return [(c.cell_type, c.source) for c in nb.cells if c.source.strip()]


def title_and_summary(path: Path) -> tuple[str, str]:
    """The first ``#`` heading of an example and the first paragraph after it."""
    for kind, src in _cells(path):
        if kind != "markdown":
            continue
        lines = src.strip().splitlines()
        if lines and lines[0].startswith("# "):
            rest = "\n".join(lines[1:]).strip().split("\n\n")[0]
            return lines[0][2:].strip(), " ".join(rest.split())
    return path.stem, ""


def example_markdown(path: Path) -> str:
    """The page of one example."""
    parts: list[str] = []
    header_done = False
    for kind, src in _cells(path):
        if kind == "markdown":
            parts.append(src.strip() + "\n")
            if not header_done and src.lstrip().startswith("# "):
                parts.append(
                    f"!!! info \"Source\"\n    `examples/{path.name}`: run it with "
                    f"`.venv/bin/python examples/{path.name}`.\n"
                )
                header_done = True
        else:
            parts.append(f"```python\n{src.rstrip()}\n```\n")
    return "\n".join(parts)


def example_pages(folder: Path = EXAMPLES) -> dict[str, str]:
    """``examples/<name>.md`` -> Markdown, plus ``examples/index.md``."""
    pages: dict[str, str] = {}
    rows = []
    for path in sorted(folder.glob("[0-9]*.py")):
        pages[f"examples/{path.stem}.md"] = example_markdown(path)
        title, summary = title_and_summary(path)
        rows.append(f"| [{title}]({path.stem}.md) | {summary.replace('|', '/')} |")
    pages["examples/index.md"] = INDEX_INTRO + "\n".join(rows) + "\n"
    return pages


if __name__ == "__main__":
    for name, text in example_pages().items():
        print(f"==> {name}\n{text}")
