"""Run one (model, tool) fit in this process and print one JSON line of results.

Used by :mod:`benchmarks.run`, which starts a fresh process per fit so that every tool pays
its own compilation (disk caches of PyTensor and numba are shared, as for any user).
``python -m benchmarks.worker MODEL TOOL --chains 4 --draws 1000 --seed 1 [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

TOOLS = ("bayesmixed", "bambi-nutpie", "bambi-pymc")


def bambi_priors(built) -> dict:
    """bayesmixed's resolved default priors written as bambi priors (same distributions)."""
    import bambi as bmb

    out = {}
    for key, p in built.priors.items():
        params = {k: float(v) for k, v in p.params.items()}
        if key.startswith("sd("):
            term, factor = key[3:-1].split("|")
            bterm = "1" if term == "Intercept" else term
            out[f"{bterm}|{factor}"] = bmb.Prior(
                "Normal", mu=0.0, sigma=bmb.Prior(p.dist, **params)
            )
        elif key.startswith("cor("):
            continue  # bambi has no correlated group-level effects
        else:
            out[key] = bmb.Prior(p.dist, **params)
    return out


def run_one(model_name: str, tool: str, chains: int, draws: int, seed: int, quick: bool) -> dict:
    """Fit and measure; returns the result record."""
    from benchmarks.metrics import bambi_hyper, bayesmixed_hyper, summarize
    from benchmarks.models import SUITE

    m = SUITE[model_name]
    data = m.simulate(seed, quick)
    # imports every tool needs, outside the timed region for all of them
    import nutpie  # noqa: F401
    import pymc  # noqa: F401

    import bayesmixed as bm

    rec: dict = {
        "model": model_name,
        "tool": tool,
        "rows": len(data),
        "chains": chains,
        "draws": draws,
        "tune": draws,
        "seed": seed,
    }
    if tool == "bayesmixed":
        t0 = time.perf_counter()
        fit = bm.fit(
            m.formula,
            data,
            m.family,
            chains=chains,
            draws=draws,
            tune=draws,
            seed=seed,
            progress=False,
            log_likelihood=False,
        )
        rec["wall_s"] = time.perf_counter() - t0
        rec["timings"] = {
            k: (float(v) if not isinstance(v, bool) else v) for k, v in fit.timings.items()
        }
        rec["parameterization"] = {
            f: "marginal" if c.get("marginal") else "partial" if c.get("partial") else c["centered"]
            for f, c in fit.meta["parameterization"].items()
        }
        rec["hierarchical_centering"] = fit.meta.get("hierarchical_centering")
        rec["n_cells"] = fit.meta.get("n_cells")
        rec.update(summarize(bayesmixed_hyper(fit.idata), fit.idata))
        return rec
    import bambi as bmb

    priors = bambi_priors(bm.prepare(m.formula, data, m.family))
    method = tool.split("-", 1)[1]
    t0 = time.perf_counter()
    model = bmb.Model(m.bambi_formula or m.formula, data, family=m.family, priors=priors)
    idata = model.fit(
        draws=draws,
        tune=draws,
        chains=chains,
        inference_method=method,
        random_seed=seed,
        progressbar=False,
    )
    rec["wall_s"] = time.perf_counter() - t0
    rec.update(summarize(bambi_hyper(idata), idata))
    return rec


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("tool", choices=TOOLS)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    rec = run_one(a.model, a.tool, a.chains, a.draws, a.seed, a.quick)
    sys.stdout.write("BENCH-RESULT " + json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
