"""Input rows in compressed sparse row (CSR) form, built in one pass and kept for data that cannot change.

MNIST is ~81% zero pixels, and a zero input contributes exactly nothing to Z¹ = W¹x + b¹ or
to ∂C/∂W¹ = δ¹xᵀ, so the compiled kernels read each input as its non-zero (index, value)
pairs: a fifth of the work, the same result. :func:`sparse_rows` builds that form from a dense
(N, n_0) matrix in one pass, converting to the network's dtype and checking every value on the
way (NaN, infinity, or a float64 value beyond float32's range are refused with the row and
column), so no separate scan of the inputs is ever needed.

The loader's matrices cannot change between calls (``matnet.frozen``: read-only views
of memory nobody else holds), so their CSR form — and that of read-only slices of them — is
kept (a few, least recently used first out) and reused; any other matrix, read-only or not,
is converted afresh on every call, so edits the caller makes in place are always seen. The
cache holds only a weak reference to the matrix.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from matnet.core.kernels.jit import cached_njit, recompiles
from matnet.frozen import is_frozen

_KEEP = 4  # CSR forms kept: the training and test sets of a float64 and a float32 network


@dataclass(frozen=True)
class SparseRows:
    """CSR form of an (N, n_0) matrix: row i's non-zeros are ``values[indptr[i]:indptr[i+1]]``
    at columns ``indices[...]`` (ascending). ``indptr`` (N+1,) int64, ``indices`` (nnz,)
    int32, ``values`` (nnz,) in the network's dtype."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    n_columns: int

    @property
    def n_rows(self) -> int:
        return self.indptr.shape[0] - 1


@cached_njit
def _compress(x, values_dtype_probe, limit):
    """(indptr, indices, values, bad_row, bad_col) for the rows of x; bad_row ≥ 0 names the
    first value that is not finite or whose magnitude is beyond ``limit`` (the target
    dtype's largest finite value), in which case the arrays are incomplete."""
    n, width = x.shape
    indptr = np.zeros(n + 1, np.int64)
    # One pass: room for the non-zeros a sample of rows predicts, plus 1/8, grown if short.
    step = max(1, n // 256)
    sampled = 0
    for i in range(0, n, step):
        for j in range(width):
            if x[i, j] != 0:
                sampled += 1
    capacity = (sampled * 9 // 8) * step + width + 16
    indices = np.empty(capacity, np.int32)
    values = np.empty(capacity, values_dtype_probe.dtype)
    q = 0
    for i in range(n):
        if q + width > capacity:
            capacity = max(capacity * 3 // 2, q + width)
            grown_i = np.empty(capacity, np.int32)
            grown_v = np.empty(capacity, values_dtype_probe.dtype)
            grown_i[:q] = indices[:q]
            grown_v[:q] = values[:q]
            indices, values = grown_i, grown_v
        for j in range(width):
            v = x[i, j]
            if v != 0:
                if not abs(v) <= limit:  # NaN, ±inf, or beyond the target dtype's range
                    return indptr, indices[:q], values[:q], i, j
                indices[q] = j
                values[q] = v
                q += 1
        indptr[i + 1] = q
    return indptr, indices[:q], values[:q], -1, -1


_lock = threading.Lock()
_kept: OrderedDict[tuple[int, str], tuple[weakref.ref, SparseRows]] = OrderedDict()


@recompiles
def sparse_rows(x: np.ndarray, dtype: np.dtype, name: str = "inputs") -> SparseRows:
    """The CSR form of x (N, n_0) in ``dtype``; ValueError naming the first bad value.

    Kept and reused when x is frozen (see the module docstring), built afresh otherwise.
    """
    dtype = np.dtype(dtype)
    keep = is_frozen(x)
    key = (id(x), dtype.str)
    if keep:
        with _lock:
            entry = _kept.get(key)
            if entry is not None and entry[0]() is x:
                _kept.move_to_end(key)
                return entry[1]
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    readable = x.view(np.uint8) if x.dtype.kind == "b" else x
    limit = float(np.finfo(dtype).max)
    indptr, indices, values, bad_row, bad_col = _compress(readable, np.empty(0, dtype), limit)
    if bad_row >= 0:
        value = x[bad_row, bad_col]
        if np.isfinite(value):
            raise ValueError(
                f"{name} has values beyond ±{limit:.3g}, the range of {dtype} "
                f"(first: {value} at index ({bad_row}, {bad_col}))"
            )
        raise ValueError(f"{name} contains NaN or inf (first: {value} at index ({bad_row}, {bad_col}))")
    rows = SparseRows(indptr, indices, values, x.shape[1])
    if keep:
        with _lock:
            _kept[key] = (weakref.ref(x), rows)
            _kept.move_to_end(key)
            while len(_kept) > _KEEP:
                _kept.popitem(last=False)
    return rows


def forget() -> None:
    """Drop every kept CSR form (tests; or to free memory)."""
    with _lock:
        _kept.clear()
