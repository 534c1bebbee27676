"""A busy neighbour: another process spinning on a core while something is measured.

The machines matnet runs on are shared; on two cores, one busy with someone else's work, a
multi-threaded BLAS waits for a thread that cannot run and small products get tens of times
slower. ``busy_neighbour()`` reproduces that on purpose, so the report can show what a user
on a busy machine gets.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator


def _spin() -> None:  # pragma: no cover - runs in the child process until terminated
    while True:
        pass


@contextlib.contextmanager
def busy_neighbour(processes: int = 1) -> Iterator[None]:
    """Keep ``processes`` other processes spinning on the CPU for the body's duration."""
    context = multiprocessing.get_context("spawn")  # no copy of this process's memory
    spinners = [context.Process(target=_spin, daemon=True) for _ in range(processes)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
        for spinner in spinners:
            spinner.join()
