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
``Network(sizes, rng=BookRandom(s))`` draws those same numbers from a state of its own, as
``matnet sweep`` runs do. ``Network(sizes, seed=s)`` (or ``rng=`` a Generator) is the
non-book mode: an isolated ``np.random.Generator`` draws the parameters and the shuffles,
touching no global state.

Each call turns the book's data formats into rows of matrices once (``matnet.core.inputs``:
the loader's lists are found again as rows of its arrays, without copying), then runs on a
backend (``matnet.core.backends``). ``self.weights`` / ``self.biases`` are the parameters the
backends update, in place; replacing or editing them between calls is respected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matnet.core import inputs, validation
from matnet.core.activations import check as check_activations
from matnet.core.activations import names as activation_names
from matnet.core.activations import resolve as resolve_activations
from matnet.core.backends import BACKENDS, make_backend
from matnet.core.kernels import numpy_kernels
from matnet.core.shuffle import BookRandom, book_permutation
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


def _copy(params) -> list[np.ndarray]:
    return [a.copy() for group in params for a in group]


def _restore(params, saved: list[np.ndarray]) -> None:
    """Put saved values back into the current parameter arrays, in place."""
    for a, s in zip((a for group in params for a in group), saved, strict=True):
        np.copyto(a, s)


def _finite(params) -> bool:
    return all(np.isfinite(a).all() for group in params for a in group)


def _grouped(saved: list[np.ndarray], depth: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``_copy``'s flat list back as (weights, biases)."""
    return saved[:depth], saved[depth:]


_DRAW_CHUNK = 1 << 20  # float64 values drawn at a time for a float32 network


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
    (float64, the default, or float32), ``seed``/``rng`` (isolated random state),
    ``check_finite`` (stop with DivergenceError when training produces non-finite numbers,
    and refuse non-finite outputs; False gives the book's silent behaviour), ``activation``
    (the neurons: "sigmoid", the book's, "linear", a pair (f, f_prime) of your functions, or
    a list of those, one per layer of weights; see ``matnet.core.activations``). Where finite
    weights and inputs make a weighted input overflow, the sum is ±inf (σ exactly 0 or 1) or
    NaN depending on its order and on fused multiply-adds, so backends can differ there.
    """

    def __init__(
        self,
        sizes,
        *,
        backend: str = "auto",
        dtype=np.float64,
        seed: int | None = None,
        rng: np.random.Generator | BookRandom | None = None,
        check_finite: bool = True,
        activation="sigmoid",
        _initialise: bool = True,
    ):
        sizes = validation.check_sizes(sizes)
        self._activations = resolve_activations(activation, len(sizes) - 1)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be float64 or float32, got {self.dtype}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        check_activations(self._activations, sizes, self.dtype)
        if seed is not None and rng is not None:
            raise ValueError("give seed or rng, not both")
        if seed is not None:
            rng = np.random.default_rng(validation.check_seed(seed))
        elif rng is not None:
            rng = validation.check_rng(rng)
        self._rng = rng
        self.backend = backend
        self._engine = make_backend(backend, tuple(sizes), self.dtype, self._activations)
        self.check_finite = bool(check_finite)
        self._prepared: set[tuple[int, ...]] = set()
        self.num_layers = len(sizes)
        self.sizes = sizes
        self._weight_shapes = [(y, x) for x, y in zip(sizes[:-1], sizes[1:])]
        self._bias_shapes = [(y, 1) for y in sizes[1:]]
        self.biases: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        if _initialise:
            self._initialise()

    def _initialise(self) -> None:
        """Draw the initial parameters: the book's order, biases first, then weights, each
        from the standard normal distribution in float64 (the book's numbers; a float32
        network gets them rounded), drawn in chunks straight into arrays of this dtype."""
        _check_memory(self.sizes, self.dtype)
        if self._rng is None:
            draw = np.random.randn
        elif isinstance(self._rng, BookRandom):
            draw = self._rng.numpy.randn
        else:
            draw = self._rng.standard_normal
        self.biases = [self._draw(draw, (y, 1)) for y in self.sizes[1:]]
        self.weights = [self._draw(draw, (y, x)) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def _draw(self, draw, shape: tuple[int, int]) -> np.ndarray:
        if self.dtype == np.float64:
            book_style = not isinstance(self._rng, np.random.Generator)  # randn(rows, columns)
            return np.asarray(draw(*shape) if book_style else draw(shape))
        out = np.empty(shape, self.dtype)
        flat = out.reshape(-1)
        for start in range(0, flat.size, _DRAW_CHUNK):  # the same stream as one big draw
            flat[start : start + _DRAW_CHUNK] = draw(min(_DRAW_CHUNK, flat.size - start))
        return out

    # ----------------------------------------------------------------- the book's API
    def feedforward(self, a):
        """Output for input ``a``: an (n_0, 1) column gives (n_L, 1); an (n_0, m) matrix of m
        columns gives (n_L, m); a 1-D (n_0,) vector gives (n_L,)."""
        weights, biases = self._parameters(writing=False)
        n_in = self.sizes[0]
        if type(a) is not np.ndarray:
            a = inputs.as_array("a", a)
        if a.ndim not in (1, 2) or a.shape[0] != n_in:
            raise ValueError(
                f"a must be an ({n_in}, 1) column, an ({n_in}, m) matrix or an ({n_in},) vector, "
                f"got shape {a.shape}"
            )
        if a.dtype.kind not in "biuf":
            raise TypeError(f"a must hold real numbers, got dtype {a.dtype}")
        columns = a.reshape(n_in, 1) if a.ndim == 1 else a
        if columns.shape[1] == 0:
            return np.empty((self.sizes[-1], 0), self.dtype)
        out, bad_input, bad = self._engine.columns(weights, biases, columns)
        if bad_input >= 0:
            r, k = divmod(bad_input, columns.shape[1])
            value = columns[r, k]
            what = "NaN or inf" if not np.isfinite(value) else f"a value beyond the range of {self.dtype}"
            raise ValueError(f"a contains {what} (first: {value} at index {(r, k) if a.ndim == 2 else (r,)})")
        if bad and self.check_finite:
            raise self._not_finite(bad, "feedforward")
        return out[:, 0] if a.ndim == 1 else out

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
        or one-hot targets (n, n_L). ``test_data`` likewise, with labels; an empty list or
        tuple is no test data, as in the book. A list is shuffled in place each epoch, as the
        book's is. A mini-batch larger than the data is all of it. ``verbose=False`` silences
        the printed lines; ``on_epoch`` receives an EpochReport after each epoch;
        ``on_progress(done, total)`` is called as mini-batches complete (the epoch then runs
        in slices).
        """
        epochs = validation.check_int("epochs", epochs, 0)
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        eta = validation.check_eta(eta)
        params = self._parameters()
        data = inputs.training_examples(training_data, self.sizes, self.dtype)
        test = None
        if test_data is not None and not (isinstance(test_data, (list, tuple)) and not test_data):
            test = inputs.labelled_examples(test_data, self.sizes, "test_data")
        n = data.n
        batch_size = min(mini_batch_size, n)
        self.prepare(batch_size)
        train_inputs = self._engine.prepare_inputs(data, self.dtype, "training_data inputs")
        if test is not None:
            test_inputs = self._engine.prepare_inputs(test, self.dtype, "test_data inputs")
        order = np.arange(n)
        try:
            for j in range(epochs):
                order = order[self._shuffle(n)]
                started = time.perf_counter()
                self._run_epoch(j, params, train_inputs, data, order, batch_size, eta, on_progress)
                seconds = time.perf_counter() - started
                correct = None if test is None else self._count_correct(params, test_inputs, test)
                if verbose:
                    if test is not None:
                        print(f"Epoch {j}: {correct} / {test.n}")
                    else:
                        print(f"Epoch {j} complete")
                if on_epoch is not None:
                    on_epoch(EpochReport(j, correct, 0 if test is None else test.n, seconds))
        finally:
            if epochs:  # the book shuffles the caller's list
                data.shuffle_pairs(order)

    def update_mini_batch(self, mini_batch, eta) -> None:
        """One gradient-descent step on the list of (x, y) pairs ``mini_batch``: exactly the step
        ``SGD`` takes on that batch (the same backend, the same arithmetic)."""
        eta = validation.check_eta(eta)
        params = self._parameters()
        data = inputs.training_examples(mini_batch, self.sizes, self.dtype, "mini_batch")
        self.prepare(data.n)
        prepared = self._engine.prepare_inputs(data, self.dtype, "mini_batch inputs")
        saved = _copy(params) if self.check_finite else None
        applied = self._engine.train_epoch(*params, prepared, data, np.arange(data.n), data.n, eta,
                                           self.check_finite)
        if saved is not None and not (applied and _finite(params)):
            _restore(params, saved)
            before = _grouped(saved, len(params[0]))
            if not _finite(before):  # it was not this step that made them so
                raise self._not_finite_parameters(before)
            raise DivergenceError(
                f"the mini-batch's update is not finite (eta={eta}); weights and biases left "
                "unchanged. Lower eta, or pass check_finite=False for the book's silent behaviour."
            )

    def backprop(self, x, y):
        """(nabla_b, nabla_w) for one example: the gradient of its cost, layer by layer,
        shaped like ``self.biases`` and ``self.weights``. x is an (n_0, 1) column; y the (n_L, 1)
        desired output (or its label)."""
        params = self._parameters(writing=False)
        column, target = self._example(x, y)
        return self._engine.gradient(*params, column, target)

    def evaluate(self, test_data) -> int:
        """How many test inputs the network classifies correctly (highest output neuron); of
        no inputs (an empty list), none, as in the book."""
        params = self._parameters()
        if isinstance(test_data, (list, tuple)) and not test_data:
            return 0
        test = inputs.labelled_examples(test_data, self.sizes, "test_data")
        prepared = self._engine.prepare_inputs(test, self.dtype, "test_data inputs")
        return self._count_correct(params, prepared, test)

    def cost_derivative(self, output_activations, y):
        """∂C_x/∂a for the quadratic cost: the vector of partial derivatives (a − y)."""
        return output_activations - y

    # ---------------------------------------------------------------- matnet's extras
    def prepare(self, mini_batch_size: int = 10) -> float:
        """Compile the numba code that training and evaluation will run (or load it from
        numba's on-disk cache), so that no timed epoch pays for it. Returns the seconds it
        took; ``SGD`` calls it itself, so calling it first only moves the cost."""
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        key = (min(mini_batch_size, 2),)
        if key in self._prepared:
            return 0.0
        seconds = self._engine.prepare(self.sizes, mini_batch_size, self.dtype)
        self._prepared.add(key)
        return seconds

    def save(self, path: str | Path) -> None:
        """Write sizes, weights, biases, dtype (and named activations other than the sigmoid)
        to a .npz file, atomically (matnet.io)."""
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
        if saved.activations is not None:
            kwargs.setdefault("activation", saved.activations)
        return cls.from_parameters(saved.weights, saved.biases, copy=False, **kwargs)

    @classmethod
    def from_parameters(cls, weights, biases, *, copy: bool = True, **kwargs) -> Network:
        """A Network with these weights and biases (the book's layouts), drawing no random numbers.

        ``weights[l]`` is (n_{l+1}, n_l) and ``biases[l]`` is (n_{l+1}, 1); the layer sizes follow
        from them. ``kwargs`` are the constructor's keywords. The arrays are copied; with
        ``copy=False`` the network adopts those that already have its dtype and layout (and
        trains them in place), as ``load`` does with the arrays it has just read.
        """
        weights = [np.array(w) if copy else np.asarray(w) for w in weights]
        biases = [np.array(b) if copy else np.asarray(b) for b in biases]
        if not weights or any(w.ndim != 2 for w in weights):
            raise ValueError("weights must be a non-empty list of 2-D (n_out, n_in) arrays")
        sizes = [weights[0].shape[1], *(w.shape[0] for w in weights)]
        net = cls(sizes, _initialise=False, **kwargs)
        net.weights = weights
        net.biases = biases
        net._parameters()  # shapes, dtypes and range checked now, not at first use
        if not _finite((net.weights, net.biases)):
            raise net._not_finite_parameters((net.weights, net.biases))
        return net

    @property
    def activations(self) -> tuple[str, ...]:
        """The name of each layer's neurons, e.g. ("sigmoid", "sigmoid") for the book's network."""
        return activation_names(self._activations, self.num_layers - 1)

    @property
    def neurons(self):
        """The activation objects of the layers (``matnet.core.activations.Activation``), or
        None for the book's sigmoids: what ``gradcheck`` and ``save`` read."""
        return self._activations

    @property
    def computed_by(self) -> str:
        """The backend that computes for this network: "numba", "numpy" or "loop" (what
        ``backend="auto"`` resolved to)."""
        return self._engine.name

    # -------------------------------------------------------------------- internals
    def _parameters(self, writing: bool = True) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The user-visible parameter lists, checked, each entry made an array of this network's
        dtype and shape in place (C-contiguous and writable too when ``writing``), so the
        backends can read and update them directly.

        A few attribute reads per array when nothing changed: values are not scanned here;
        non-finite parameters show up as non-finite outputs or deltas, which the callers check."""
        weights, biases = self.weights, self.biases
        owned = self._engine.owned(weights, biases)
        if owned is not None:  # the backend's own arrays: nothing can be wrong
            return owned
        if not writing and _as_made(weights, self._weight_shapes, self.dtype) and _as_made(
            biases, self._bias_shapes, self.dtype
        ):  # the common case, in ~0.3 µs: feedforward and backprop are microsecond calls
            return weights, biases
        depth = self.num_layers - 1
        if len(weights) != depth or len(biases) != depth:
            raise ValueError(
                f"weights and biases must hold {depth} arrays each, got {len(weights)} and {len(biases)}"
            )
        dtype = self.dtype
        converted = []
        for name, arrays, shapes in (("weights", weights, self._weight_shapes),
                                     ("biases", biases, self._bias_shapes)):
            for layer, shape in enumerate(shapes):
                arr = arrays[layer]
                if type(arr) is np.ndarray and arr.dtype == dtype and arr.shape == shape and (
                    not writing or (arr.flags.c_contiguous and arr.flags.writeable)
                ):
                    continue
                converted.append((arrays, layer, self._usable(f"{name}[{layer}]", arr, shape)))
        for arrays, layer, arr in converted:  # all or nothing: a refused array leaves every list as it was
            arrays[layer] = arr
        return weights, biases

    def _usable(self, name: str, arr, shape: tuple[int, int]) -> np.ndarray:
        """``arr`` as a C-contiguous writable array of this network's dtype and ``shape``."""
        a = np.asarray(arr)
        if a.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
        with np.errstate(over="ignore"):
            converted = np.array(a, dtype=self.dtype, order="C")
        if a.dtype.kind == "f" and np.isfinite(a).all() and not np.isfinite(converted).all():
            limit = np.finfo(self.dtype).max
            raise ValueError(f"{name} has values beyond ±{limit:.3g}, the range of {self.dtype}")
        return converted

    def _example(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """x as an (n_0, 1) column and y as an (n_L, 1) desired output, both in this network's
        dtype and checked; plain arrays of the right shapes take a short path."""
        n_in, n_out = self.sizes[0], self.sizes[-1]
        if (type(x) is np.ndarray and x.shape in ((n_in, 1), (n_in,)) and x.dtype.kind in "iuf"
                and type(y) is np.ndarray and y.shape in ((n_out, 1), (n_out,)) and y.dtype.kind in "iuf"):
            column = inputs.converted("(x, y) inputs", x.reshape(n_in, 1), self.dtype)
            return column, inputs.converted("(x, y) outputs", y.reshape(n_out, 1), self.dtype)
        data = inputs.training_examples([(x, y)], self.sizes, self.dtype, "(x, y)")
        row = data.inputs[data.input_index(np.arange(1))]
        column = inputs.converted("(x, y) inputs", row, self.dtype).reshape(n_in, 1)
        return column, data.targets[data.target_index(np.arange(1))].reshape(n_out, 1)

    def _not_finite_parameters(self, params) -> ValueError:
        for name, arrays in zip(("weights", "biases"), params):
            for layer, a in enumerate(arrays):
                if not np.isfinite(a).all():
                    bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
                    return ValueError(f"{name}[{layer}] contains NaN or inf (first: {a[bad]} at index {bad})")
        return ValueError("the parameters are not finite")

    def _not_finite(self, count: int, where: str, what: str = "output value(s) are") -> ValueError:
        """The error for outputs that are not finite (``count`` of ``what``): the parameters
        named if they are the cause, else the limit of float arithmetic."""
        params = (self.weights, self.biases)
        if not _finite(params):
            return self._not_finite_parameters(params)
        largest = max(float(np.abs(a).max()) for group in params for a in group)
        return ValueError(
            f"{where}: {count} {what} not finite although every weight and bias is "
            f"(the largest is {largest:.3g}): the weighted inputs overflow {self.dtype}. Rescale "
            "the parameters, or pass check_finite=False to get the non-finite outputs."
        )

    def _count_correct(self, params, prepared, test: inputs.Examples) -> int:
        correct, bad = self._engine.count_correct(*params, prepared, test)
        if bad and self.check_finite:
            raise self._not_finite(bad, "evaluate", "example(s) have outputs that are")
        return correct

    def _shuffle(self, n: int) -> np.ndarray:
        """This epoch's permutation of the current order, drawn as the book draws it."""
        if isinstance(self._rng, np.random.Generator):
            return self._rng.permutation(n)
        # consumes `random` (or BookRandom's own) exactly as random.shuffle(list) would
        return book_permutation(n, None if self._rng is None else self._rng.python)

    def _run_epoch(self, j, params, prepared, data, order, batch_size, eta, on_progress) -> None:
        n_batches = -(-order.shape[0] // batch_size)
        # Without a progress callback the whole epoch is one backend call.
        per_slice = n_batches if on_progress is None else max(1, n_batches // 50)
        done = 0
        while done < n_batches:
            todo = min(per_slice, n_batches - done)
            rows = order[done * batch_size : (done + todo) * batch_size]
            saved = _copy(params) if self.check_finite else None
            applied = self._engine.train_epoch(*params, prepared, data, rows, batch_size, eta,
                                               self.check_finite)
            if saved is not None and (applied < todo or not _finite(params)):
                before = _grouped(saved, len(params[0]))
                if not _finite(before):  # it was not training that made them so
                    _restore(params, saved)
                    raise self._not_finite_parameters(before)
                bad = applied if _finite(params) else self._replay(params, saved, prepared, data, rows,
                                                                   batch_size, eta)
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

    def _replay(self, params, saved, prepared, data, rows, batch_size, eta) -> int | None:
        """Index in ``rows`` of the first mini-batch that left a parameter non-finite.

        Backends only test gradients, so a finite gradient times a huge η can still overflow a
        parameter unseen. On that (rare) path the slice is re-run from ``saved`` one mini-batch
        at a time, leaving the parameters as they were before the culprit; the fast path never
        pays for a per-batch copy. None if the re-run stays finite (its result is then kept).
        """
        _restore(params, saved)
        for b, start in enumerate(range(0, rows.shape[0], batch_size)):
            before = _copy(params)
            applied = self._engine.train_epoch(*params, prepared, data, rows[start : start + batch_size],
                                               batch_size, eta, True)
            if applied < 1 or not _finite(params):
                _restore(params, before)
                return b
        return None


def _physical_memory() -> int | None:
    """This machine's memory in bytes, where the OS says (Linux, macOS), else None."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _as_made(arrays: list, shapes: list[tuple[int, int]], dtype: np.dtype) -> bool:
    """Whether ``arrays`` are exactly ndarrays of ``dtype`` (the very dtype object, as every
    array made in it carries) and ``shapes``; False sends the caller to the full check."""
    if type(arrays) is not list or len(arrays) != len(shapes):
        return False
    for arr, shape in zip(arrays, shapes):
        if arr.__class__ is not np.ndarray or arr.dtype is not dtype or arr.shape != shape:
            return False
    return True


def _check_memory(sizes: list[int], dtype: np.dtype) -> None:
    """MemoryError, before any allocation, when the parameters cannot fit in this machine."""
    count = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    needed = count * np.dtype(dtype).itemsize
    available = _physical_memory()
    if available is not None and needed > available:
        raise MemoryError(
            f"sizes {sizes} have {count:,} weights and biases: {needed / 2**30:.1f} GiB in {dtype}, "
            f"more than this machine's {available / 2**30:.1f} GiB"
        )
