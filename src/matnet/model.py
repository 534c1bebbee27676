"""What the drop-in networks of chapters 1 and 3 share: parameters on a backend, checked.

``matnet.network.Network`` (chapter 1) and ``matnet.network2.Network`` (chapter 3) are thin
layers of the book's API over :class:`Model`, which holds everything else once:

- the parameters, drawn as the book draws them (``np.random.randn``, biases first), or from a
  network's own random state (``seed=``, ``rng=``), living in a backend
  (``matnet.core.backend``); ``weights``/``biases`` are the user's lists of them, and an array
  put in a list or edited in place is what the next call computes with;
- the data formats, turned into rows of matrices once per call (``matnet.core.inputs``);
- training epochs with the book's shuffle, and the stop on divergence (``check_finite``): no
  call leaves a half-updated network;
- evaluation, outputs, ``feedforward`` and ``backprop``, ``save``/``load``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import operator
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matnet.core import inputs, validation
from matnet.core.activations import check as check_activations
from matnet.core.activations import resolve as resolve_activations
from matnet.core.backend import BACKENDS, make_backend
from matnet.core.maths import QUADRATIC, Cost, UpdateRule
from matnet.core.shuffle import BookRandom, book_permutation
from matnet.core.spec import Spec
from matnet.errors import DivergenceError, TrainingDataChangedError

_DRAW_CHUNK = 1 << 20  # float64 values drawn at a time for a float32 network


def compiling_notice(seconds: float | None) -> str:
    """The line that says a first run is compiling, and for about how long."""
    took = f"about {seconds:.0f} s the last time on this machine" if seconds else "later runs load it"
    return f"matnet: compiling the numba code for this network, first run only ({took}) ..."


def say_compiling(seconds: float | None) -> None:
    """``prepare(announce=...)`` for a terminal or a notebook: the notice on stderr at once."""
    print(compiling_notice(seconds), file=sys.stderr, flush=True)


@dataclass(frozen=True)
class EpochReport:
    """What ``SGD`` reports after each epoch to an ``on_epoch`` callback."""

    epoch: int
    correct: int | None  # test examples classified correctly, if test data was given
    n_test: int
    seconds: float  # training time of the epoch, evaluation excluded


class Model:
    """A feedforward network's parameters on a backend, with the checks its users need.

    ``sizes`` lists the neurons per layer, e.g. [784, 30, 10]. ``weights[l]`` is an
    (sizes[l+1], sizes[l]) array and ``biases[l]`` an (sizes[l+1], 1) column, as in the book.
    Keywords: ``backend`` ("auto", "numba", "numpy", "loop"), ``dtype`` (float64 or float32),
    ``seed``/``rng`` (an isolated random state), ``check_finite`` (stop with DivergenceError
    when training produces non-finite numbers, and refuse non-finite outputs; False gives the
    book's silent behaviour) and ``activation`` (see ``matnet.core.activations``). Where finite
    weights and inputs make a weighted input overflow, the sum is ±inf (σ exactly 0 or 1) or
    NaN depending on its order and on fused multiply-adds, so backends can differ there.
    The cost is the class's ``cost_entry`` (a ``matnet.core.maths.Cost``), unless a subclass
    sets one per network before calling this constructor.
    """

    cost_entry: Cost = QUADRATIC

    def __init__(self, sizes, *, backend: str = "auto", dtype=np.float64, seed: int | None = None,
                 rng: np.random.Generator | BookRandom | None = None, check_finite: bool = True,
                 activation="sigmoid", _initialise: bool = True):
        sizes = validation.check_sizes(sizes)
        neurons = resolve_activations(activation, len(sizes) - 1)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be float64 or float32, got {self.dtype}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        check_activations(neurons, sizes, self.dtype)
        if seed is not None and rng is not None:
            raise ValueError("give seed or rng, not both")
        if seed is not None:
            rng = np.random.default_rng(validation.check_seed(seed))
        elif rng is not None:
            rng = validation.check_rng(rng)
        self._rng = rng
        self.backend = backend
        _check_memory(sizes, self.dtype)
        self._spec = Spec(tuple(sizes), self.dtype, neurons, self.cost_entry)
        self._backend = make_backend(backend, self._spec)
        self.check_finite = bool(check_finite)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self._weight_shapes = [(y, x) for x, y in zip(sizes[:-1], sizes[1:])]
        self._bias_shapes = [(y, 1) for y in sizes[1:]]
        self.biases: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        if _initialise:
            self._initialise()

    # ------------------------------------------------------------------ initial parameters
    def _initialise(self, scaled: bool = False) -> None:
        """Draw the initial parameters in the book's order, biases first, then weights, each
        from the standard normal distribution in float64 (the book's numbers; a float32
        network gets them rounded), the weights divided by √n_in when ``scaled`` (chapter 3's
        default initializer)."""
        if self._rng is None:
            draw = np.random.randn
        elif isinstance(self._rng, BookRandom):
            draw = self._rng.numpy.randn
        else:
            draw = self._rng.standard_normal
        self.biases = [self._draw(draw, (y, 1)) for y in self.sizes[1:]]
        self.weights = [self._draw(draw, (y, x), np.sqrt(x) if scaled else None)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def _draw(self, draw, shape: tuple[int, int], divisor: float | None = None) -> np.ndarray:
        """Standard normal numbers of ``shape`` (divided by ``divisor``), drawn in chunks
        straight into an array of this dtype: the same stream as one big draw."""
        book_style = not isinstance(self._rng, np.random.Generator)  # randn(rows, columns)
        if self.dtype == np.float64:
            values = np.asarray(draw(*shape) if book_style else draw(shape))
            return values if divisor is None else values / divisor
        out = np.empty(shape, self.dtype)
        flat = out.reshape(-1)
        for start in range(0, flat.size, _DRAW_CHUNK):
            values = draw(min(_DRAW_CHUNK, flat.size - start))
            flat[start : start + _DRAW_CHUNK] = values if divisor is None else values / divisor
        return out

    # ------------------------------------------------------------------------- computing
    def feedforward(self, a):
        """Output for input ``a``: an (n_0, 1) column gives (n_L, 1); an (n_0, m) matrix of m
        columns gives (n_L, m); a 1-D (n_0,) vector gives (n_L,)."""
        self._parameters()
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
        if a.dtype is not self.dtype:
            a = inputs.exact_real("a", a)
        columns = a.reshape(n_in, 1) if a.ndim == 1 else a
        if columns.shape[1] == 0:
            return np.empty((self.sizes[-1], 0), self.dtype)
        out, bad_input, bad = self._backend.feedforward(columns)
        if bad_input >= 0:
            r, k = divmod(bad_input, columns.shape[1])
            value = columns[r, k]
            what = "NaN or inf" if not np.isfinite(value) else f"a value beyond the range of {self.dtype}"
            raise ValueError(f"a contains {what} (first: {value} at index {(r, k) if a.ndim == 2 else (r,)})")
        if bad and self.check_finite:
            raise self._not_finite(bad, "feedforward")
        return out[:, 0] if a.ndim == 1 else out

    def backprop(self, x, y):
        """(nabla_b, nabla_w) for one example: the gradient of its cost, layer by layer,
        shaped like ``self.biases`` and ``self.weights``. x is an (n_0, 1) column; y the (n_L, 1)
        desired output (or its label)."""
        self._parameters()
        column, target = self._example(x, y)
        return self._backend.gradient(column, target)

    def prepare(self, mini_batch_size: int = 10, *, outputs: bool = False,
                announce: Callable[[float | None], None] | None = None) -> float:
        """Compile the numba code that training at this mini-batch size and evaluation will run
        (or load it from numba's on-disk cache), so that no timed epoch pays for it; with
        ``outputs``, also what computing the outputs of many examples runs (monitoring costs).
        Returns the seconds it took; ``SGD`` calls it itself, so calling it first only moves
        the cost. ``announce`` (e.g. :func:`say_compiling`) is called before a compile that the
        disk cache cannot spare, with the seconds the last one took here (None if unknown)."""
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        return self._backend.prepare(mini_batch_size, outputs=outputs, announce=announce)

    @property
    def activations(self) -> tuple[str, ...]:
        """The name of each layer's neurons, e.g. ("sigmoid", "sigmoid") for the book's network."""
        return tuple(a.name for a in self._spec.neurons)

    @property
    def neurons(self):
        """The activation of each layer (``matnet.core.maths.Activation``): what ``gradcheck``
        and ``save`` read."""
        return self._spec.neurons

    @property
    def computed_by(self) -> str:
        """The backend that computes for this network: "numba", "numpy" or "loop" (what
        ``backend="auto"`` resolved to)."""
        return self._backend.name

    # ------------------------------------------------------------------ copying, pickling
    def __getstate__(self) -> dict:
        """Everything but the backend: ``copy.deepcopy`` and ``pickle`` would copy a fused
        backend's parameter views as arrays of their own, which its kernels never read."""
        state = self.__dict__.copy()
        del state["_backend"]
        return state

    def __setstate__(self, state: dict) -> None:
        """A fresh backend of the same kind, holding the copied parameters."""
        self.__dict__.update(state)
        self._backend = make_backend(self.backend, self._spec)
        # The lists' arrays into the new backend, as a new network has them; lists the user
        # broke are left for the copy's next call to report, as the original's would.
        with contextlib.suppress(TypeError, ValueError):
            self._parameters()

    # ---------------------------------------------------------------------- save and load
    def save(self, path: str | Path) -> None:
        """Write sizes, weights, biases, dtype (and named activations other than the sigmoid)
        to a .npz file, atomically (matnet.io)."""
        from matnet import io

        io.save_network(self, path)

    @classmethod
    def load(cls, path: str | Path, **kwargs):
        """A network rebuilt from a file written by ``save`` (validated, never unpickled).

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
    def from_parameters(cls, weights, biases, *, copy: bool = True, **kwargs):
        """A network with these weights and biases (the book's layouts), drawing no random numbers.

        ``weights[l]`` is (n_{l+1}, n_l) and ``biases[l]`` is (n_{l+1}, 1); the layer sizes follow
        from them. ``kwargs`` are the constructor's keywords. The arrays are copied into the
        network (``copy`` is accepted for compatibility: they always are).
        """
        weights = [np.asarray(w) for w in weights]
        biases = [np.asarray(b) for b in biases]
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

    # ------------------------------------------------------------------------- training
    def _train(self, data: inputs.Examples, train_inputs, epochs: int, batch_size: int, rule: UpdateRule,
               after_epoch: Callable[[int, float], None],
               on_progress: Callable[[int, int], None] | None) -> None:
        """``epochs`` epochs of mini-batch SGD on ``data`` (its inputs ``train_inputs``, as
        ``_prepared`` makes them), each a fresh shuffle as the book draws it;
        ``after_epoch(j, seconds)`` after each. The caller's list is shuffled in place, as the
        book's is, once, on the way out; a callback that changed it stops training with a
        TrainingDataChangedError after its epoch, the list left as the callback left it."""
        params = self._parameters()
        n = data.n
        batch_size = min(batch_size, n)
        order = np.arange(n)
        given = list(data.pairs) if epochs and data.pairs is not None else None
        try:
            for j in range(epochs):
                order = order[self._shuffle(n)]
                started = time.perf_counter()
                self._run_epoch(j, params, train_inputs, data, order, batch_size, rule, on_progress)
                after_epoch(j, time.perf_counter() - started)
                if not _unchanged(data.pairs, given):
                    raise _changed(data.pairs, given, j)
        finally:
            if epochs and _unchanged(data.pairs, given):  # the book shuffles the caller's list
                data.shuffle_pairs(order)

    def _step(self, mini_batch, rule: UpdateRule) -> None:
        """One gradient-descent step on the list of (x, y) pairs ``mini_batch``: exactly the
        step ``SGD`` takes on that batch (the same backend, the same arithmetic)."""
        params = self._parameters()
        data = inputs.training_examples(mini_batch, self.sizes, self.dtype, "mini_batch")
        self._backend.prepare(data.n)
        prepared = self._prepared(data, "mini_batch inputs")
        saved = _copy(params) if self.check_finite else None
        rows = np.arange(data.n)
        applied = self._backend.train(prepared, data.targets, data.input_index(rows), data.target_index(rows),
                                      data.n, rule, self.check_finite)
        if saved is not None and not (applied and _finite(params)):
            _restore(params, saved)
            before = _grouped(saved, len(params[0]))
            if not _finite(before):  # it was not this step that made them so
                raise self._not_finite_parameters(before)
            raise DivergenceError(
                f"the mini-batch's update is not finite (eta={rule.eta}); weights and biases left "
                "unchanged. Lower eta, or pass check_finite=False for the book's silent behaviour."
            )

    def _run_epoch(self, j, params, prepared, data, order, batch_size, rule, on_progress) -> None:
        n_batches = -(-order.shape[0] // batch_size)
        # Without a progress callback the whole epoch is one backend call.
        per_slice = n_batches if on_progress is None else max(1, n_batches // 50)
        done = 0
        while done < n_batches:
            todo = min(per_slice, n_batches - done)
            rows = order[done * batch_size : (done + todo) * batch_size]
            saved = _copy(params) if self.check_finite else None
            applied = self._train_rows(prepared, data, rows, batch_size, rule)
            if saved is not None and (applied < todo or not _finite(params)):
                before = _grouped(saved, len(params[0]))
                if not _finite(before):  # it was not training that made them so
                    _restore(params, saved)
                    raise self._not_finite_parameters(before)
                bad = applied if _finite(params) else self._replay(params, saved, prepared, data, rows,
                                                                   batch_size, rule)
                if bad is not None:
                    raise DivergenceError(
                        f"training diverged in epoch {j} at mini-batch {done + bad} of {n_batches}: "
                        f"its gradient or update is not finite (eta={rule.eta}). The weights and biases "
                        "hold their values from before that mini-batch. Lower eta, or pass "
                        "check_finite=False for the book's silent behaviour."
                    )
            done += todo
            if on_progress is not None:
                on_progress(done, n_batches)

    def _train_rows(self, prepared, data: inputs.Examples, rows: np.ndarray, batch_size: int,
                    rule: UpdateRule, check_finite: bool | None = None) -> int:
        check = self.check_finite if check_finite is None else check_finite
        return self._backend.train(prepared, data.targets, data.input_index(rows), data.target_index(rows),
                                   batch_size, rule, check)

    def _replay(self, params, saved, prepared, data, rows, batch_size, rule) -> int | None:
        """Index in ``rows`` of the first mini-batch that left a parameter non-finite.

        Backends only test gradients, so a finite gradient times a huge η can still overflow a
        parameter unseen. On that (rare) path the slice is re-run from ``saved`` one mini-batch
        at a time, leaving the parameters as they were before the culprit; the fast path never
        pays for a per-batch copy. None if the re-run stays finite (its result is then kept).
        """
        _restore(params, saved)
        for b, start in enumerate(range(0, rows.shape[0], batch_size)):
            before = _copy(params)
            batch = rows[start : start + batch_size]
            applied = self._train_rows(prepared, data, batch, batch_size, rule, True)
            if applied < 1 or not _finite(params):
                _restore(params, before)
                return b
        return None

    def _shuffle(self, n: int) -> np.ndarray:
        """This epoch's permutation of the current order, drawn as the book draws it."""
        if isinstance(self._rng, np.random.Generator):
            return self._rng.permutation(n)
        # consumes `random` (or BookRandom's own) exactly as random.shuffle(list) would
        return book_permutation(n, None if self._rng is None else self._rng.python)

    # ------------------------------------------------------------------------ evaluating
    def _prepared(self, data: inputs.Examples, name: str):
        """The inputs of ``data`` in the form the backend computes on (checked)."""
        return self._backend.inputs(data.inputs, name)

    def _count_correct(self, prepared, data: inputs.Examples) -> int:
        correct, bad = self._backend.count_correct(prepared, data.input_index(np.arange(data.n)),
                                                   data.label_array())
        if bad and self.check_finite:
            raise self._not_finite(bad, "evaluate", "example(s) have outputs that are")
        return correct

    def _outputs(self, prepared, data: inputs.Examples, where: str) -> np.ndarray:
        """The output activations (n, n_L) of every example of ``data``."""
        out, bad = self._backend.outputs(prepared, data.input_index(np.arange(data.n)))
        if bad and self.check_finite:
            raise self._not_finite(bad, where)
        return out

    def _use_cost(self, cost: Cost) -> None:
        """Compute with ``cost`` from now on: a backend for it, holding the same parameters."""
        if cost is self._spec.cost:
            return
        weights, biases = self._parameters()
        spec = dataclasses.replace(self._spec, cost=cost)
        backend = make_backend(self.backend, spec)
        for mine, now in zip(backend.weights + backend.biases, weights + biases):
            np.copyto(mine, now)
        self._spec, self._backend = spec, backend
        self.weights[:] = backend.weights
        self.biases[:] = backend.biases

    # ---------------------------------------------------------------------- the parameters
    def _parameters(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Make the backend hold what the user's lists hold, and the lists hold the backend's
        arrays; returns the backend's (weights, biases).

        A few attribute reads when nothing changed (~0.3 µs: ``feedforward`` and ``backprop``
        are microsecond calls). An array the user put in a list is checked (shape, real
        numbers, within this dtype's range) and copied in, all or nothing: a refused array
        leaves every list and the backend as they were. Values are not scanned for NaN here;
        non-finite parameters show up as non-finite outputs or deltas, which the callers
        check."""
        mine = self._backend
        weights, biases = self.weights, self.biases
        if (type(weights) is list and type(biases) is list
                and len(weights) == len(mine.weights) == len(biases)
                and all(map(operator.is_, itertools.chain(weights, biases),
                            itertools.chain(mine.weights, mine.biases)))):
            return mine.weights, mine.biases
        depth = self.num_layers - 1
        if not isinstance(weights, list) or not isinstance(biases, list):
            raise TypeError("weights and biases must be lists of arrays, as the book's are")
        if len(weights) != depth or len(biases) != depth:
            raise ValueError(
                f"weights and biases must hold {depth} arrays each, got {len(weights)} and {len(biases)}"
            )
        given = []
        for name, arrays, shapes, targets in (("weights", weights, self._weight_shapes, mine.weights),
                                              ("biases", biases, self._bias_shapes, mine.biases)):
            for layer, shape in enumerate(shapes):
                if arrays[layer] is not targets[layer]:
                    value = self._usable(f"{name}[{layer}]", arrays[layer], shape)
                    given.append((arrays, layer, targets[layer], value))
        for arrays, layer, target, value in given:
            np.copyto(target, value)
            arrays[layer] = target
        return mine.weights, mine.biases

    def _usable(self, name: str, arr, shape: tuple[int, int]) -> np.ndarray:
        """``arr`` as an array of ``shape``, real numbers within this network's dtype's range."""
        a = np.asarray(arr)
        if a.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
        if a.dtype == self.dtype:
            return a
        with np.errstate(over="ignore"):
            converted = a.astype(self.dtype)
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
            if x.dtype is not self.dtype:
                x = inputs.exact_real("(x, y) inputs", x)
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


def _unchanged(pairs: list | None, given: list | None) -> bool:
    """Whether the caller's list ``pairs`` still holds the pairs ``given`` (its copy from the
    start of the call), in order: identity first, at C speed (~2 ns a pair)."""
    if pairs is None:
        return True
    try:
        return len(pairs) == len(given) and list.__eq__(pairs, given)
    except Exception:  # a pair replaced by one whose arrays cannot be compared to the old one's
        return False


def _changed(pairs: list, given: list, epoch: int) -> TrainingDataChangedError:
    what = "replaced pairs of" if len(pairs) == len(given) else "added or removed pairs of"
    return TrainingDataChangedError(
        f"a callback {what} training_data during SGD ({len(given)} pairs when SGD was called, "
        f"{len(pairs)} after epoch {epoch}): SGD trains on the pairs it was called with and shuffles "
        "that list when it returns, so a callback may read it but not change it. Training stopped "
        "and the list is as the callback left it; keep new pairs in another list for the next call."
    )


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


def _physical_memory() -> int | None:
    """This machine's memory in bytes, where the OS says (Linux, macOS), else None."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(sizes: Sequence[int], dtype: np.dtype) -> None:
    """MemoryError, before any allocation, when the parameters cannot fit in this machine."""
    count = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    needed = count * np.dtype(dtype).itemsize
    available = _physical_memory()
    if available is not None and needed > available:
        raise MemoryError(
            f"sizes {list(sizes)} have {count:,} weights and biases: {needed / 2**30:.1f} GiB in {dtype}, "
            f"more than this machine's {available / 2**30:.1f} GiB"
        )
