"""Compiled kernels on the book's own layout: a few input columns, one example's gradient.

``feedforward(x)`` and ``backprop(x, y)`` touch one example, so copying the weights into the
fused path's padded transposed buffers (``matnet.core.fused``) would cost more than the
arithmetic. These kernels read the caller's weights[l] (n_{l+1}, n_l) and biases[l]
(n_{l+1}, 1) as they are, and compute exactly the numbers the fused path computes: each
neuron's weighted input is accumulated over its inputs in ascending order (the first layer
over the non-zero inputs only), one fused multiply-add per term, with the same sigmoid — so
``feedforward``, ``evaluate``, ``backprop`` and ``SGD`` agree to the last bit.
"""

from __future__ import annotations

import numpy as np

from matnet.core.kernels.jit import blocked_njit
from matnet.core.kernels.machine import local_array, prefer_wide_vectors
from matnet.core.kernels.vector_sigmoid import sigmoid

_INTERLEAVE = 8  # neurons accumulated side by side: independent chains of FMAs


@blocked_njit(inline="always")
def _layer_on_book_layout(w, b, inputs, positions, count, out, flush):
    """out[c] = σ(b[c] + Σ_q inputs[q] · w[c, positions[q]]) for every row c of w (n_out, n_in),
    the sum over q < count in ascending order; _INTERLEAVE rows at a time, each its own chain."""
    n_out = w.shape[0]
    for first in range(0, n_out, _INTERLEAVE):
        acc = local_array(_INTERLEAVE, out.dtype)
        rows = local_array(_INTERLEAVE, np.int64)
        for t in range(_INTERLEAVE):
            rows[t] = min(first + t, n_out - 1)  # past the end: a repeat, not stored
            acc[t] = b[rows[t], 0]
        for q in range(count):
            j = positions[q]
            v = inputs[q]
            for t in range(_INTERLEAVE):
                acc[t] += v * w[rows[t], j]
        for t in range(min(_INTERLEAVE, n_out - first)):
            out[first + t] = sigmoid(np.float64(acc[t]), flush)


@blocked_njit
def outputs_of_columns(weights, biases, x, out, scratch, positions, limit, flush):
    """out[:, k] = the output layer for input column x[:, k], on book-layout weights[l]
    (n_{l+1}, n_l) and biases[l] (n_{l+1}, 1). ``scratch`` (3, widest layer) and ``positions``
    (widest layer,) are work space: row 0 the column's non-zero inputs, rows 1 and 2 the
    activations of alternate layers. Returns -1, or the flat index r·k_total + k of the first
    input that is NaN, infinite, or beyond ``limit`` (the network dtype's range); and how many
    outputs are not finite."""
    prefer_wide_vectors()
    n_in, n_columns = x.shape
    layers = len(weights)
    bad = 0
    for k in range(n_columns):
        values = scratch[0]
        count = 0
        for r in range(n_in):  # the column's non-zero inputs, each checked
            v = x[r, k]
            if v != 0:
                if not abs(v) <= limit:
                    return r * n_columns + k, bad
                positions[count] = r
                values[count] = v
                count += 1
        current = scratch[1]
        _layer_on_book_layout(weights[0], biases[0], values, positions, count, current, flush)
        for layer in range(1, layers):
            w = weights[layer]
            previous = current
            current = scratch[1 + layer % 2]
            for r in range(w.shape[1]):  # later layers read every input, zero or not
                positions[r] = r
            _layer_on_book_layout(w, biases[layer], previous, positions, w.shape[1], current, flush)
        for c in range(out.shape[0]):
            out[c, k] = current[c]
            if not np.isfinite(current[c]):
                bad += 1
    return -1, bad


@blocked_njit
def gradient_of_one(weights, biases, x, y, grad_w, grad_b, acts, positions, one, flush):
    """BP1–BP4 for one example — x (n_0, 1) and desired output y (n_L, 1), both in the
    network's dtype and finite — into grad_w[l] (n_{l+1}, n_l) and grad_b[l] (n_{l+1}, 1), book
    layout; ``one`` is 1 in that dtype. ``acts`` (layers + 1, widest) and ``positions``
    (widest,) are work space. δ of each layer is its bias gradient (BP3), so it is computed
    straight into grad_b."""
    prefer_wide_vectors()
    layers = len(weights)
    values = acts[0]
    count = 0
    for r in range(x.shape[0]):  # the non-zero inputs, as the first layer reads them
        if x[r, 0] != 0:
            positions[count] = r
            values[count] = x[r, 0]
            count += 1
    _layer_on_book_layout(weights[0], biases[0], values, positions, count, acts[1], flush)
    for layer in range(1, layers):
        w = weights[layer]
        for r in range(w.shape[1]):
            positions[r] = r
        _layer_on_book_layout(w, biases[layer], acts[layer], positions, w.shape[1], acts[layer + 1], flush)
    delta = grad_b[layers - 1]
    out = acts[layers]
    for c in range(delta.shape[0]):  # BP1
        a = out[c]
        delta[c, 0] = (a - y[c, 0]) * a * (one - a)
    for layer in range(layers - 1, -1, -1):
        w, gw, delta = weights[layer], grad_w[layer], grad_b[layer]
        n_here, n_prev = w.shape
        for c in range(n_here):  # BP4: ∂C/∂w[c, r] = δ_c a_r
            dc = delta[c, 0]
            for r in range(n_prev):
                gw[c, r] = dc * (x[r, 0] if layer == 0 else acts[layer, r])
        if layer > 0:  # BP2: Σ_c δ_c w[c, r] in ascending c, then ⊙ a(1 − a)
            back = grad_b[layer - 1]
            for r in range(n_prev):
                acc = one - one
                for c in range(n_here):
                    acc += delta[c, 0] * w[c, r]
                a = acts[layer, r]
                back[r, 0] = acc * (a * (one - a))
