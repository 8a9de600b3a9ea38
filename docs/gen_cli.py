"""Generate the command-line reference (``cli.md``) from the CLI's own argparse parser.

Run at documentation build time by ``docs/hooks.py``; also runnable on its own::

    .venv/bin/python docs/gen_cli.py > /tmp/cli.md

The page holds the ``--help`` text of the top-level command and of every subcommand, exactly as
``bayesmixed SUBCOMMAND --help`` prints it, so it cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os

#: names under which ``bayesmixed.cli`` may expose a function that returns its parser
PARSER_FACTORIES = ("build_parser", "make_parser", "get_parser", "create_parser", "parser")

INTRO = """\
# Command line

Everything the Python API does for a batch user is available from a terminal through the
`bayesmixed` command (also `python -m bayesmixed`). Exit codes: `0` success, `2` bad arguments
or input (a message, no traceback); see `bayesmixed fit --help` for `--strict`.

A typical session:

```bash
bayesmixed models                                   # the library of ready models
bayesmixed fit --model contraception --out runs/contraception
bayesmixed summary runs/contraception
bayesmixed predict runs/contraception --data new.csv --groups marginal --out preds.csv
```

The [command-line example](examples/05_command_line_run.md) runs a fit this way and reads the
run folder from Python.

This page is generated from the command's own `--help` output when the documentation is built.
"""


def find_parser() -> argparse.ArgumentParser:
    """Return the top-level parser of ``bayesmixed.cli``.

    Raises
    ------
    RuntimeError
        When the module exposes no parser factory.
    """
    from bayesmixed import cli

    for name in PARSER_FACTORIES:
        obj = getattr(cli, name, None)
        if isinstance(obj, argparse.ArgumentParser):
            return obj
        if callable(obj):
            parser = obj()
            if isinstance(parser, argparse.ArgumentParser):
                return parser
    raise RuntimeError(
        "bayesmixed.cli exposes no parser factory; expected one of " + ", ".join(PARSER_FACTORIES)
    )


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Subcommand name -> its parser, in the order they were added."""
    out: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # argparse keeps subparsers as an action
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if sub not in out.values():
                    out[name] = sub
    return out


def _help(parser: argparse.ArgumentParser, prog: str) -> str:
    parser.prog = prog
    return parser.format_help().rstrip()


def cli_markdown(width: int = 88) -> str:
    """The Markdown of the CLI reference page."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)  # argparse wraps to the terminal width
    try:
        top = find_parser()
        subs = subcommands(top)
        parts = [INTRO, "## `bayesmixed`\n", "```text", _help(top, "bayesmixed"), "```\n"]
        for name, sub in subs.items():
            text = _help(sub, f"bayesmixed {name}")
            parts += [f"## `bayesmixed {name}`\n", "```text", text, "```\n"]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_markdown())
