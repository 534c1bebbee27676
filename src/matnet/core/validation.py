"""Checking what users hand in, and stacking the book's data formats into matrices once.

Every check runs before any weight changes, and every error names the argument, what was
expected and what was found. Stacked results are rows: inputs X (n, n_0), one-hot targets
Y (n, n_L), labels (n,).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np


def check_sizes(sizes: object) -> list[int]:
    """The layer sizes as a list of ≥ 2 positive ints, or a ValueError/TypeError saying why."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
        raise TypeError(f"sizes must be a sequence of layer sizes like [784, 30, 10], got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least 2 layers (input and output), got {sizes!r}")
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"sizes[{i}] must be an int, got {n!r} ({type(n).__name__})")
        if n < 1:
            raise ValueError(f"sizes[{i}] must be a positive number of neurons, got {n}")
    return [int(n) for n in sizes]


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int ≥ minimum (bools refused: ``True`` is not a batch size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value}")
    return int(value)


def check_eta(eta: object) -> float:
    """The learning rate as a finite positive float."""
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real):
        raise TypeError(f"eta must be a real number, got {eta!r} ({type(eta).__name__})")
    if not math.isfinite(eta) or eta <= 0:
        raise ValueError(f"eta must be a finite positive number, got {eta!r}")
    return float(eta)


def as_array(name: str, value: object) -> np.ndarray:
    """``np.asarray(value)``, with ragged nested sequences reported under ``name``."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # e.g. "inhomogeneous shape"
        raise ValueError(
            f"{name} must be a rectangular array of numbers, got {value!r:.60} ({exc})"
        ) from None


def _numeric(name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")


def _finite(name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} contains NaN or inf (first: {arr[bad]} at index {bad})")


def _converted(name: str, arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """C-contiguous ``arr`` in ``dtype``; refuses finite values that overflow it (float64 → float32)."""
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > out.dtype.itemsize and not np.isfinite(out).all():
        raise ValueError(f"{name} has values beyond ±{np.finfo(out.dtype).max:.3g}, the range of {out.dtype}")
    return out


def as_inputs(name: str, x: object, n_in: int, dtype: np.dtype) -> np.ndarray:
    """Stack inputs into C-contiguous rows (n, n_in) of ``dtype``; checks shape, dtype, finiteness.

    Accepts an (n, n_in) array or a sequence of (n_in, 1) / (n_in,) columns (the book's x).
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        items = list(x)
        if not items:
            raise ValueError(f"{name} is empty")
        arr = _stack_columns(name, items, n_in)
    _numeric(name, arr)
    if arr.ndim != 2 or arr.shape[1] != n_in:
        raise ValueError(f"{name} must have shape (n, {n_in}) (one example per row), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    _finite(name, arr)
    return _converted(name, arr, dtype)


def _stack_columns(name: str, items: Sequence, n_in: int) -> np.ndarray:
    arrays = [as_array(f"{name}[{i}]", item) for i, item in enumerate(items)]
    for i, arr in enumerate(arrays):
        if arr.shape not in ((n_in, 1), (n_in,)):
            raise ValueError(f"{name}[{i}] must have shape ({n_in}, 1), got {arr.shape}")
    return _stacked(name, [arr.reshape(n_in) for arr in arrays])


def _stacked(name: str, arrays: list[np.ndarray]) -> np.ndarray:
    """np.stack, naming the data when the items' dtypes cannot be combined (datetime + float)."""
    try:
        return np.stack(arrays)
    except TypeError as exc:
        raise TypeError(f"{name} mixes incompatible dtypes ({exc})") from None


def as_labels(name: str, y: object, n_out: int) -> np.ndarray:
    """Integer class labels (n,) in [0, n_out) from labels or one-hot rows/columns."""
    arr = as_array(name, y)
    _numeric(name, arr)
    if arr.ndim == 1:
        if arr.dtype.kind == "f":
            fractional = ~np.isfinite(arr) | (arr != np.round(arr))
            if fractional.any():
                i = int(np.argmax(fractional))
                raise ValueError(f"{name} must be whole-number class labels, got {arr[i]} at index {i}")
        outside = (arr < 0) | (arr >= n_out)  # checked before the cast, which could wrap or warn
        if outside.any():
            raise ValueError(f"{name} has label {arr[outside][0]} outside [0, {n_out})")
        labels = arr.astype(np.int64)
    elif arr.ndim in (2, 3) and arr.shape[1] == n_out and (arr.ndim == 2 or arr.shape[2] == 1):
        _finite(name, arr)
        labels = np.argmax(arr.reshape(arr.shape[0], n_out), axis=1)
    else:
        raise ValueError(
            f"{name} must be labels (n,) or one-hot targets (n, {n_out}), got shape {arr.shape}"
        )
    return labels


def as_targets(name: str, y: object, n_out: int, dtype: np.dtype) -> np.ndarray:
    """Desired outputs as rows (n, n_out): one-hot from labels, or the targets as given."""
    arr = as_array(name, y)
    _numeric(name, arr)
    if arr.ndim == 1:
        labels = as_labels(name, arr, n_out)
        targets = np.zeros((labels.size, n_out), dtype)
        targets[np.arange(labels.size), labels] = 1.0
        return targets
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr.reshape(arr.shape[0], arr.shape[1])
    if arr.ndim != 2 or arr.shape[1] != n_out:
        raise ValueError(f"{name} must be labels (n,) or targets (n, {n_out}), got shape {arr.shape}")
    _finite(name, arr)
    return _converted(name, arr, dtype)


def split_pairs(name: str, data: object) -> tuple[object, object, list | None]:
    """Inputs and outputs of a dataset in any accepted format, plus the list itself if it was one.

    Accepted: the book's list of (x, y) tuples, any iterable of them (e.g. a Python 3 zip),
    or a pair of arrays (X, Y) with X (n, n_0) and Y labels (n,) or targets (n, n_L).
    """
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray) and data[0].ndim == 2:
        return data[0], data[1], None
    if isinstance(data, np.ndarray):
        raise TypeError(f"{name} must be a list of (x, y) pairs or a tuple (X, Y), not a single array")
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(f"{name} must be a list of (x, y) pairs or a tuple (X, Y), got {data!r:.60}")
    pairs = data if isinstance(data, list) else list(data)
    if not pairs:
        raise ValueError(f"{name} is empty")
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name}[{i}] must be an (x, y) pair, got {type(pair).__name__}")
    xs = [pair[0] for pair in pairs]
    ys = [pair[1] for pair in pairs]
    return xs, _stack_outputs(name, ys), pairs if isinstance(data, list) else None


def _stack_outputs(name: str, ys: list) -> np.ndarray:
    arrays = [as_array(f"{name}[{i}] output", y) for i, y in enumerate(ys)]
    shape = arrays[0].shape
    for i, arr in enumerate(arrays):
        if arr.shape != shape:
            raise ValueError(f"{name}[{i}] has output shape {arr.shape}, expected {shape} like the first")
    return _stacked(f"{name} outputs", [arr.reshape(-1) for arr in arrays] if shape else arrays)


def training_arrays(data: object, sizes: Sequence[int], dtype: np.dtype, name: str = "training_data"):
    """(X (n, n_0), Y (n, n_L), the caller's list or None) for ``SGD``."""
    xs, ys, pairs = split_pairs(name, data)
    x = as_inputs(f"{name} inputs", xs, sizes[0], dtype)
    y = as_targets(f"{name} outputs", ys, sizes[-1], dtype)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{name} has {x.shape[0]} inputs but {y.shape[0]} outputs")
    return x, y, pairs


def labelled_arrays(data: object, sizes: Sequence[int], dtype: np.dtype, name: str = "test_data"):
    """(X (n, n_0), labels (n,)) for ``evaluate``; outputs may be labels or one-hot targets."""
    xs, ys, _ = split_pairs(name, data)
    x = as_inputs(f"{name} inputs", xs, sizes[0], dtype)
    labels = as_labels(f"{name} labels", ys, sizes[-1])
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{name} has {x.shape[0]} inputs but {labels.shape[0]} labels")
    return x, labels
