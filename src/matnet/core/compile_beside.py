"""A first run's evaluation kernels compiled in a child process, beside the epoch kernel.

numba compiles on one thread, and a first run has several kernels to compile: the epoch (most
of the time), then the evaluation's (a third of it) and the CSR conversion's. The child
started by :func:`start` compiles all but the epoch for the same network, into the same disk
cache (the same source, the same ``NUMBA_CACHE_DIR``), on another core, while the parent
compiles the epoch; the parent then waits for it and loads what it wrote. A child that fails,
or cannot start, costs only the wait: the parent compiles whatever the cache does not hold.

The child runs ``matnet.core.compile_child.main([DTYPE, SIZES, BATCH_SIZE, NAME...])``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from matnet.core.spec import Spec

WAIT_SECONDS = 600  # a child still compiling after this long is stopped, and its work redone
_CHILD = ("import sys; sys.path.append(sys.argv[1]); "
          "from matnet.core.compile_child import main; main(sys.argv[2:])")


def start(spec: Spec, batch_size: int, names: list[str]) -> subprocess.Popen | None:
    """A child process compiling the kernels ``names`` for ``spec`` and ``batch_size``, or None
    where one would not help (a single core) or cannot start."""
    if not names or (os.cpu_count() or 1) < 2 or not sys.executable:
        return None
    # The child imports matnet as this process would; failing that, from where this one came
    # (a path a notebook put on sys.path), appended so that it shadows nothing.
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding matnet/
    command = [sys.executable, "-c", _CHILD, package_root, spec.dtype.name, ",".join(map(str, spec.sizes)),
               str(batch_size), *names]
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return None


def finish(child: subprocess.Popen | None) -> None:
    """Wait for ``child`` (stopping it after WAIT_SECONDS)."""
    if child is None:
        return
    try:
        child.wait(WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        stop(child)


def stop(child: subprocess.Popen | None) -> None:
    """Stop ``child`` now (its parent was interrupted, or failed)."""
    if child is not None and child.poll() is None:
        child.kill()
        child.wait()
