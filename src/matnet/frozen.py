"""Arrays that can never change: the loader's, frozen so that what is derived from them may be kept.

A read-only NumPy array is not enough: the array that owns the memory can be made writable
again (``a.flags.writeable = True``), edited and frozen once more, and a cache keyed on it
would then hand out stale results. :func:`freeze` makes an owner read-only and hands out a
read-only *view* of it; the caller keeps only the view. NumPy refuses to make a view writable
while the array owning its memory is read-only, and every further view or slice refers to
that owner directly (``view.base``), so only reaching through ``base`` on purpose could change
the data. :func:`is_frozen` says whether an array is a read-only view of such an owner (the
CSR cache of ``matnet.core.sparse`` keeps the sparse form of these, and of nothing else).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

_lock = threading.Lock()
_frozen: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()  # id -> owner


def freeze(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array``, an array the caller made and will not keep, whose memory
    nothing else holds; the array owning that memory (``array`` itself, or the root of the
    views it is one of, as an unpickled array may be) is made read-only and recorded as
    frozen. No copy is made."""
    owner = array
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    owner.flags.writeable = False
    with _lock:
        _frozen[id(owner)] = owner
    view = array.view()
    view.flags.writeable = False
    return view


def is_frozen(a: np.ndarray) -> bool:
    """Whether ``a`` is read-only and its memory belongs to a frozen owner, through read-only
    views only."""
    node = a
    while True:
        if node.flags.writeable:
            return False
        if not isinstance(node.base, np.ndarray):  # the array at the root of the views
            with _lock:
                return _frozen.get(id(node)) is node
        node = node.base
