"""Compiled evaluation: the outputs of many examples, CSR rows on the padded transposed weights.

``count_correct`` and ``outputs_of_rows`` run over rows of a CSR matrix (``matnet.core.sparse``) with
the fused path's layer blocks (``matnet.core.fused_layers``) — the fast way through 10,000
test images, one sweep of whole weight rows per non-zero pixel (``matnet.core.fused_column``
does the same for a few dense columns at a time). Both report outputs that are not finite
(a NaN or infinite weight, or finite weights so extreme that their sum overflows), which the
caller turns into an error.
"""

from __future__ import annotations

import numpy as np

from matnet.core.fused_layers import activate, forward_dense_many, forward_sparse, prefetch_row
from matnet.core.kernels.jit import BLOCK, blocked_njit
from matnet.core.kernels.machine import prefer_wide_vectors


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


@blocked_njit(inline="always")
def _forward_chunk(wts, bs, acts, sizes, indptr, indices, values, rows, first, count, one, flush):
    """Every layer's activations of examples rows[first : first+count] into acts[l][0:count],
    a layer at a time (each layer's arrays looked up once per chunk, not once per example).

    A row two ahead is prefetched only where the rows jump (a shuffled list): consecutive
    rows, as the test set comes, are a stream the hardware prefetcher already follows, and
    prefetching them as well made ``evaluate`` slower (0.94x without, in the gate's
    side-by-side comparison)."""
    w, b, a = wts[0], bs[0], acts[0]
    for e in range(count):
        p = first + e
        if p + 2 < rows.shape[0] and rows[p + 2] != rows[p + 1] + 1:
            prefetch_row(indptr, indices, values, rows[p + 2])
        forward_sparse(w, b, a[e], indptr, indices, values, rows[p], one)
        for kb in range(a.shape[1]):
            activate(a[e], kb, sizes[1], flush)
    for layer in range(1, len(wts)):
        w, b, a, prev = wts[layer], bs[layer], acts[layer], acts[layer - 1]
        forward_dense_many(w, b, a, prev, sizes[layer], count)
        for e in range(count):
            for kb in range(a.shape[1]):
                activate(a[e], kb, sizes[layer + 1], flush)


@blocked_njit
def count_correct(wts, bs, acts, sizes, indptr, indices, values, rows, labels, one, flush):
    """(correct, not finite): over examples p, CSR row rows[p] with label labels[p], how many
    have their largest output at the label, and how many have a non-finite output.
    ``acts[l]`` (chunk, blocks, BLOCK) hold a chunk of examples at a time."""
    prefer_wide_vectors()
    last = len(wts) - 1
    chunk = acts[0].shape[0]
    correct = 0
    bad = 0
    for first in range(0, rows.shape[0], chunk):
        count = min(chunk, rows.shape[0] - first)
        _forward_chunk(wts, bs, acts, sizes, indptr, indices, values, rows, first, count, one, flush)
        out = acts[last]
        for e in range(count):
            best, finite = _finite_argmax(out[e], sizes[last + 1])
            if not finite:
                bad += 1
            elif best == labels[first + e]:
                correct += 1
    return correct, bad


@blocked_njit
def outputs_of_rows(wts, bs, acts, sizes, indptr, indices, values, rows, out, one, flush):
    """out[p] = the output layer for CSR row rows[p]; returns how many are not finite."""
    prefer_wide_vectors()
    last = len(wts) - 1
    chunk = acts[0].shape[0]
    bad = 0
    for first in range(0, rows.shape[0], chunk):
        count = min(chunk, rows.shape[0] - first)
        _forward_chunk(wts, bs, acts, sizes, indptr, indices, values, rows, first, count, one, flush)
        a = acts[last]
        for e in range(count):
            for c in range(out.shape[1]):
                v = a[e, c // BLOCK, c % BLOCK]
                out[first + e, c] = v
                if not np.isfinite(v):
                    bad += 1
    return bad
