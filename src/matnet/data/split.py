"""The book's split as read-only arrays, and the in-process cache that shares one decoded copy.

A :class:`Split` holds three :class:`LabeledImages`: ``images`` (n, 784) float in [0, 1],
``labels`` (n,) int64, both C-contiguous and read-only (see :func:`clear_cache`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from matnet.frozen import freeze

__all__ = ["N_TRAINING", "LabeledImages", "Split", "clear_cache"]

N_TRAINING = 50_000  # the book trains on the first 50,000 training images, validates on the rest


class LabeledImages(NamedTuple):
    """One part of the split: ``images`` (n, 784) float in [0, 1], ``labels`` (n,) int64."""

    images: np.ndarray
    labels: np.ndarray


class Split(NamedTuple):
    """The book's partition: 50,000 training, 10,000 validation, 10,000 test images."""

    training: LabeledImages
    validation: LabeledImages
    test: LabeledImages


def float_dtype(dtype: DTypeLike) -> np.dtype:
    """float64 or float32 as an np.dtype; TypeError naming the offending value otherwise."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = np.dtype(object)
    if resolved.type not in (np.float64, np.float32):
        raise TypeError(f"dtype must be float64 or float32, got {dtype!r}")
    return resolved


def scaled(pixels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """uint8 (n, 784) -> dtype (n, 784) in [0, 1], divided by 255 in dtype, read-only."""
    images = np.empty(pixels.shape, dtype=dtype)
    np.divide(pixels, dtype.type(255), out=images, dtype=dtype)
    return freeze(images)


def labels_int64(labels: np.ndarray) -> np.ndarray:
    """``labels`` as a read-only int64 copy."""
    return freeze(labels.astype(np.int64))


def book_split(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
) -> Split:
    """Cut (60000, 784) training arrays into 50k training + 10k validation views."""
    return Split(
        LabeledImages(train_images[:N_TRAINING], train_labels[:N_TRAINING]),
        LabeledImages(train_images[N_TRAINING:], train_labels[N_TRAINING:]),
        LabeledImages(test_images, test_labels),
    )


# Decoded splits, keyed by what they were decoded from. ``_aliases`` maps a cheap key (the
# files' identity, size and mtime, the dtype, the checksums verified) to a content key;
# ``_splits`` maps content keys to the arrays. Verified files share the content key of their
# checksums, so copies of MNIST in other folders reuse one set of arrays; at most _MAX_SPLITS
# sets are held (each is ~440 MB in float64).
_MAX_SPLITS = 3
_MAX_ALIASES = 64
_cache_lock = threading.Lock()
_aliases: OrderedDict[Hashable, Hashable] = OrderedDict()
_splits: OrderedDict[Hashable, Split] = OrderedDict()


def clear_cache() -> None:
    """Forget every decoded split, so the next load reads (and verifies) the files again."""
    with _cache_lock:
        _aliases.clear()
        _splits.clear()


def cache_get(key: Hashable) -> Split | None:
    """The split cached under the cheap ``key``, or None."""
    with _cache_lock:
        content = _aliases.get(key)
        split = _splits.get(content) if content is not None else None
        if split is not None:
            _aliases.move_to_end(key)
            _splits.move_to_end(content)
        return split


def cache_get_content(content: Hashable) -> Split | None:
    """The split cached under the content key ``content``, or None."""
    with _cache_lock:
        return _splits.get(content)


def cache_put(key: Hashable, content: Hashable, split: Split) -> Split:
    """Remember ``split``; return the one already cached for ``content`` if there is one."""
    with _cache_lock:
        split = _splits.setdefault(content, split)
        _splits.move_to_end(content)
        _aliases[key] = content
        _aliases.move_to_end(key)
        while len(_splits) > _MAX_SPLITS:
            _splits.popitem(last=False)
        while len(_aliases) > _MAX_ALIASES:
            _aliases.popitem(last=False)
        return split


def file_key(files: Sequence[Path]) -> tuple[tuple[str, int, int, int, int], ...]:
    """Identity of the files as they are now: replacing or editing one changes the key."""
    key = []
    for file in files:
        stat = file.stat()
        key.append((str(file.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(key)
