"""Peak memory of a fit against the number of rows (issue 5: memory linear in rows).

``python -m benchmarks.memory`` fits the large_logistic design (``y ~ x + w + (1 + x | g)``,
100 rows per group) at 25,000 to 200,000 rows, each in a fresh process with 4 chains x 200
draws (the memory of the draws does not grow with rows unless the log-likelihood is stored,
which is left off here as in the speed benchmark), and prints the peak resident memory of
each process and the increase per 1,000 rows.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

SIZES = (250, 500, 1000, 2000)  # groups of 100 rows


def one(n_groups: int) -> dict:
    """Fit in this process; return rows and peak RSS in MiB."""
    import warnings

    warnings.filterwarnings("ignore")
    import numpy as np
    import pandas as pd

    import bayesmixed as bm

    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(n_groups), 100)
    u = rng.multivariate_normal([0, 0], [[0.64, 0.096], [0.096, 0.16]], n_groups)
    x = rng.normal(size=g.size)
    w = rng.binomial(1, 0.4, g.size).astype(float)
    eta = -0.4 + 0.5 * x - 0.3 * w + u[g, 0] + u[g, 1] * x
    df = pd.DataFrame({"y": rng.binomial(1, 1 / (1 + np.exp(-eta))), "x": x, "w": w,
                       "g": [f"g{j:04d}" for j in g]})
    bm.fit("y ~ x + w + (1 + x | g)", df, "bernoulli", chains=4, draws=200, tune=200, seed=1,
           progress=False, log_likelihood=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {"rows": int(g.size), "peak_mib": round(peak, 1)}


def main() -> None:
    if len(sys.argv) > 1:
        print("MEM " + json.dumps(one(int(sys.argv[1]))), flush=True)
        return
    rows = []
    for n in SIZES:
        out = subprocess.run([sys.executable, "-m", "benchmarks.memory", str(n)],
                             capture_output=True, text=True, check=True)
        rec = json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("MEM "))[4:])
        rows.append(rec)
        print(f"{rec['rows']:>8,} rows: peak {rec['peak_mib']:8.1f} MiB", flush=True)
    (a, b) = rows[0], rows[-1]
    slope = (b["peak_mib"] - a["peak_mib"]) / ((b["rows"] - a["rows"]) / 1000)
    print(f"increase: {slope:.2f} MiB per 1,000 rows between {a['rows']:,} and {b['rows']:,} rows")


if __name__ == "__main__":
    main()
