"""The hard suite: real and simulated designs that are hard to sample (issue 13).

Each case is a model that went wrong for some tool or some version of bayesmixed: counts with an
observation-level effect and nested factors, three-level logistic models with many tiny
clusters, a nested poisson with an offset and few top-level groups, a negative binomial with a
small crossed sd, correlated slopes with few groups, very unbalanced group sizes and a
near-singular fit. ``python -m benchmarks.hard`` fits every case at default settings on several
seeds and writes ``benchmarks/HARD.md``; ``tests/test_hard_suite.py`` (slow) asserts the goal.
"""

from benchmarks.hard.cases import CASES, HardCase

__all__ = ["CASES", "HardCase"]
