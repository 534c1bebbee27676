"""The fused fast path: a whole SGD epoch (forward, backward, update) inside compiled code.

Mini-batches here are tiny (the book's m = 10), so the time of the matrix version goes to
Python and BLAS call overhead, not arithmetic. This path removes both: one numba call runs
every mini-batch of an epoch, example by example, in the book's order of summation over the
batch.

**Sparse first layer.** MNIST is ~81% zero pixels; a zero pixel adds exactly nothing to Z¹
and to ∂C/∂W¹, so the first layer — 95% of the arithmetic — reads each input as its non-zero
pixels (``matnet.core.sparse``), and only the rows of (W¹)ᵀ that some pixel of the batch
touched are updated (the others have a zero gradient).

**Layout.** Weights are worked on transposed, WT^l = (W^l)ᵀ of shape (n_{l-1}, n_l), each
row zero-padded to whole register blocks (``BLOCK`` lanes, ``matnet.core.kernels.jit``): row r
of WT^l is what input neuron r feeds forward, so the forward pass is Σ_r a_r · WT^l[r, :] and
BP4 is ∂C/∂WT^l[r, :] += a_r · δ^l — both sweeps of whole rows. A block of the accumulating
row (32 lanes) is held in registers while the sweep runs over the inputs, which is what makes
the first layer fast. BP2 sums rows of W^{l+1} in the book's layout, kept beside WT^{l+1} for
layers after the first. Padding lanes hold zero weights and biases, so they never change what
the real lanes compute.

**The parameters live here.** A network on this path hands its user views of these buffers in
the book's shapes — weights[l] (n_{l+1}, n_l), biases[l] (n_{l+1}, 1) — so a call copies
nothing: an edit through a view is an edit of the buffer. An array the user puts in place of
a view is copied in at the next call, and the view takes its place in the list (the book, too,
replaces the arrays in its lists at every update).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence

import numpy as np

from matnet.core.fused_column import gradient_of_column, outputs_of_columns
from matnet.core.fused_layers import activate, forward_dense_many, forward_sparse, padded, prefetch_row
from matnet.core.fused_predict import count_correct, outputs
from matnet.core.kernels.jit import BLOCK, blocked_njit
from matnet.core.kernels.machine import aligned_zeros, local_array, prefer_wide_vectors
from matnet.core.sparse import SparseRows

PREDICT_CHUNK = 64  # examples whose activations evaluation holds at once
# A batch of up to WHOLE_BATCH examples is trained at once; a larger one in sub-batches of
# SUB_BATCH, whose activations, deltas and pixels stay in cache between the forward pass and
# the gradient (measured: m = 1000 ~1.35x faster, m = 100 ~5% slower if it were split).
WHOLE_BATCH = 128
SUB_BATCH = 64
CHUNK_BYTES = 64 * 1024  # first-layer gradient rows swept at a time (measured best of 16–200 kB)


def read_only(a: np.ndarray) -> np.ndarray:
    """``a``, or a read-only view of it: numba compiles a kernel apart for read-only arrays
    (the loader's) and writable ones, so the kernels always get read-only inputs and are
    compiled once."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def chunk_rows(width: int, dtype: np.dtype) -> int:
    """Rows of a (n_0, width) first-layer matrix that fit CHUNK_BYTES."""
    return max(1, CHUNK_BYTES // (width * np.dtype(dtype).itemsize))


@blocked_njit(inline="always")
def _step_row(w, g, j, step):
    """w[j] -= step · g[j], then g[j] = 0: one first-layer row updated and its gradient cleared."""
    for kb in range(w.shape[1]):
        gj = local_array(BLOCK, w.dtype)
        for c in range(BLOCK):
            gj[c] = g[j, kb, c]
        for c in range(BLOCK):
            w[j, kb, c] -= step * gj[c]
        for c in range(BLOCK):
            g[j, kb, c] = 0


@blocked_njit(inline="always")
def _update_swept(w, g, hit, d, m, rows, indptr, indices, values, cursor, chunk, step, apply):
    """BP4 of the first layer for examples 0..m-1 with deltas d[e], and (``apply``) the update.

    The gradient rows are swept ``chunk`` at a time: for each chunk, every example adds its
    pixels that fall in it, g[j] += x_ej δ_e (in example order: the book's order), while the
    chunk is in cache; with ``apply``, each row some pixel touched (flagged in ``hit``) is
    then stepped and cleared (``_step_row``). Without, g keeps accumulating: a large batch
    comes in sub-batches, and ``_apply_hit`` steps the rows once all are in. g and hit are
    zero between batches.
    """
    for e in range(m):
        cursor[e] = indptr[rows[e]]
    for low in range(0, w.shape[0], chunk):
        high = min(low + chunk, w.shape[0])
        for e in range(m):
            start, stop = cursor[e], indptr[rows[e] + 1]
            end = start
            while end < stop and indices[end] < high:
                end += 1
            if end == start:
                continue
            cursor[e] = end
            first, last = np.uint64(start), np.uint64(end)  # unsigned: no wraparound below
            for q in range(first, last):
                hit[np.uint64(indices[q])] = 1
            for kb in range(d.shape[1]):
                dd = local_array(BLOCK, d.dtype)
                for c in range(BLOCK):
                    dd[c] = d[e, kb, c]
                for q in range(first, last):
                    j = np.uint64(indices[q])
                    v = values[q]
                    for c in range(BLOCK):
                        g[j, kb, c] += v * dd[c]
        if apply:
            for j in range(low, high):
                if hit[j]:
                    hit[j] = 0
                    _step_row(w, g, j, step)


@blocked_njit(inline="always")
def _apply_hit(w, g, hit, step):
    """The first-layer update of a batch that came in sub-batches: every row some pixel
    touched is stepped and cleared (with step 0, only cleared: a batch not applied)."""
    for j in range(w.shape[0]):
        if hit[j]:
            hit[j] = 0
            if step != 0:
                _step_row(w, g, j, step)
            else:
                for kb in range(g.shape[1]):
                    for c in range(BLOCK):
                        g[j, kb, c] = 0


@blocked_njit(inline="always")
def _update_single(w, d, indptr, indices, values, i, step):
    """BP4 and the update of the first layer for a batch of one (CSR row i): each pixel's
    row is stepped directly, w[j] -= step · (x_j δ), as the sum of one term."""
    for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):  # unsigned: no wraparound
        j = np.uint64(indices[q])
        v = values[q]
        for kb in range(w.shape[1]):
            gj = local_array(BLOCK, w.dtype)
            for c in range(BLOCK):
                gj[c] = v * d[kb, c]
            for c in range(BLOCK):
                w[j, kb, c] -= step * gj[c]


@blocked_njit(inline="always")
def _bias_gradient(d, m, gb, first):
    """BP3 for a batch: gb = Σ_e d[e], summed in example order with each block in registers;
    a sub-batch after the ``first`` continues the sum already in gb."""
    for kb in range(gb.shape[0]):
        acc = local_array(BLOCK, gb.dtype)
        if first:
            for c in range(BLOCK):
                acc[c] = 0
        else:
            for c in range(BLOCK):
                acc[c] = gb[kb, c]
        for e in range(m):
            for c in range(BLOCK):
                acc[c] += d[e, kb, c]
        for c in range(BLOCK):
            gb[kb, c] = acc[c]


@blocked_njit(inline="always")
def _weight_gradient(d, prev, m, n_in, gw, first):
    """BP4 of a later layer for a batch: gw[r] = Σ_e prev_e[r] d_e, in example order, each block
    of a row summed in registers and stored once (no read-modify-write per example); a
    sub-batch after the ``first`` continues the sums already in gw."""
    for r in range(n_in):
        rb, rc = r // BLOCK, r % BLOCK
        for kb in range(gw.shape[1]):
            acc = local_array(BLOCK, gw.dtype)
            if first:
                for c in range(BLOCK):
                    acc[c] = 0
            else:
                for c in range(BLOCK):
                    acc[c] = gw[r, kb, c]
            for e in range(m):
                ar = prev[e, rb, rc]
                for c in range(BLOCK):
                    acc[c] += ar * d[e, kb, c]
            for c in range(BLOCK):
                gw[r, kb, c] = acc[c]


@blocked_njit(inline="always")
def _back_delta(d, prev, wb, n_out, back, one):
    """BP2 for one example: back = (Σ_c d_c wb[c]) ⊙ prev(1 − prev), the delta of the layer before."""
    for kb in range(back.shape[0]):
        acc = local_array(BLOCK, back.dtype)
        for c in range(BLOCK):
            acc[c] = 0
        for k in range(n_out):
            dk = d[k // BLOCK, k % BLOCK]
            for c in range(BLOCK):
                acc[c] += dk * wb[k, kb, c]
        for c in range(BLOCK):
            back[kb, c] = acc[c] * (prev[kb, c] * (one - prev[kb, c]))


@blocked_njit(inline="always")
def _forward_and_back(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y, x_rows,
                      y_rows, start, m, first, one, flush):
    """Forward, BP1, BP2 and the bias and later-layer gradients (BP3, BP4) of the m examples
    from ``start`` — CSR rows x_rows[start + e], target rows y_rows[start + e] — a layer at a
    time, into acts[l][e] and deltas[l][e]; the gradients start from zero for the ``first``
    examples of a batch, else continue the sums."""
    depth = len(wts)
    last = depth - 1
    a = acts[0]  # forward, layer by layer
    for e in range(m):
        forward_sparse(wts[0], bs[0], a[e], indptr, indices, values, x_rows[start + e])
        for kb in range(a.shape[1]):
            activate(a[e], kb, sizes[1], flush)
    for layer in range(1, depth):
        w, b, a, prev = wts[layer], bs[layer], acts[layer], acts[layer - 1]
        forward_dense_many(w, b, a, prev, sizes[layer], m)
        for e in range(m):
            for kb in range(a.shape[1]):
                activate(a[e], kb, sizes[layer + 1], flush)
    a, d = acts[last], deltas[last]  # BP1
    for e in range(m):
        yi = y_rows[start + e]
        for kb in range(d.shape[1]):
            for c in range(BLOCK):
                d[e, kb, c] = 0
        for c in range(sizes[last + 1]):
            ac = a[e, c // BLOCK, c % BLOCK]
            d[e, c // BLOCK, c % BLOCK] = (ac - y[yi, c]) * ac * (one - ac)
    for layer in range(last, 0, -1):  # BP2–BP4, later layers
        d, prev, back = deltas[layer], acts[layer - 1], deltas[layer - 1]
        _bias_gradient(d, m, gbs[layer], first)  # BP3
        _weight_gradient(d, prev, m, sizes[layer], gwts[layer], first)  # BP4
        wb = wbs[layer]
        for e in range(m):  # BP2
            _back_delta(d[e], prev[e], wb, sizes[layer + 1], back[e], one)
    _bias_gradient(deltas[0], m, gbs[0], first)  # BP3, first layer


@blocked_njit(inline="always")
def _gradients_finite(gbs):
    """Whether every delta of the batch is finite: the bias gradients sum them all."""
    total = 0.0
    for layer in range(len(gbs)):
        gb = gbs[layer]
        for kb in range(gb.shape[0]):
            for c in range(BLOCK):
                total += gb[kb, c]
    return np.isfinite(total)


@blocked_njit(inline="always")
def _update_the_rest(wts, wbs, bs, gwts, gbs, sizes, step):
    """The update of every bias and of the weights after the first layer, and BP2's
    book-layout copies of those weights."""
    for layer in range(len(wts)):
        b, gb = bs[layer], gbs[layer]
        for kb in range(b.shape[0]):
            gj = local_array(BLOCK, b.dtype)
            for c in range(BLOCK):
                gj[c] = gb[kb, c]
            for c in range(BLOCK):
                b[kb, c] -= step * gj[c]
        if layer > 0:
            w, gw, wb = wts[layer], gwts[layer], wbs[layer]
            for r in range(w.shape[0]):
                for kb in range(w.shape[1]):
                    gj = local_array(BLOCK, w.dtype)
                    for c in range(BLOCK):
                        gj[c] = gw[r, kb, c]
                    for c in range(BLOCK):
                        w[r, kb, c] -= step * gj[c]
            by_input = w.reshape(w.shape[0], -1)  # the book-layout copy, exactly equal
            by_output = wb.reshape(wb.shape[0], -1)
            for k in range(sizes[layer + 1]):
                for r in range(w.shape[0]):
                    by_output[k, r] = by_input[r, k]


@blocked_njit
def _epoch(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y, x_rows, y_rows,
           batch_size, steps, hit, cursor, chunk, check_finite):
    """Run the mini-batches of one epoch; returns how many were applied (all, unless one
    produced a non-finite delta and ``check_finite``, in which case it is not applied).

    Example p of the epoch is input row x_rows[p] of the CSR arrays and target row
    y_rows[p] of y (M, n_L). ``steps[k]`` is η/k in the arrays' dtype for every batch length
    k ≥ 1, precomputed as the book computes it; steps[0] is the sigmoid's flush-to-zero bound.
    A batch is processed a layer at a time, over its examples in order (``acts`` and
    ``deltas`` hold them all), so every gradient sums the examples in the book's order.
    gwts[0] and hit are zero between batches.
    """
    prefer_wide_vectors()
    one = steps[0] - steps[0] + 1  # 1 in the arrays' precision, so float32 math stays float32
    flush = np.float64(steps[0])
    n = x_rows.shape[0]
    applied = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        m = stop - start
        for q in range(stop, min(stop + m, n)):  # the next batch's pixels, while this one runs
            prefetch_row(indptr, indices, values, x_rows[q])
        _forward_and_back(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y,
                          x_rows, y_rows, start, m, True, one, flush)
        if check_finite and not _gradients_finite(gbs):
            return applied
        step = steps[m]
        if m == 1:  # BP4 and the update, first layer
            _update_single(wts[0], deltas[0][0], indptr, indices, values, x_rows[start], step)
        else:
            _update_swept(wts[0], gwts[0], hit, deltas[0], m, x_rows[start:stop], indptr, indices, values,
                          cursor, chunk, step, True)
        _update_the_rest(wts, wbs, bs, gwts, gbs, sizes, step)
        applied += 1
    return applied


@blocked_njit
def _epoch_in_sub_batches(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y, x_rows,
                          y_rows, batch_size, steps, hit, cursor, chunk, check_finite):
    """``_epoch`` for batches larger than ``acts`` holds (sub = acts[0].shape[0] examples):
    each batch comes in sub-batches of ``sub``, whose activations, deltas and pixels stay in
    cache from the forward pass to the gradient; every sum continues from one sub-batch to the
    next in example order (the same numbers as the batch at once), and the batch is applied
    once all are in. A function of its own, so that only training with such batches compiles it.
    """
    prefer_wide_vectors()
    one = steps[0] - steps[0] + 1
    flush = np.float64(steps[0])
    n = x_rows.shape[0]
    sub = acts[0].shape[0]
    applied = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        for first in range(start, stop, sub):
            end = min(first + sub, stop)
            k = end - first
            for q in range(end, min(end + k, n)):  # the next pixels, while these run
                prefetch_row(indptr, indices, values, x_rows[q])
            _forward_and_back(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y,
                              x_rows, y_rows, first, k, first == start, one, flush)
            _update_swept(wts[0], gwts[0], hit, deltas[0], k, x_rows[first:end], indptr, indices, values,
                          cursor, chunk, steps[0], False)  # BP4 of the first layer, accumulated
        if check_finite and not _gradients_finite(gbs):
            _apply_hit(wts[0], gwts[0], hit, 0)  # cleared, not applied
            return applied
        step = steps[stop - start]
        _apply_hit(wts[0], gwts[0], hit, step)
        _update_the_rest(wts, wbs, bs, gwts, gbs, sizes, step)
        applied += 1
    return applied


class FusedEngine:
    """The fused path for one network shape and dtype: training, evaluation and feedforward.

    Buffers (padded transposed weights, gradients, activations) are allocated once and reused
    across calls; the parameters themselves live in them, and ``weight_views`` and
    ``bias_views`` show them in the book's layout (see the module docstring). Every method
    first makes the caller's lists hold those views (``own``).
    """

    def __init__(self, sizes: Sequence[int], dtype: np.dtype):
        self.sizes = tuple(int(n) for n in sizes)
        self.dtype = np.dtype(dtype)
        ins, outs = self.sizes[:-1], self.sizes[1:]
        blocks = [padded(n) // BLOCK for n in outs]
        self._sizes = np.array(self.sizes, np.int64)
        zeros = self._zeros
        self.wts = tuple(zeros((n_in, nb, BLOCK)) for n_in, nb in zip(ins, blocks))
        # The book-layout copies BP2 reads (layers after the first), padded like the
        # activations they multiply; index 0 is a placeholder, as layer 1 needs none.
        self.wbs = (zeros((1, 1, BLOCK)), *(zeros((n, nb, BLOCK)) for n, nb in zip(outs[1:], blocks)))
        self.bs = tuple(zeros((nb, BLOCK)) for nb in blocks)
        self.weight_views = [self._wide(self.wts, layer)[:, :n].T for layer, n in enumerate(outs)]
        self.bias_views = [self._wide(self.bs, layer)[:n].reshape(n, 1) for layer, n in enumerate(outs)]
        self._views = (*self.weight_views, *self.bias_views)
        self.gwts = tuple(zeros(w.shape) for w in self.wts)  # weight gradients, one batch
        self.gbs = tuple(zeros(b.shape) for b in self.bs)
        self.acts = tuple(zeros((1, *b.shape)) for b in self.bs)
        self.deltas = tuple(zeros((1, *b.shape)) for b in self.bs)
        self.hit = np.zeros(self.sizes[0], np.uint8)  # first-layer rows a batch touched
        self.cursor = np.zeros(1, np.int64)  # per example of a batch: where its sweep is
        self.chunk = chunk_rows(blocks[0] * BLOCK, self.dtype)
        self._predict_acts: tuple[np.ndarray, ...] | None = None
        # One column's work space: its span [0, count] as a one-row CSR matrix, its non-zero
        # inputs' positions and values.
        self._span = np.zeros(2, np.int64)
        self._positions = np.zeros(self.sizes[0], np.int64)
        self._values = np.zeros(self.sizes[0], self.dtype)
        self.limit = float(np.finfo(self.dtype).max)
        # The sigmoid's flush-to-zero bound, e^24 above the smallest normal number, so that
        # products of an activation with a few small factors stay normal too.
        self.flush = float(np.log(np.finfo(self.dtype).tiny) + 24.0)

    def _zeros(self, shape) -> np.ndarray:
        return aligned_zeros(shape, self.dtype)

    def _wide(self, arrays, layer: int) -> np.ndarray:
        """arrays[layer] seen as a 2-D (rows, padded width) matrix."""
        a = arrays[layer]
        return a.reshape(a.shape[0], -1) if a.ndim == 3 else a.reshape(-1)

    def owns(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> bool:
        """Whether the lists hold exactly this engine's views (the parameters are here)."""
        depth = len(self.weight_views)
        return len(weights) == depth == len(biases) and all(
            map(operator.is_, itertools.chain(weights, biases), self._views)
        )

    def own(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        """Make the lists hold this engine's views: an entry that is another array (checked
        by the caller: right shape, dtype, finite range) is copied into the buffers first.
        Given the engine's own lists (``weight_views``, ``bias_views``), nothing to do."""
        if weights is self.weight_views and biases is self.bias_views:
            return
        for given, views in ((weights, self.weight_views), (biases, self.bias_views)):
            for layer, view in enumerate(views):
                if given[layer] is not view:
                    view[...] = given[layer]
                    given[layer] = view

    def _refresh_book_copies(self) -> None:
        """BP2's book-layout copies of the later layers, from the weights as they are now
        (the user may have edited them through the views)."""
        for layer in range(1, len(self.wts)):
            self._wide(self.wbs, layer)[:, : self.sizes[layer]] = self.weight_views[layer]

    def steps(self, batch_size: int, eta: float) -> np.ndarray:
        """[flush bound, η/1, η/2, …, η/batch_size] in this engine's dtype: the book's step
        is eta / len(mini_batch), rounded to the arrays' dtype."""
        return np.array([self.flush] + [eta / k for k in range(1, batch_size + 1)], dtype=self.dtype)

    def train_epoch(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        inputs: SparseRows,
        targets: np.ndarray,
        x_rows: np.ndarray,
        y_rows: np.ndarray,
        batch_size: int,
        eta: float,
        check_finite: bool = True,
    ) -> int:
        """One epoch (or a batch-aligned slice of one): example p is input row x_rows[p] and
        target row y_rows[p] of targets (M, n_L) in this engine's dtype. Parameters
        (C-contiguous, this engine's dtype) are updated in place. A batch larger than the
        data is all of it; one of more than WHOLE_BATCH examples is trained in sub-batches
        (``_epoch_in_sub_batches``). Returns the number of mini-batches applied."""
        batch_size = min(batch_size, max(1, x_rows.shape[0]))
        whole = batch_size <= WHOLE_BATCH
        rows = batch_size if whole else SUB_BATCH  # examples whose activations are held at once
        held = self.acts[0].shape[0]
        if held < rows or (not whole and held != rows):
            self.acts = tuple(self._zeros((rows, *b.shape)) for b in self.bs)
            self.deltas = tuple(self._zeros(a.shape) for a in self.acts)
            self.cursor = np.zeros(rows, np.int64)
        self.own(weights, biases)
        self._refresh_book_copies()
        applied = (_epoch if whole else _epoch_in_sub_batches)(
            self.wts, self.wbs, self.bs, self.gwts, self.gbs, self.acts, self.deltas, self._sizes,
            inputs.indptr, inputs.indices, inputs.values, read_only(targets), x_rows, y_rows, batch_size,
            self.steps(batch_size, eta), self.hit, self.cursor, self.chunk, check_finite,
        )
        return applied

    def count_correct(self, weights, biases, inputs: SparseRows, rows: np.ndarray, labels: np.ndarray):
        """(correct, not finite): of examples rows[p] (CSR rows) with labels[p], how many the
        network classifies as labelled, and how many give a non-finite output."""
        self.own(weights, biases)
        return count_correct(self.wts, self.bs, self._chunk_acts(), self._sizes, inputs.indptr,
                             inputs.indices, inputs.values, rows, read_only(labels), self.flush)

    def _chunk_acts(self) -> tuple[np.ndarray, ...]:
        """Activations for a chunk of PREDICT_CHUNK examples (made once)."""
        if self._predict_acts is None:
            self._predict_acts = tuple(self._zeros((PREDICT_CHUNK, *b.shape)) for b in self.bs)
        return self._predict_acts

    def outputs(self, weights, biases, inputs: SparseRows, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """(outputs (len(rows), n_L), how many are not finite) for CSR rows ``rows``."""
        self.own(weights, biases)
        out = np.empty((rows.shape[0], self.sizes[-1]), self.dtype)
        bad = outputs(self.wts, self.bs, self._chunk_acts(), self._sizes, inputs.indptr, inputs.indices,
                      inputs.values, rows, out, self.flush)
        return out, bad

    def outputs_of_columns(self, weights, biases, x: np.ndarray) -> tuple[np.ndarray, int, int]:
        """(outputs (n_L, k), index of the first bad input or -1, how many outputs are not
        finite) for the k columns of x (n_0, k), any real dtype, one column at a time: the same
        numbers ``outputs`` gives for those inputs."""
        self.own(weights, biases)
        if x.dtype != self.dtype or not x.flags.c_contiguous:  # one compiled kernel per dtype
            with np.errstate(all="ignore"):  # a value beyond float32's range: inf, reported below
                x = np.ascontiguousarray(x, dtype=self.dtype)
        out = np.empty((self.sizes[-1], x.shape[1]), self.dtype)
        bad_input, bad = outputs_of_columns(self.wts, self.bs, self.acts, self._sizes, x, out, self._span,
                                            self._positions, self._values, self.limit, self.flush)
        return out, bad_input, bad

    def gradient(self, weights, biases, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
        """(nabla_b, nabla_w), book layout, for one example: x (n_0, 1), y (n_L, 1), both in this
        engine's dtype and finite."""
        self.own(weights, biases)
        grad_w = [np.empty(w.shape, self.dtype) for w in self.weight_views]
        grad_b = [np.empty(b.shape, self.dtype) for b in self.bias_views]
        gradient_of_column(self.wts, self.bs, self.acts, self._sizes, read_only(x), read_only(y),
                           tuple(grad_w), tuple(grad_b), self._span, self._positions, self._values,
                           self.dtype.type(1), self.flush)
        return grad_b, grad_w
