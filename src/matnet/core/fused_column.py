"""One column at a time on the fused path's own buffers: ``feedforward(x)`` and ``backprop(x, y)``.

A network on the fused path keeps its parameters in the engine's padded transposed buffers
(``matnet.core.fused``); the arrays its user sees are views of them. So one column needs no
copy of anything: its non-zero inputs are found (and checked) in one pass, then the very layer
blocks that training and evaluation run (``matnet.core.fused_layers``) compute its outputs —
the same numbers, to the last bit, as ``evaluate`` and ``SGD`` compute for that input.
"""

from __future__ import annotations

import numpy as np

from matnet.core.fused_layers import forward_example
from matnet.core.kernels.compiled import output_error, sigmoid_prime_from_output
from matnet.core.kernels.jit import BLOCK, blocked_njit
from matnet.core.kernels.machine import prefer_wide_vectors


@blocked_njit(inline="always")
def _nonzero(x, k, positions, values, limit):
    """Column k of x's non-zero inputs, in ascending order, into positions and values (the
    network's dtype); returns their count, or −(r + 1) for the first input r that is NaN,
    infinite or beyond ``limit``. Branch-free: every input is stored, the count advanced
    past the non-zero ones only."""
    count = 0
    for r in range(x.shape[0]):
        v = x[r, k]
        if not abs(v) <= limit:
            return -(r + 1)
        positions[count] = r
        values[count] = v
        count += v != 0
    return count


@blocked_njit
def outputs_of_columns(wts, bs, acts, sizes, x, out, span, positions, values, limit, one, flush):
    """out[:, k] = the output layer for input column x[:, k] (x (n_0, k), any real dtype).

    ``acts`` are the engine's per-example activations (row 0 is used), ``span`` an int64 (2,)
    holding [0, count] — the column as a one-row CSR matrix — and ``positions``, ``values``
    (n_0,) work space, ``one`` 1 in the network's dtype. Returns (−1, or the flat index
    r·k_total + k of the first input that is NaN, infinite or beyond ``limit``; how many
    outputs are not finite)."""
    prefer_wide_vectors()
    last = len(wts) - 1
    n_columns = x.shape[1]
    bad = 0
    for k in range(n_columns):
        count = _nonzero(x, k, positions, values, limit)
        if count < 0:
            return (-count - 1) * n_columns + k, bad
        span[1] = count
        forward_example(wts, bs, acts, sizes, span, positions, values, 0, 0, one, flush)
        a = acts[last][0]
        for c in range(out.shape[0]):
            v = a[c // BLOCK, c % BLOCK]
            out[c, k] = v
            if not np.isfinite(v):
                bad += 1
    return -1, bad


@blocked_njit
def gradient_of_column(wts, bs, acts, sizes, x, y, grad_w, grad_b, span, positions, values, cost, one, flush):
    """BP1–BP4 for one example — x (n_0, 1) and desired output y (n_L, 1), in the network's
    dtype and finite — into grad_w[l] (n_{l+1}, n_l) and grad_b[l] (n_{l+1}, 1), the book's
    layout; ``cost`` is the code of the cost's output error, ``one`` is 1 in that dtype, the
    rest work space as in ``outputs_of_columns``.
    δ of each layer is its bias gradient (BP3), so it is computed straight into grad_b."""
    prefer_wide_vectors()
    layers = len(wts)
    span[1] = _nonzero(x, 0, positions, values, np.inf)
    forward_example(wts, bs, acts, sizes, span, positions, values, 0, 0, one, flush)
    delta = grad_b[layers - 1]
    out = acts[layers - 1][0]
    for c in range(delta.shape[0]):  # BP1
        a = out[c // BLOCK, c % BLOCK]
        delta[c, 0] = output_error(cost, a, y[c, 0], one)
    for layer in range(layers - 1, -1, -1):
        gw, delta = grad_w[layer], grad_b[layer]
        n_here, n_prev = gw.shape
        for c in range(n_here):  # BP4: ∂C/∂w[c, r] = δ_c a_r
            dc = delta[c, 0]
            if layer == 0:
                for r in range(n_prev):
                    gw[c, r] = dc * x[r, 0]
            else:
                previous = acts[layer - 1][0]
                for r in range(n_prev):
                    gw[c, r] = dc * previous[r // BLOCK, r % BLOCK]
        if layer > 0:  # BP2: Σ_c δ_c w[c, r] in ascending c, then ⊙ a(1 − a)
            w, back, previous = wts[layer], grad_b[layer - 1], acts[layer - 1][0]
            for r in range(n_prev):
                acc = one - one
                for c in range(n_here):
                    acc += delta[c, 0] * w[r, c // BLOCK, c % BLOCK]
                back[r, 0] = acc * sigmoid_prime_from_output(previous[r // BLOCK, r % BLOCK], one)
