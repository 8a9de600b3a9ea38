"""The saved-fit format, and writing it: file names, JSON conversion, atomic folders.

A saved fit is a folder of plain, documented files:

- ``posterior.nc``: the ArviZ DataTree (posterior under the summary's names, the sampler's
  draws in ``sampler_posterior``, sample stats, observed data; see
  :mod:`bayesmixed.report.core.native`), NetCDF4 through h5netcdf. The pointwise log-likelihood
  and posterior predictions are not stored: loading recomputes them from the draws and the
  stored data (about 25 kB per 1,000 rows; the draws take 8 bytes x draws per parameter and
  per random effect per level);
- ``spec.yaml``: the model specification (:func:`~bayesmixed.formula.yaml_spec.spec_to_dict`);
- ``data.parquet``: the rows used for fitting;
- ``meta.json``: the model description the report layer reads (terms, blocks, priors, ...);
- ``sampler.json``: sampler settings and timings.

This module is shared by :meth:`Fit.save <bayesmixed.result.Fit.save>`, run-folder writing
(:mod:`bayesmixed.runfolder`) and loading (:mod:`bayesmixed.io`), which do not import each
other. Folders are written to a temporary sibling and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from bayesmixed._version import __version__
from bayesmixed.errors import RunFolderError
from bayesmixed.formula.yaml_spec import spec_to_dict
from bayesmixed.report.core.native import for_storage

__all__ = [
    "DATA_FILE",
    "FIT_FILES",
    "FORMAT",
    "FORMAT_VERSION",
    "META_FILE",
    "POSTERIOR_FILE",
    "SAMPLER_FILE",
    "SPEC_FILE",
    "atomic_folder",
    "check_target",
    "jsonable",
    "save_fit",
    "write_fit_files",
]

POSTERIOR_FILE = "posterior.nc"
SPEC_FILE = "spec.yaml"
DATA_FILE = "data.parquet"
META_FILE = "meta.json"
SAMPLER_FILE = "sampler.json"
FIT_FILES = (POSTERIOR_FILE, SPEC_FILE, DATA_FILE, META_FILE, SAMPLER_FILE)
FORMAT = "bayesmixed-fit"
FORMAT_VERSION = 1


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars turned into Python numbers and NaN/inf into ``None``.

    Examples
    --------
    >>> jsonable({"rhat": np.float64(1.01), "ess": float("nan"), "n": (np.int64(2),)})
    {'rhat': 1.01, 'ess': None, 'n': [2]}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def check_target(target: Path, force: bool) -> None:
    """Raise :class:`RunFolderError` unless a folder may be written at ``target``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> here = pathlib.Path(tempfile.mkdtemp())
    >>> check_target(here / "new", force=False)  # fine: nothing there
    >>> check_target(here, force=False)
    Traceback (most recent call last):
    ...
    bayesmixed.errors.RunFolderError: run folder '...' already exists; ...
    """
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise RunFolderError(f"{str(target)!r} exists and is not a folder; choose another path")
        if not force:
            raise RunFolderError(
                f"run folder {str(target)!r} already exists; replace it with --force (command "
                "line) or overwrite=True (Fit.save)"
            )


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Write a folder atomically.

    Yields a new temporary folder beside ``path``; when the block ends normally the temporary
    folder is renamed to ``path`` (replacing an existing folder only when ``force``). When the
    block raises, including ``KeyboardInterrupt``, the temporary folder is removed and nothing
    appears at ``path``.

    Raises
    ------
    RunFolderError
        When ``path`` exists and ``force`` is false, or exists and is not a folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> here = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_folder(here / "run") as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> sorted(p.name for p in here.iterdir()), (here / "run" / "a.txt").read_text()
    (['run'], 'done')
    """
    target = Path(path).expanduser().absolute()
    check_target(target, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        mask = os.umask(0)
        os.umask(mask)
        tmp.chmod(0o777 & ~mask)  # mkdtemp makes it private; a run folder is an ordinary one
    except OSError as exc:
        raise RunFolderError(f"cannot create a folder beside {str(target)!r}: {exc}") from None
    try:
        yield tmp
        check_target(target, force)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            os.rename(target, old)
        try:
            os.rename(tmp, target)
        except OSError:
            if old is not None:
                os.rename(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_fit_files(fit, folder: str | Path) -> None:
    """Write the files of ``fit`` into the existing folder ``folder`` (not atomic).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_fit_files(fit, folder)
    >>> sorted(p.name for p in folder.iterdir())
    ['data.parquet', 'meta.json', 'posterior.nc', 'sampler.json', 'spec.yaml']
    """
    folder = Path(folder)
    for_storage(fit.base_idata).to_netcdf(folder / POSTERIOR_FILE, engine="h5netcdf")
    spec_text = yaml.safe_dump(jsonable(spec_to_dict(fit.spec)), sort_keys=False)
    (folder / SPEC_FILE).write_text(f"# bayesmixed model spec: {fit.spec.formula}\n{spec_text}")
    try:
        fit.data.to_parquet(folder / DATA_FILE, index=False)
    except Exception as exc:
        raise RunFolderError(f"cannot store the data as Parquet: {exc}") from None
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "bayesmixed_version": __version__,
            "meta": fit.meta}
    (folder / META_FILE).write_text(json.dumps(jsonable(meta), indent=2) + "\n")
    sampler = {"config": fit.config, "timings": fit.timings}
    (folder / SAMPLER_FILE).write_text(json.dumps(jsonable(sampler), indent=2) + "\n")


def save_fit(fit, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save ``fit`` to the folder ``path``, atomically.

    Parameters
    ----------
    fit
        The fitted model.
    path
        Destination folder; it must not exist unless ``overwrite``.
    overwrite
        Replace an existing folder.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    RunFolderError
        When ``path`` exists and ``overwrite`` is false.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = save_fit(fit, pathlib.Path(tempfile.mkdtemp()) / "sleep")
    >>> save_fit(fit, path)
    Traceback (most recent call last):
    ...
    bayesmixed.errors.RunFolderError: run folder '...sleep' already exists; ...
    """
    with atomic_folder(path, force=overwrite) as tmp:
        write_fit_files(fit, tmp)
    return Path(path)
