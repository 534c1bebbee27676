"""The interchangeable ways of running an epoch, behind one small interface.

``loop``  the book's per-example algorithm (matnet.core.loop): the 1x baseline.
``numpy`` the whole-batch engine (matnet.core.engine) with the NumPy kernels.
``numba`` the fused compiled epoch (matnet.core.fused); single steps use the engine with the
          numba kernels (faster than NumPy's on the book's small batches), and evaluation
          the engine with the NumPy kernels: on 2,048-row chunks NumPy's SIMD exp measured
          ~2.7x faster than numba's scalar one.
``auto``  ``numba`` when numba compiles, else ``numpy`` (under NUMBA_DISABLE_JIT=1 the fused
          epoch would run as interpreted Python, far slower than NumPy).
"""

from __future__ import annotations

import time

import numba
import numpy as np

from matnet.core import engine, loop
from matnet.core.fused import FusedTrainer
from matnet.core.kernels import get_kernels

BACKENDS = ("auto", "numba", "numpy", "loop")


class LoopBackend:
    """Per-example backprop, as in the book (no divergence check: it is the oracle)."""

    name = "loop"

    def prepare(self, sizes, batch_size, dtype) -> float:
        """Nothing to compile: 0 seconds."""
        return 0.0

    def prepare_data(self, sizes, x: np.ndarray) -> None:
        """Nothing to precompute from the training inputs."""

    def train_epoch(self, weights, biases, x, y, order, batch_size, eta, check_finite=True) -> int:
        loop.train_epoch(weights, biases, x, y, order, batch_size, eta)
        return -(-order.shape[0] // batch_size)

    def feedforward(self, weights, biases, x: np.ndarray) -> np.ndarray:
        return np.stack([loop.feedforward(weights, biases, row.reshape(-1, 1))[:, 0] for row in x])


class EngineBackend:
    """The whole-batch engine; one workspace kept per (sizes, batch size, dtype)."""

    def __init__(self, kernels: str = "numpy"):
        self.name = kernels
        self.kernels = get_kernels(kernels)
        self._workspace: engine.Workspace | None = None

    def workspace(self, sizes, batch_size, dtype) -> engine.Workspace:
        if self._workspace is None or not self._workspace.fits(sizes, batch_size, dtype):
            self._workspace = engine.Workspace(sizes, batch_size, dtype)
        return self._workspace

    def train_epoch(self, weights, biases, x, y, order, batch_size, eta, check_finite=True) -> int:
        sizes = [x.shape[1]] + [w.shape[0] for w in weights]
        ws = self.workspace(sizes, batch_size, x.dtype)
        return engine.train_epoch(
            weights, biases, x, y, order, batch_size, eta, ws, self.kernels, check_finite
        )

    def feedforward(self, weights, biases, x: np.ndarray) -> np.ndarray:
        return engine.feedforward(weights, biases, x, self.kernels)

    def prepare(self, sizes, batch_size, dtype) -> float:
        """Compile (or load from numba's disk cache) what training at these shapes runs, on
        tiny throw-away data, so no timed epoch pays for it. Returns the seconds it took."""
        started = time.perf_counter()
        rng = np.random.default_rng(0)
        weights = [rng.standard_normal((b, a)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [np.zeros((b, 1), dtype) for b in sizes[1:]]
        x = rng.random((2, sizes[0])).astype(dtype)
        y = np.zeros((2, sizes[-1]), dtype)
        order = np.arange(2)
        self.train_epoch(weights, biases, x, y, order, min(batch_size, 2), 0.1)
        self.feedforward(weights, biases, x)
        self._forget_data()
        return time.perf_counter() - started

    def _forget_data(self) -> None:
        """Drop the warm-up's buffers: the real run sizes its own."""
        self._workspace = None

    def prepare_data(self, sizes, x: np.ndarray) -> None:
        """Nothing to precompute from the training inputs."""


class FusedBackend(EngineBackend):
    """The compiled epoch for training; the engine for single steps and evaluation."""

    def __init__(self):
        super().__init__("numba")
        self._trainer: FusedTrainer | None = None
        self._evaluation_kernels = get_kernels("numpy")

    def feedforward(self, weights, biases, x: np.ndarray) -> np.ndarray:
        return engine.feedforward(weights, biases, x, self._evaluation_kernels)

    def trainer(self, sizes, dtype) -> FusedTrainer:
        """The fused trainer for this shape and dtype, kept across epochs and SGD calls."""
        sizes = tuple(sizes)
        if self._trainer is None or self._trainer.sizes != sizes or self._trainer.dtype != dtype:
            self._trainer = FusedTrainer(sizes, dtype)
        return self._trainer

    def prepare_data(self, sizes, x: np.ndarray) -> None:
        """Build the sparse form of the inputs now, so that no timed epoch pays for it."""
        self.trainer(sizes, x.dtype).sparse(x)

    def train_epoch(self, weights, biases, x, y, order, batch_size, eta, check_finite=True) -> int:
        sizes = (x.shape[1], *(w.shape[0] for w in weights))
        trainer = self.trainer(sizes, x.dtype)
        return trainer.train_epoch(weights, biases, x, y, order, batch_size, eta, check_finite)

    def _forget_data(self) -> None:
        super()._forget_data()
        self._trainer = None


def jit_enabled() -> bool:
    """False under NUMBA_DISABLE_JIT=1, where numba functions run as plain Python."""
    return not numba.config.DISABLE_JIT


def make_backend(name: str):
    """A fresh backend object for ``name`` (one of BACKENDS)."""
    if name == "auto":
        name = "numba" if jit_enabled() else "numpy"
    if name == "numba":
        return FusedBackend()
    if name == "numpy":
        return EngineBackend("numpy")
    if name == "loop":
        return LoopBackend()
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
