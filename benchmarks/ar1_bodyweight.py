"""Sampling the BodyWeight AR(1) model under different settings (benchmarks/AR1.md).

Usage::

    nice -n 10 python -m benchmarks.ar1_bodyweight --sigma innovation --centered false \\
        --target-accept 0.95 --draws 2000 --tune 2000

``--sigma marginal`` samples the marginal residual sd instead of the innovation sd (the
parameterization bayesmixed used first); ``--centered auto`` lets the parameterization rule
choose for the rat effects.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import bayesmixed as bm
from bayesmixed.families import table

FORMULA = "weight ~ Time * Diet + (Time | Rat) + ar(time = t, gr = Rat)"


def main() -> None:
    """Fit once and print wall time, the summary and the divergences."""
    p = argparse.ArgumentParser()
    p.add_argument("--sigma", choices=("innovation", "marginal"), default="innovation")
    p.add_argument("--centered", choices=("auto", "false"), default="auto")
    p.add_argument("--target-accept", type=float, default=0.8)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.sigma == "marginal":  # each AuxParam from its own prior: sigma sampled directly
        fam = table.DERIVED["gaussian_ar1"]
        table.DERIVED["gaussian_ar1"] = dataclasses.replace(fam, build_aux=None)
    kw = {"centered": {"Rat": False}} if a.centered == "false" else {}
    t0 = time.time()
    fit = bm.fit(FORMULA, bm.datasets.load("bodyweight"), chains=4, draws=a.draws, tune=a.tune,
                 seed=a.seed, target_accept=a.target_accept, progress=False, **kw)
    print("wall", time.time() - t0)
    print(fit.summary().to_string())
    print("divergences", int(fit.idata["sample_stats"]["diverging"].sum()))


if __name__ == "__main__":
    main()
