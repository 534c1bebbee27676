"""The drop-in ``Network``: the book's ``network.py`` API on top of matnet's engines.

Swap one import and the book's shell session runs unchanged, only faster::

    import matnet.mnist_loader as mnist_loader
    import matnet.network as network
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network.Network([784, 30, 10])
    net.SGD(training_data, 30, 10, 3.0, test_data=test_data)

Book mode (the default) uses random numbers exactly as the book does: initial biases, then
weights, from ``np.random.randn``, and one ``random.shuffle`` of the training list per
epoch — so after ``np.random.seed(s); random.seed(s)`` matnet follows the book's trajectory.
``Network(sizes, seed=s)`` (or ``rng=``) is the non-book mode: an isolated
``np.random.Generator`` draws the parameters and the shuffles, touching no global state.

``SGD`` stacks the training data into matrices once per call, then runs each epoch on a
backend (see ``matnet.core.backends``). ``self.weights`` / ``self.biases`` are the parameters the
backends update, in place; replacing or editing them between calls is respected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matnet.core import engine, validation
from matnet.core.backends import BACKENDS, make_backend
from matnet.core.kernels import numpy_kernels
from matnet.core.shuffle import book_permutation
from matnet.errors import DivergenceError


def sigmoid(z):
    """The sigmoid function, elementwise, without overflow for any finite z."""
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    return numpy_kernels.sigmoid(z, np.empty_like(z))[()]


def sigmoid_prime(z):
    """Derivative of the sigmoid function, σ(z)(1 − σ(z))."""
    s = sigmoid(z)
    return s * (1 - s)


def _quiet():
    """No NumPy floating-point warnings: z overflowing to ±inf is harmless (σ(±inf) is exact)
    and non-finite results are reported by ``check_finite`` as a DivergenceError instead."""
    return np.errstate(over="ignore", invalid="ignore")


def _copy(params) -> list[np.ndarray]:
    return [a.copy() for group in params for a in group]


def _restore(params, saved: list[np.ndarray]) -> None:
    """Put saved values back into the current parameter arrays, in place."""
    for a, s in zip((a for group in params for a in group), saved, strict=True):
        np.copyto(a, s)


def _finite(params) -> bool:
    return all(np.isfinite(a).all() for group in params for a in group)


@dataclass(frozen=True)
class EpochReport:
    """What ``SGD`` reports after each epoch to an ``on_epoch`` callback."""

    epoch: int
    correct: int | None  # test examples classified correctly, if test data was given
    n_test: int
    seconds: float  # training time of the epoch, evaluation excluded


class Network:
    """A feedforward sigmoid network trained by mini-batch SGD on the quadratic cost.

    ``sizes`` lists the neurons per layer, e.g. [784, 30, 10]. ``weights[l]`` is an
    (sizes[l+1], sizes[l]) array and ``biases[l]`` an (sizes[l+1], 1) column, as in the book.

    Non-book keywords: ``backend`` ("auto", "numba", "numpy", "loop"), ``dtype``
    (float64 or float32), ``seed``/``rng`` (isolated random state), ``check_finite``
    (stop with DivergenceError when training produces non-finite numbers; False gives the
    book's silent behaviour).
    """

    def __init__(
        self,
        sizes,
        *,
        backend: str = "auto",
        dtype=np.float64,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        check_finite: bool = True,
        _initialise: bool = True,
    ):
        sizes = validation.check_sizes(sizes)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be float64 or float32, got {self.dtype}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if seed is not None and rng is not None:
            raise ValueError("give seed or rng, not both")
        self._rng = rng if rng is not None else (None if seed is None else np.random.default_rng(seed))
        self.backend = backend
        self._engine = make_backend(backend)
        self.check_finite = bool(check_finite)
        self._prepared = False
        self.num_layers = len(sizes)
        self.sizes = sizes
        if not _initialise:  # from_parameters sets them
            self.biases, self.weights = [], []
            return
        if self._rng is None:
            randn = np.random.randn
        else:
            def randn(*shape):
                return self._rng.standard_normal(shape)
        # The book's order: all biases first, then all weights.
        self.biases = [randn(y, 1).astype(self.dtype, copy=False) for y in sizes[1:]]
        self.weights = [
            randn(y, x).astype(self.dtype, copy=False) for x, y in zip(sizes[:-1], sizes[1:])
        ]

    # ----------------------------------------------------------------- the book's API
    def feedforward(self, a):
        """Output for input ``a``: an (n_0, 1) column gives (n_L, 1); an (n_0, m) matrix of m
        columns gives (n_L, m); a 1-D (n_0,) vector gives (n_L,)."""
        params = self._parameters()
        arr = validation.as_array("a", a)
        n_in = self.sizes[0]
        if arr.ndim not in (1, 2) or arr.shape[0] != n_in:
            raise ValueError(
                f"a must be an ({n_in}, 1) column, an ({n_in}, m) matrix or an ({n_in},) vector, "
                f"got shape {arr.shape}"
            )
        if arr.ndim == 1:
            rows = validation.as_inputs("a", arr.reshape(1, -1), n_in, self.dtype)
            with _quiet():
                return self._engine.feedforward(*params, rows)[0]
        rows = validation.as_inputs("a", arr.T, n_in, self.dtype)
        with _quiet():
            return np.ascontiguousarray(self._engine.feedforward(*params, rows).T)

    def SGD(
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        test_data=None,
        *,
        verbose: bool = True,
        on_epoch: Callable[[EpochReport], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Train by mini-batch stochastic gradient descent, printing the book's epoch lines.

        ``training_data``: the book's list of (x, y) pairs (x (n_0, 1), y one-hot (n_L, 1)),
        any iterable of them (e.g. a zip), or a tuple of arrays (X, Y) with X of shape
        (n, n_0) — one example per row, like the book's ``load_data`` — and Y int labels (n,)
        or one-hot targets (n, n_L). ``test_data`` likewise, with labels. A list is shuffled
        in place each epoch, as the book's is. ``verbose=False`` silences the printed lines;
        ``on_epoch`` receives an EpochReport after each epoch; ``on_progress(done, total)``
        is called as mini-batches complete (the epoch then runs in slices).
        """
        epochs = validation.check_int("epochs", epochs, 0)
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        eta = validation.check_eta(eta)
        params = self._parameters()
        x, y, pairs = validation.training_arrays(training_data, self.sizes, self.dtype)
        test = None
        if test_data is not None:
            test = validation.labelled_arrays(test_data, self.sizes, self.dtype, "test_data")
        self.prepare(mini_batch_size)
        self._engine.prepare_data(self.sizes, x)  # e.g. the fused path's sparse inputs
        n = x.shape[0]
        order = np.arange(n)
        original = list(pairs) if pairs is not None else None
        try:
            for j in range(epochs):
                order = order[self._shuffle(n)]
                started = time.perf_counter()
                self._run_epoch(j, params, x, y, order, mini_batch_size, eta, on_progress)
                seconds = time.perf_counter() - started
                correct = None if test is None else self._count_correct(*test)
                if verbose:
                    if test is not None:
                        print(f"Epoch {j}: {correct} / {test[0].shape[0]}")
                    else:
                        print(f"Epoch {j} complete")
                if on_epoch is not None:
                    on_epoch(EpochReport(j, correct, 0 if test is None else test[0].shape[0], seconds))
        finally:
            if pairs is not None:
                pairs[:] = [original[i] for i in order]  # the book shuffles the caller's list

    def update_mini_batch(self, mini_batch, eta) -> None:
        """One gradient-descent step on the list of (x, y) pairs ``mini_batch``."""
        eta = validation.check_eta(eta)
        params = self._parameters()
        x, y, _ = validation.training_arrays(mini_batch, self.sizes, self.dtype, "mini_batch")
        ws = engine.Workspace(self.sizes, x.shape[0], self.dtype)
        saved = _copy(params) if self.check_finite else None
        with _quiet():
            applied = engine.sgd_step(*params, x, y, eta, ws, self._kernels(), self.check_finite)
        if saved is not None and not (applied and _finite(params)):
            _restore(params, saved)  # the gradient was finite but the update overflowed
            raise DivergenceError(
                f"the mini-batch's update is not finite (eta={eta}); weights and biases left "
                "unchanged. Lower eta, or pass check_finite=False for the book's silent behaviour."
            )

    def backprop(self, x, y):
        """(nabla_b, nabla_w) for one example: the gradient of its cost, layer by layer,
        shaped like ``self.biases`` and ``self.weights``."""
        params = self._parameters()
        xs, ys, _ = validation.training_arrays([(x, y)], self.sizes, self.dtype, "(x, y)")
        ws = engine.Workspace(self.sizes, 1, self.dtype)
        with _quiet():
            engine.forward(*params, xs, ws, self._kernels())
            engine.backward(params[0], xs, ys, ws, self._kernels())
        return [gb.reshape(-1, 1).copy() for gb in ws.grad_b], [gw.copy() for gw in ws.grad_w]

    def evaluate(self, test_data) -> int:
        """How many test inputs the network classifies correctly (highest output neuron)."""
        params = self._parameters()
        x, labels = validation.labelled_arrays(test_data, self.sizes, self.dtype, "test_data")
        return self._count_correct(x, labels, params)

    def cost_derivative(self, output_activations, y):
        """∂C_x/∂a for the quadratic cost: the vector of partial derivatives (a − y)."""
        return output_activations - y

    # ---------------------------------------------------------------- matnet's extras
    def prepare(self, mini_batch_size: int = 10) -> float:
        """Compile the numba code that training and evaluation will run (or load it from
        numba's on-disk cache), so that no timed epoch pays for it. Returns the seconds it
        took; ``SGD`` calls it itself, so calling it first only moves the cost."""
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        if self._prepared:
            return 0.0
        seconds = self._engine.prepare(self.sizes, mini_batch_size, self.dtype)
        self._prepared = True
        return seconds

    def save(self, path: str | Path) -> None:
        """Write sizes, weights, biases and dtype to a .npz file, atomically (matnet.io)."""
        from matnet import io

        io.save_network(self, path)

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> Network:
        """A Network rebuilt from a file written by ``save`` (validated, never unpickled).

        ``kwargs`` are ``from_parameters``'s: ``backend=``, ``check_finite=``, ``seed=``/``rng=``
        (shuffles from that generator; without one, from ``random`` as in the book) and
        ``dtype=`` to convert (default: the file's dtype).
        """
        from matnet import io

        saved = io.read_network(path)
        kwargs.setdefault("dtype", saved.dtype)
        return cls.from_parameters(saved.weights, saved.biases, **kwargs)

    @classmethod
    def from_parameters(cls, weights, biases, **kwargs) -> Network:
        """A Network with these weights and biases (the book's layouts), drawing no random numbers.

        ``weights[l]`` is (n_{l+1}, n_l) and ``biases[l]`` is (n_{l+1}, 1); the layer sizes follow
        from them. ``kwargs`` are the constructor's keywords. The arrays are copied.
        """
        weights = [np.asarray(w) for w in weights]
        biases = [np.asarray(b) for b in biases]
        if not weights or any(w.ndim != 2 for w in weights):
            raise ValueError("weights must be a non-empty list of 2-D (n_out, n_in) arrays")
        sizes = [weights[0].shape[1], *(w.shape[0] for w in weights)]
        net = cls(sizes, _initialise=False, **kwargs)
        net.weights = [np.array(w, dtype=net.dtype, order="C") for w in weights]
        net.biases = [np.array(b, dtype=net.dtype, order="C") for b in biases]
        net._parameters()  # shapes, dtypes and finiteness checked now, not at first use
        return net

    # -------------------------------------------------------------------- internals
    def _kernels(self):
        return getattr(self._engine, "kernels", None) or engine.get_kernels("numpy")

    def _parameters(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The user-visible parameter lists, checked and made C-contiguous writable arrays of
        this network's dtype in place, so the backends can update them directly."""
        if len(self.weights) != self.num_layers - 1 or len(self.biases) != self.num_layers - 1:
            raise ValueError(
                f"weights and biases must hold {self.num_layers - 1} arrays each, "
                f"got {len(self.weights)} and {len(self.biases)}"
            )
        for name, arrays, shapes in (
            ("weights", self.weights, [(y, x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]),
            ("biases", self.biases, [(y, 1) for y in self.sizes[1:]]),
        ):
            for i, (arr, shape) in enumerate(zip(arrays, shapes)):
                a = np.asarray(arr)
                if a.shape != shape:
                    raise ValueError(f"{name}[{i}] must have shape {shape}, got {a.shape}")
                if a.dtype.kind not in "biuf":
                    raise TypeError(f"{name}[{i}] must hold real numbers, got dtype {a.dtype}")
                if self.check_finite and not np.isfinite(a).all():  # else: the book's silence
                    raise ValueError(f"{name}[{i}] contains NaN or inf")
                usable = (
                    isinstance(arr, np.ndarray)
                    and a.dtype == self.dtype
                    and a.flags.c_contiguous
                    and a.flags.writeable
                )
                if not usable:
                    arrays[i] = np.array(a, dtype=self.dtype, order="C")
        return self.weights, self.biases

    def _shuffle(self, n: int) -> np.ndarray:
        """This epoch's permutation of the current order, drawn as the book draws it."""
        if self._rng is not None:
            return self._rng.permutation(n)
        return book_permutation(n)  # consumes `random` exactly as random.shuffle(list) would

    def _run_epoch(self, j, params, x, y, order, batch_size, eta, on_progress) -> None:
        n_batches = -(-order.shape[0] // batch_size)
        # Without a progress callback the whole epoch is one backend call.
        per_slice = n_batches if on_progress is None else max(1, n_batches // 50)
        done = 0
        while done < n_batches:
            todo = min(per_slice, n_batches - done)
            rows = order[done * batch_size : (done + todo) * batch_size]
            saved = _copy(params) if self.check_finite else None
            with _quiet():
                applied = self._engine.train_epoch(*params, x, y, rows, batch_size, eta, self.check_finite)
            if saved is not None and (applied < todo or not _finite(params)):
                bad = applied if _finite(params) else self._replay(params, saved, x, y, rows, batch_size, eta)
                if bad is not None:
                    raise DivergenceError(
                        f"training diverged in epoch {j} at mini-batch {done + bad} of {n_batches}: "
                        f"its gradient or update is not finite (eta={eta}). The weights and biases "
                        "hold their values from before that mini-batch. Lower eta, or pass "
                        "check_finite=False for the book's silent behaviour."
                    )
            done += todo
            if on_progress is not None:
                on_progress(done, n_batches)

    def _replay(self, params, saved, x, y, rows, batch_size, eta) -> int | None:
        """Index in ``rows`` of the first mini-batch that left a parameter non-finite.

        Backends only test gradients, so a finite gradient times a huge η can still overflow a
        parameter unseen. On that (rare) path the slice is re-run from ``saved`` one mini-batch
        at a time, leaving the parameters as they were before the culprit; the fast path never
        pays for a per-batch copy. None if the re-run stays finite (its result is then kept).
        """
        _restore(params, saved)
        for b, start in enumerate(range(0, rows.shape[0], batch_size)):
            before = _copy(params)
            with _quiet():
                applied = self._engine.train_epoch(
                    *params, x, y, rows[start : start + batch_size], batch_size, eta, True
                )
            if applied < 1 or not _finite(params):
                _restore(params, before)
                return b
        return None

    def _count_correct(self, x, labels, params=None) -> int:
        params = params or self._parameters()
        with _quiet():
            outputs = self._engine.feedforward(*params, x)
        return int(np.count_nonzero(np.argmax(outputs, axis=1) == labels))
