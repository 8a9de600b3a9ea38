"""Benchmark suite: bayesmixed against bambi (nutpie and PyMC backends) on the same data.

Run ``python -m benchmarks.run`` (``--quick`` for a smoke run, ``--models a b`` for a subset);
results go to ``benchmarks/RESULTS.md`` and raw per-run JSON to ``benchmarks/out/``.
"""
