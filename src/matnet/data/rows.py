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

The lists found last are remembered as they were (a shallow copy), so that finding the same
list again — ``evaluate(test_data)`` every epoch, the next ``SGD`` call on the list the last
one shuffled — is one C-speed comparison (~1 ns per element) instead of a lookup per element.
Elements are compared identity first, so an unchanged list always matches; a list edited in
place since (an element replaced, re-ordered, appended) does not, and is looked up afresh.
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

_RECENT = 4  # lists remembered: a training and a test list, with room to spare

_lock = threading.Lock()
_recent: OrderedDict[int, tuple[list, np.ndarray | Pairs, np.ndarray]] = OrderedDict()  # id -> found
_sources: OrderedDict[int, tuple[np.ndarray | Pairs, np.ndarray]] = OrderedDict()  # number -> (source, views)
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
    objects = np.fromiter(views, dtype=object, count=len(views))  # for objects_at: rows → objects
    with _lock:
        number = _next_number
        _next_number += 1
        _sources[number] = (source, objects)
        base = number << _ROW_BITS
        _codes.update(zip(map(id, views), range(base, base + len(views))))
        while len(_sources) > _KEEP:
            _, (_, old_views) = _sources.popitem(last=False)
            for view in old_views.tolist():
                _codes.pop(id(view), None)


def find(objects: Sequence[object]) -> tuple[np.ndarray | Pairs, np.ndarray] | None:
    """(source, rows) if every object is a registered row of one source — objects[k] is
    row rows[k] of source — else None. ``rows`` is an (n,) int64 array."""
    n = len(objects)
    if n == 0:
        return None
    if type(objects) is list:
        found = _recalled(objects)
        if found is not None:
            return found
    with _lock:
        try:
            codes = np.fromiter(map(_codes.__getitem__, map(id, objects)), np.int64, count=n)
        except KeyError:
            return None
        number = int(codes[0]) >> _ROW_BITS
        entry = _sources.get(number)
    if entry is None or not (codes >> _ROW_BITS == number).all():
        return None
    rows = codes & ((1 << _ROW_BITS) - 1)
    if type(objects) is list:
        remember(objects, entry[0], rows)
    return entry[0], rows


def objects_at(source: np.ndarray | Pairs, rows: np.ndarray) -> list | None:
    """The registered objects that are rows ``rows`` of ``source``, as a new list (in ~40 ns
    each: one gather of an object array), or None if ``source`` is no longer registered."""
    with _lock:
        for registered, objects in _sources.values():
            if registered is source:
                return objects[rows].tolist()
    return None


def remember(objects: list, source: np.ndarray | Pairs, rows: np.ndarray) -> None:
    """Note that the list ``objects``, as it is now, is rows ``rows`` of ``source`` (what
    ``find`` returns for it): SGD calls this after shuffling the caller's list itself."""
    with _lock:
        _recent[id(objects)] = (list(objects), source, rows)
        _recent.move_to_end(id(objects))
        while len(_recent) > _RECENT:
            _recent.popitem(last=False)


def _recalled(objects: list) -> tuple[np.ndarray | Pairs, np.ndarray] | None:
    """What ``find`` last returned for this list, if it still holds the same elements."""
    with _lock:
        entry = _recent.get(id(objects))
    if entry is None:
        return None
    seen, source, rows = entry
    try:  # identity first: unchanged elements never reach their __eq__
        same = len(seen) == len(objects) and seen == objects
    except Exception:  # e.g. an element replaced by one holding a different array
        return None
    return (source, rows) if same else None


def forget() -> None:
    """Drop every registration (tests)."""
    with _lock:
        _sources.clear()
        _codes.clear()
        _recent.clear()
