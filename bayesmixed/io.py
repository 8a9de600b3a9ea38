"""Load a fit saved by :meth:`Fit.save <bayesmixed.result.Fit.save>` or written as a run
folder by the command line, in any later process.

The files of a saved fit are described in :mod:`bayesmixed.fitfiles`, which also writes them.
Loading rebuilds the numeric design from spec and data (no refitting, no compilation), checks
that it matches the stored description, and returns a full ``Fit``: summary, ICC, predictions
and the report work as after fitting. This module does not import run-folder writing
(:mod:`bayesmixed.runfolder`), nor does that import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmixed.design.matrices import build_design
from bayesmixed.errors import BayesmixedError, RunFolderError
from bayesmixed.fitfiles import (
    DATA_FILE,
    FIT_FILES,
    FORMAT,
    FORMAT_VERSION,
    META_FILE,
    POSTERIOR_FILE,
    SAMPLER_FILE,
    SPEC_FILE,
    save_fit,
    write_fit_files,
)
from bayesmixed.formula.yaml_spec import load_spec
from bayesmixed.report.core.native import restore
from bayesmixed.result import Fit

__all__ = ["FIT_FILES", "load", "load_fit", "save_fit", "write_fit_files"]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{str(path)!r} is not valid JSON: {exc}") from None


def _read_posterior(path: Path):
    import xarray as xr

    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            return tree.load().copy()
    except Exception as exc:
        raise RunFolderError(f"cannot read the posterior {str(path)!r}: {exc}") from None


def _check_design(design, meta: dict, folder: Path) -> None:
    """The design rebuilt from the stored spec and data must match the stored description."""
    if list(design.x_names) != list(meta["x_names"]):
        raise RunFolderError(
            f"{str(folder)!r}: rebuilt population-level columns {list(design.x_names)} differ from "
            f"the stored ones {meta['x_names']}"
        )
    for blk, stored in zip(design.blocks, meta["blocks"], strict=False):
        if blk.factor != stored["factor"] or list(blk.terms) != list(stored["terms"]) or \
                blk.n_levels != stored["n_levels"]:
            raise RunFolderError(
                f"{str(folder)!r}: rebuilt random-effects block of {blk.factor!r} differs from the "
                "stored description"
            )
    if len(design.blocks) != len(meta["blocks"]):
        raise RunFolderError(f"{str(folder)!r}: rebuilt design has a different number of blocks")


def load_fit(path: str | Path):
    """Load a fit saved by :meth:`Fit.save` or written as a run folder by the CLI.

    Parameters
    ----------
    path
        The folder.

    Returns
    -------
    Fit

    Raises
    ------
    RunFolderError
        When the folder or one of its files is missing, unreadable or inconsistent.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = fit.save(pathlib.Path(tempfile.mkdtemp()) / "sleep")
    >>> again = load_fit(path)  # bm.load(path)
    >>> again.summary().equals(fit.summary())
    True
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RunFolderError(f"no saved fit at {str(folder)!r}: the folder does not exist")
    missing = [f for f in FIT_FILES if not (folder / f).is_file()]
    if missing:
        raise RunFolderError(
            f"{str(folder)!r} is not a complete saved fit: {missing[0]!r} is missing"
        )
    stored = _read_json(folder / META_FILE)
    if stored.get("format") != FORMAT:
        raise RunFolderError(f"{str(folder / META_FILE)!r} is not a bayesmixed fit description")
    if int(stored.get("format_version", 0)) > FORMAT_VERSION:
        raise RunFolderError(
            f"{str(folder)!r} was written by a newer bayesmixed (format "
            f"{stored.get('format_version')}); upgrade to read it"
        )
    meta = stored["meta"]
    sampler = _read_json(folder / SAMPLER_FILE)
    try:
        spec, _ = load_spec(folder / SPEC_FILE)
    except BayesmixedError as exc:
        raise RunFolderError(f"{str(folder / SPEC_FILE)!r}: {exc}") from None
    try:
        data = pd.read_parquet(folder / DATA_FILE)
    except Exception as exc:
        raise RunFolderError(f"cannot read {str(folder / DATA_FILE)!r}: {exc}") from None
    idata = _read_posterior(folder / POSTERIOR_FILE)
    try:
        design = build_design(spec, data)
    except BayesmixedError as exc:
        raise RunFolderError(
            f"{str(folder)!r}: the stored spec and data no longer build: {exc}"
        ) from None
    _check_design(design, meta, folder)
    # old layouts converted; the log-likelihood is recomputed on first use (issue 18)
    idata = restore(idata, meta, design, lazy=True)
    config, timings = sampler.get("config", {}), sampler.get("timings", {})
    return Fit(idata, meta, spec, data, config, timings, design)


#: ``bm.load(path)``
load = load_fit
