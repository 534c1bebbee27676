"""The drop-in ``network2``: chapter 3's network — cross-entropy, L2 regularization, better
initial weights, monitoring — on matnet's engines.

Swap one import and the chapter's sessions run as in the book, only faster::

    import matnet.mnist_loader as mnist_loader
    import matnet.network2 as network2
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    net.SGD(training_data[:1000], 400, 10, 0.5, evaluation_data=test_data,
            monitor_evaluation_accuracy=True, monitor_training_cost=True)

Same names, arguments, printed lines, returned lists and random numbers as the book's module:
``default_weight_initializer`` draws biases then weights/√n_in from ``np.random.randn``,
``SGD`` shuffles with one ``random.shuffle`` per epoch, and ``load`` draws (and discards) a
default initialization, as the book's does. ``save`` writes the book's JSON, atomically;
files saved by either load in the other.

The costs are entries of the maths table (``matnet.core.maths``): the classes here are the
book's face of them. Monitoring computes what it prints from one pass over each data set per
epoch (the book feeds the evaluation data forward twice for its accuracy), so a monitored
epoch costs little more than a plain one.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matnet.core import inputs, maths, validation
from matnet.core.maths import UpdateRule, sigmoid, sigmoid_prime
from matnet.core.shuffle import BookRandom
from matnet.errors import ModelFileError
from matnet.mnist_loader import vectorized_result
from matnet.model import Model, say_compiling

__all__ = ["BookRandom", "CrossEntropyCost", "Epoch", "Network", "QuadraticCost", "load", "sigmoid",
           "sigmoid_prime", "vectorized_result"]


class QuadraticCost:
    """C = ½‖a − y‖²: the cost of chapters 1–2."""

    entry = maths.QUADRATIC

    @staticmethod
    def fn(a, y) -> float:
        """The cost of output ``a`` against desired output ``y``."""
        return maths.QUADRATIC.fn(a, y)

    @staticmethod
    def delta(z, a, y):
        """The output layer's error δ^L = (a − y) ⊙ σ′(z)."""
        return maths.QUADRATIC.delta(a, y, sigmoid_prime(z))


class CrossEntropyCost:
    """C = Σ −y ln a − (1 − y) ln(1 − a): learning does not slow down when the output saturates."""

    entry = maths.CROSS_ENTROPY

    @staticmethod
    def fn(a, y) -> float:
        """The cost of output ``a`` against desired output ``y``; a = y = 1 costs 0 (the book's
        ``nan_to_num``)."""
        return maths.CROSS_ENTROPY.fn(a, y)

    @staticmethod
    def delta(z, a, y):
        """The output layer's error δ^L = a − y (``z`` is not used: σ′ cancels)."""
        return maths.CROSS_ENTROPY.delta(a, y, None)


COST_CLASSES = {cls.__name__: cls for cls in (QuadraticCost, CrossEntropyCost)}


def cost_class(entry: maths.Cost) -> type:
    """The class of this module that stands for the maths table's ``entry``."""
    return next(cls for cls in COST_CLASSES.values() if cls.entry is entry)


def _checked_cost(cost: object) -> type:
    if isinstance(cost, type) and cost in COST_CLASSES.values():
        return cost
    raise TypeError(f"cost must be QuadraticCost or CrossEntropyCost (matnet.network2's classes), "
                    f"got {cost!r}")


@dataclass(frozen=True)
class Epoch:
    """What ``SGD`` hands an ``on_epoch`` callback after each epoch: the figures it printed
    (None where not monitored) and the epoch's training time, monitoring excluded."""

    epoch: int
    seconds: float
    training_cost: float | None
    training_accuracy: int | None
    n_training: int
    evaluation_cost: float | None
    evaluation_accuracy: int | None
    n_evaluation: int


class Network(Model):
    """Chapter 3's network: sigmoid neurons, a cost class (``CrossEntropyCost`` by default),
    L2 regularization in ``SGD``, and weights initialized N(0, 1/n_in).

    Keywords beyond the book's, as ``matnet.network.Network`` has them: ``backend``, ``dtype``,
    ``seed``/``rng``, ``check_finite``, ``activation``.
    """

    def __init__(self, sizes, cost=CrossEntropyCost, *, _initialise: bool = True, **kwargs):
        self.cost = _checked_cost(cost)
        super().__init__(sizes, _initialise=False, **kwargs)
        if _initialise:
            self.default_weight_initializer()

    @property
    def cost_entry(self) -> maths.Cost:
        """The maths table's entry of ``self.cost``."""
        return _checked_cost(self.cost).entry

    def default_weight_initializer(self) -> None:
        """Biases N(0, 1), weights N(0, 1/n_in): drawn biases first, layer by layer, from
        ``np.random.randn`` (or the network's own random state)."""
        self._initialise(scaled=True)

    def large_weight_initializer(self) -> None:
        """Biases and weights N(0, 1), as chapter 1's network draws them."""
        self._initialise()

    def SGD(
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        lmbda=0.0,
        evaluation_data=None,
        monitor_evaluation_cost=False,
        monitor_evaluation_accuracy=False,
        monitor_training_cost=False,
        monitor_training_accuracy=False,
        *,
        verbose: bool = True,
        on_epoch: Callable[[Epoch], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> tuple[list[float], list[int], list[float], list[int]]:
        """Mini-batch SGD with L2 regularization λ = ``lmbda``, monitoring what the flags ask,
        epoch by epoch; returns (evaluation_cost, evaluation_accuracy, training_cost,
        training_accuracy), one entry per epoch in each monitored list.

        Data as ``matnet.network.Network.SGD`` takes it: the book's lists (training pairs with
        one-hot y, evaluation pairs with labels; either kind is read either way), any iterable
        of pairs, or arrays (X, Y). After each epoch it prints ``Epoch j training complete``,
        then each monitored figure in the book's order and words, then an empty line.
        ``verbose``, ``on_epoch`` (an :class:`Epoch`) and ``on_progress`` as in chapter 1's,
        which may read the training list but not change it (TrainingDataChangedError).
        """
        epochs = validation.check_int("epochs", epochs, 0)
        mini_batch_size = validation.check_int("mini_batch_size", mini_batch_size, 1)
        eta = validation.check_eta(eta)
        lmbda = _check_lmbda(lmbda)
        self._sync_cost()
        self._parameters()
        data = inputs.training_examples(training_data, self.sizes, self.dtype)
        evaluation = None
        empty = isinstance(evaluation_data, (list, tuple)) and not evaluation_data
        if evaluation_data is not None and not empty:
            evaluation = inputs.training_examples(evaluation_data, self.sizes, self.dtype, "evaluation_data")
        elif monitor_evaluation_cost or monitor_evaluation_accuracy:
            raise ValueError("monitor_evaluation_cost and monitor_evaluation_accuracy need evaluation_data")
        costs = bool(monitor_training_cost or monitor_evaluation_cost)
        self.prepare(min(mini_batch_size, data.n), outputs=costs, announce=say_compiling if verbose else None)
        train_inputs = self._prepared(data, "training_data inputs")
        evaluation_inputs = None
        if evaluation is not None:
            evaluation_inputs = self._prepared(evaluation, "evaluation_data inputs")
        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = [], [], [], []

        def after_epoch(j: int, seconds: float) -> None:
            lines = [f"Epoch {j} training complete"]
            t_cost, t_accuracy = self._monitor(train_inputs, data, lmbda, monitor_training_cost,
                                               monitor_training_accuracy, "training_data")
            e_cost = e_accuracy = None
            if evaluation is not None:
                e_cost, e_accuracy = self._monitor(evaluation_inputs, evaluation, lmbda,
                                                   monitor_evaluation_cost, monitor_evaluation_accuracy,
                                                   "evaluation_data")
            n_evaluation = 0 if evaluation is None else evaluation.n
            for asked, kept, value, line in (  # the book's order and words
                    (monitor_training_cost, training_cost, t_cost, f"Cost on training data: {t_cost}"),
                    (monitor_training_accuracy, training_accuracy, t_accuracy,
                     f"Accuracy on training data: {t_accuracy} / {data.n}"),
                    (monitor_evaluation_cost, evaluation_cost, e_cost, f"Cost on evaluation data: {e_cost}"),
                    (monitor_evaluation_accuracy, evaluation_accuracy, e_accuracy,
                     f"Accuracy on evaluation data: {e_accuracy} / {n_evaluation}")):
                if asked:
                    kept.append(value)
                    lines.append(line)
            if verbose:
                print("\n".join(lines), end="\n\n")
            if on_epoch is not None:
                on_epoch(Epoch(j, seconds, t_cost, t_accuracy, data.n, e_cost, e_accuracy, n_evaluation))

        self._train(data, train_inputs, epochs, mini_batch_size, UpdateRule(eta, lmbda, data.n), after_epoch,
                    on_progress)
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def update_mini_batch(self, mini_batch, eta, lmbda, n) -> None:
        """One step of gradient descent with L2 regularization on the list of (x, y) pairs
        ``mini_batch``, of a training set of ``n``: w ← (1 − ηλ/n) w − (η/m) ∇w; the biases do
        not decay. Exactly the step ``SGD`` takes on that batch."""
        eta = validation.check_eta(eta)
        rule = UpdateRule(eta, _check_lmbda(lmbda), validation.check_int("n", n, 1))
        self._sync_cost()
        self._step(mini_batch, rule)

    def accuracy(self, data, convert=False) -> int:
        """How many examples of ``data`` the network classifies right (highest output neuron).
        The book passes ``convert=True`` for training data, whose y are one-hot columns; matnet
        reads labels and one-hot columns either way."""
        self._parameters()
        examples = inputs.labelled_examples(data, self.sizes, "data")
        return self._count_correct(self._prepared(examples, "data inputs"), examples)

    def total_cost(self, data, lmbda, convert=False) -> float:
        """The mean cost over ``data`` plus the regularization term ½(λ/n)Σw², n = len(data). The
        book passes ``convert=True`` for evaluation data, whose y are labels; matnet reads
        labels and one-hot columns either way."""
        lmbda = _check_lmbda(lmbda)
        self._sync_cost()
        self._parameters()
        examples = inputs.training_examples(data, self.sizes, self.dtype, "data")
        prepared = self._prepared(examples, "data inputs")
        return self._monitor(prepared, examples, lmbda, True, False, "total_cost")[0]

    def save(self, filename) -> None:
        """Write the network to ``filename`` as the book's JSON (sizes, weights, biases and the
        cost's class name), atomically: the book's ``network2.load`` reads it."""
        from matnet.io import atomic_write_bytes

        self._parameters()
        data = {"sizes": self.sizes, "weights": [np.asarray(w, np.float64).tolist() for w in self.weights],
                "biases": [np.asarray(b, np.float64).tolist() for b in self.biases],
                "cost": _checked_cost(self.cost).__name__}
        atomic_write_bytes(Path(filename), json.dumps(data).encode())

    # ------------------------------------------------------------------------ internals
    def _sync_cost(self) -> None:
        """Compute with ``self.cost`` (the book lets a user assign another cost class)."""
        self._use_cost(self.cost_entry)

    def _monitor(self, prepared, data: inputs.Examples, lmbda: float, cost: bool, accuracy: bool,
                 where: str) -> tuple[float | None, int | None]:
        """(the total cost, the number classified right) of ``data``, each if asked, from one
        pass over it: the outputs when the cost is asked, else the count alone."""
        if not cost:
            return None, (self._count_correct(prepared, data) if accuracy else None)
        outputs = np.asarray(self._outputs(prepared, data, where), np.float64)
        targets = np.asarray(data.targets[data.target_index(np.arange(data.n))], np.float64)
        weights = [np.asarray(w, np.float64) for w in self.weights]
        total = self.cost_entry.fn(outputs, targets) / data.n + maths.l2_penalty(weights, lmbda, data.n)
        correct = None
        if accuracy:
            correct = int(np.count_nonzero(np.argmax(outputs, axis=1) == data.label_array()))
        return total, correct


def _check_lmbda(lmbda: object) -> float:
    """λ as a finite float ≥ 0."""
    if isinstance(lmbda, bool) or not isinstance(lmbda, numbers.Real):
        raise TypeError(f"lmbda must be a real number, got {lmbda!r} ({type(lmbda).__name__})")
    if not math.isfinite(lmbda) or lmbda < 0:
        raise ValueError(f"lmbda must be a finite number ≥ 0, got {lmbda!r}")
    return float(lmbda)


def load(filename, **kwargs) -> Network:
    """A Network read from a JSON file written by ``save`` (or by the book's ``network2``).

    The file is checked before anything is built: its keys, the cost's name, the sizes, and
    every weight and bias against those sizes (ModelFileError naming the file and the
    problem). As the book's ``load`` does, it then draws (and discards) a default
    initialization from ``np.random``. ``kwargs`` are the constructor's keywords (``backend``,
    ``dtype``…).
    """
    path = Path(filename)

    def fail(reason: str) -> ModelFileError:
        return ModelFileError(f"{path}: {reason}")

    try:
        with open(path, "rb") as file:
            data = json.load(file)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise fail(f"not a network2 JSON file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not {"sizes", "weights", "biases", "cost"} <= data.keys():
        raise fail("not a network2 JSON file: it needs the keys sizes, weights, biases and cost")
    if data["cost"] not in COST_CLASSES:
        raise fail(f"unknown cost {data['cost']!r}: network2 has {', '.join(COST_CLASSES)}")
    try:
        sizes = validation.check_sizes(data["sizes"])
    except (TypeError, ValueError) as exc:
        raise fail(str(exc)) from None
    weights = _arrays(data["weights"], [(y, x) for x, y in zip(sizes[:-1], sizes[1:])], "weights", fail)
    biases = _arrays(data["biases"], [(y, 1) for y in sizes[1:]], "biases", fail)
    cost = COST_CLASSES[data["cost"]]
    Network(sizes, cost=cost, **kwargs)  # the book's load builds a Network, drawing its initial parameters
    return Network.from_parameters(weights, biases, cost=cost, **kwargs)


def _arrays(values: object, shapes: list[tuple[int, int]], name: str, fail) -> list[np.ndarray]:
    """The nested lists ``values`` as float64 arrays of ``shapes``, all finite."""
    if not isinstance(values, list) or len(values) != len(shapes):
        raise fail(f"{name} must be a list of {len(shapes)} arrays, one per layer of the sizes")
    arrays = []
    for layer, (value, shape) in enumerate(zip(values, shapes)):
        if not _nested_shape_is(value, shape):
            raise fail(f"{name}[{layer}] must be a {shape[0]} × {shape[1]} array of numbers, "
                       "as the sizes say")
        array = np.array(value, dtype=np.float64)
        if not np.isfinite(array).all():
            raise fail(f"{name}[{layer}] contains NaN or inf")
        arrays.append(array)
    return arrays


def _nested_shape_is(value: object, shape: tuple[int, int]) -> bool:
    """Whether ``value`` is a list of shape[0] lists of shape[1] plain numbers (checked before
    any array is made, so a file that claims huge sizes costs nothing)."""
    rows, columns = shape
    return (isinstance(value, list) and len(value) == rows
            and all(isinstance(row, list) and len(row) == columns for row in value)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for row in value for v in row))
