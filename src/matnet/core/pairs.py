"""The book's list of ``(x, y)`` pairs, made from stacked arrays and knowing which row each pair is.

The book's loader hands out 50,000 pairs whose x are (784, 1) columns. A network needs the
images as rows of one matrix; re-stacking 50,000 columns costs ~0.1 s (``np.array``) to ~1 s
(``np.stack``) per call. A :class:`PairList` is a list in every way, but it was made from the
stacked arrays (:class:`Stacked`): pair r is (row r of ``inputs`` as a column, row r of
``targets`` as a column) for training, (row r as a column, ``labels[r]``) for evaluation.
So it can say which rows its pairs are, whatever order they are in now (:meth:`rows`):

- as made, after :meth:`reorder` (``SGD``'s shuffle), or sliced (``training_data[:1000]``):
  known at once, after checking in one C-speed pass that the pairs are still the ones it
  remembers (identity first, ~1 ns each);
- after any other change (``random.shuffle``, an item set or removed): looked up pair by pair
  among the pairs of ``Stacked`` (~75 ns each), or None when some pair is not one of them —
  the caller then reads the pairs as from any list.

Everything lives on the list and its ``Stacked``: no process-wide registry. The pairs' arrays
are read-only views of frozen arrays (``matnet.frozen``), so a pair cannot change in place.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Stacked(NamedTuple):
    """The arrays a PairList's pairs are rows of, and the pairs themselves.

    ``inputs`` (N, n_0) and ``targets`` (N, n_L, one-hot; None for a labelled list) are frozen,
    ``labels`` (N,) int64, ``pairs`` (N,) an object array of the N tuples, made once.
    """

    inputs: np.ndarray
    targets: np.ndarray | None
    labels: np.ndarray
    pairs: np.ndarray
    index: dict[int, int]  # id(pair) -> its row, filled on first need


def stack(inputs: np.ndarray, labels: np.ndarray, targets: np.ndarray | None = None) -> Stacked:
    """The pairs of rows of read-only ``inputs`` (N, n_0): (column, target column) when
    ``targets`` (N, n_L) is given, else (column, label) with each label an np.int64."""
    n, width = inputs.shape
    columns = inputs.reshape(n, width, 1)
    outputs = targets.reshape(n, targets.shape[1], 1) if targets is not None else labels
    pairs = np.fromiter(zip(columns, outputs, strict=True), dtype=object, count=n)
    return Stacked(inputs, targets, labels, pairs, {})


class PairList(list):
    """A list of the pairs of a :class:`Stacked`, that knows which row each of its pairs is."""

    __slots__ = ("_basis", "_rows", "_seen", "stacked")

    def __init__(self, stacked: Stacked, rows: np.ndarray | None = None):
        rows = np.arange(stacked.pairs.shape[0]) if rows is None else rows
        pairs = stacked.pairs[rows].tolist()
        super().__init__(pairs)
        self.stacked = stacked
        self._remember(pairs, rows)
        self._basis = None

    def _remember(self, pairs: list, rows: np.ndarray) -> None:
        """Pair k of ``pairs`` (a list nobody else holds) is row rows[k] of ``stacked``."""
        self._seen = pairs
        self._rows = rows

    def rows(self) -> np.ndarray | None:
        """The row of ``stacked`` of each pair, (len,) int64; None when a pair is not one of
        ``stacked``'s."""
        if self._basis is not None:  # a slice, taken lazily (see __getitem__)
            seen, rows, where = self._basis
            self._basis = None
            self._remember(seen[where], rows[where])
        seen = self._seen
        try:  # identity first: pairs still in place never reach their __eq__
            unchanged = len(seen) == len(self) and list.__eq__(self, seen)
        except Exception:  # an element replaced by a tuple of other arrays
            unchanged = False
        if unchanged:
            return self._rows
        index = self.stacked.index
        if not index:
            index.update(zip(map(id, self.stacked.pairs.tolist()), range(len(self.stacked.pairs))))
        try:  # an id found here is that very pair: stacked.pairs keeps every one of them alive
            rows = np.fromiter(map(index.__getitem__, map(id, self)), np.int64, count=len(self))
        except KeyError:
            return None
        self._remember(list(self), rows)
        return rows

    def reorder(self, rows: np.ndarray) -> None:
        """Make the list hold the pairs of rows ``rows`` of ``stacked``, in that order (SGD's
        shuffle), in ~40 ns a pair."""
        pairs = self.stacked.pairs[rows].tolist()
        self[:] = pairs
        self._basis = None
        self._remember(pairs, rows)

    def __getitem__(self, i):
        """A slice is a PairList too (``training_data[:1000]``); its rows are worked out when
        asked for, from what this list remembered when it was sliced."""
        part = list.__getitem__(self, i)
        if not isinstance(i, slice):
            return part
        if self._basis is not None:  # a slice of a slice: settle this one's rows first
            self.rows()
        child = PairList.__new__(PairList)
        list.__init__(child, part)
        child.stacked = self.stacked
        child._remember([], np.empty(0, np.int64))
        child._basis = (self._seen, self._rows, i)
        return child

    def __reduce__(self):
        """Pickled and copied as a plain list: a copy's arrays are no longer the stacked ones."""
        return list, (list(self),)
