"""``python -m matnet``: the same command line as ``matnet`` (matnet.cli)."""

import sys

from matnet.cli import main

sys.exit(main())
