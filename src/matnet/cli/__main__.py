"""``python -m matnet.cli``: the same command line as ``matnet`` and ``python -m matnet``."""

from matnet.cli import main

raise SystemExit(main())
