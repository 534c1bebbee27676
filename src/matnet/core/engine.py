"""The whole-batch engine: backpropagation as matrix products over a stacked mini-batch.

Pure functions on arrays. Parameters use the book's layout: ``weights[l]`` is (n_{l+1}, n_l)
and ``biases[l]`` is (n_{l+1}, 1), and they are updated in place. A mini-batch of m examples
is stacked **as rows**: X is (m, n_0), every activation A^l and delta Δ^l is (m, n_l).

Why rows: a mini-batch is then a gather of m contiguous rows of the (n, n_0) dataset, every
buffer is C-contiguous, and each product below is a single BLAS gemm on contiguous operands
(the transposes are free flags). The book's orientation, examples as columns of an (n_0, n)
array, makes the gather strided: measured with ``python benchmarks/layout.py``, the same
NumPy epoch ran about 2x slower with columns at m = 10, 100 and 1000.

With Δ^l the (m, n_l) deltas and ⊙ the Hadamard product, the book's four equations become:

    BP1  Δ^L = (A^L - Y) ⊙ σ'(Z^L)                   output error, quadratic cost
    BP2  Δ^l = (Δ^{l+1} W^{l+1}) ⊙ σ'(Z^l)           error carried back one layer
    BP3  ∂C/∂b^l = Σ_rows Δ^l                         bias gradient: a row sum
    BP4  ∂C/∂W^l = (Δ^l)ᵀ A^{l-1}                      weight gradient: one product

with σ'(Z) = A ⊙ (1 - A) read from the stored activations instead of a second exp.
The elementwise parts come from a kernel registry (``matnet.core.kernels``). A network of
other neurons (``matnet.core.activations``: one ``Activation`` per layer, ``activations``
below; ``None`` is the book's sigmoids) computes f(Z) in the forward pass and f′(Z^l) from the
stored weighted inputs in BP1 and BP2; BP3 and BP4 do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matnet.core.activations import Activation
from matnet.core.kernels import Kernels, get_kernels

Arrays = Sequence[np.ndarray]
Activations = Sequence[Activation] | None


class Workspace:
    """Every buffer one SGD step needs, allocated once per (sizes, batch size, dtype).

    For a ragged last batch of k < m examples the steps use the first k rows of each buffer,
    which are themselves contiguous, so nothing is ever reallocated inside an epoch.
    """

    def __init__(self, sizes: Sequence[int], batch_size: int, dtype: np.dtype = np.float64):
        self.sizes = tuple(int(n) for n in sizes)
        self.batch_size = int(batch_size)
        self.dtype = np.dtype(dtype)
        m = self.batch_size
        layers = self.sizes[1:]
        self.x = np.empty((m, self.sizes[0]), self.dtype)  # gathered inputs
        self.y = np.empty((m, self.sizes[-1]), self.dtype)  # gathered targets
        self.z = [np.empty((m, n), self.dtype) for n in layers]  # weighted inputs Z^l
        self.a = [np.empty((m, n), self.dtype) for n in layers]  # activations A^l
        self.delta = [np.empty((m, n), self.dtype) for n in layers]  # Δ^l
        self.back = [np.empty((m, n), self.dtype) for n in layers]  # Δ^{l+1} W^{l+1}
        self.grad_w = [np.empty((n_out, n_in), self.dtype) for n_in, n_out in zip(self.sizes[:-1], layers)]
        self.grad_b = [np.empty(n, self.dtype) for n in layers]

    def fits(self, sizes: Sequence[int], batch_size: int, dtype: np.dtype) -> bool:
        """Whether this workspace serves steps of these sizes, batch size and dtype."""
        return (
            self.sizes == tuple(sizes) and self.batch_size == batch_size and self.dtype == np.dtype(dtype)
        )


def forward(
    weights: Arrays, biases: Arrays, x: np.ndarray, ws: Workspace, kernels: Kernels,
    activations: Activations = None,
) -> np.ndarray:
    """Feed the (k, n_0) batch ``x`` forward, keeping every layer's activation in ``ws``.

    Returns the output activations A^L, a (k, n_L) view into the workspace.
    """
    k = x.shape[0]
    a_prev = x
    for layer, (w, b, z, a) in enumerate(zip(weights, biases, ws.z, ws.a)):
        z_k, a_k = z[:k], a[:k]
        np.matmul(a_prev, w.T, out=z_k)
        z_k += b.T  # b is (n, 1): its transpose broadcasts along the rows
        if activations is None:
            kernels.sigmoid(z_k, out=a_k)
        else:
            np.copyto(a_k, activations[layer].value(z_k.T).T)  # f sees neurons × examples
        a_prev = a_k
    return a_prev


def backward(weights: Arrays, x: np.ndarray, y: np.ndarray, ws: Workspace, kernels: Kernels,
             activations: Activations = None) -> None:
    """BP1–BP4 for the batch whose forward pass is in ``ws``: gradients into ws.grad_*.

    ``x`` (k, n_0) and ``y`` (k, n_L) are the batch's inputs and one-hot targets. The
    gradients are *sums* over the batch (the book's nabla_w, nabla_b), not means.
    """
    k = x.shape[0]
    depth = len(weights)
    last = depth - 1
    if activations is None:
        kernels.output_delta(ws.a[last][:k], y, out=ws.delta[last][:k])  # BP1
    else:
        f_prime = activations[last].derivative(ws.z[last][:k].T).T
        np.multiply(ws.a[last][:k] - y, f_prime, out=ws.delta[last][:k])
    for layer in range(last, -1, -1):
        delta = ws.delta[layer][:k]
        a_prev = ws.a[layer - 1][:k] if layer > 0 else x
        np.sum(delta, axis=0, out=ws.grad_b[layer])  # BP3
        np.matmul(delta.T, a_prev, out=ws.grad_w[layer])  # BP4
        if layer > 0:
            back = ws.back[layer - 1][:k]
            np.matmul(delta, weights[layer], out=back)  # BP2: (Δ^{l+1} W^{l+1}) ...
            if activations is None:
                kernels.hidden_delta(back, a_prev, out=ws.delta[layer - 1][:k])  # ... ⊙ σ'(Z^l)
            else:
                f_prime = activations[layer - 1].derivative(ws.z[layer - 1][:k].T).T
                np.multiply(back, f_prime, out=ws.delta[layer - 1][:k])  # ... ⊙ f'(Z^l)


def gradients_finite(ws: Workspace) -> bool:
    """Whether the batch's gradients are all finite (a sum is finite only if every term is)."""
    return all(np.isfinite(g.sum()) for g in ws.grad_b) and all(
        np.isfinite(g.sum()) for g in ws.grad_w
    )


def apply_update(weights: Arrays, biases: Arrays, ws: Workspace, eta: float, k: int) -> None:
    """w ← w − (η/k) ∇w and b ← b − (η/k) ∇b, with k the size of *this* batch (as the book)."""
    step = eta / k
    for w, b, gw, gb in zip(weights, biases, ws.grad_w, ws.grad_b):
        gw *= step
        w -= gw
        gb *= step
        b[:, 0] -= gb


def sgd_step(
    weights: Arrays,
    biases: Arrays,
    x: np.ndarray,
    y: np.ndarray,
    eta: float,
    ws: Workspace,
    kernels: Kernels,
    check_finite: bool = True,
    activations: Activations = None,
) -> bool:
    """One mini-batch of SGD on the stacked batch x (k, n_0), y (k, n_L); updates in place.

    Returns False, leaving the parameters untouched, when ``check_finite`` and the gradient
    is not finite.
    """
    forward(weights, biases, x, ws, kernels, activations)
    backward(weights, x, y, ws, kernels, activations)
    if check_finite and not gradients_finite(ws):
        return False
    apply_update(weights, biases, ws, eta, x.shape[0])
    return True


def train_epoch(
    weights: Arrays,
    biases: Arrays,
    x: np.ndarray,
    y: np.ndarray,
    x_rows: np.ndarray,
    y_rows: np.ndarray,
    batch_size: int,
    eta: float,
    ws: Workspace,
    kernels: Kernels,
    check_finite: bool = True,
    activations: Activations = None,
) -> int:
    """One epoch of mini-batch SGD: example p is row x_rows[p] of x (N, n_0) with desired
    output row y_rows[p] of y (M, n_L).

    Batch j holds examples j*m … (j+1)*m − 1 of the epoch, the last one possibly shorter.
    Returns the number of batches applied; a value below the batch count means batch number
    (returned value) had a non-finite gradient and was not applied.
    """
    n = x_rows.shape[0]
    done = 0
    for start in range(0, n, batch_size):
        xr, yr = x_rows[start : start + batch_size], y_rows[start : start + batch_size]
        k = xr.shape[0]
        xb, yb = ws.x[:k], ws.y[:k]
        # mode="clip" gathers straight into the buffer; "raise" would go through a temporary.
        np.take(x, xr, axis=0, out=xb, mode="clip")
        np.take(y, yr, axis=0, out=yb, mode="clip")
        if not sgd_step(weights, biases, xb, yb, eta, ws, kernels, check_finite, activations):
            return done
        done += 1
    return done


def feedforward(
    weights: Arrays,
    biases: Arrays,
    x: np.ndarray,
    kernels: Kernels | str = "numpy",
    chunk: int = 2048,
    activations: Activations = None,
) -> np.ndarray:
    """Output activations (n, n_L) for the rows of x (n, n_0), ``chunk`` rows at a time.

    Evaluation has no backward pass to share buffers with, so it computes the transpose,
    Aᵀ_l = σ(W_l Aᵀ_{l-1} + b_l), with the chunk's examples as columns: for these shapes
    OpenBLAS runs (n_l × n_{l-1})·(n_{l-1} × k) about 1.6x faster than the row form
    (k × n_{l-1})·(n_{l-1} × n_l). Chunking bounds memory to n_l × chunk per layer.
    """
    if isinstance(kernels, str):
        kernels = get_kernels(kernels)
    n = x.shape[0]
    dtype = weights[0].dtype
    out = np.empty((n, weights[-1].shape[0]), dtype=dtype)
    chunk = max(1, min(chunk, n))
    flat = [np.empty(w.shape[0] * chunk, dtype) for w in weights]
    for start in range(0, n, chunk):
        part = np.asarray(x[start : start + chunk], dtype=dtype)
        k = part.shape[0]
        a = part.T
        for layer, (w, b, buffer) in enumerate(zip(weights, biases, flat)):
            z = buffer[: w.shape[0] * k].reshape(w.shape[0], k)  # C-contiguous for any k
            np.matmul(w, a, out=z)
            z += b
            if activations is None:
                kernels.sigmoid(z, out=z)
            else:
                np.copyto(z, activations[layer].value(z))
            a = z
        out[start : start + k] = a.T
    return out


def predict(weights: Arrays, biases: Arrays, x: np.ndarray, kernels: Kernels | str = "numpy",
            activations: Activations = None) -> np.ndarray:
    """The index of the most active output neuron for each row of x: (n,) int64."""
    return np.argmax(feedforward(weights, biases, x, kernels, activations=activations), axis=1)
