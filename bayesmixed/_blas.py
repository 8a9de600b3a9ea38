"""One OpenBLAS kernel family on every x86-64 machine, so that a seed gives the same draws.

numpy and scipy ship OpenBLAS built for many CPUs and pick the kernels of the CPU they run on
when they are loaded. The compiled log-density calls BLAS (``X @ b`` and friends), and the
AVX-512 kernels (``SkylakeX``) sum in another order than the AVX2 ones (``Haswell``), which
older CPUs' kernels match: the last bits of a gradient differ, NUTS trajectories part, and the
same seed gives other draws on another machine. Measured: the linearity test's bernoulli fit
(seed 1, 2 chains x 300) gave max R-hat 1.01003 with ``OPENBLAS_CORETYPE=SkylakeX`` (this
machine's default) and 1.01342 with ``Haswell`` or ``Prescott`` (CI's machine, which printed
1.0134162 for it).

:func:`pin_openblas_kernels` asks OpenBLAS for the AVX2 kernels on CPUs that have AVX-512
(every such CPU has AVX2, so the request is safe), before numpy is first imported. It does
nothing when the user set ``OPENBLAS_CORETYPE``, when ``BAYESMIXED_BLAS_PIN=0``, on other
architectures, or when numpy was imported before bayesmixed (OpenBLAS is loaded then; the
kernels in use are recorded in each fit's ``meta["sampler_run"]["blas"]`` either way).
"""

from __future__ import annotations

import os
import platform
import sys

#: the kernel family asked for on AVX-512 CPUs (matches AVX2 machines' own choice)
PINNED = "Haswell"


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pin_openblas_kernels() -> str | None:
    """Set ``OPENBLAS_CORETYPE`` to :data:`PINNED` where that keeps draws machine-independent.

    Returns
    -------
    str or None
        The value set, or ``None`` when nothing was changed.

    Examples
    --------
    >>> pin_openblas_kernels() is None  # numpy is loaded by now: too late to change anything
    True
    """
    if "OPENBLAS_CORETYPE" in os.environ or "numpy" in sys.modules:
        return None
    if os.environ.get("BAYESMIXED_BLAS_PIN", "1").strip().lower() in ("0", "off", "false", "no"):
        return None
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    flags = _cpu_flags()
    if "avx512f" not in flags or "avx2" not in flags:
        return None
    os.environ["OPENBLAS_CORETYPE"] = PINNED
    return PINNED


def blas_kernels() -> list[str]:
    """The BLAS libraries loaded in this process with their kernel family (threadpoolctl).

    Returns
    -------
    list of str
        ``"openblas:Haswell"``-style entries; empty when threadpoolctl is not installed.

    Examples
    --------
    >>> import numpy  # noqa: F401
    >>> all(":" in k for k in blas_kernels())
    True
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return sorted({f"{i.get('internal_api')}:{i.get('architecture')}" for i in threadpool_info()
                   if i.get("user_api") == "blas"})

