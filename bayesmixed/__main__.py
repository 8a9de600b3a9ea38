"""``python -m bayesmixed``: the command line (see :mod:`bayesmixed.cli`)."""

from bayesmixed.cli import main

raise SystemExit(main())
