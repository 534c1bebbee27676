"""The whole-batch engine: backpropagation as matrix products over a stacked mini-batch.

Chapter 2's exercise, "the fully matrix-based approach". Parameters use the book's layout:
``weights[l]`` is (n_{l+1}, n_l) and ``biases[l]`` is (n_{l+1}, 1), updated in place. A
mini-batch of m examples is stacked **as rows**: X is (m, n_0), every activation A^l and
delta Δ^l is (m, n_l).

Why rows: a mini-batch is then a gather of m contiguous rows of the (n, n_0) dataset, every
buffer is C-contiguous, and each product below is a single BLAS gemm on contiguous operands
(the transposes are free flags). The book's orientation, examples as columns of an (n_0, n)
array, makes the gather strided: measured with ``python benchmarks/layout.py``, the same
NumPy epoch ran about 2x slower with columns at m = 10, 100 and 1000.

With Δ^l the (m, n_l) deltas, f′ each layer's derivative and ⊙ the Hadamard product, the
book's four equations become, for a cost C with output error ``cost.delta``:

    BP1  Δ^L = cost.delta(A^L, Y, f′(Z^L))           output error: (A^L − Y) ⊙ σ′(Z^L) for
                                                      the quadratic cost, A^L − Y for the
                                                      cross-entropy
    BP2  Δ^l = (Δ^{l+1} W^{l+1}) ⊙ f′(Z^l)           error carried back one layer
    BP3  ∂C/∂b^l = Σ_rows Δ^l                         bias gradient: a row sum
    BP4  ∂C/∂W^l = (Δ^l)ᵀ A^{l-1}                      weight gradient: one product

and every formula comes from the maths table (``matnet.core.maths``): for the sigmoid,
σ′(Z) = A ⊙ (1 − A) is read from the stored activations instead of a second exp, through a
kernel registry (``matnet.core.kernels``: NumPy or numba); other neurons apply their own
f and f′ to the stored weighted inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from matnet.core import maths
from matnet.core.inputs import converted, first_bad
from matnet.core.kernels import Kernels, get_kernels
from matnet.core.maths import SIGMOID, Activation, Cost, UpdateRule
from matnet.core.spec import Gradient, Spec
from matnet.core.threads import one_blas_thread

Arrays = Sequence[np.ndarray]
Neurons = Sequence[Activation]


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


def _activate(neuron: Activation, z: np.ndarray, out: np.ndarray, kernels: Kernels) -> None:
    """out = f(z) for a (k, n) batch of weighted inputs (f sees neurons × examples)."""
    if neuron is SIGMOID:
        kernels.sigmoid(z, out=out)
    else:
        np.copyto(out, neuron.value(z.T).T)


def forward(weights: Arrays, biases: Arrays, x: np.ndarray, ws: Workspace, neurons: Neurons,
            kernels: Kernels) -> np.ndarray:
    """Feed the (k, n_0) batch ``x`` forward, keeping every layer's Z and A in ``ws``.

    Returns the output activations A^L, a (k, n_L) view into the workspace.
    """
    k = x.shape[0]
    a_prev = x
    for w, b, z, a, neuron in zip(weights, biases, ws.z, ws.a, neurons):
        z_k, a_k = z[:k], a[:k]
        np.matmul(a_prev, w.T, out=z_k)
        z_k += b.T  # b is (n, 1): its transpose broadcasts along the rows
        _activate(neuron, z_k, a_k, kernels)
        a_prev = a_k
    return a_prev


def backward(weights: Arrays, x: np.ndarray, y: np.ndarray, ws: Workspace, neurons: Neurons, cost: Cost,
             kernels: Kernels) -> None:
    """BP1–BP4 for the batch whose forward pass is in ``ws``: gradients into ws.grad_*.

    ``x`` (k, n_0) and ``y`` (k, n_L) are the batch's inputs and desired outputs. The
    gradients are *sums* over the batch (the book's nabla_w, nabla_b), not means.
    """
    k = x.shape[0]
    last = len(weights) - 1
    a, z, delta = ws.a[last][:k], ws.z[last][:k], ws.delta[last][:k]
    if neurons[last] is SIGMOID:
        kernels.output_delta(cost, a, y, out=delta)  # BP1
    else:
        np.copyto(delta, cost.delta(a, y, neurons[last].derivative(z.T).T))
    for layer in range(last, -1, -1):
        delta = ws.delta[layer][:k]
        a_prev = ws.a[layer - 1][:k] if layer > 0 else x
        np.sum(delta, axis=0, out=ws.grad_b[layer])  # BP3
        np.matmul(delta.T, a_prev, out=ws.grad_w[layer])  # BP4
        if layer > 0:
            back, below = ws.back[layer - 1][:k], ws.delta[layer - 1][:k]
            np.matmul(delta, weights[layer], out=back)  # BP2: (Δ^{l+1} W^{l+1}) ...
            if neurons[layer - 1] is SIGMOID:
                kernels.hidden_delta(back, a_prev, out=below)  # ... ⊙ σ′(Z^l)
            else:
                np.multiply(back, neurons[layer - 1].derivative(ws.z[layer - 1][:k].T).T, out=below)


def gradients_finite(ws: Workspace) -> bool:
    """Whether the batch's gradients are all finite (a sum is finite only if every term is)."""
    return all(np.isfinite(g.sum()) for g in ws.grad_b) and all(np.isfinite(g.sum()) for g in ws.grad_w)


def apply_update(weights: Arrays, biases: Arrays, ws: Workspace, rule: UpdateRule, k: int) -> None:
    """The table's update (``maths.updated``) with this batch's gradient sums: the weights
    decay by ``rule.decay``, the biases do not; the step is η/k for *this* batch's size k."""
    step = rule.step(k)
    for w, b, gw, gb in zip(weights, biases, ws.grad_w, ws.grad_b):
        maths.apply_update(w, gw, rule.decay, step)
        maths.apply_update(b[:, 0], gb, 1.0, step)


def sgd_step(weights: Arrays, biases: Arrays, x: np.ndarray, y: np.ndarray, rule: UpdateRule, ws: Workspace,
             neurons: Neurons, cost: Cost, kernels: Kernels, check_finite: bool = True) -> bool:
    """One mini-batch of SGD on the stacked batch x (k, n_0), y (k, n_L); updates in place.

    Returns False, leaving the parameters untouched, when ``check_finite`` and the gradient
    is not finite.
    """
    forward(weights, biases, x, ws, neurons, kernels)
    backward(weights, x, y, ws, neurons, cost, kernels)
    if check_finite and not gradients_finite(ws):
        return False
    apply_update(weights, biases, ws, rule, x.shape[0])
    return True


def train_epoch(weights: Arrays, biases: Arrays, x: np.ndarray, y: np.ndarray, x_rows: np.ndarray,
                y_rows: np.ndarray, batch_size: int, rule: UpdateRule, ws: Workspace, neurons: Neurons,
                cost: Cost, kernels: Kernels, check_finite: bool = True) -> int:
    """One epoch of mini-batch SGD: example p is row x_rows[p] of x (N, n_0) with desired
    output row y_rows[p] of y (M, n_L).

    Batch j holds examples j*m … (j+1)*m − 1 of the epoch, the last one possibly shorter.
    Returns the number of batches applied; a value below the batch count means batch number
    (returned value) had a non-finite gradient and was not applied.
    """
    done = 0
    for start in range(0, x_rows.shape[0], batch_size):
        xr, yr = x_rows[start : start + batch_size], y_rows[start : start + batch_size]
        k = xr.shape[0]
        xb, yb = ws.x[:k], ws.y[:k]
        # mode="clip" gathers straight into the buffer; "raise" would go through a temporary.
        np.take(x, xr, axis=0, out=xb, mode="clip")
        np.take(y, yr, axis=0, out=yb, mode="clip")
        if not sgd_step(weights, biases, xb, yb, rule, ws, neurons, cost, kernels, check_finite):
            return done
        done += 1
    return done


def feedforward(weights: Arrays, biases: Arrays, x: np.ndarray, neurons: Neurons, kernels: Kernels,
                chunk: int = 2048, rows: np.ndarray | None = None) -> np.ndarray:
    """Output activations (n, n_L) for the rows of x (n, n_0) — or for its rows ``rows``,
    gathered a chunk at a time — ``chunk`` rows at a time.

    Evaluation has no backward pass to share buffers with, so it computes the transpose,
    Aᵀ_l = f(W_l Aᵀ_{l-1} + b_l), with the chunk's examples as columns: for these shapes
    OpenBLAS runs (n_l × n_{l-1})·(n_{l-1} × k) about 1.6x faster than the row form
    (k × n_{l-1})·(n_{l-1} × n_l). Chunking bounds memory to n_l × chunk per layer.
    """
    n = x.shape[0] if rows is None else rows.shape[0]
    dtype = weights[0].dtype
    out = np.empty((n, weights[-1].shape[0]), dtype=dtype)
    chunk = max(1, min(chunk, n))
    flat = [np.empty(w.shape[0] * chunk, dtype) for w in weights]
    for start in range(0, n, chunk):
        part = x[start : start + chunk] if rows is None else x[rows[start : start + chunk]]
        part = np.asarray(part, dtype=dtype)
        k = part.shape[0]
        a = part.T
        for w, b, buffer, neuron in zip(weights, biases, flat, neurons):
            z = buffer[: w.shape[0] * k].reshape(w.shape[0], k)  # C-contiguous for any k
            np.matmul(w, a, out=z)
            z += b
            if neuron is SIGMOID:
                kernels.sigmoid(z, out=z)
            else:
                np.copyto(z, neuron.value(z))
            a = z
        out[start : start + k] = a.T
    return out


def _quiet():
    """No NumPy floating-point warnings in the dense paths: z overflowing to ±inf is harmless
    (σ(±inf) is exact), and non-finite results are reported by the callers' checks."""
    return np.errstate(over="ignore", invalid="ignore")


class EngineBackend:
    """The whole-batch engine as a :class:`~matnet.core.backend.Backend`: the parameters in
    plain C-contiguous arrays, one workspace kept per batch size, BLAS on one thread."""

    name = "numpy"

    def __init__(self, spec: Spec, kernels: str = "numpy"):
        self.spec = spec
        self.kernels = get_kernels(kernels)
        sizes, dtype = spec.sizes, spec.dtype
        self.weights = [np.zeros((n_out, n_in), dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros((n_out, 1), dtype) for n_out in sizes[1:]]
        self._workspace: Workspace | None = None

    def _workspace_for(self, batch_size: int) -> Workspace:
        if self._workspace is None or not self._workspace.fits(self.spec.sizes, batch_size, self.spec.dtype):
            self._workspace = Workspace(self.spec.sizes, batch_size, self.spec.dtype)
        return self._workspace

    def prepare(self, batch_size: int, *, outputs: bool = False,
                announce: Callable[[float | None], None] | None = None) -> float:
        """Nothing to compile (the numba registry compiles at its first call): 0 seconds,
        nothing announced."""
        return 0.0

    def inputs(self, matrix: np.ndarray, name: str) -> np.ndarray:
        return converted(name, matrix, self.spec.dtype)

    def train(self, inputs, targets, x_rows, y_rows, batch_size, rule, check_finite) -> int:
        batch_size = min(batch_size, x_rows.shape[0])  # a batch beyond the data is all of it
        ws = self._workspace_for(batch_size)
        with one_blas_thread(), _quiet():
            return train_epoch(self.weights, self.biases, inputs, targets, x_rows, y_rows, batch_size, rule,
                               ws, self.spec.neurons, self.spec.cost, self.kernels, check_finite)

    def outputs(self, inputs, rows) -> tuple[np.ndarray, int]:
        if isinstance(rows, np.ndarray) and rows.size and rows[-1] - rows[0] == rows.size - 1 and (
                np.all(np.diff(rows) == 1)):  # consecutive rows (the test set as loaded): a view
            inputs, rows = inputs[rows[0] : rows[-1] + 1], None
        elif not isinstance(rows, np.ndarray):
            inputs, rows = inputs[rows], None
        with one_blas_thread(), _quiet():
            out = feedforward(self.weights, self.biases, inputs, self.spec.neurons, self.kernels, rows=rows)
        return out, int(np.count_nonzero(~np.isfinite(out)))

    def count_correct(self, inputs, rows, labels) -> tuple[int, int]:
        out, _ = self.outputs(inputs, rows)
        finite = np.isfinite(out).all(axis=1)
        correct = np.count_nonzero((np.argmax(out, axis=1) == labels) & finite)
        return int(correct), int(np.count_nonzero(~finite))

    def feedforward(self, columns) -> tuple[np.ndarray, int, int]:
        try:
            rows = converted("a", columns.T, self.spec.dtype)
        except ValueError:
            return np.empty(0), first_bad(columns, self.spec.dtype), 0
        out, bad = self.outputs(rows, slice(None))
        return np.ascontiguousarray(out.T), -1, bad

    def gradient(self, x, y) -> Gradient:
        ws = self._workspace_for(1)
        with one_blas_thread(), _quiet():
            forward(self.weights, self.biases, x.T, ws, self.spec.neurons, self.kernels)
            backward(self.weights, x.T, y.T, ws, self.spec.neurons, self.spec.cost, self.kernels)
        return [gb.reshape(-1, 1).copy() for gb in ws.grad_b], [gw.copy() for gw in ws.grad_w]

