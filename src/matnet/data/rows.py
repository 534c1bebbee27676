"""Which row of which stacked array each of the loader's tuples and (784, 1) columns is.

``mnist_loader.load_data_wrapper`` hands out 70,000 tuples whose arrays are views into a few
stacked, read-only arrays. It registers the tuples (as rows of a :class:`Pairs`) and the
views (as rows of their arrays) here, so that a consumer handed the loader's list — shuffled,
sliced or re-ordered, as the book's code does — finds the stacked arrays and the row of every
element in ~75 ns each (4 ms for 50,000), instead of copying 50,000 columns back into a
matrix (~0.1 s with ``np.array``, ~1 s with ``np.stack``).

A registered view is kept alive by the registry, so no other object can ever share its
``id``: an ``id`` found here is that very view. Registrations are kept for the few most
recent sources (each source's views are registered once); older ones are forgotten.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Pairs(NamedTuple):
    """What a registered list of pairs stands for: pair r is (row r of ``inputs``, row r of
    ``targets``) in a training list, (row r of ``inputs``, ``labels[r]``) in a labelled one."""

    inputs: np.ndarray  # (N, n_0)
    targets: np.ndarray | None  # (N, n_L) one-hot rows, or None
    labels: np.ndarray  # (N,) int64

_KEEP = 16  # sources remembered: two loaded splits' pairs and views, with room to spare
_ROW_BITS = 40  # a code is source number << _ROW_BITS | row

_lock = threading.Lock()
_sources: OrderedDict[int, tuple[np.ndarray | Pairs, list]] = OrderedDict()  # number -> (source, views)
_codes: dict[int, int] = {}  # id(view) -> code
_next_number = 0


def register(source: np.ndarray | Pairs, views: Sequence[object]) -> None:
    """Record that views[r] is row r of ``source``: a read-only array (rows first), or a
    :class:`Pairs` whose rows the objects (tuples) are."""
    global _next_number
    views = list(views)
    rows = (source.inputs if isinstance(source, Pairs) else source).shape[0]
    if len(views) != rows or len(views) >= 1 << _ROW_BITS:
        raise ValueError(f"{len(views)} views for a source of {rows} rows")
    with _lock:
        number = _next_number
        _next_number += 1
        _sources[number] = (source, views)
        base = number << _ROW_BITS
        _codes.update(zip(map(id, views), range(base, base + len(views))))
        while len(_sources) > _KEEP:
            _, (_, old_views) = _sources.popitem(last=False)
            for view in old_views:
                _codes.pop(id(view), None)


def find(objects: Sequence[object]) -> tuple[np.ndarray | Pairs, np.ndarray] | None:
    """(source, rows) if every object is a registered row of one source — objects[k] is
    row rows[k] of source — else None. ``rows`` is an (n,) int64 array."""
    n = len(objects)
    if n == 0:
        return None
    with _lock:
        try:
            codes = np.fromiter(map(_codes.__getitem__, map(id, objects)), np.int64, count=n)
        except KeyError:
            return None
        number = int(codes[0]) >> _ROW_BITS
        entry = _sources.get(number)
    if entry is None or not (codes >> _ROW_BITS == number).all():
        return None
    return entry[0], codes & ((1 << _ROW_BITS) - 1)


def forget() -> None:
    """Drop every registration (tests)."""
    with _lock:
        _sources.clear()
        _codes.clear()
