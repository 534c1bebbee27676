"""The book's ``mnist_loader`` for Python 3: same names, same formats, backed by matnet.datasets.

Nielsen's module unpickles ``../data/mnist.pkl.gz`` (Python 2 only) and returns its arrays and
``zip`` objects. This one reads the MNIST IDX files (or the book's ``mnist.pkl.gz``) from the
folder :func:`matnet.datasets.locate_mnist` finds, verifying checksums and downloading when
needed, and returns what the book's code expects:

- :func:`load_data` -> ``(training_data, validation_data, test_data)``, each a tuple
  ``(images (n, 784), labels (n,))``;
- :func:`load_data_wrapper` -> three **lists** (never zip objects, so they can be iterated
  twice, as ``Network.SGD`` does with ``test_data``): 50,000 ``(x, y)`` pairs with ``x`` a
  (784, 1) column and ``y`` a (10, 1) one-hot column, and 10,000 ``(x, label)`` pairs each
  for validation and test;
- :func:`vectorized_result` -> a fresh (10, 1) one-hot column.

Differences that matter: pixels are ``uint8 / 255`` in float64 by default (the book's pickle
holds float32 values), and the arrays are read-only. Every ``x`` is a view into one stacked
image array and every ``y`` a view into one stacked one-hot array, so building the 70,000
tuples copies no pixels; the lists are :class:`~matnet.core.pairs.PairList` s, lists that
know which row each pair is, so a network reads the stacked matrices instead of re-stacking.
"""

from __future__ import annotations

import numbers
import os
import threading
from collections import OrderedDict

import numpy as np
from numpy.typing import DTypeLike

from matnet.core.pairs import PairList, Stacked, stack
from matnet.data.datasets import N_CLASSES, Split, load_mnist

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]

Pair = tuple[np.ndarray, np.ndarray]


def load_data(
    data_dir: str | os.PathLike[str] | None = None, *, dtype: DTypeLike = np.float64
) -> tuple[Pair, Pair, Pair]:
    """MNIST as ``(training_data, validation_data, test_data)``, as in the book.

    Each part is a tuple ``(images, labels)``: images an (n, 784) array of pixels in [0, 1]
    (one image per row), labels an (n,) int64 array of digits; n is 50,000, 10,000, 10,000.
    """
    split = load_mnist(data_dir, dtype=dtype)
    training, validation, test = ((part.images, part.labels) for part in split)
    return training, validation, test


def load_data_wrapper(
    data_dir: str | os.PathLike[str] | None = None, *, dtype: DTypeLike = np.float64
) -> tuple[PairList, PairList, PairList]:
    """MNIST in the format the book's ``Network.SGD`` consumes, as three lists.

    ``training_data``: 50,000 tuples ``(x, y)``, x a (784, 1) input column, y the (10, 1)
    one-hot column of its digit. ``validation_data`` and ``test_data``: 10,000 tuples
    ``(x, label)`` with label the digit (an ``np.int64``). All x and y are read-only views.

    Each call returns new lists (shuffle them freely) of the same tuples, made once per
    loaded split: ``PairList`` s, which ``matnet.network.Network`` reads without copying.
    """
    split = load_mnist(data_dir, dtype=dtype)
    return tuple(PairList(stacked) for stacked in _stacked(split))


_made: OrderedDict[int, tuple[Split, tuple[Stacked, ...]]] = OrderedDict()  # id(split) -> its pairs
_made_lock = threading.Lock()


def _stacked(split: Split) -> tuple[Stacked, ...]:
    """The three parts' pairs for this split, made on first use."""
    with _made_lock:
        entry = _made.get(id(split))
        if entry is not None and entry[0] is split:
            return entry[1]
    training = split.training
    one_hot = np.zeros((len(training.labels), N_CLASSES), dtype=training.images.dtype)
    one_hot[np.arange(len(training.labels)), training.labels] = 1.0
    one_hot.flags.writeable = False
    parts = (stack(training.images, training.labels, one_hot),
             stack(split.validation.images, split.validation.labels),
             stack(split.test.images, split.test.labels))
    with _made_lock:
        _made[id(split)] = (split, parts)
        while len(_made) > 2:
            _made.popitem(last=False)
    return parts


def vectorized_result(j: int) -> np.ndarray:
    """A fresh (10, 1) float64 column with 1.0 in row ``j`` and zeros elsewhere.

    This turns a digit into the desired output of the network, as in the book. ``j`` must be
    an integer (Python or NumPy) in [0, 10): a bool or a float is a TypeError (NumPy would
    read ``True`` as a mask selecting every row), anything outside the digits a ValueError.
    """
    if isinstance(j, (bool, np.bool_)) or not isinstance(j, numbers.Integral):
        raise TypeError(f"j must be an int digit in [0, {N_CLASSES}), got {j!r} ({type(j).__name__})")
    if not 0 <= j < N_CLASSES:
        raise ValueError(f"j must be a digit in [0, {N_CLASSES}), got {j!r}")
    e = np.zeros((N_CLASSES, 1))
    e[j] = 1.0
    return e
