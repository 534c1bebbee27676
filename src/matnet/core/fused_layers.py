"""The building blocks of the fused path: one layer of one example, over register blocks.

Every vector here is padded to whole blocks of ``BLOCK`` lanes and stored as (blocks, BLOCK);
weights are stored transposed, WT (n_in, blocks, BLOCK), so that row r is what input r feeds
forward. A layer's weighted input is then b + Σ_r a_r · WT[r], a sweep of whole rows with
each block of the sum held in registers. Every sum runs over the inputs in ascending order,
one fused multiply-add per term, and every kernel uses these same blocks, so training,
evaluation, ``feedforward`` and ``backprop`` agree to the last bit.

The hot loops index with unsigned integers (``np.uint64``): for a signed index it cannot
prove non-negative, numba adds Python's negative-index wraparound (a shift, an and and an
add, per array access) to every pixel of every example; dropping it made the epoch and the
evaluation ~10% faster, with the same bits.

All functions are inlined into the compiled kernels that call them (training in
``matnet.core.fused``, evaluation in ``matnet.core.fused_predict``, one column in
``matnet.core.fused_column``).
"""

from __future__ import annotations

import numpy as np

from matnet.core.kernels.jit import BLOCK, blocked_njit
from matnet.core.kernels.machine import local_array, prefetch
from matnet.core.kernels.vector_sigmoid import sigmoid


def padded(n: int) -> int:
    """n rounded up to whole register blocks."""
    return -(-n // BLOCK) * BLOCK


@blocked_njit(inline="always")
def activate(a, kb, n, flush):
    """a[kb, :] = σ(a[kb, :]) for the lanes below n (real neurons, counted from block 0), 0 beyond.

    σ is computed in float64 on every lane (a vectorized polynomial exp, see
    ``matnet.core.kernels.vector_sigmoid``) and rounded to the arrays' dtype.
    """
    real = n - kb * BLOCK
    z = local_array(BLOCK, a.dtype)
    for c in range(BLOCK):
        z[c] = a[kb, c]
    for c in range(BLOCK):
        s = sigmoid(np.float64(z[c]), flush)
        a[kb, c] = s if c < real else 0.0


@blocked_njit(inline="always")
def forward_sparse(w, b, a, indptr, indices, values, i, scale):
    """First layer's weighted input for CSR row i into a (blocks, BLOCK), for the weights
    scale · w: scale · (Σ_q values[q] · w[indices[q]]) + b, pixels in ascending order, the
    bias added last as in the book's np.dot(w, a) + b. ``scale`` is 1 but inside a training
    call with weight decay (``matnet.core.fused``)."""
    start, stop = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
    for kb in range(a.shape[0]):
        acc = local_array(BLOCK, a.dtype)
        for c in range(BLOCK):
            acc[c] = 0
        for q in range(start, stop):  # the hot loop: acc stays in registers
            j = np.uint64(indices[q])  # unsigned: no negative-index wraparound in the loop
            v = values[q]
            for c in range(BLOCK):
                acc[c] += v * w[j, kb, c]
        for c in range(BLOCK):
            a[kb, c] = acc[c] * scale + b[kb, c]


@blocked_njit(inline="always")
def forward_dense(w, b, a, prev, n_in):
    """A later layer's weighted input into a: b + Σ_r prev_r · w[r] over the previous layer's
    real neurons r < n_in, in ascending order."""
    for kb in range(a.shape[0]):
        acc = local_array(BLOCK, a.dtype)
        for c in range(BLOCK):
            acc[c] = b[kb, c]
        for r in range(n_in):
            ar = prev[r // BLOCK, r % BLOCK]
            for c in range(BLOCK):
                acc[c] += ar * w[r, kb, c]
        for c in range(BLOCK):
            a[kb, c] = acc[c]


@blocked_njit(inline="always")
def forward_dense_pair(w, b, a0, a1, prev0, prev1, n_in):
    """``forward_dense`` for two examples at once. One example's sum is a chain of n_in
    dependent multiply-adds, whose latency, not arithmetic, bounds it; two are independent
    chains that overlap, and each row of w is loaded once for both. Each sum is the one
    ``forward_dense`` computes, in the same order: the same bits."""
    for kb in range(a0.shape[0]):
        acc0 = local_array(BLOCK, a0.dtype)
        acc1 = local_array(BLOCK, a0.dtype)
        for c in range(BLOCK):
            acc0[c] = b[kb, c]
            acc1[c] = b[kb, c]
        for r in range(n_in):
            x0 = prev0[r // BLOCK, r % BLOCK]
            x1 = prev1[r // BLOCK, r % BLOCK]
            for c in range(BLOCK):
                acc0[c] += x0 * w[r, kb, c]
            for c in range(BLOCK):
                acc1[c] += x1 * w[r, kb, c]
        for c in range(BLOCK):
            a0[kb, c] = acc0[c]
        for c in range(BLOCK):
            a1[kb, c] = acc1[c]


@blocked_njit(inline="always")
def forward_dense_many(w, b, a, prev, n_in, count):
    """``forward_dense`` for examples 0..count-1 of a (chunk, blocks, BLOCK), two at a time."""
    for e in range(0, count - 1, 2):
        forward_dense_pair(w, b, a[e], a[e + 1], prev[e], prev[e + 1], n_in)
    if count % 2:
        forward_dense(w, b, a[count - 1], prev[count - 1], n_in)


@blocked_njit(inline="always")
def forward_example(wts, bs, acts, sizes, indptr, indices, values, i, e, one, flush):
    """Every layer's activation for CSR row i into acts[l][e] (``one``: 1 in the arrays' dtype)."""
    a = acts[0][e]
    forward_sparse(wts[0], bs[0], a, indptr, indices, values, i, one)
    for kb in range(a.shape[0]):
        activate(a, kb, sizes[1], flush)
    for layer in range(1, len(wts)):
        a, prev = acts[layer][e], acts[layer - 1][e]
        forward_dense(wts[layer], bs[layer], a, prev, sizes[layer])
        for kb in range(a.shape[0]):
            activate(a, kb, sizes[layer + 1], flush)


@blocked_njit(inline="always")
def prefetch_row(indptr, indices, values, i):
    """Start loading CSR row i's pixels: rows come in shuffled order, which no hardware
    prefetcher can guess, and waiting for them cost ~40% of an epoch."""
    start, stop = indptr[i], indptr[i + 1]
    for q in range(start, stop, 8):
        prefetch(values, q)
    for q in range(start, stop, 16):
        prefetch(indices, q)
