"""``bayesmixed cache info|clear``: the persistent cache of compiled models."""

from __future__ import annotations

from bayesmixed.cli.common import EXIT_OK, emit_json

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register the ``cache`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> sub.choices["cache"].parse_args(["clear"]).action
    'clear'
    """
    p = sub.add_parser(
        "cache", help="show or clear the cache of compiled models",
        description="The compiled log densities of model structures fitted before (directory "
        "$BAYESMIXED_CACHE_DIR or the user's cache; BAYESMIXED_CACHE=0 turns it off; "
        "BAYESMIXED_CACHE_MAX_MB bounds its size).")
    p.add_argument("action", choices=("info", "clear"), nargs="?", default="info")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Print the cache's directory, entries and size, or delete its entries.

    Examples
    --------
    >>> import argparse
    >>> run(argparse.Namespace(action="info", json=False))  # doctest: +ELLIPSIS
    directory: ...
    0
    """
    from bayesmixed.sample import diskcache

    if args.action == "clear":
        n = diskcache.clear()
        out = {"status": "ok", "deleted": n, "directory": str(diskcache.cache_dir())}
        text = f"deleted {n} compiled model{'s' * (n != 1)} from {out['directory']}"
    else:
        out = {"status": "ok", **diskcache.info()}
        text = (f"directory: {out['directory']}\nentries: {out['entries']}\n"
                f"size: {out['bytes'] / 2**20:.1f} MiB of at most {out['max_bytes'] / 2**20:.0f} MiB"
                f"\nenabled: {'yes' if out['enabled'] else 'no (BAYESMIXED_CACHE=0)'}")
    if args.json:
        emit_json(out)
    else:
        print(text)
    return EXIT_OK
