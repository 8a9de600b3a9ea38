"""``bayesmixed models``: list the library of ready models, or show one."""

from __future__ import annotations

import textwrap

from bayesmixed.cli.common import EXIT_OK, emit_json

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    """Register the ``models`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> sub.choices["models"].parse_args(["cbpp"]).name
    'cbpp'
    """
    p = sub.add_parser("models", help="list the library of ready models",
                       description="List the library's classic multilevel models, or show one "
                       "(description, formula, data, sampler hints, reference values).")
    p.add_argument("name", nargs="?", help="show this model in full")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(handler=run)


def _entry_dict(m) -> dict:
    return {
        "name": m.name,
        "title": m.title,
        "description": m.description,
        "data": m.data,
        "formula": m.formula,
        "family": m.family,
        "link": m.spec.link,
        "sampler": m.sampler,
        "reference": m.reference,
        "references": list(m.references),
        "path": str(m.path) if m.path else None,
    }


def run(args) -> int:
    """Run ``bayesmixed models``."""
    from bayesmixed import library

    if args.name:
        m = library.get(args.name)
        if args.json:
            emit_json(_entry_dict(m))
            return EXIT_OK
        link = f" ({m.spec.link})" if m.spec.link else ""
        lines = [f"{m.name}: {m.title}", "", textwrap.indent(m.description, "  "), "",
                 f"  formula : {m.formula}",
                 *[f"  {k:<8}: ~ {rhs}" for k, rhs in m.spec.dpars],
                 f"  family  : {m.family}{link}",
                 f"  data    : {m.data}", f"  sampler : {m.sampler}"]
        est = m.reference_estimates()
        if est:
            lines += ["", f"  reference ({(m.reference or {}).get('method', '')}): "
                      f"{' '.join(str((m.reference or {}).get('source', '')).split())}"]
            width = max(len(k) for k in est)
            lines += [f"    {k:<{width}}  {v:.4g}" for k, v in est.items()]
        if m.references:
            lines += ["", "  literature:"] + [f"    - {r}" for r in m.references]
        lines += ["", f"  fit it: bayesmixed fit --model {m.name} --out runs/{m.name}"]
        print("\n".join(lines))
        return EXIT_OK
    entries = library.models()
    if args.json:
        emit_json({"models": [_entry_dict(m) for m in entries]})
        return EXIT_OK
    width = max((len(m.name) for m in entries), default=4)
    for m in entries:
        print(f"{m.name:<{width}}  {m.family:<11} {m.title}")
        print(f"{'':<{width}}  {'':<11} {m.formula}")
    print(f"\n{len(entries)} models; details: bayesmixed models NAME")
    return EXIT_OK
