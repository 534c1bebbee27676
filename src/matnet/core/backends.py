"""The interchangeable ways of computing a network, behind one small interface.

``numba``  the fused compiled path (``matnet.core.fused``): training, evaluation and
           ``feedforward``, one compiled call each, on one core.
``numpy``  the whole-batch engine (``matnet.core.engine``): chapter 2's matrix form, BLAS on
           one thread (``matnet.core.threads``).
``loop``   the book's per-example algorithm (``matnet.core.loop``): the correctness oracle.
``auto``   ``numba`` where numba compiles; else ``numpy``, with one warning when numba
           cannot be imported (under NUMBA_DISABLE_JIT=1 the fused code would run as
           interpreted Python, far slower than NumPy, so ``auto`` picks ``numpy`` silently).
           A network of other neurons than the sigmoid (``matnet.core.activations``) is
           computed by ``numpy`` under ``auto``: the fused path has sigmoids compiled in.

A backend first turns an :class:`~matnet.core.inputs.Examples` into the form it computes on
(``prepare_inputs``: the CSR rows for ``numba``, a dense matrix in the network's dtype for the
others), once per ``SGD`` or ``evaluate`` call; then ``train_epoch``, ``count_correct`` and
``columns`` run on the network's parameter lists (the book's layout), updating them in place.
The ``numba`` backend keeps the parameters in its engine and fills the lists with views of
them (``owned`` says when they are); the others compute on the arrays in the lists.
This module imports numba only when the fused backend is made.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

import numpy as np

from matnet.core import engine, inputs, loop
from matnet.core.activations import SIGMOID, Activation
from matnet.core.inputs import Examples
from matnet.core.kernels import get_kernels, jit_enabled, numba_importable
from matnet.core.threads import one_blas_thread
from matnet.errors import BackendUnavailableError

BACKENDS = ("auto", "numba", "numpy", "loop")
FEW_COLUMNS = 64  # feedforward of up to this many columns runs on the columns as given


class FusedBackend:
    """The compiled path: one FusedEngine for the network's shape and dtype, kept across calls."""

    name = "numba"

    def __init__(self, sizes: Sequence[int], dtype: np.dtype):
        from matnet.core import fused, sparse  # imports numba

        self._sparse = sparse
        self.engine = fused.FusedEngine(sizes, dtype)

    def owned(self, weights, biases) -> tuple[list, list] | None:
        """When the lists hold the engine's own views of the parameters (nothing to check or
        copy), the engine's own lists of those views, which its calls take as they are."""
        engine = self.engine
        return (engine.weight_views, engine.bias_views) if engine.owns(weights, biases) else None

    def prepare(self, sizes, batch_size, dtype) -> float:
        """Compile (or load from numba's disk cache) what ``SGD`` and ``evaluate`` run for these
        shapes — the epoch at this batch size and the evaluation — on tiny throw-away data and
        a throw-away engine (this one holds the network's parameters), so that no timed epoch
        pays for it; ``feedforward`` and ``backprop`` compile at their first call. Returns the
        seconds it took."""
        from matnet.core.fused import WHOLE_BATCH

        started = time.perf_counter()
        scratch = FusedBackend(sizes, dtype)
        rng = np.random.default_rng(0)
        weights = [rng.standard_normal((b, a)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [np.zeros((b, 1), dtype) for b in sizes[1:]]
        n = WHOLE_BATCH + 1 if batch_size > WHOLE_BATCH else 2  # a large batch trains in sub-batches
        data = Examples(rng.random((n, sizes[0])), None, n, targets=np.zeros((n, sizes[-1]), dtype),
                        labels=np.zeros(n, np.int64))
        prepared = scratch.prepare_inputs(data, dtype)
        scratch.train_epoch(weights, biases, prepared, data, np.arange(n), min(batch_size, n), 0.1)
        scratch.count_correct(weights, biases, prepared, data)
        return time.perf_counter() - started

    def prepare_inputs(self, data: Examples, dtype: np.dtype, name: str = "inputs"):
        return self._sparse.sparse_rows(data.inputs, dtype, name)

    def train_epoch(self, weights, biases, prepared, data: Examples, order, batch_size, eta,
                    check_finite=True) -> int:
        return self.engine.train_epoch(
            weights, biases, prepared, data.targets, data.input_index(order), data.target_index(order),
            batch_size, eta, check_finite,
        )

    def count_correct(self, weights, biases, prepared, data: Examples) -> tuple[int, int]:
        rows = data.input_index(np.arange(data.n))
        return self.engine.count_correct(weights, biases, prepared, rows, data.labels)

    def gradient(self, weights, biases, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
        """(nabla_b, nabla_w) of one example, x (n_0, 1) and y (n_L, 1) in the weights' dtype."""
        return self.engine.gradient(weights, biases, x, y)

    def columns(self, weights, biases, x: np.ndarray) -> tuple[np.ndarray, int, int]:
        """(outputs (n_L, k), flat index of the first bad input or -1, outputs not finite)
        for the columns of x (n_0, k)."""
        if x.shape[1] <= FEW_COLUMNS:
            return self.engine.outputs_of_columns(weights, biases, x)
        try:
            rows = self._sparse.sparse_rows(x.T, self.engine.dtype)
        except ValueError:  # a bad input: let the column kernel find and report it
            return self.engine.outputs_of_columns(weights, biases, x)
        out, bad = self.engine.outputs(weights, biases, rows, np.arange(x.shape[1]))
        return np.ascontiguousarray(out.T), -1, bad


class EngineBackend:
    """The whole-batch engine; one workspace kept per (sizes, batch size, dtype)."""

    name = "numpy"

    def owned(self, weights, biases) -> None:
        """Never: this backend computes on the caller's arrays (checked at every call)."""
        return None

    def __init__(self, sizes: Sequence[int], dtype: np.dtype, kernels: str = "numpy",
                 activations: Sequence[Activation] | None = None):
        self.kernels = get_kernels(kernels)
        self.activations = activations  # None: the book's sigmoids
        self._workspace: engine.Workspace | None = None

    def workspace(self, sizes, batch_size, dtype) -> engine.Workspace:
        if self._workspace is None or not self._workspace.fits(sizes, batch_size, dtype):
            self._workspace = engine.Workspace(sizes, batch_size, dtype)
        return self._workspace

    def prepare(self, sizes, batch_size, dtype) -> float:
        """Nothing to compile: 0 seconds."""
        return 0.0

    def prepare_inputs(self, data: Examples, dtype: np.dtype, name: str = "inputs") -> np.ndarray:
        return inputs.dense_inputs(data, dtype, name)

    def train_epoch(self, weights, biases, prepared, data: Examples, order, batch_size, eta,
                    check_finite=True) -> int:
        sizes = [prepared.shape[1]] + [w.shape[0] for w in weights]
        batch_size = min(batch_size, order.shape[0])  # a batch beyond the data is all of it
        ws = self.workspace(sizes, batch_size, prepared.dtype)
        with one_blas_thread(), _quiet():
            return engine.train_epoch(
                weights, biases, prepared, data.targets, data.input_index(order), data.target_index(order),
                batch_size, eta, ws, self.kernels, check_finite, self.activations,
            )

    def gradient(self, weights, biases, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
        """(nabla_b, nabla_w) of one example, x (n_0, 1) and y (n_L, 1) in the weights' dtype."""
        sizes = [x.shape[0]] + [w.shape[0] for w in weights]
        ws = self.workspace(sizes, 1, x.dtype)
        with one_blas_thread(), _quiet():
            engine.forward(weights, biases, x.T, ws, self.kernels, self.activations)
            engine.backward(weights, x.T, y.T, ws, self.kernels, self.activations)
        return [gb.reshape(-1, 1).copy() for gb in ws.grad_b], [gw.copy() for gw in ws.grad_w]

    def count_correct(self, weights, biases, prepared, data: Examples) -> tuple[int, int]:
        rows = data.input_index(np.arange(data.n))
        with one_blas_thread(), _quiet():
            outputs = engine.feedforward(weights, biases, prepared[rows], self.kernels,
                                         activations=self.activations)
        finite = np.isfinite(outputs).all(axis=1)
        correct = np.count_nonzero((np.argmax(outputs, axis=1) == data.labels) & finite)
        return int(correct), int(np.count_nonzero(~finite))

    def columns(self, weights, biases, x: np.ndarray) -> tuple[np.ndarray, int, int]:
        try:
            rows = inputs.converted("a", x.T, weights[0].dtype)
        except ValueError:
            return np.empty(0), _first_bad(x, weights[0].dtype), 0
        with one_blas_thread(), _quiet():
            out = engine.feedforward(weights, biases, rows, self.kernels, activations=self.activations).T
        return np.ascontiguousarray(out), -1, int(np.count_nonzero(~np.isfinite(out)))


class LoopBackend(EngineBackend):
    """Per-example backprop, as in the book: the oracle (it never checks for divergence)."""

    name = "loop"

    def gradient(self, weights, biases, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
        with _quiet():
            return loop.backprop(weights, biases, x, y, self.activations)

    def train_epoch(self, weights, biases, prepared, data: Examples, order, batch_size, eta,
                    check_finite=True) -> int:
        with _quiet():
            loop.train_epoch(weights, biases, prepared, data.targets, data.input_index(order),
                             data.target_index(order), batch_size, eta, self.activations)
        return -(-order.shape[0] // batch_size)

    def count_correct(self, weights, biases, prepared, data: Examples) -> tuple[int, int]:
        rows = data.input_index(np.arange(data.n))
        with _quiet():
            outputs = [loop.feedforward(weights, biases, prepared[i].reshape(-1, 1), self.activations)[:, 0]
                       for i in rows]
        finite = [bool(np.isfinite(o).all()) for o in outputs]
        correct = sum(int(ok and np.argmax(o) == label) for o, ok, label in zip(outputs, finite, data.labels))
        return correct, finite.count(False)

    def columns(self, weights, biases, x: np.ndarray) -> tuple[np.ndarray, int, int]:
        try:
            rows = inputs.converted("a", x.T, weights[0].dtype)
        except ValueError:
            return np.empty(0), _first_bad(x, weights[0].dtype), 0
        with _quiet():
            columns = [loop.feedforward(weights, biases, row.reshape(-1, 1), self.activations)[:, 0]
                       for row in rows]
        out = np.stack(columns, axis=1)
        return out, -1, int(np.count_nonzero(~np.isfinite(out)))


def _quiet():
    """No NumPy floating-point warnings in the dense paths: z overflowing to ±inf is harmless
    (σ(±inf) is exact), and non-finite results are reported by the callers' checks."""
    return np.errstate(over="ignore", invalid="ignore")


def _first_bad(x: np.ndarray, dtype: np.dtype) -> int:
    """Flat index r·k + c of the first value of x (n_0, k) that is not finite in ``dtype``."""
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~np.isfinite(x.astype(dtype))
    r, c = np.argwhere(bad)[0]
    return int(r) * x.shape[1] + int(c)


_warned = False


def _numba_problem() -> str | None:
    """None when numba imports; else why not, in a few words: not installed, or installed but
    failing to import (e.g. a numba built for another NumPy)."""
    try:
        if not numba_importable():
            return "numba is not installed"
        import numba  # noqa: F401
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == "numba":
            return "numba is not installed"
        reason = str(exc).strip().splitlines()
        return f"numba cannot be imported ({reason[0] if reason else type(exc).__name__})"
    return None


def make_backend(name: str, sizes: Sequence[int], dtype: np.dtype,
                 activations: Sequence[Activation] | None = None):
    """A fresh backend object for ``name`` (one of BACKENDS), for a network of ``sizes`` and
    ``dtype`` (and ``activations``, None for the book's sigmoids). ``auto`` without a working
    numba warns once per process and runs on NumPy; ``numba`` without one is a
    BackendUnavailableError (an ImportError) saying what to do."""
    global _warned
    if activations is not None:
        if name == "numba":
            kinds = sorted({a.name for a in activations if a is not SIGMOID})
            raise ValueError(f"backend 'numba' computes sigmoid neurons only, not {', '.join(kinds)}: "
                             "use backend='numpy' or 'loop' (or 'auto', which picks 'numpy')")
        if name == "auto":
            name = "numpy"
    if name == "auto":
        problem = _numba_problem()
        if problem is None:
            name = "numba" if jit_enabled() else "numpy"
        else:
            if not _warned:
                warnings.warn(f"{problem}: matnet runs on its NumPy engine, several times slower "
                              "(pip install numba)", RuntimeWarning, stacklevel=3)
                _warned = True
            name = "numpy"
    if name == "numba":
        problem = _numba_problem()
        if problem is not None:
            raise BackendUnavailableError(f"backend 'numba' needs numba, but {problem}: pip install "
                                          "numba, or pass backend='numpy'")
        return FusedBackend(sizes, dtype)
    if name == "numpy":
        return EngineBackend(sizes, dtype, activations=activations)
    if name == "loop":
        return LoopBackend(sizes, dtype, activations=activations)
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
