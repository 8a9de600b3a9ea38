"""``env $(python -m bayesmixed._blas_env) CMD``: run CMD with the OpenBLAS kernels bayesmixed pins.

Importing the package pins the kernels of its own process (:mod:`bayesmixed._blas`); a
pytest run loads numpy through its plugins before any test module imports bayesmixed, so
``make test`` sets the variable for the whole run with this module's output
(``OPENBLAS_CORETYPE=Haswell`` on AVX-512 CPUs, nothing elsewhere).
"""

from __future__ import annotations

import os

import bayesmixed  # noqa: F401  (importing the package pins the kernels)

if __name__ == "__main__" and os.environ.get("OPENBLAS_CORETYPE"):
    print(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}")
