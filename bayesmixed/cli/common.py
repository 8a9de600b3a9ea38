"""Shared pieces of the command line: argument errors, reading and writing tables, output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmixed.errors import BayesmixedError, DataError

__all__ = [
    "ArgParser",
    "UsageError",
    "emit_json",
    "parse_assignments",
    "read_table",
    "say",
    "write_table",
]

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_STRICT = 3

_READERS = {
    ".csv": lambda p: pd.read_csv(p),
    ".tsv": lambda p: pd.read_csv(p, sep="\t"),
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
    ".feather": pd.read_feather,
    ".arrow": pd.read_feather,
}


class UsageError(BayesmixedError):
    """Bad command-line arguments (exit status 2).

    Examples
    --------
    >>> UsageError("--chains must be positive", "bayesmixed fit").prog
    'bayesmixed fit'
    """

    def __init__(self, message: str, prog: str = "bayesmixed") -> None:
        super().__init__(message)
        self.prog = prog


class ArgParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`UsageError` instead of exiting.

    Examples
    --------
    >>> p = ArgParser(prog="demo")
    >>> _ = p.add_argument("--n", type=int)
    >>> p.parse_args(["--n", "two"])
    Traceback (most recent call last):
    ...
    bayesmixed.cli.common.UsageError: argument --n: invalid int value: 'two'
    """

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message, self.prog)


def say(message: str, quiet: bool = False) -> None:
    """Print a status line on stderr unless ``quiet``.

    Examples
    --------
    >>> say("compiling ...", quiet=True)
    """
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a data file: CSV, TSV, Parquet or Feather, by extension.

    Raises
    ------
    DataError
        When the file is missing, has an unknown extension or cannot be parsed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> pd.DataFrame({"y": [1, 0], "g": ["a", "b"]}).to_csv(p, index=False)
    >>> read_table(p).shape
    (2, 2)
    """
    p = Path(path)
    reader = _READERS.get(p.suffix.lower())
    if reader is None:
        raise DataError(
            f"cannot tell the format of {str(p)!r} from its extension; use one of "
            f"{', '.join(sorted(_READERS))}"
        )
    if not p.is_file():
        raise DataError(f"data file {str(p)!r} does not exist")
    try:
        df = reader(p)
    except Exception as exc:
        raise DataError(f"cannot read {str(p)!r}: {exc}") from None
    if len(df) == 0:
        raise DataError(f"data file {str(p)!r} has no rows")
    return df


def write_table(df: pd.DataFrame, path: str | Path, *, force: bool = False) -> Path:
    """Write ``df`` as CSV, TSV, Parquet or Feather (by extension).

    An existing file is only replaced when ``force``; the file appears complete or not at all.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "preds.parquet"
    >>> write_table(pd.DataFrame({"mean": [0.5]}), out).name
    'preds.parquet'
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in _READERS:
        known = ", ".join(sorted(_READERS))
        raise UsageError(f"cannot tell the format of {str(p)!r}; use one of {known}")
    if p.exists() and not force:
        raise UsageError(f"{str(p)!r} already exists; pass --force to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    if ext in (".csv", ".tsv"):
        df.to_csv(tmp, index=False, sep="\t" if ext == ".tsv" else ",")
    elif ext in (".parquet", ".pq"):
        df.to_parquet(tmp, index=False)
    else:
        df.reset_index(drop=True).to_feather(tmp)
    tmp.replace(p)
    return p


def parse_assignments(items: Sequence[str] | None, what: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; splits at the last ``=``.

    Examples
    --------
    >>> parse_assignments(["x=1", "sd(Intercept|g)=0.5"], "--set")
    {'x': '1', 'sd(Intercept|g)': '0.5'}
    """
    out: dict[str, str] = {}
    for item in items or ():
        if "=" not in item:
            raise UsageError(f"{what} must look like NAME=VALUE, got {item!r}")
        key, value = item.rsplit("=", 1)
        if not key.strip():
            raise UsageError(f"{what} must look like NAME=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (NaN as null).

    Examples
    --------
    >>> emit_json({"elpd": float("nan")})
    {
      "elpd": null
    }
    """
    from bayesmixed.runfolder import jsonable

    print(json.dumps(jsonable(value), indent=2, allow_nan=False))


def table_records(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A DataFrame as {row: {column: value}} for JSON output."""
    return {str(k): v for k, v in df.to_dict(orient="index").items()}


def with_dpars(spec, args):
    """``spec`` with the ``--zi`` / ``--hu`` formulas of the command line (if any).

    Examples
    --------
    >>> import argparse
    >>> from bayesmixed.formula.parse import parse_formula
    >>> with_dpars(parse_formula("y ~ x"), argparse.Namespace(zi="~ x", hu=None)).dpars
    (('zi', 'x'),)
    """
    from bayesmixed.formula.parse import parse_dpar

    given = [(k, getattr(args, k, None)) for k in ("zi", "hu")]
    extra = tuple((k, parse_dpar(k, v)) for k, v in given if v)
    if not extra:
        return spec
    keep = tuple(d for d in spec.dpars if d[0] not in dict(extra))
    return spec.with_options(dpars=keep + extra)
