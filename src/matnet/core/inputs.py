"""What users hand to ``SGD`` and ``evaluate``, as rows of matrices, without copying what need not be.

The book passes lists of ``(x, y)`` tuples: x an (n_0, 1) column, y an (n_L, 1) one-hot column
(training) or a label (evaluation). matnet also takes a pair of arrays ``(X, Y)``, X (n, n_0)
with one example per row. Either way the result is an :class:`Examples`: example k's input is
row ``rows[k]`` of a matrix ``inputs`` (N, n_0) — the caller's own matrix, or the loader's,
which its lists know (:class:`~matnet.core.pairs.PairList`) — so no call ever re-stacks the
loader's 50,000 columns. Any other list is stacked once per call by ``np.array``.

Everything is checked before any weight changes: shapes, dtypes, labels in range; the
inputs' values (NaN, infinity, beyond float32's range) are checked by whoever reads them —
the CSR conversion of ``matnet.core.sparse`` in one pass, or :func:`converted`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from matnet.core.pairs import PairList


@dataclass(frozen=True)
class Examples:
    """n examples as rows of matrices the caller (or the loader) already holds.

    Example k's input is ``inputs[input_rows[k]]`` (``inputs[k]`` when input_rows is None);
    for training its desired output is ``targets[target_rows[k]]`` (likewise), in the
    network's dtype; for evaluation its label is ``labels[k]``. ``pairs`` is the caller's
    list when it was one (the book shuffles it in place).
    """

    inputs: np.ndarray  # (N, n_0), any real dtype, possibly the caller's: never written
    input_rows: np.ndarray | None  # (n,) int64
    n: int
    targets: np.ndarray | None = None  # (M, n_L), network dtype
    target_rows: np.ndarray | None = None  # (n,) int64
    labels: np.ndarray | None = None  # (n,) int64
    pairs: list | None = None

    def shuffle_pairs(self, order: np.ndarray) -> None:
        """Re-order the caller's list in place as ``order`` (the book's random.shuffle of it);
        a PairList remembers its new order, so the next call finds its rows at once."""
        pairs = self.pairs
        if pairs is None or self.n < 2:
            return
        if isinstance(pairs, PairList) and self.input_rows is not None:
            pairs.reorder(self.input_rows[order])
            return
        pairs[:] = operator.itemgetter(*order.tolist())(list(pairs))

    def label_array(self) -> np.ndarray:
        """The n examples' labels: given, the loader's (a PairList knows them), or read off the
        one-hot targets (their largest entry)."""
        if self.labels is not None:
            return self.labels
        if isinstance(self.pairs, PairList) and self.input_rows is not None:
            return self.pairs.stacked.labels[self.input_rows]
        return np.argmax(self.targets[self.target_index(np.arange(self.n))], axis=1)

    def input_index(self, order: np.ndarray) -> np.ndarray:
        """Rows of ``inputs`` of examples ``order`` (indices into the n examples)."""
        return order if self.input_rows is None else self.input_rows[order]

    def target_index(self, order: np.ndarray) -> np.ndarray:
        """Rows of ``targets`` of examples ``order``."""
        return order if self.target_rows is None else self.target_rows[order]


def training_examples(
    data: object, sizes: Sequence[int], dtype: np.dtype, name: str = "training_data"
) -> Examples:
    """``SGD``'s training data as Examples with targets."""
    found = _stacked_rows(data)
    if found is not None:
        stacked, rows = found
        _check_width(f"{name} inputs", stacked.inputs, sizes[0])
        if stacked.targets is None:  # a labelled list handed over for training
            labels = _checked_labels(f"{name} labels", stacked.labels[rows], sizes[-1])
            targets, target_rows = _one_hot(labels, sizes[-1], dtype), None
        else:
            targets, target_rows = stacked.targets, rows
        _check_width(f"{name} outputs", targets, sizes[-1])
        targets, target_rows = _gathered(f"{name} outputs", targets, target_rows, dtype)
        return Examples(stacked.inputs, rows, rows.shape[0], targets=targets, target_rows=target_rows,
                        pairs=data)
    xs, ys, pairs = _split_pairs(name, data)
    inputs = _inputs(f"{name} inputs", xs, sizes[0])
    targets = _targets(name, ys, sizes[-1], dtype)
    n = inputs.shape[0]
    if targets.shape[0] != n:
        raise ValueError(f"{name} has {n} inputs but {targets.shape[0]} outputs")
    return Examples(inputs, None, n, targets=converted(f"{name} outputs", targets, dtype), pairs=pairs)


def _gathered(name: str, matrix: np.ndarray, rows: np.ndarray | None, dtype: np.dtype):
    """(matrix in dtype, rows): the rows picked out first when they are few (a mini-batch of
    the loader's 50,000), so that only they are converted and checked."""
    if rows is not None and rows.shape[0] * 4 < matrix.shape[0]:
        matrix, rows = matrix[rows], None
    return converted(name, matrix, dtype), rows


def labelled_examples(data: object, sizes: Sequence[int], name: str = "test_data") -> Examples:
    """``evaluate``'s data as Examples with labels; outputs may be labels or one-hot targets."""
    found = _stacked_rows(data)
    if found is not None:
        stacked, rows = found
        _check_width(f"{name} inputs", stacked.inputs, sizes[0])
        labels = _checked_labels(f"{name} labels", stacked.labels[rows], sizes[-1])
        return Examples(stacked.inputs, rows, rows.shape[0], labels=labels, pairs=data)
    xs, ys, pairs = _split_pairs(name, data)
    inputs = _inputs(f"{name} inputs", xs, sizes[0])
    labels = _labels(f"{name} labels", ys, sizes[-1])
    n = inputs.shape[0]
    if labels.shape[0] != n:
        raise ValueError(f"{name} has {n} inputs but {labels.shape[0]} labels")
    return Examples(inputs, None, n, labels=labels, pairs=pairs)


def _stacked_rows(data: object):
    """(stacked arrays, rows) when ``data`` is a non-empty list made by the loader whose pairs
    are all rows of its arrays, in any order."""
    if not isinstance(data, PairList) or not data:
        return None
    rows = data.rows()
    return None if rows is None else (data.stacked, rows)


def _check_width(name: str, matrix: np.ndarray, width: int) -> None:
    if matrix.shape[1] != width:
        raise ValueError(f"{name} must have shape (n, {width}) (one example per row), got {matrix.shape}")


def _one_hot(labels: np.ndarray, n_out: int, dtype: np.dtype) -> np.ndarray:
    targets = np.zeros((labels.size, n_out), dtype)
    targets[np.arange(labels.size), labels] = 1.0
    return targets


def _split_pairs(name: str, data: object) -> tuple[object, object, list | None]:
    """(inputs, outputs, the caller's list or None) of a dataset in any accepted format:
    the book's list of (x, y) tuples, any iterable of them (e.g. a Python 3 zip), or a pair
    of arrays (X, Y) with X (n, n_0)."""
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray) and data[0].ndim == 2:
        return data[0], data[1], None
    if isinstance(data, np.ndarray):
        raise TypeError(f"{name} must be a list of (x, y) pairs or a tuple (X, Y), not a single array")
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(f"{name} must be a list of (x, y) pairs or a tuple (X, Y), got {data!r:.60}")
    pairs = data if isinstance(data, list) else list(data)
    if not pairs:
        raise ValueError(f"{name} is empty")
    kinds = set(map(type, pairs))
    if not kinds <= {tuple, list} or set(map(len, pairs)) != {2}:
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"{name}[{i}] must be an (x, y) pair, got {type(pair).__name__}")
    xs = list(map(operator.itemgetter(0), pairs))
    ys = list(map(operator.itemgetter(1), pairs))
    return xs, ys, pairs if isinstance(data, list) else None


def as_array(name: str, value: object) -> np.ndarray:
    """``np.asarray(value)``, with ragged nested sequences reported under ``name``."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # e.g. "inhomogeneous shape"
        raise ValueError(
            f"{name} must be a rectangular array of numbers, got {value!r:.60} ({exc})"
        ) from None


def exact_real(name: str, arr: np.ndarray) -> np.ndarray:
    """``arr`` (any shape) in a dtype every backend computes on, converted only where exact:
    non-native byte order (``>f8``) to native, float16 to float32, long double (float128) to
    float64 when every value survives the trip, else a one-line ValueError naming the dtype.
    The compiled path types its kernels on these dtypes only; native ones are returned as
    they are, at the cost of a dtype test."""
    dtype = arr.dtype
    if dtype.isnative and (dtype.kind in "biu" or dtype.char in "fd"):
        return arr
    if dtype.kind not in "biuf":
        return arr  # the callers refuse it, naming it
    if not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder("="))
    if arr.dtype.kind != "f" or arr.dtype.itemsize in (4, 8):
        return arr
    if arr.dtype.itemsize < 4:
        return arr.astype(np.float32)  # every float16 is a float32
    with np.errstate(over="ignore"):
        narrowed = arr.astype(np.float64)
    lost = (narrowed != arr) & ~(np.isnan(narrowed) & np.isnan(arr))
    if lost.any():
        where = tuple(int(i) for i in np.argwhere(lost)[0])
        raise ValueError(f"{name} has dtype {dtype}, and float64 cannot hold its values exactly (first: "
                         f"{arr[where]!s} at index {where}): round it yourself, e.g. x.astype(np.float64)")
    return narrowed


def _numeric(name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")


def _inputs(name: str, xs: object, n_in: int) -> np.ndarray:
    """The inputs as an (n, n_in) matrix: an array as given, a list of columns stacked."""
    matrix = xs if isinstance(xs, np.ndarray) else _stack_columns(name, xs, n_in)
    _numeric(name, matrix)
    if matrix.ndim != 2 or matrix.shape[1] != n_in:
        raise ValueError(f"{name} must have shape (n, {n_in}) (one example per row), got {matrix.shape}")
    if matrix.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return exact_real(name, matrix)


def _stack_columns(name: str, xs: list, n_in: int) -> np.ndarray:
    """The columns (n_in, 1) or (n_in,) as rows (n, n_in): one np.array call, the checks on the
    result; a Python loop only to name the culprit when something is wrong."""
    try:
        stacked = np.array(xs)
    except (ValueError, TypeError):
        stacked = None
    if stacked is not None and stacked.dtype != object and stacked.shape[1:] in ((n_in, 1), (n_in,)):
        return stacked.reshape(len(xs), n_in)
    for i, x in enumerate(xs):
        arr = as_array(f"{name}[{i}]", x)
        if arr.shape not in ((n_in, 1), (n_in,)):
            raise ValueError(f"{name}[{i}] must have shape ({n_in}, 1), got {arr.shape}")
        _numeric(f"{name}[{i}]", arr)
    raise TypeError(f"{name} mixes incompatible dtypes")


def _finite(name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} contains NaN or inf (first: {arr[bad]} at index {bad})")


def converted(name: str, arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``arr`` as a C-contiguous array of ``dtype`` (no copy if it is one), checked finite and
    within ``dtype``'s range (a float64 value beyond float32's would become infinite)."""
    _finite(name, arr)
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > out.dtype.itemsize and not np.isfinite(out).all():
        raise ValueError(f"{name} has values beyond ±{np.finfo(out.dtype).max:.3g}, the range of {out.dtype}")
    return out


def first_bad(x: np.ndarray, dtype: np.dtype) -> int:
    """Flat index r·k + c of the first value of x (n_0, k) that is not finite in ``dtype``
    (NaN, infinite, or beyond its range)."""
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~np.isfinite(x.astype(dtype))
    r, c = np.argwhere(bad)[0]
    return int(r) * x.shape[1] + int(c)


def _targets(data_name: str, ys: object, n_out: int, dtype: np.dtype) -> np.ndarray:
    """The desired outputs as (n, n_out) rows, not yet converted: labels become one-hot rows
    in ``dtype``."""
    name = f"{data_name} outputs"
    if not isinstance(ys, np.ndarray):
        ys = _stack_outputs(data_name, ys)
    arr = as_array(name, ys)
    _numeric(name, arr)
    if arr.ndim == 1:
        return _one_hot(_checked_labels(name, arr, n_out), n_out, dtype)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr.reshape(arr.shape[0], arr.shape[1])
    if arr.ndim != 2 or arr.shape[1] != n_out:
        raise ValueError(f"{name} must be labels (n,) or targets (n, {n_out}), got shape {arr.shape}")
    return arr


def _stack_outputs(name: str, ys: list) -> np.ndarray:
    """The outputs of the list of pairs ``name``, stacked: labels (n,) or columns (n, n_L[, 1])."""
    kinds = set(map(type, ys))
    if all(issubclass(k, (int, np.integer)) and not issubclass(k, (bool, np.bool_)) for k in kinds):
        return np.fromiter(ys, np.int64, count=len(ys))  # labels, e.g. the loader's test set
    try:
        stacked = np.array(ys)
    except (ValueError, TypeError):
        stacked = None
    if stacked is None or stacked.dtype == object:
        shape = np.shape(ys[0])
        for i, y in enumerate(ys):
            if np.shape(y) != shape:
                raise ValueError(
                    f"{name}[{i}] has output shape {np.shape(y)}, expected {shape} like the first"
                )
        raise TypeError(f"{name} outputs mix incompatible dtypes")
    return stacked


def _checked_labels(name: str, arr: np.ndarray, n_out: int) -> np.ndarray:
    """Whole-number labels in [0, n_out) as int64; the first offending one named otherwise."""
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must be int class labels, got booleans")
    if arr.dtype.kind == "f":
        fractional = ~np.isfinite(arr) | (arr != np.round(arr))
        if fractional.any():
            i = int(np.argmax(fractional))
            raise ValueError(f"{name} must be whole-number class labels, got {arr[i]} at index {i}")
    outside = (arr < 0) | (arr >= n_out)  # checked before the cast, which could wrap or warn
    if outside.any():
        raise ValueError(f"{name} has label {arr[outside][0]} outside [0, {n_out})")
    return arr.astype(np.int64)


def _labels(name: str, ys: object, n_out: int) -> np.ndarray:
    """Integer class labels (n,) from labels or one-hot rows/columns."""
    if not isinstance(ys, np.ndarray):
        ys = _stack_outputs(name.removesuffix(" labels"), ys)
    arr = as_array(name, ys)
    _numeric(name, arr)
    if arr.ndim == 1:
        return _checked_labels(name, arr, n_out)
    if arr.ndim in (2, 3) and arr.shape[1] == n_out and (arr.ndim == 2 or arr.shape[2] == 1):
        _finite(name, arr)
        return np.argmax(arr.reshape(arr.shape[0], n_out), axis=1)
    raise ValueError(f"{name} must be labels (n,) or one-hot targets (n, {n_out}), got shape {arr.shape}")
