"""Input rows in compressed sparse row (CSR) form, built on every core and kept while the data is unchanged.

MNIST is ~81% zero pixels, and a zero input contributes exactly nothing to Z¹ = W¹x + b¹ or
to ∂C/∂W¹ = δ¹xᵀ, so the compiled kernels read each input as its non-zero (index, value)
pairs: a fifth of the work, the same result. :func:`sparse_rows` builds that form from a dense
(N, n_0) matrix in two passes (count each row's non-zeros, then write them where the counts
put them), each split across the cores, converting to the network's dtype
and checking every value on the way (NaN, infinity, or a float64 value beyond float32's range
are refused with the row and column), so no separate scan of the inputs is ever needed: the
conversion of a user's 50,000 × 784 float64 matrix costs about two reads of it.

The loader's matrices cannot change between calls (``matnet.frozen``: read-only views
of memory nobody else holds), so their CSR form — and that of read-only slices of them — is
kept and reused, found by identity (the cache holds only a weak reference). Any other matrix
in one C-ordered block of memory (a strided view is converted on every call) is found by its
content: a 64-bit fingerprint of every value and its position, one read of
the matrix split across the cores (a fifth of a conversion's cost), so that a user who trains
on the same arrays call after call converts them once, while an edit made in place is always
seen. Each value is mixed with its position by a bijection before the fingerprint sums them,
so changing any one value always changes the fingerprint; changes to several values leave it
unchanged with a chance of about 2⁻⁶⁴. A few forms are kept, least recently used first out.
"""

from __future__ import annotations

import os
import threading
import types
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
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


@cached_njit(nogil=True)
def _count(x, first, last, counts, limit):
    """counts[i] = the non-zeros of row i, for rows [first, last); the (row, column) of the
    first value that is not finite or whose magnitude is beyond ``limit`` (the target dtype's
    largest finite value), or (-1, -1)."""
    width = x.shape[1]
    for i in range(first, last):
        nonzero = 0
        outside = 0
        for j in range(width):  # no branch, so that the compiler vectorizes the row
            v = x[i, j]
            nonzero += v != 0
            outside += not np.float64(abs(v)) <= limit  # NaN, ±inf, or beyond the target dtype's range
        counts[i] = nonzero
        if outside:
            for j in range(width):
                if not np.float64(abs(x[i, j])) <= limit:
                    return i, j
    return -1, -1


_GROUP = 8  # columns looked at together by _fill


@cached_njit(nogil=True)
def _fill(x, first, last, indptr, indices, values):
    """Row i's non-zeros, (column, value) in column order, into ``indices``/``values`` from
    ``indptr[i]``, for the rows [first, last) whose positions ``indptr`` holds.

    Columns go in groups of eight: a group of zeros (most of an MNIST row: its borders) is
    skipped after one vectorized test; any other group is written without a branch per value
    (every value is written and the position moves past non-zeros only) when its eight slots
    lie inside the row's own, so no write ever lands on another row's slots.
    """
    width = x.shape[1]
    grouped = width - width % _GROUP
    for i in range(first, last):
        q = indptr[i]
        row_end = indptr[i + 1]
        for start in range(0, grouped, _GROUP):
            occupied = False
            for j in range(start, start + _GROUP):
                occupied |= x[i, j] != 0
            if not occupied:
                continue
            if q + _GROUP <= row_end:
                for j in range(start, start + _GROUP):
                    v = x[i, j]
                    indices[q] = j
                    values[q] = v
                    q += v != 0
            else:
                for j in range(start, start + _GROUP):
                    v = x[i, j]
                    if v != 0:
                        indices[q] = j
                        values[q] = v
                        q += 1
        for j in range(grouped, width):
            v = x[i, j]
            if v != 0:
                indices[q] = j
                values[q] = v
                q += 1


_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # odd constants of the splitmix64 generator
_MIX = np.uint64(0xBF58476D1CE4E5B9)


@cached_njit(nogil=True)
def _fingerprint(words, first, last):
    """Σ mix(words[p], p) mod 2⁶⁴ over the positions [first, last) of ``words`` (the matrix's
    memory as unsigned integers, each value inside one word). For a fixed position, mix is a
    bijection of the word (xor with a constant, xor-shifts, multiplication by an odd constant),
    so one changed value always changes the sum."""
    total = np.uint64(0)
    for p in range(first, last):
        v = np.uint64(words[p]) ^ (np.uint64(p) * _SPREAD)
        v ^= v >> np.uint64(31)
        v *= _MIX
        v ^= v >> np.uint64(29)
        total += v
    return total


# Interpreted (NUMBA_DISABLE_JIT=1), the fingerprint would cost minutes and NumPy's integer
# overflow warnings: matrices are then converted on every call.
_FINGERPRINTS = not isinstance(_fingerprint, types.FunctionType)


def _content_key(x: np.ndarray) -> tuple | None:
    """(shape, dtype, fingerprint) of x; None for a matrix not in one C-ordered block (a
    strided view: it is converted on every call) or of a dtype wider than 8 bytes."""
    if not _FINGERPRINTS or not x.flags.c_contiguous or x.dtype.itemsize not in (1, 2, 4, 8):
        return None
    flat = x.reshape(-1)
    width = next(w for w in (8, 4, 2, 1) if w >= x.dtype.itemsize and flat.nbytes % w == 0)
    words = _read_only(flat.view(np.dtype(f"u{width}")))  # whole values per word: 8 bytes hold one or more
    total = 0
    for part in _run(_fingerprint, _ranges(words.size, words.size), words):
        total = (total + int(part)) % (1 << 64)
    return (x.shape, x.dtype.str, total)


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``: numba compiles a kernel apart for read-only and writable
    arrays, and the loader's are read-only, so the kernels only ever see read-only ones (one
    compile, which a first run does in ``prepare``)."""
    view = a.view()
    view.flags.writeable = False
    return view


_PARALLEL_VALUES = 1 << 20  # matrices of fewer values are converted on the calling thread
_pool: ThreadPoolExecutor | None = None


def _ranges(n: int, size: int) -> list[tuple[int, int]]:
    """[first, last) row ranges: one for a small matrix, else pieces for every worker thread,
    several each, so that a core slowed by a neighbour does not hold the others back."""
    workers = os.cpu_count() or 1
    if size < _PARALLEL_VALUES or workers == 1 or n < 2:
        return [(0, n)]
    cuts = np.linspace(0, n, min(n, 4 * workers) + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def _run(kernel, ranges: list[tuple[int, int]], *args) -> list:
    """``kernel(*args[:1], first, last, *args[1:])`` for each range, on worker threads when
    there are several (the kernels release the GIL)."""
    global _pool
    x, rest = args[0], args[1:]
    if len(ranges) == 1:
        return [kernel(x, *ranges[0], *rest)]
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="matnet-csr")
    return list(_pool.map(lambda r: kernel(x, r[0], r[1], *rest), ranges))


def _compress(
    x: np.ndarray, dtype: np.dtype, limit: float, ranges: list[tuple[int, int]]
) -> tuple[SparseRows | None, tuple[int, int]]:
    """(CSR form of x, (-1, -1)), or (None, (row, column) of the first bad value): two passes
    over x, each on every core for a large matrix, counting the rows' non-zeros (and
    checking every value) then writing them where the counts put them."""
    n, width = x.shape
    counts = np.empty(n, np.int64)
    bad = [found for found in _run(_count, ranges, x, counts, limit) if found[0] >= 0]
    if bad:
        return None, min(bad)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    indices = np.empty(nnz, np.int32)
    values = np.empty(nnz, dtype)
    _run(_fill, ranges, x, indptr, indices, values)
    return SparseRows(indptr, indices, values, width), (-1, -1)


_lock = threading.Lock()
# ("frozen", id, dtype) -> (weak reference to the matrix, form); ("content", shape, dtype of x,
# fingerprint, dtype) -> (None, form)
_kept: OrderedDict[tuple, tuple[weakref.ref | None, SparseRows]] = OrderedDict()


def _kept_form(key: tuple, x: np.ndarray) -> SparseRows | None:
    with _lock:
        entry = _kept.get(key)
        if entry is None or (entry[0] is not None and entry[0]() is not x):
            return None
        _kept.move_to_end(key)
        return entry[1]


def _keep(key: tuple, x: np.ndarray, rows: SparseRows) -> None:
    with _lock:
        _kept[key] = (weakref.ref(x) if key[0] == "frozen" else None, rows)
        _kept.move_to_end(key)
        while len(_kept) > _KEEP:
            _kept.popitem(last=False)


@recompiles
def sparse_rows(x: np.ndarray, dtype: np.dtype, name: str = "inputs") -> SparseRows:
    """The CSR form of x (N, n_0) in ``dtype``; ValueError naming the first bad value.

    A kept form is reused when x is frozen, or holds the same values as a matrix converted
    before (see the module docstring).
    """
    dtype = np.dtype(dtype)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if is_frozen(x):
        key = ("frozen", id(x), dtype.str)
    else:
        content = _content_key(x)
        key = None if content is None else ("content", *content, dtype.str)
    if key is not None:
        kept = _kept_form(key, x)
        if kept is not None:
            return kept
    readable = _read_only(x.view(np.uint8) if x.dtype.kind == "b" else x)
    limit = float(np.finfo(dtype).max)
    rows, (bad_row, bad_col) = _compress(readable, dtype, limit, _ranges(x.shape[0], x.size))
    if rows is None:
        value = x[bad_row, bad_col]
        if np.isfinite(value):
            raise ValueError(
                f"{name} has values beyond ±{limit:.3g}, the range of {dtype} "
                f"(first: {value} at index ({bad_row}, {bad_col}))"
            )
        raise ValueError(f"{name} contains NaN or inf (first: {value} at index ({bad_row}, {bad_col}))")
    if key is not None:
        _keep(key, x, rows)
    return rows


def forget() -> None:
    """Drop every kept CSR form (tests; or to free memory)."""
    with _lock:
        _kept.clear()
