"""Small helpers shared by the tests."""

from __future__ import annotations

import numpy as np


def book_pairs(x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The book's training format: (784, 1) column, (10, 1) one-hot column."""
    return [(xi.reshape(-1, 1), yi.reshape(-1, 1)) for xi, yi in zip(x, y)]


def synthetic(sizes, n, seed=0, sparsity=0.0):
    """Random inputs in [0, 1) (a fraction ``sparsity`` of them zero) and one-hot targets."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]))
    x[rng.random(x.shape) < sparsity] = 0.0
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    return x, y


def backend_with(name, sizes, params, dtype=np.float64, cost=None, kernels=None):
    """A fresh backend ``name`` ("numba" (the compiled path), "numpy", "numba-kernels", "loop")
    for ``sizes`` holding copies of ``params`` = (weights, biases)."""
    from matnet.core.maths import QUADRATIC, SIGMOID
    from matnet.core.spec import Spec

    spec = Spec(tuple(sizes), np.dtype(dtype), (SIGMOID,) * (len(sizes) - 1), cost or QUADRATIC)
    if name == "numba":
        from matnet.core.fused_backend import FusedBackend

        backend = FusedBackend(spec)
    elif name == "loop":
        from matnet.core.loop import LoopBackend

        backend = LoopBackend(spec)
    else:
        from matnet.core.engine import EngineBackend

        backend = EngineBackend(spec, "numba" if name == "numba-kernels" else "numpy")
    for mine, given in zip(backend.weights + backend.biases, list(params[0]) + list(params[1])):
        np.copyto(mine, given)
    return backend


def train(backend, x, y, order, batch_size, eta, lmbda=0.0, n=1, check_finite=True) -> int:
    """One epoch over rows ``order`` of x and y on ``backend``; the mini-batches applied."""
    from matnet.core.maths import UpdateRule

    y = np.asarray(y, backend.spec.dtype)
    return backend.train(backend.inputs(x, "x"), y, order, order, batch_size, UpdateRule(eta, lmbda, n),
                         check_finite)


def parameters(backend):
    """Copies of a backend's (weights, biases)."""
    return [w.copy() for w in backend.weights], [b.copy() for b in backend.biases]
