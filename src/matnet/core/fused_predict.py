"""Compiled evaluation: the outputs of many examples, CSR rows on the padded transposed weights.

``count_correct`` and ``outputs`` run over rows of a CSR matrix (``matnet.core.sparse``) with
the fused path's layer blocks (``matnet.core.fused_layers``) — the fast way through 10,000
test images, one sweep of whole weight rows per non-zero pixel. ``matnet.core.fused_book``
computes the same numbers on the book's layout, for a few columns at a time. Both report
outputs that are not finite (a NaN or infinite weight, or finite weights so extreme that
their sum overflows), which the caller turns into an error.
"""

from __future__ import annotations

import numpy as np

from matnet.core.fused_layers import forward_example, prefetch_row
from matnet.core.kernels.jit import BLOCK, blocked_njit


@blocked_njit(inline="always")
def _finite_argmax(out, n):
    """(index of the largest of out's first n lanes, first one on ties; whether all are finite)."""
    best = 0
    top = out[0, 0]
    finite = np.isfinite(top)
    for c in range(1, n):
        v = out[c // BLOCK, c % BLOCK]
        finite = finite and np.isfinite(v)
        if v > top:
            top = v
            best = c
    return best, finite


@blocked_njit
def count_correct(wts, bs, acts, sizes, indptr, indices, values, rows, labels, flush):
    """(correct, not finite): over examples p, CSR row rows[p] with label labels[p], how many
    have their largest output at the label, and how many have a non-finite output."""
    last = len(wts) - 1
    correct = 0
    bad = 0
    for p in range(rows.shape[0]):
        if p + 2 < rows.shape[0]:
            prefetch_row(indptr, indices, values, rows[p + 2])
        forward_example(wts, bs, acts, sizes, indptr, indices, values, rows[p], 0, flush)
        best, finite = _finite_argmax(acts[last][0], sizes[last + 1])
        if not finite:
            bad += 1
        elif best == labels[p]:
            correct += 1
    return correct, bad


@blocked_njit
def outputs(wts, bs, acts, sizes, indptr, indices, values, rows, out, flush):
    """out[p] = the output layer for CSR row rows[p]; returns how many are not finite."""
    last = len(wts) - 1
    bad = 0
    for p in range(rows.shape[0]):
        if p + 2 < rows.shape[0]:
            prefetch_row(indptr, indices, values, rows[p + 2])
        forward_example(wts, bs, acts, sizes, indptr, indices, values, rows[p], 0, flush)
        a = acts[last][0]
        for c in range(out.shape[1]):
            v = a[c // BLOCK, c % BLOCK]
            out[p, c] = v
            if not np.isfinite(v):
                bad += 1
    return bad
