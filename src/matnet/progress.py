"""Progress bars for the long commands (train, reproduce, sweep, bench, gradcheck), drawn by tqdm.

A bar appears only when its stream is a terminal: piped or redirected output (a log, CI, a
test) gets nothing extra. The bars are transient (``leave=False``): the lines a command prints
for good — the book's epoch lines, the table — are never mixed with them.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


def bar(total: int, description: str, unit: str = "it", stream: TextIO | None = None) -> tqdm:
    """A bar of ``total`` steps on ``stream`` (default stderr), disabled unless it is a terminal.
    ``update(n)`` advances it; ``close()`` removes it."""
    stream = sys.stderr if stream is None else stream
    return tqdm(total=total, desc=description, unit=unit, file=stream, leave=False, dynamic_ncols=True,
                disable=not _is_terminal(stream), mininterval=0.2)


def write(line: str, stream: TextIO | None = None) -> None:
    """Print ``line`` to ``stream`` (default stderr) above any bar there, which is redrawn below it."""
    tqdm.write(line, file=sys.stderr if stream is None else stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class EpochProgress:
    """``SGD(on_progress=...)``: one bar per epoch, in mini-batches, with their rate and the
    time left."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._bar: tqdm | None = None
        self._epoch = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = bar(total, f"epoch {self._epoch}", "mini-batch", self.stream)
        self._bar.update(done - self._bar.n)
        if done >= total:
            self._bar.close()
            self._bar = None
            self._epoch += 1
