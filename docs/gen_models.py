"""Generate the model-library page (``models.md``) from ``models/*.yaml``.

Run at documentation build time by ``docs/hooks.py``; also runnable on its own::

    .venv/bin/python docs/gen_models.py > /tmp/models.md

Each YAML file is read with :func:`bayesmixed.formula.yaml_spec.load_spec`, so a spec that does not
parse breaks the documentation build instead of being shown wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "bayesmixed" / "models"

INTRO = """\
# Model library

Ready-made specifications of classic multilevel models, each with its data source and a
description for teaching. Fit one by name from the terminal:

```bash
bayesmixed models                      # list them
bayesmixed fit --model sleepstudy --out runs/sleepstudy
```

Every entry is a YAML spec (see [the spec language](formula.md#yaml-and-dict-specs)) in the
`bayesmixed/models/` folder of the package (it ships in the wheel); this page is generated from those files when the
documentation is built.
"""


def _text(value: Any) -> str:
    """Render a metadata value (string, list or mapping) as Markdown text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(f"- {_text(v)}" for v in value)
    if isinstance(value, dict):
        return "\n".join(f"- **{k}**: {_text(v)}" for k, v in value.items())
    return str(value)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code_cell(text: str) -> str:
    """Inline code in a table cell (a pipe inside backticks would split or show its escape)."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "&#124;").replace("*", "&#42;").replace("_", "&#95;")
    return f"<code>{text}</code>"


def model_entries(folder: Path = MODELS) -> list[dict[str, Any]]:
    """One dict per library file: name, title, spec, metadata and the raw YAML."""
    from bayesmixed.formula.yaml_spec import load_spec

    out = []
    for path in sorted(folder.glob("*.y*ml")):
        spec, meta = load_spec(path)
        out.append(
            {
                "name": str(meta.get("name", path.stem)),
                "title": _text(meta.get("title", "")),
                "spec": spec,
                "meta": meta,
                "file": path.name,
                "yaml": path.read_text().rstrip(),
            }
        )
    return out


def models_markdown(folder: Path = MODELS) -> str:
    """The Markdown of the model-library page."""
    entries = model_entries(folder)
    parts = [INTRO]
    if not entries:
        parts.append("*The library is empty.*\n")
        return "\n".join(parts)
    parts += ["| name | family | formula | title |", "|---|---|---|---|"]
    for e in entries:
        s = e["spec"]
        fam = s.family + (f" ({s.link})" if s.link else "")
        parts.append(f"| [`{e['name']}`](#{e['name'].lower()}) | {fam} | {_code_cell(s.formula)} "
                     f"| {_cell(e['title'])} |")
    parts.append("")
    for e in entries:
        meta = e["meta"]
        parts.append(f"## {e['name']}\n")
        if e["title"]:
            parts.append(f"**{e['title']}**\n")
        parts.append(f"```text\n{e['spec'].formula}   [family: {e['spec'].family}]\n```\n")
        for key in ("description", "teaching", "notes", "data", "source", "reference",
                    "references"):
            if meta.get(key):
                parts.append(f"*{key.capitalize()}*\n\n{_text(meta[key])}\n")
        parts.append(f"??? note \"`bayesmixed/models/{e['file']}`\"\n\n    ```yaml")
        parts += [f"    {line}" for line in e["yaml"].splitlines()]
        parts.append("    ```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(models_markdown())
