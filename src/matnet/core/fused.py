"""The fused fast path: a whole SGD epoch (forward, backward, update) inside compiled code.

Mini-batches here are tiny (the book's m = 10), so the time of the matrix version goes to
Python and BLAS call overhead, not arithmetic. This path removes both: one numba call runs
every mini-batch of an epoch, and each example is propagated with loops that LLVM
vectorizes without ``fastmath`` (every inner loop is an axpy, y += a·x, not a reduction).

The first layer, which holds 95% of the arithmetic, reads the input as a sparse row:
MNIST is ~81% zero pixels, and a zero pixel adds exactly nothing to Z^1 and to ∂C/∂W^1,
so skipping it changes no result while doing a fifth of the work. Only the columns of W^1
that some pixel of the batch touched are updated (the others have a zero gradient).

Weights are worked on transposed, WT^l = (W^l)ᵀ of shape (n_{l-1}, n_l), so that row r of
WT^l is what input neuron r feeds forward: the forward pass is Σ_r a_r · WT^l[r, :] and BP4
is WT-gradient[r, :] += a_r · δ^l, both contiguous axpys. The mini-batch gradient is summed
example by example in batch order, exactly as the book's update_mini_batch sums it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from matnet.core.kernels.jit import cached_njit


@cached_njit
def sparse_rows(x):
    """CSR form of x (n, n_0): (indptr (n+1,), indices (nnz,) int32, values (nnz,))."""
    n, width = x.shape
    indptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        count = 0
        for j in range(width):
            if x[i, j] != 0:
                count += 1
        indptr[i + 1] = indptr[i] + count
    indices = np.empty(indptr[n], np.int32)
    values = np.empty(indptr[n], x.dtype)
    for i in range(n):
        q = indptr[i]
        for j in range(width):
            if x[i, j] != 0:
                indices[q] = j
                values[q] = x[i, j]
                q += 1
    return indptr, indices, values


@cached_njit(inline="always")
def _sigmoid(x, one, flush):
    """sigmoid in the precision of ``one`` (float32 stays float32); exp of x ≤ 0 only.

    Below ``flush`` the result, or its products in backprop, would be subnormal, and
    arithmetic on subnormals is ~100x slower on x86: such activations are returned as 0,
    an absolute change under 4e-28 (float32, x < -63.3) or 7e-298 (float64, x < -684).
    """
    if x >= 0:
        return one / (one + math.exp(-x))
    if x < flush:
        return one - one
    e = math.exp(x)
    return e / (one + e)


@cached_njit
def _forward_example(wts, bs, acts, indptr, indices, values, i, one, flush):
    """Activations of example i into acts[l]; the input is row i of the CSR.

    Layer 1 runs over its padded width (padding columns of W are zero: their activations
    are σ(0) and never read); later layers loop over the real widths of their weights.
    """
    a = acts[0]
    w = wts[0]
    b = bs[0]
    for c in range(a.size):
        a[c] = b[c]
    for q in range(indptr[i], indptr[i + 1]):
        row = w[indices[q]]
        xv = values[q]
        for c in range(a.size):
            a[c] += xv * row[c]
    for c in range(a.size):
        a[c] = _sigmoid(a[c], one, flush)
    for layer in range(1, len(wts)):
        prev = acts[layer - 1]
        a = acts[layer]
        w = wts[layer]
        b = bs[layer]
        for c in range(a.size):
            a[c] = b[c]
        for r in range(w.shape[0]):
            ar = prev[r]
            row = w[r]
            for c in range(a.size):
                a[c] += ar * row[c]
        for c in range(a.size):
            a[c] = _sigmoid(a[c], one, flush)


@cached_njit
def _epoch(wts, wbs, bs, gwts, gbs, acts, deltas, indptr, indices, values, y, order, batch_size,
           steps, touched, marked, check_finite):
    """Run the mini-batches of one epoch; returns how many were applied (all, unless one
    produced a non-finite delta and ``check_finite``, in which case it is not applied).

    wts[l] is W^{l+1} transposed (n_l, n_{l+1}); wbs[l] is the same matrix in the book's
    layout (n_{l+1}, n_l), read by BP2 and kept equal to wts[l] (wbs[0] is not used).
    Layer 1's arrays (wts[0], bs[0], acts[0], deltas[0], gbs[0], gwts[0]) are padded with
    zeros to a width that vectorizes without a remainder loop. ``steps[k]`` is η/k in the
    arrays' dtype, precomputed as the book computes it, for every batch length k ≥ 1;
    steps[0] is the sigmoid's flush-to-zero bound.
    """
    depth = len(wts)
    last = depth - 1
    n_out = y.shape[1]
    one = steps[0] - steps[0] + 1  # 1 in the arrays' precision, so float32 math stays float32
    flush = steps[0]
    n = order.shape[0]
    applied = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        n_touched = 0
        for layer in range(depth):
            gbs[layer][:] = 0
            if layer > 0:
                gwts[layer][:, :] = 0
        total = 0.0  # finite iff every delta of the batch is finite
        for p in range(start, stop):
            i = order[p]
            _forward_example(wts, bs, acts, indptr, indices, values, i, one, flush)
            a = acts[last]
            d = deltas[last]
            for c in range(n_out):  # BP1
                d[c] = (a[c] - y[i, c]) * a[c] * (one - a[c])
                total += d[c]
            for layer in range(last, 0, -1):
                d = deltas[layer]
                prev = acts[layer - 1]
                back = deltas[layer - 1]
                wb = wbs[layer]
                gw = gwts[layer]
                gb = gbs[layer]
                n_in = wb.shape[1]
                for c in range(d.size):  # BP3
                    gb[c] += d[c]
                for r in range(n_in):
                    ar = prev[r]
                    grow = gw[r]
                    for c in range(d.size):  # BP4: axpy
                        grow[c] += ar * d[c]
                    back[r] = 0
                for c in range(d.size):  # BP2: W^T δ as a sum of rows of W, again axpys
                    dc = d[c]
                    wrow = wb[c]
                    for r in range(n_in):
                        back[r] += dc * wrow[r]
                for r in range(n_in):  # ... ⊙ σ'(z) = a (1 - a)
                    ar = prev[r]
                    back[r] *= ar * (one - ar)
                    total += back[r]
            d = deltas[0]
            gb = gbs[0]
            gw = gwts[0]
            for c in range(d.size):  # BP3, first layer
                gb[c] += d[c]
            for q in range(indptr[i], indptr[i + 1]):  # BP4, first layer: non-zero pixels only
                j = indices[q]
                if not marked[j]:
                    marked[j] = True
                    touched[n_touched] = j
                    n_touched += 1
                    gw[j, :] = 0
                xv = values[q]
                grow = gw[j]
                for c in range(d.size):
                    grow[c] += xv * d[c]
        if check_finite and not np.isfinite(total):
            for t in range(n_touched):
                marked[touched[t]] = False
            return applied
        step = steps[stop - start]
        for t in range(n_touched):  # only the first-layer rows some pixel touched
            j = touched[t]
            marked[j] = False
            w = wts[0][j]
            g = gwts[0][j]
            for c in range(w.size):
                w[c] -= step * g[c]
        for layer in range(depth):
            b = bs[layer]
            gb = gbs[layer]
            for c in range(b.size):
                b[c] -= step * gb[c]
            if layer > 0:
                w = wts[layer]
                wb = wbs[layer]
                gw = gwts[layer]
                for r in range(w.shape[0]):
                    for c in range(w.shape[1]):
                        change = step * gw[r, c]
                        w[r, c] -= change
                        wb[c, r] -= change
        applied += 1
    return applied


class SparseInputs:
    """The training inputs in CSR form, built once per dataset (a dense pass over x)."""

    def __init__(self, x: np.ndarray):
        self.source = x
        self.indptr, self.indices, self.values = sparse_rows(x)

    def matches(self, x: np.ndarray) -> bool:
        return self.source is x


def padded_width(n: int, dtype: np.dtype) -> int:
    """n rounded up to whole 32-byte vectors (4 float64 or 8 float32 lanes)."""
    lanes = 32 // np.dtype(dtype).itemsize
    return -(-n // lanes) * lanes


class FusedTrainer:
    """Buffers of the fused epoch for one network shape and dtype, reused across epochs.

    weights[l] (n_{l+1}, n_l) and biases[l] (n_{l+1}, 1) stay in the book's layout; the
    compiled epoch works on transposed (and, for layer 1, zero-padded) copies made per call
    — a few hundred kB, negligible next to an epoch — and updates the book-layout arrays of
    layers 2.. in place, since their backward pass reads rows of W.
    """

    def __init__(self, sizes: Sequence[int], dtype: np.dtype):
        self.sizes = tuple(int(n) for n in sizes)
        self.dtype = np.dtype(dtype)
        widths = list(self.sizes[1:])
        widths[0] = padded_width(widths[0], self.dtype)
        ins = [self.sizes[0], *self.sizes[1:-1]]
        self.grad_wt = tuple(np.zeros((n_in, n_out), self.dtype) for n_in, n_out in zip(ins, widths))
        self.grad_b = tuple(np.zeros(n, self.dtype) for n in widths)
        self.acts = tuple(np.zeros(n, self.dtype) for n in widths)
        self.deltas = tuple(np.zeros(n, self.dtype) for n in widths)
        self.touched = np.zeros(self.sizes[0], np.int64)
        self.marked = np.zeros(self.sizes[0], np.bool_)
        self._sparse: SparseInputs | None = None

    def sparse(self, x: np.ndarray) -> SparseInputs:
        if self._sparse is None or not self._sparse.matches(x):
            self._sparse = SparseInputs(x)
        return self._sparse

    def train_epoch(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        x: np.ndarray,
        y: np.ndarray,
        order: np.ndarray,
        batch_size: int,
        eta: float,
        check_finite: bool = True,
    ) -> int:
        """One epoch (or a batch-aligned slice of one) over rows ``order`` of x, y.

        x (n, n_0) and y (n, n_L) are C-contiguous in this trainer's dtype, weights[l] and
        biases[l] C-contiguous and writable; all are updated in place. Returns the number of
        mini-batches applied.
        """
        sparse = self.sparse(x)
        n1, width = self.sizes[1], self.acts[0].size
        w0t = np.zeros((self.sizes[0], width), self.dtype)
        w0t[:, :n1] = weights[0].T
        b0 = np.zeros(width, self.dtype)
        b0[:n1] = biases[0][:, 0]
        # Copies, always: for a (n, 1) weight matrix the transpose is already "contiguous" and
        # ascontiguousarray would alias it, making the update below hit the same memory twice.
        wts = (w0t, *(w.T.copy() for w in weights[1:]))
        bs = (b0, *(b.reshape(-1) for b in biases[1:]))
        # The book's step: eta / len(mini_batch), rounded to the arrays' dtype.
        # steps[0] carries the sigmoid's flush-to-zero bound, e^24 above the smallest normal
        # number, so that products of an activation with a few small factors stay normal too.
        flush = np.log(np.finfo(self.dtype).tiny) + 24.0
        steps = np.array([flush] + [eta / k for k in range(1, batch_size + 1)], dtype=self.dtype)
        applied = _epoch(
            wts, tuple(weights), bs, self.grad_wt, self.grad_b, self.acts, self.deltas,
            sparse.indptr, sparse.indices, sparse.values, y, order, batch_size, steps,
            self.touched, self.marked, check_finite,
        )
        weights[0][...] = w0t[:, :n1].T  # later layers were updated in place through wbs
        biases[0][:, 0] = b0[:n1]
        return applied
