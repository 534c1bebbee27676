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

**The maths** is the table's (``matnet.core.maths``): BP1 is the cost's output error chosen by
its code (``kernels.compiled.output_error``), the update is ``maths.stepped`` or (weight decay)
``maths.updated`` lane by lane. With L2 weight decay (chapter 3) every weight decays at every
mini-batch, but most rows of W¹ have no gradient: rather than sweep all of W¹ per batch
(+55% on the epoch of [784, 30, 10], measured), an epoch holds W¹ as scale · V. A batch's
decay multiplies the scale, and a row a pixel touched takes the step divided by it:
decay · W − step · g = scale′ (V − (step/scale′) g). The scale is folded back into V at the end
of the call (and whenever it leaves [2^−64, 2^64]); without decay it stays 1 and nothing of
this changes a bit. The same update as ``maths.updated``, rounded in another order.
The buffers, and the network's parameters in them, belong to ``matnet.core.fused_backend``.
"""

from __future__ import annotations

import numpy as np

from matnet.core.fused_layers import activate, forward_dense_many, forward_sparse, prefetch_row
from matnet.core.kernels.compiled import output_error, sigmoid_prime_from_output, stepped, updated
from matnet.core.kernels.jit import BLOCK, blocked_njit
from matnet.core.kernels.machine import local_array, prefer_wide_vectors

# A batch of up to WHOLE_BATCH examples is trained at once; a larger one in sub-batches of
# SUB_BATCH, whose activations, deltas and pixels stay in cache between the forward pass and
# the gradient (measured: m = 1000 ~1.35x faster, m = 100 ~5% slower if it were split).
WHOLE_BATCH = 128
SUB_BATCH = 64
CHUNK_BYTES = 64 * 1024  # first-layer gradient rows swept at a time (measured best of 16–200 kB)


def chunk_rows(width: int, dtype: np.dtype) -> int:
    """Rows of a (n_0, width) first-layer matrix that fit CHUNK_BYTES."""
    return max(1, CHUNK_BYTES // (width * np.dtype(dtype).itemsize))


@blocked_njit(inline="always")
def _step_row(w, g, j, step):
    """w[j] = w[j] − step · g[j] (``stepped``), then g[j] = 0: one first-layer row updated and
    its gradient cleared."""
    for kb in range(w.shape[1]):
        gj = local_array(BLOCK, w.dtype)
        for c in range(BLOCK):
            gj[c] = g[j, kb, c]
        for c in range(BLOCK):
            w[j, kb, c] = stepped(w[j, kb, c], gj[c], step)
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
def _apply_hit(w, g, hit, step, apply):
    """The first-layer update of a batch that came in sub-batches: every row some pixel
    touched is stepped and cleared (without ``apply``, a batch not applied: only cleared)."""
    for j in range(w.shape[0]):
        if hit[j]:
            hit[j] = 0
            if apply:
                _step_row(w, g, j, step)
            else:
                for kb in range(g.shape[1]):
                    for c in range(BLOCK):
                        g[j, kb, c] = 0


@blocked_njit(inline="always")
def _update_single(w, d, indptr, indices, values, i, step):
    """BP4 and the update of the first layer for a batch of one (CSR row i): each pixel's
    row is stepped directly, w[j] −= step · (x_j δ), as the sum of one term."""
    for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):  # unsigned: no wraparound
        j = np.uint64(indices[q])
        v = values[q]
        for kb in range(w.shape[1]):
            gj = local_array(BLOCK, w.dtype)
            for c in range(BLOCK):
                gj[c] = v * d[kb, c]
            for c in range(BLOCK):
                w[j, kb, c] = stepped(w[j, kb, c], gj[c], step)


@blocked_njit(inline="always")
def _scaled(w, scale):
    """w = scale · w, every row: the first layer's scale folded back into its weights."""
    for j in range(w.shape[0]):
        for kb in range(w.shape[1]):
            for c in range(BLOCK):
                w[j, kb, c] *= scale


@blocked_njit(inline="always")
def _decayed_scale(w, scale, decay, one):
    """The first layer's scale after this batch's decay, scale · decay; folded into w first
    (the scale returned is then decay) when it would leave [2^−64, 2^64] or is 0, so that
    step/scale always stays an ordinary number."""
    now = scale * decay
    if 5.421010862427522e-20 <= abs(now) <= 1.8446744073709552e19:
        return now
    _scaled(w, scale)
    return decay * one


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
            back[kb, c] = acc[c] * sigmoid_prime_from_output(prev[kb, c], one)


@blocked_njit(inline="always")
def _forward_and_back(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y, x_rows,
                      y_rows, start, m, first, cost, scale, one, flush):
    """Forward, BP1 (the output error of the cost whose code is ``cost``), BP2 and the bias
    and later-layer gradients (BP3, BP4) of the m examples from ``start`` — CSR rows
    x_rows[start + e], target rows y_rows[start + e] — a layer at a time, into acts[l][e] and
    deltas[l][e], with first-layer weights scale · wts[0]; the gradients start from zero for
    the ``first`` examples of a batch, else continue the sums."""
    depth = len(wts)
    last = depth - 1
    a = acts[0]  # forward, layer by layer
    for e in range(m):
        forward_sparse(wts[0], bs[0], a[e], indptr, indices, values, x_rows[start + e], scale)
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
            d[e, c // BLOCK, c % BLOCK] = output_error(cost, ac, y[yi, c], one)
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
def _update_the_rest(wts, wbs, bs, gwts, gbs, sizes, step, decay):
    """The update of every bias (no decay) and of the weights after the first layer, and
    BP2's book-layout copies of those weights."""
    for layer in range(len(wts)):
        b, gb = bs[layer], gbs[layer]
        for kb in range(b.shape[0]):
            gj = local_array(BLOCK, b.dtype)
            for c in range(BLOCK):
                gj[c] = gb[kb, c]
            for c in range(BLOCK):
                b[kb, c] = stepped(b[kb, c], gj[c], step)
        if layer > 0:
            w, gw, wb = wts[layer], gwts[layer], wbs[layer]
            for r in range(w.shape[0]):
                for kb in range(w.shape[1]):
                    gj = local_array(BLOCK, w.dtype)
                    for c in range(BLOCK):
                        gj[c] = gw[r, kb, c]
                    if decay == 1:
                        for c in range(BLOCK):
                            w[r, kb, c] = stepped(w[r, kb, c], gj[c], step)
                    else:
                        for c in range(BLOCK):
                            w[r, kb, c] = updated(w[r, kb, c], gj[c], decay, step)
            by_input = w.reshape(w.shape[0], -1)  # the book-layout copy, exactly equal
            by_output = wb.reshape(wb.shape[0], -1)
            for k in range(sizes[layer + 1]):
                for r in range(w.shape[0]):
                    by_output[k, r] = by_input[r, k]


@blocked_njit
def epoch(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y, x_rows, y_rows,
           batch_size, steps, decay, cost, hit, cursor, chunk, check_finite, one, flush):
    """Run the mini-batches of one epoch; returns how many were applied (all, unless one
    produced a non-finite delta and ``check_finite``, in which case it is not applied).

    Example p of the epoch is input row x_rows[p] of the CSR arrays and target row
    y_rows[p] of y (M, n_L). ``steps[k]`` is η/k in the arrays' dtype for every batch length
    k ≥ 1, precomputed as the book computes it, and ``decay`` the weights' 1 − ηλ/n; ``cost``
    is the code of the cost's output error, ``one`` 1 in the arrays' dtype and ``flush`` the
    sigmoid's flush-to-zero bound. A batch is processed a layer at a time, over its examples
    in order (``acts`` and ``deltas`` hold them all), so every gradient sums the examples in
    the book's order. gwts[0] and hit are zero between batches.
    """
    prefer_wide_vectors()
    n = x_rows.shape[0]
    applied = 0
    scale = one  # the first layer's weights are scale · wts[0] (see the module docstring)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        m = stop - start
        for q in range(stop, min(stop + m, n)):  # the next batch's pixels, while this one runs
            prefetch_row(indptr, indices, values, x_rows[q])
        _forward_and_back(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y,
                          x_rows, y_rows, start, m, True, cost, scale, one, flush)
        if check_finite and not _gradients_finite(gbs):
            break
        step = steps[m]
        scale = _decayed_scale(wts[0], scale, decay, one)
        if m == 1:  # BP4 and the update, first layer
            _update_single(wts[0], deltas[0][0], indptr, indices, values, x_rows[start], step / scale)
        else:
            _update_swept(wts[0], gwts[0], hit, deltas[0], m, x_rows[start:stop], indptr, indices, values,
                          cursor, chunk, step / scale, True)
        _update_the_rest(wts, wbs, bs, gwts, gbs, sizes, step, decay)
        applied += 1
    if scale != 1:
        _scaled(wts[0], scale)
    return applied


@blocked_njit
def epoch_in_sub_batches(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y, x_rows,
                         y_rows, batch_size, steps, decay, cost, hit, cursor, chunk, check_finite, one,
                         flush):
    """``epoch`` for batches larger than ``acts`` holds (sub = acts[0].shape[0] examples):
    each batch comes in sub-batches of ``sub``, whose activations, deltas and pixels stay in
    cache from the forward pass to the gradient; every sum continues from one sub-batch to the
    next in example order (the same numbers as the batch at once), and the batch is applied
    once all are in. A function of its own, so that only training with such batches compiles it.
    """
    prefer_wide_vectors()
    n = x_rows.shape[0]
    sub = acts[0].shape[0]
    applied = 0
    scale = one
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        for first in range(start, stop, sub):
            end = min(first + sub, stop)
            k = end - first
            for q in range(end, min(end + k, n)):  # the next pixels, while these run
                prefetch_row(indptr, indices, values, x_rows[q])
            _forward_and_back(wts, wbs, bs, gwts, gbs, acts, deltas, sizes, indptr, indices, values, y,
                              x_rows, y_rows, first, k, first == start, cost, scale, one, flush)
            _update_swept(wts[0], gwts[0], hit, deltas[0], k, x_rows[first:end], indptr, indices, values,
                          cursor, chunk, steps[0], False)  # BP4 of the first layer, accumulated
        step = steps[stop - start]
        if check_finite and not _gradients_finite(gbs):
            _apply_hit(wts[0], gwts[0], hit, step, False)  # cleared, not applied
            break
        scale = _decayed_scale(wts[0], scale, decay, one)
        _apply_hit(wts[0], gwts[0], hit, step / scale, True)
        _update_the_rest(wts, wbs, bs, gwts, gbs, sizes, step, decay)
        applied += 1
    if scale != 1:
        _scaled(wts[0], scale)
    return applied
