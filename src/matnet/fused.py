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

from collections.abc import Sequence

import numpy as np
from numba import njit

from matnet.kernels.numba_kernels import sigmoid_scalar


@njit(cache=True)
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


@njit(cache=True)
def _forward_example(wts, bs, acts, indptr, indices, values, i):
    """Activations of example i into acts[l] (n_{l+1},); the input is row i of the CSR."""
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
        a[c] = sigmoid_scalar(a[c])
    for layer in range(1, len(wts)):
        prev = acts[layer - 1]
        a = acts[layer]
        w = wts[layer]
        b = bs[layer]
        for c in range(a.size):
            a[c] = b[c]
        for r in range(prev.size):
            ar = prev[r]
            row = w[r]
            for c in range(a.size):
                a[c] += ar * row[c]
        for c in range(a.size):
            a[c] = sigmoid_scalar(a[c])


@njit(cache=True)
def _epoch(wts, bs, gwts, gbs, acts, deltas, indptr, indices, values, y, order, batch_size, eta,
           touched, marked, check_finite):
    """Run the mini-batches of one epoch; returns how many were applied (all, unless one
    produced a non-finite delta and ``check_finite``, in which case it is not applied)."""
    depth = len(wts)
    last = depth - 1
    n = order.shape[0]
    applied = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        n_touched = 0
        for layer in range(depth):
            gbs[layer][:] = 0.0
            if layer > 0:
                gwts[layer][:, :] = 0.0
        total = 0.0  # finite iff every delta of the batch is finite
        for p in range(start, stop):
            i = order[p]
            _forward_example(wts, bs, acts, indptr, indices, values, i)
            a = acts[last]
            d = deltas[last]
            for c in range(d.size):  # BP1
                d[c] = (a[c] - y[i, c]) * a[c] * (1.0 - a[c])
                total += d[c]
            for layer in range(last, 0, -1):
                d = deltas[layer]
                prev = acts[layer - 1]
                back = deltas[layer - 1]
                w = wts[layer]
                gw = gwts[layer]
                gb = gbs[layer]
                for c in range(d.size):  # BP3
                    gb[c] += d[c]
                for r in range(prev.size):
                    ar = prev[r]
                    grow = gw[r]
                    for c in range(d.size):  # BP4: axpy
                        grow[c] += ar * d[c]
                    s = 0.0
                    wrow = w[r]
                    for c in range(d.size):  # BP2: (W^T δ)_r
                        s += wrow[c] * d[c]
                    back[r] = s * ar * (1.0 - ar)
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
                    gw[j, :] = 0.0
                xv = values[q]
                grow = gw[j]
                for c in range(d.size):
                    grow[c] += xv * d[c]
        if check_finite and not np.isfinite(total):
            for t in range(n_touched):
                marked[touched[t]] = False
            return applied
        step = eta / (stop - start)
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
                gw = gwts[layer]
                for r in range(w.shape[0]):
                    for c in range(w.shape[1]):
                        w[r, c] -= step * gw[r, c]
        applied += 1
    return applied


class SparseInputs:
    """The training inputs in CSR form, built once per dataset (a dense pass over x)."""

    def __init__(self, x: np.ndarray):
        self.source = x
        self.indptr, self.indices, self.values = sparse_rows(x)

    def matches(self, x: np.ndarray) -> bool:
        return self.source is x


class FusedTrainer:
    """Buffers of the fused epoch for one network shape and dtype, reused across epochs."""

    def __init__(self, sizes: Sequence[int], dtype: np.dtype):
        self.sizes = tuple(sizes)
        self.dtype = np.dtype(dtype)
        layers = self.sizes[1:]
        self.grad_wt = tuple(
            np.zeros((n_in, n_out), self.dtype) for n_in, n_out in zip(self.sizes[:-1], layers)
        )
        self.grad_b = tuple(np.zeros(n, self.dtype) for n in layers)
        self.acts = tuple(np.zeros(n, self.dtype) for n in layers)
        self.deltas = tuple(np.zeros(n, self.dtype) for n in layers)
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

        weights[l] (n_{l+1}, n_l) and biases[l] (n_{l+1}, 1) are updated in place, in the
        book's layout. Returns the number of mini-batches applied.
        """
        sparse = self.sparse(x)
        wts = tuple(np.ascontiguousarray(w.T) for w in weights)
        bs = tuple(b.reshape(-1) for b in biases)
        applied = _epoch(
            wts, bs, self.grad_wt, self.grad_b, self.acts, self.deltas,
            sparse.indptr, sparse.indices, sparse.values, y, order, batch_size,
            self.dtype.type(eta), self.touched, self.marked, check_finite,
        )
        for w, wt in zip(weights, wts):
            w[...] = wt.T
        return applied
