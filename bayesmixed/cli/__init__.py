"""The ``bayesmixed`` command line.

Subcommands: ``fit`` (fit and write a run folder), ``summary``, ``report``, ``compare``,
``predict``, ``hypothesis`` (read run folders), ``kfold`` (grouped K-fold cross-validation of
a run folder's model), ``models`` (the library), ``simulate``, ``power`` (simulation-based power
analysis) and ``cache`` (the compiled models kept between processes). ``kfold`` and ``power``
take ``--workers N`` / ``--scheduler ADDRESS`` to run their fits on Dask.

Exit status: 0 success; 2 bad arguments or input (one clear message on stderr, no traceback);
3 diagnostics verdict "fail" with ``fit --strict``; 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from bayesmixed.cli.common import EXIT_INPUT, ArgParser, UsageError, emit_json
from bayesmixed.errors import BayesmixedError

__all__ = ["build_parser", "main"]


def build_parser() -> ArgParser:
    """The argument parser of ``bayesmixed`` with every subcommand.

    Examples
    --------
    >>> build_parser().parse_args(["summary", "runs/a"]).run_dir
    'runs/a'
    """
    from bayesmixed import __version__
    from bayesmixed.cli import (
        cache_command,
        fit_command,
        hypothesis_command,
        kfold_command,
        models_command,
        power_command,
        run_commands,
        simulate_command,
    )

    parser = ArgParser(
        prog="bayesmixed",
        description="Bayesian multilevel (mixed-effects) regression from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"bayesmixed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit_command.add_parser(sub)
    run_commands.add_parsers(sub)
    hypothesis_command.add_parser(sub)
    kfold_command.add_parser(sub)
    models_command.add_parser(sub)
    simulate_command.add_parser(sub)
    power_command.add_parser(sub)
    cache_command.add_parser(sub)
    return parser


def _fail(message: str, json_out: bool) -> int:
    print(f"bayesmixed: error: {message}", file=sys.stderr)
    if json_out:
        emit_json({"status": "error", "exit_code": EXIT_INPUT, "error": message})
    return EXIT_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv
        Arguments without the program name (default ``sys.argv[1:]``).

    Examples
    --------
    >>> main(["models", "no-such-model"])  # the message goes to stderr
    2
    """
    # PyTensor's C-BLAS notice is about its C backend; sampling compiles with numba or JAX
    warnings.filterwarnings("ignore", message=".*PyTensor could not link to a BLAS.*")
    args_list = list(sys.argv[1:] if argv is None else argv)
    json_out = "--json" in args_list
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        args.argv = args_list  # recorded in run manifests
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return EXIT_INPUT
        return int(args.handler(args))
    except UsageError as exc:
        hint = f" (see: {exc.prog} --help)"
        return _fail(f"{exc}{hint}", json_out)
    except BayesmixedError as exc:
        return _fail(str(exc), json_out)
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename!r}" if exc.filename else str(exc)
        return _fail(text, json_out)
    except KeyboardInterrupt:
        print("bayesmixed: interrupted", file=sys.stderr)
        return 130
