"""``bayesmixed fit``: fit a model and write a complete run folder."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bayesmixed.cli.common import (
    EXIT_OK,
    EXIT_STRICT,
    UsageError,
    emit_json,
    parse_assignments,
    read_table,
    say,
    table_records,
)

__all__ = ["add_parser", "run"]

DEFAULTS = {"chains": 4, "draws": 1000, "tune": 1000, "target_accept": 0.8, "backend": "nutpie",
            "adaptation": "auto", "precision": "float64", "chain_method": "auto",
            "method": "nuts"}

EPILOG = """\
examples:
  bayesmixed fit --model contraception --out runs/contraception --force
  bayesmixed fit --data sleep.csv --formula "Reaction ~ Days + (Days | Subject)" --seed 1
  bayesmixed fit --data d.parquet --spec model.yaml --chains 4 --draws 2000 --strict --json
  bayesmixed fit --data big.parquet --spec model.yaml --method pathfinder   # approximate, fast

exit status: 0 success; 2 bad arguments or input; 3 diagnostics verdict "fail" with --strict;
130/143 interrupted by SIGINT/SIGTERM (no run folder is written).
"""


def add_parser(sub) -> None:
    """Register the ``fit`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> sub.choices["fit"].parse_args(["--model", "sleepstudy", "--seed", "1"]).seed
    1
    """
    p = sub.add_parser(
        "fit",
        help="fit a model and write a run folder",
        description="Fit a Bayesian multilevel model and write a run folder (posterior, spec, "
        "data, manifest, summary, diagnostics, HTML report), atomically.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_argument_group("model and data")
    src.add_argument("--data", help="data file: .csv, .tsv, .parquet or .feather")
    src.add_argument("--formula", help='lme4-style formula, e.g. "y ~ x + (1 + x | g)"')
    src.add_argument("--family", help="gaussian, bernoulli, binomial, poisson, negbinomial, "
                     "gamma, beta, lognormal, cumulative, zero_inflated_poisson, ...")
    src.add_argument("--link", help="link function (default: the family's canonical link)")
    src.add_argument("--zi", help='zero-inflation formula, e.g. "~ x" (zero_inflated_* families)')
    src.add_argument("--hu", help='hurdle formula, e.g. "~ x" (hurdle_* families)')
    src.add_argument("--spec", help="YAML model spec (may name a bundled data set)")
    src.add_argument("--model", help="a library model by name (see: bayesmixed models)")
    src.add_argument("--prior", action="append", metavar="NAME=PRIOR",
                     help='prior override, e.g. "b=normal(0, 1)" or "sd=half_normal(1)"; '
                     "repeatable")
    src.add_argument("--dropna", action="store_true",
                     help="drop rows with missing values in used columns instead of failing")
    smp = p.add_argument_group("sampler")
    smp.add_argument("--chains", type=int, help="number of chains (default 4 or the model's hint)")
    smp.add_argument("--draws", type=int, help="kept draws per chain (default 1000)")
    smp.add_argument("--tune", type=int, help="warm-up draws per chain (default 1000)")
    smp.add_argument("--target-accept", type=float, help="NUTS target acceptance (default 0.8)")
    smp.add_argument("--seed", type=int, help="random seed (default: drawn and recorded)")
    smp.add_argument("--backend", help="nutpie (default), pymc, numpyro or blackjax")
    smp.add_argument("--adaptation", choices=["auto", "diag", "draw_diag"],
                     help="nutpie's mass-matrix adaptation (default auto: draw_diag when a "
                          "factor is non-centered, else diag; draw_diag: from draw variances, "
                          "for slowly mixing sds)")
    smp.add_argument("--precision", choices=["float64", "float32"],
                     help="floating-point precision (default float64; float32: numpyro or "
                          "blackjax only, for accelerators)")
    smp.add_argument("--chain-method", choices=["auto", "vectorized", "parallel", "sequential"],
                     help="how numpyro/blackjax run chains (default auto: one per device when "
                          "there are enough devices, else vectorized)")
    smp.add_argument("--method", choices=["nuts", "pathfinder"],
                     help="nuts (default) or pathfinder: fast approximate draws for exploring "
                          "big data (--chains paths, --draws resampled draws; labelled "
                          "APPROXIMATE, no R-hat/ESS: refit with NUTS before reporting)")
    smp.add_argument("--auto-retry", action="store_true",
                     help="refit with safer settings when the diagnostics verdict is fail "
                          "(higher target_accept, the other parameterization for the factors "
                          "the triage names); every attempt is recorded in meta.json")
    out = p.add_argument_group("output")
    out.add_argument("--out", help="run folder (default runs/<model-or-data>-<timestamp>)")
    out.add_argument("--force", action="store_true", help="replace an existing run folder")
    out.add_argument("--no-report", action="store_true",
                     help="skip the HTML report (render it later: bayesmixed report RUN_DIR)")
    out.add_argument("--quiet", action="store_true", help="no progress bar, no printed summary")
    out.add_argument("--json", action="store_true",
                     help="print a machine-readable result on stdout")
    out.add_argument("--strict", action="store_true",
                     help="exit with status 3 when the diagnostics verdict is 'fail'")
    p.set_defaults(handler=run)


def _resolve_model(args) -> tuple[Any, Any, str, dict[str, Any], dict[str, Any]]:
    """(spec, data, label, data source, sampler hints) from the arguments."""
    from bayesmixed.api import make_spec
    from bayesmixed.cli.common import with_dpars

    chosen = [o for o in ("formula", "spec", "model") if getattr(args, o)]
    if len(chosen) > 1:
        given = ", ".join("--" + c for c in chosen)
        raise UsageError(f"give only one of --formula, --spec and --model (got {given})")
    if not chosen:
        raise UsageError("give a model: --formula (with --data), --spec FILE or --model NAME")
    hints: dict[str, Any] = {}
    dataset = None
    if args.model:
        from bayesmixed import library

        entry = library.get(args.model)
        spec, label, hints, dataset = entry.spec, entry.name, dict(entry.sampler), entry.data
    elif args.spec:
        from bayesmixed.formula.yaml_spec import load_spec

        spec, extra = load_spec(args.spec)
        label = str(extra.get("name") or Path(args.spec).stem)
        hints = dict(extra.get("sampler") or {})
        dataset = extra.get("data")
    else:
        spec, label = args.formula, None
    if args.data:
        data = read_table(args.data)
        from bayesmixed.runfolder import file_sha256

        source = {"path": str(Path(args.data).absolute()), "sha256": file_sha256(args.data)}
        label = label or Path(args.data).stem
    elif dataset:
        from bayesmixed.datasets import load

        data = load(str(dataset))
        source = {"dataset": str(dataset), "provenance": data.attrs.get("provenance")}
    else:
        raise UsageError(
            "--data is required with --formula (and with a spec that names no data set)"
        )
    priors = parse_assignments(args.prior, "--prior") or None
    family = args.family if (args.family or not args.formula) else "gaussian"
    spec = make_spec(spec, family, args.link, priors)
    spec = with_dpars(spec, args)
    return spec, data, str(label), source, hints


def _settings(args, hints: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, default in DEFAULTS.items():
        given = getattr(args, key)
        out[key] = given if given is not None else hints.get(key, default)
    return out


def _default_out(label: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{label}-{stamp}"


def run(args) -> int:
    """Run ``bayesmixed fit``; returns the exit status.

    Bad input raises a :class:`~bayesmixed.errors.BayesmixedError` (``main`` turns it into
    exit status 2) before anything is compiled.

    Examples
    --------
    >>> from bayesmixed.cli import build_parser
    >>> run(build_parser().parse_args(["fit", "--model", "nosuch"]))
    Traceback (most recent call last):
    ...
    bayesmixed.errors.SpecError: no library model named 'nosuch'; available: ...
    """
    import bayesmixed as bm
    from bayesmixed.runfolder import InterruptGuard, check_target, write_run_folder

    t_start = time.perf_counter()
    if args.out:
        check_target(Path(args.out).absolute(), args.force)  # fail before any work
    t0 = time.perf_counter()
    spec, data, label, source, hints = _resolve_model(args)
    t_read = time.perf_counter() - t0
    out = Path(args.out) if args.out else _default_out(label)
    check_target(out.absolute(), args.force)
    settings = _settings(args, hints)
    seed_text = args.seed if args.seed is not None else "random"
    if settings["method"] == "nuts":
        plan = (f"{settings['chains']} chains x {settings['draws']} draws (tune "
                f"{settings['tune']}, backend {settings['backend']}, seed {seed_text})")
    else:
        plan = (f"APPROXIMATE {settings['method']}: {settings['chains']} paths, "
                f"{settings['draws']} resampled draws (seed {seed_text})")
    say(f"bayesmixed: {spec.formula} [{spec.family}] on {len(data)} rows; {plan}", args.quiet)
    guard = InterruptGuard()
    stage = "compiling and sampling"
    try:
        with guard:
            fit = bm.fit(spec, data, seed=args.seed, progress=not args.quiet, dropna=args.dropna,
                         auto_retry=args.auto_retry, **settings)
            if guard.interrupted:  # the sampler swallowed the interrupt and kept partial draws
                raise KeyboardInterrupt
            stage = "writing the run folder"
            what = "" if args.no_report else " and its HTML report"
            say(f"bayesmixed: sampling done; writing the run folder{what} ...", args.quiet)
            manifest = write_run_folder(
                fit, out, force=args.force,
                command=["bayesmixed", *getattr(args, "argv", sys.argv[1:])], data_source=source,
                timings={"read_data": t_read}, started=t_start, report=not args.no_report,
            )
            stage = "done"
    except KeyboardInterrupt:
        name = guard.signal_name or "SIGINT"
        if stage == "done":
            say(f"bayesmixed: interrupted ({name}) after the run folder was complete: {out}")
        else:
            say(f"bayesmixed: interrupted ({name}) while {stage}; no run folder was written "
                f"(nothing at {str(out)!r})")
        return guard.exit_code
    diag = fit.diagnostics()
    code = EXIT_STRICT if (args.strict and diag.verdict == "fail") else EXIT_OK
    if manifest["report"].get("error"):
        say(f"bayesmixed: warning: the HTML report failed ({manifest['report']['error']}); the run "
            f"folder is complete otherwise; retry with: bayesmixed report {out}")
    if args.json:
        if not args.quiet:
            print(str(fit), file=sys.stderr)
        emit_json({
            "status": "ok",
            "exit_code": code,
            "run_dir": str(out.absolute()),
            "formula": fit.formula,
            "family": fit.family,
            "link": fit.link,
            "seed": fit.config.get("seed"),
            "method": fit.meta.get("method", "nuts"),
            "verdict": diag.verdict,
            "diagnostics": diag.to_dict(),
            "summary": table_records(fit.summary().drop(columns=["kind"], errors="ignore")),
            "timings": manifest["timings"],
            "report": manifest["report"],
        })
    elif not args.quiet:
        print(fit)
        print(f"\nRun folder: {out}")
        if manifest["report"].get("file"):
            print(f"Report:     {out / manifest['report']['file']}")
    if code == EXIT_STRICT:
        say(f"bayesmixed: diagnostics verdict FAIL (--strict): {'; '.join(diag.problems)}")
    return code
