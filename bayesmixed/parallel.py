"""Run many independent tasks (fits) in-process or on a Dask cluster, with identical results.

One executor for every "many fits" workload (:func:`bayesmixed.fit_many`,
:func:`bayesmixed.power`, SBC (:func:`bayesmixed.validate.sbc`) and K-fold
(:meth:`Fit.kfold <bayesmixed.result.Fit.kfold>`)): :func:`run_tasks` maps a
function over tasks and returns the results in task order.

``client``:

- ``None``: a plain loop in this process (the default, as before);
- ``"local"``: a ``dask.distributed.LocalCluster`` of one single-threaded worker process per
  core (:func:`local_cluster_size`), started for the call and closed afterwards;
- a scheduler address (``"tcp://10.0.0.5:8786"``): a ``Client`` connected for the call;
- a ``dask.distributed.Client``: used as it is (left open).

Identical results. Every task carries its own seeds (derived from the user's seed and the
task's position, never from a shared generator), and every fit runs inside
:func:`bayesmixed.sample.backends.reuse_compiled` whatever the executor: the first fit of a
model structure in a process compiles it with swappable data, later fits of that structure swap
their data in without compiling. Each worker process therefore compiles each structure once,
and a fit gives the same draws whether it was the first of its structure in a process or not,
so a serial run and a run on any number of workers give bit-identical results. (Those draws
may differ in the last bits from a lone ``bm.fit`` of the same data and seed, which uses the
form with data frozen in as constants; see :mod:`bayesmixed.sample.backends`. One exception: a process
that already fitted exactly the same model and data with a lone ``bm.fit`` reuses that frozen
form, so fit that data set inside ``fit_many`` or in a fresh process to compare runs bit for
bit.)

Workers import ``bayesmixed`` themselves: it must be importable in their environment (a
``LocalCluster`` inherits this process's environment, ``PYTHONPATH`` included). Scripts that
start a ``LocalCluster`` (``client="local"``) must guard their top level with
``if __name__ == "__main__":`` because worker processes are spawned.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any

from bayesmixed.errors import BayesmixedError

__all__ = ["ClientLike", "ProgressBar", "local_cluster_size", "open_client", "run_tasks"]

#: what ``client=`` accepts
ClientLike = Any  # None | "local" | str address | dask.distributed.Client


def local_cluster_size() -> int:
    """Worker processes ``client="local"`` starts: the cores this process may use.

    Examples
    --------
    >>> local_cluster_size() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _distributed():
    try:
        import distributed
    except ImportError:  # pragma: no cover - a dependency; kept for a clear message
        raise BayesmixedError(
            "client= needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    return distributed


@contextmanager
def open_client(client: ClientLike, n_workers: int | None = None):
    """A ``Client`` for ``client`` (``None`` yields ``None``), closed afterwards if opened here.

    Parameters
    ----------
    client
        ``None``, ``"local"``, a scheduler address or a ``dask.distributed.Client``.
    n_workers
        Worker processes of a ``"local"`` cluster; default :func:`local_cluster_size`.

    Examples
    --------
    >>> with open_client(None) as c:
    ...     c is None
    True
    """
    if client is None:
        yield None
        return
    distributed = _distributed()
    if isinstance(client, distributed.Client):
        yield client
        return
    if not isinstance(client, str):
        raise BayesmixedError(
            "client must be None, 'local', a scheduler address or a dask.distributed.Client, "
            f"got {type(client).__name__}"
        )
    if client == "local":
        n = int(n_workers or local_cluster_size())
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        )
        try:
            with distributed.Client(cluster) as c:
                yield c
        finally:
            cluster.close()
        return
    with distributed.Client(client) as c:
        yield c


class ProgressBar:
    """A one-line text progress bar on stderr: ``power  37/120 [=====     ] 31% 0:42``.

    Parameters
    ----------
    total
        Number of tasks.
    label
        Printed before the counts.
    stream
        Where to write (default ``sys.stderr``).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(2, "fits", stream=out)
    >>> bar.update(1); bar.update(2); bar.close()
    >>> "fits 2/2 [" in out.getvalue()
    True
    """

    def __init__(self, total: int, label: str = "tasks", stream=None, width: int = 24) -> None:
        self.total, self.label, self.width = max(int(total), 1), label, width
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()

    def update(self, done: int) -> None:
        """Redraw for ``done`` finished tasks."""
        frac = done / self.total
        fill = round(frac * self.width)
        secs = int(time.perf_counter() - self.t0)
        self.stream.write(
            f"\r{self.label} {done}/{self.total} [{'=' * fill}{' ' * (self.width - fill)}] "
            f"{frac:4.0%} {secs // 60}:{secs % 60:02d}"
        )
        self.stream.flush()

    def close(self) -> None:
        """End the line."""
        self.stream.write("\n")
        self.stream.flush()


def _progress(progress: bool | str | Callable[[int, int], None], total: int):
    """(update(done), close()) for a ``progress`` argument."""
    if callable(progress):
        return (lambda done: progress(done, total)), (lambda: None)
    if progress:
        bar = ProgressBar(total, progress if isinstance(progress, str) else "tasks")
        return bar.update, bar.close
    return (lambda done: None), (lambda: None)


def run_tasks[T, R](
    fn: Callable[[T], R],
    tasks: Iterable[T],
    client: ClientLike = None,
    *,
    progress: bool | str | Callable[[int, int], None] = False,
    n_workers: int | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``[fn(task) for task in tasks]``, in-process or on a Dask cluster; results in task order.

    Parameters
    ----------
    fn
        A module-level (picklable) function of one task. It must take every random seed from
        its task, so that the result does not depend on where or in which order it runs.
    tasks
        Picklable task descriptions.
    client
        ``None`` (serial, in this process), ``"local"``, a scheduler address or a
        ``dask.distributed.Client`` (see the module docstring).
    progress
        ``True`` or a label: a progress bar on stderr; a callable: called as
        ``progress(done, total)`` after each finished task.
    n_workers
        Worker processes of a ``"local"`` cluster (default: one per core).
    on_result
        Called as ``on_result(i, fn(tasks[i]))`` in this process as each task finishes (in
        task order when serial, in completion order on a cluster): for checkpoints.

    Returns
    -------
    list
        ``fn(task)`` for each task, in the order of ``tasks``. An exception raised by ``fn``
        propagates (tasks that may fail should catch and record their errors).

    Examples
    --------
    >>> run_tasks(abs, [-2, 3, -1])
    [2, 3, 1]
    """
    tasks = list(tasks)
    update, close = _progress(progress, len(tasks))
    try:
        if client is None:
            out = []
            for i, task in enumerate(tasks):
                out.append(fn(task))
                if on_result is not None:
                    on_result(i, out[-1])
                update(i + 1)
            return out
        with open_client(client, n_workers) as c:
            return _run_on(c, fn, tasks, update, on_result)
    finally:
        if progress:
            close()


def _run_on(client, fn: Callable, tasks: Sequence, update: Callable[[int], None],
            on_result: Callable[[int, Any], None] | None = None) -> list:
    distributed = _distributed()
    if not tasks:
        return []
    futures = client.map(fn, tasks, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    out: list[Any] = [None] * len(tasks)
    try:
        for done, fut in enumerate(distributed.as_completed(futures), start=1):
            i = index[fut.key]
            out[i] = fut.result()
            if on_result is not None:
                on_result(i, out[i])
            update(done)
    except BaseException:
        client.cancel(futures)
        raise
    return out
