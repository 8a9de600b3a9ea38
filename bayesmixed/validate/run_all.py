"""The validation run: SBC of every family with random intercepts and correlated slopes.

Run (long: about a second per simulation and family on one core, plus compilation)::

    python -m bayesmixed.validate.run_all --out docs/validation.md --n-sims 200

Every family is fitted as ``y ~ x + (1 + x | g)`` on a fixed balanced design (``--n-groups``
groups of ``--n-per-group`` rows, ``x`` standard normal) with the priors in :data:`CASES`. The
page is rewritten every ``--checkpoint`` simulations, so an interrupted run leaves the
simulations that finished, marked as partial. ``--workers N`` runs the fits on a local Dask
cluster of N processes, ``--scheduler ADDRESS`` on an existing cluster: the same ranks as a
serial run (:func:`bayesmixed.validate.sbc`).
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bayesmixed.parallel import open_client
from bayesmixed.validate.sbc import SBCResult, sbc

__all__ = ["CASES", "command_block", "family_section", "main", "provenance", "render_markdown"]

_RE = {"sd": "half_normal(0.7)", "cor": "lkj(2)"}
#: family -> (formula, priors). Priors are fixed (not data-dependent defaults) so every
#: simulation of a family shares one prior; they are wide enough to give varied data sets.
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "gaussian": (
        "y ~ x + (1 + x | g)",
        {"Intercept": "normal(0, 1)", "b": "normal(0, 1)", **_RE, "sigma": "gamma(4, 4)"},
    ),
    "bernoulli": ("y ~ x + (1 + x | g)", {"Intercept": "normal(0, 1)", "b": "normal(0, 1)", **_RE}),
    "binomial": (
        "y | trials(n) ~ x + (1 + x | g)",
        {"Intercept": "normal(0, 1)", "b": "normal(0, 1)", **_RE},
    ),
    "poisson": (
        "y ~ x + (1 + x | g)",
        {
            "Intercept": "normal(1, 0.5)",
            "b": "normal(0, 0.5)",
            "sd": "half_normal(0.5)",
            "cor": "lkj(2)",
        },
    ),
    "negbinomial": (
        "y ~ x + (1 + x | g)",
        {
            "Intercept": "normal(1, 0.5)",
            "b": "normal(0, 0.5)",
            "sd": "half_normal(0.5)",
            "cor": "lkj(2)",
            "alpha": "gamma(2, 0.1)",
        },
    ),
}

ALPHA = 0.01
_BARS = " ▁▂▃▄▅▆▇█"


def _counts(s) -> str:
    vc = s.value_counts()
    return ", ".join(f"{k} {int(v)}" for k, v in vc.items())


def _cell(name: str) -> str:
    return name.replace("|", "\\|")


def _spark(counts: np.ndarray) -> str:
    top = max(int(counts.max()), 1)
    return "".join(_BARS[round(8 * float(c) / top)] for c in counts)


def family_section(
    family: str, res: SBCResult, n_requested: int, bins: int | None
) -> tuple[list[str], dict]:
    """The markdown lines of one SBC run (table of p-values and rank histograms) and its
    summary row, as the validation pages show them.

    Parameters
    ----------
    family : str
        Heading of the section.
    res : SBCResult
        The run.
    n_requested : int
        Simulations asked for; fewer done marks the section as partial.
    bins : int or None
        Histogram bins (None: the run's default).

    Returns
    -------
    tuple[list[str], dict]
        The lines and the summary row (its last value is the verdict).

    Examples
    --------
    >>> n = 20
    >>> res = SBCResult(
    ...     ranks=pd.DataFrame({"Intercept": np.arange(n) % 10}),
    ...     truths=pd.DataFrame({"Intercept": np.zeros(n)}),
    ...     sims=pd.DataFrame({"error": [""] * n, "divergences": 0, "min_ess_bulk": 500.0,
    ...                        "centered": "g: NC", "seconds": 1.0}),
    ...     n_rank_draws=9, settings={"formula": "y ~ 1 + (1 | g)", "priors": {}, "link": "logit"})
    >>> lines, summary = family_section("bernoulli", res, n, bins=5)
    >>> lines[0], summary["sims"], list(summary.values())[-1]
    ('### bernoulli', '20/20', 'pass')
    """
    table = res.uniformity(bins)
    hist = res.histogram(bins)
    m = 2 * len(table)
    threshold = ALPHA / m
    sims = res.sims
    ok_sims = sims[sims["error"] == ""]
    n_div = int((ok_sims["divergences"] > 0).sum())
    low_ess = int((ok_sims["min_ess_bulk"] < res.n_rank_draws).sum())
    n_failed = int((sims["error"] != "").sum())
    p_min = float(np.nanmin(table[["p_chi2", "p_ecdf"]].to_numpy()))
    verdict = "pass" if p_min > threshold else "REJECT"
    partial = (
        ""
        if res.n_done + n_failed >= n_requested
        else f" (partial: {res.n_done + n_failed} of {n_requested} run)"
    )
    formula, priors = res.settings["formula"], res.settings["priors"]
    lines = [
        f"### {family}{partial}",
        "",
        f"`{formula}`, family `{family}` (link `{res.settings['link']}`); priors: "
        + ", ".join(f"`{k}` {v}" for k, v in priors.items()),
        "",
        f"{res.n_done} simulations with ranks, {n_failed} refused, {n_div} with divergent "
        f"transitions, {low_ess} with bulk ESS below L = {res.n_rank_draws}; parameterization "
        f"chosen per data set: {_counts(ok_sims['centered'])}; median "
        f"{ok_sims['seconds'].median():.1f} s per simulation.",
        "",
        f"| parameter | chi-square ({table['bins'].iloc[0]} bins) p | ECDF p | rank histogram |",
        "|---|---:|---:|:---|",
    ]
    for name, row in table.iterrows():
        flag = " **<**" if np.nanmin([row["p_chi2"], row["p_ecdf"]]) <= threshold else ""
        lines.append(
            f"| {_cell(name)} | {row['p_chi2']:.3f} | {row['p_ecdf']:.3f}{flag} | "
            f"`{_spark(hist.loc[name].to_numpy())}` |"
        )
    lines.append("")
    summary = {
        "family": family,
        "sims": f"{res.n_done}/{n_requested}",
        "refused": n_failed,
        "with divergences": n_div,
        "parameters": len(table),
        "min p (chi-square)": f"{table['p_chi2'].min():.3f}",
        "min p (ECDF)": f"{table['p_ecdf'].min():.3f}",
        f"verdict (alpha {ALPHA}, Bonferroni)": verdict,
    }
    return lines, summary


def _table(rows: list[dict]) -> str:
    keys = list(rows[0])
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    out += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(out)


def _git_commit() -> str:
    """`` (git commit abc1234[, with uncommitted changes])`` or ``""`` outside a checkout."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" (git commit {head}{', with uncommitted changes' if dirty else ''})"


def command_block(command: str) -> list[str]:
    """The "Command that made this page" lines of a generated page.

    Examples
    --------
    >>> command_block("python -m x")[2:4]
    ['```bash', 'python -m x']
    """
    return ["Command that made this page:", "", "```bash", command, "```", ""]


def provenance() -> str:
    """``Run <UTC time> with bayesmixed, PyMC, nutpie and Python versions (git commit)``.

    Examples
    --------
    >>> provenance().startswith("Run ")
    True
    """
    import nutpie
    import pymc

    from bayesmixed._version import __version__

    return (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with bayesmixed {__version__}, "
        f"PyMC {pymc.__version__}, nutpie {nutpie.__version__}, Python "
        f"{platform.python_version()}{_git_commit()}."
    )


def render_markdown(results: dict[str, SBCResult], n_requested: int, command: str, args) -> str:
    """The validation page: how it was made, a summary table and one section per family.

    Examples
    --------
    >>> import argparse
    >>> from bayesmixed.validate.sbc import sbc
    >>> res = sbc("y ~ x + (1 | g)", 2, family="bernoulli", n_groups=5, n_per_group=4,
    ...           priors={"Intercept": "normal(0, 1)", "b": "normal(0, 1)", "sd": "half_normal(1)"},
    ...           chains=1, draws=40, tune=40, n_rank_draws=9, seed=1, include_effects=False)
    >>> page = render_markdown({"bernoulli": res}, 2, "python -m bayesmixed.validate.run_all",
    ...                        argparse.Namespace(n_groups=5, n_per_group=4, trials=10, seed=1))
    >>> page.startswith("# ")
    True
    """
    sections, summaries = [], []
    for family, res in results.items():
        lines, summary = family_section(family, res, n_requested, None)
        sections += lines
        summaries.append(summary)
    first = next(iter(results.values()))
    head = [
        "# Validation: simulation-based calibration",
        "",
        "*Generated by `bayesmixed.validate.run_all`; do not edit by hand.*",
        "",
        "Simulation-based calibration (Talts et al. 2018) checks the whole inference pipeline "
        "(formula, design, priors, model builder, parameterization, NUTS): parameters are drawn "
        "from the prior, data are simulated from them, the model is fitted, and the rank of "
        "each true value among L thinned posterior draws is recorded. When the posterior is "
        "computed correctly the ranks are uniform on 0..L for every parameter. Two tests per "
        "parameter: Pearson's chi-square on equal-width bins and the simultaneous ECDF test of "
        "Säilynoja, Bürkner & Vehtari (2022), its null distribution simulated exactly. A family "
        f"passes when no p-value falls below {ALPHA} divided by its number of tests "
        "(Bonferroni, family-wise level 0.01). The rank histograms below show counts per bin "
        "(a flat row is good; a smile or frown means posteriors too narrow or too wide, a slope "
        "a bias). Besides the summary parameters, the random effects of the first group level "
        "are ranked.",
        "",
        *command_block(command),
        f"{provenance()} Design: {args.n_groups} groups x {args.n_per_group} rows "
        f"(binomial: {args.trials} trials per row), x ~ Normal(0, 1) fixed across simulations; "
        f"{first.settings['chains']} chains x {first.settings['draws']} draws after "
        f"{first.settings['tune']} warm-up, thinned to L = {first.settings['n_rank_draws']}; "
        f"parameterization per data set by the automatic rule; seed {args.seed}.",
        "",
        "## Summary",
        "",
        _table(summaries),
        "",
        "## Per family",
        "",
    ]
    return "\n".join(head + sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Examples
    --------
    From a terminal (takes hours with the default number of simulations)::

        python -m bayesmixed.validate.run_all --out docs/validation.md --n-sims 200

    >>> main(["--help"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    parser = argparse.ArgumentParser(
        prog="python -m bayesmixed.validate.run_all", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", default="docs/validation.md", help="markdown page to write")
    parser.add_argument("--n-sims", type=int, default=200, help="simulations per family")
    parser.add_argument("--families", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--n-groups", type=int, default=10)
    parser.add_argument("--n-per-group", type=int, default=20)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--checkpoint", type=int, default=10, help="rewrite the page every N simulations"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="run the fits on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the fits on the Dask cluster of this scheduler (tcp://host:8786)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    client = args.scheduler or ("local" if args.workers else None)
    with open_client(client, args.workers) as c:  # one cluster for every family
        return _run(args, argv, c)


def _run(args, argv: list[str] | None, client) -> int:
    command = "python -m bayesmixed.validate.run_all " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, SBCResult] = {}

    def write() -> None:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(render_markdown(results, args.n_sims, command, args), encoding="utf-8")
        tmp.replace(out)

    for k, family in enumerate(args.families):
        formula, priors = CASES[family]
        t0 = time.perf_counter()

        def checkpoint(i: int, res: SBCResult, family: str = family) -> None:
            if res.n_done % args.checkpoint == 0 and res.n_done >= 2:
                results[family] = res
                write()
                print(f"[{family}] {res.n_done}/{args.n_sims} simulations", flush=True)

        res = sbc(
            formula,
            args.n_sims,
            family=family,
            priors=priors,
            n_groups=args.n_groups,
            n_per_group=args.n_per_group,
            trials=args.trials,
            draws=args.draws,
            tune=args.tune,
            seed=args.seed + k,
            callback=checkpoint,
            client=client,
        )
        results[family] = res
        write()
        print(
            f"[{family}] done in {time.perf_counter() - t0:.0f} s; passes: {res.passes(ALPHA)}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
