"""MkDocs hook: add the pages generated from the code to the site at build time.

- ``cli.md``: the ``--help`` of every ``bayesmixed`` subcommand (``gen_cli.py``);
- ``models.md``: the model library, from ``bayesmixed/models/*.yaml`` (``gen_models.py``);
- ``examples/*.md``: the worked examples, from ``examples/*.py`` (``gen_examples.py``);
- ``api/*.md``: the API reference, one ``::: module`` per module (``gen_api.py``).

Registered in ``mkdocs.yml`` under ``hooks:``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File

HERE = Path(__file__).resolve().parent
for p in (str(HERE), str(HERE.parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

import gen_api  # noqa: E402
import gen_cli  # noqa: E402
import gen_examples  # noqa: E402
import gen_models  # noqa: E402


def generated_pages() -> dict[str, str]:
    """Every generated page, path (relative to ``docs/``) -> Markdown."""
    pages = {"cli.md": gen_cli.cli_markdown(), "models.md": gen_models.models_markdown()}
    pages.update(gen_examples.example_pages())
    pages.update(gen_api.api_pages())
    return pages


def on_files(files, config):
    """Add the generated pages (replacing any file of the same name)."""
    for path, text in generated_pages().items():
        old = files.get_file_from_path(path)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, path, content=text))
    return files
