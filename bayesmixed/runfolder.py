"""Run folders: everything about one fit in one place, written all at once or not at all.

A run folder holds the fit files of :mod:`bayesmixed.fitfiles` (posterior NetCDF, spec YAML,
data, meta and sampler settings) plus what a person reads first:

- ``manifest.json``: package versions, seed, command line, sha256 of the data, timings,
  the diagnostics verdict and the sha256 of every file;
- ``summary.txt``: the printed summary (``print(fit)``);
- ``diagnostics.json``: convergence figures, verdict and advice;
- ``report.html``: the rendered report of the report layer (``fit.report``).

Folders are written to a temporary sibling and renamed into place only when complete, so an
interrupted run (Ctrl-C, SIGTERM, an error) never leaves a partial folder, and an existing
folder is only replaced when asked to (``force``). Writing a run folder does not import
loading (:mod:`bayesmixed.io`), nor does loading import it: both use :mod:`bayesmixed.fitfiles`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bayesmixed.errors import RunFolderError
from bayesmixed.fitfiles import DATA_FILE, atomic_folder, check_target, jsonable, write_fit_files

__all__ = [
    "InterruptGuard",
    "atomic_folder",
    "check_target",
    "file_sha256",
    "jsonable",
    "package_versions",
    "read_manifest",
    "write_run_folder",
]

MANIFEST = "manifest.json"
SUMMARY = "summary.txt"
DIAGNOSTICS = "diagnostics.json"
REPORT = "report.html"

#: Packages whose versions are recorded in the manifest.
PACKAGES = (
    "bayesmixed", "pymc", "pytensor", "nutpie", "numba", "arviz", "arviz-base", "arviz-stats",
    "numpy", "scipy", "pandas", "xarray", "formulae", "h5netcdf", "h5py", "pyarrow", "numpyro",
    "jax", "blackjax",
)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` when not installed).

    Examples
    --------
    >>> package_versions(["numpy", "no-such-package"])["no-such-package"] is None
    True
    """
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


class InterruptGuard:
    """Turn SIGINT and SIGTERM into ``KeyboardInterrupt`` and remember that they came.

    Some samplers (nutpie) catch ``KeyboardInterrupt`` and return the draws made so far; the
    guard records the signal so the caller can still discard such a partial result.

    Examples
    --------
    >>> with InterruptGuard() as guard:
    ...     pass
    >>> guard.interrupted
    False
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    @property
    def interrupted(self) -> bool:
        """Whether a signal arrived while the guard was active."""
        return self.signum is not None

    @property
    def signal_name(self) -> str:
        """Name of the signal received (``"SIGINT"``, ``"SIGTERM"``) or ``""``."""
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @property
    def exit_code(self) -> int:
        """Conventional shell exit status for the signal received: 128 + signal number."""
        return 128 + int(self.signum or signal.SIGINT)

    def _handle(self, signum, frame) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
            raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        try:
            for sig in self.SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: leave handlers alone
            self._old.clear()
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(jsonable(value), indent=2, allow_nan=False) + "\n")


def write_run_folder(
    fit,
    path: str | Path,
    *,
    force: bool = False,
    command: Sequence[str] | None = None,
    data_source: Mapping[str, Any] | None = None,
    timings: Mapping[str, float] | None = None,
    started: float | None = None,
    report: bool = True,
) -> dict[str, Any]:
    """Write the complete run folder of ``fit`` to ``path``, atomically.

    Parameters
    ----------
    fit
        The fitted model.
    path
        Destination folder.
    force
        Replace an existing folder.
    command
        The command line that made the run (default ``sys.argv``).
    data_source
        Where the data came from: ``{"path": ..., "sha256": ...}`` for a file,
        ``{"dataset": name}`` for a bundled data set.
    timings
        Extra timings (seconds) to record beside the fit's own (e.g. reading the data).
    started
        ``time.perf_counter()`` at the start of the run: the manifest records the total time.
    report
        Render the HTML report (``fit.report``); when false, ``bayesmixed report`` can render
        it later from the folder.

    Returns
    -------
    dict
        The manifest written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> manifest = write_run_folder(fit, path, report=False)
    >>> manifest["seed"], manifest["diagnostics"]["verdict"] in ("ok", "warning", "fail")
    (1, True)
    """
    t0 = time.perf_counter()
    with atomic_folder(path, force=force) as tmp:
        write_fit_files(fit, tmp)
        (tmp / SUMMARY).write_text(str(fit) + "\n")
        diag = fit.diagnostics()
        _write_json(tmp / DIAGNOSTICS, diag.to_dict())
        report_info: dict[str, Any] = {"file": REPORT}
        t_report = None
        if not report:
            report_info = {"file": None, "skipped": True}
        else:
            t_report = time.perf_counter()
            try:
                fit.report(tmp / REPORT)
            except Exception as exc:  # the posterior must survive a failing renderer
                report_info = {"file": None, "error": f"{type(exc).__name__}: {exc}"}
            t_report = time.perf_counter() - t_report
        hashed = {p.name: file_sha256(p) for p in sorted(tmp.iterdir())
                  if p.is_file() and not p.name.startswith("report")}
        all_timings = {**{k: v for k, v in fit.timings.items()}, **dict(timings or {})}
        all_timings["write"] = time.perf_counter() - t0  # files, summary, diagnostics, report
        if t_report is not None:
            all_timings["report"] = t_report  # the HTML report (its LOO computes the log-lik.)
        if started is not None:
            all_timings["total"] = time.perf_counter() - started
        manifest = {
            "format": "bayesmixed-run",
            "format_version": 1,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": list(command if command is not None else sys.argv),
            "cwd": os.getcwd(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": package_versions(),
            "seed": fit.config.get("seed"),
            # issue 14: approximate draws say so where a reader looks first
            "method": fit.meta.get("method", "nuts"),
            "approximate": fit.meta.get("method", "nuts") != "nuts",
            **({"approximation": fit.meta["approximation"]}
               if "approximation" in fit.meta else {}),
            "sampler": dict(fit.config),
            "device": fit.meta.get("device", "cpu"),
            "sampler_run": fit.meta.get("sampler_run", {}),
            "model": {
                "formula": fit.meta["formula"],
                "family": fit.meta["family"],
                "link": fit.meta["link"],
                "n_obs": fit.meta["n_obs"],
                "levels": fit.levels,
            },
            "data": {**dict(data_source or {}), "stored": DATA_FILE,
                     "stored_sha256": hashed.get(DATA_FILE), "rows": len(fit.data)},
            "timings": all_timings,
            "diagnostics": {"verdict": diag.verdict, "problems": list(diag.problems)},
            "report": report_info,
            "files": hashed,
        }
        _write_json(tmp / MANIFEST, manifest)
    return manifest


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a run folder.

    Raises
    ------
    RunFolderError
        When the folder or its manifest is missing or unreadable.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> _ = write_run_folder(fit, path, report=False)
    >>> read_manifest(path)["model"]["levels"]
    {'Subject': 18}
    """
    p = Path(path) / MANIFEST
    if not p.is_file():
        raise RunFolderError(f"{str(path)!r} is not a run folder (no {MANIFEST})")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{str(p)!r} is not valid JSON: {exc}") from None
