"""The book's per-example algorithm: matnet's correctness oracle, and the cost of the book's code.

This is the ``network.py`` of chapters 1–2 (and the ``network2.py`` of chapter 3) written for
Python 3: backpropagation runs once per training example on (n, 1) column vectors, and the
mini-batch gradient is the sum of those per-example gradients. Its algorithm shares no code
with ``matnet.core.engine`` or the compiled path, so that a bug in one cannot hide the same
bug in the other; its formulas are the maths table's (``matnet.core.maths``), which the book's
own code and finite differences check.

``neurons`` is one ``maths.Activation`` per layer of weights (the book's: all ``SIGMOID``) and
``cost`` a ``maths.Cost``; ``eta`` is η, and chapter 3's L2 regularization is ``lmbda`` with
``n`` the size of the training set (the update is ``maths.UpdateRule``'s).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from matnet.core import maths
from matnet.core.inputs import converted, first_bad
from matnet.core.maths import QUADRATIC, SIGMOID, UpdateRule


def _book(depth: int) -> tuple:
    return (SIGMOID,) * depth


def _f(neuron):
    """A layer's activation function, the sigmoid as the book computes it (``maths``)."""
    return maths.sigmoid_as_the_book if neuron is SIGMOID else neuron.f


def feedforward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], a: np.ndarray,
                neurons=None) -> np.ndarray:
    """Output of the network for the (n_0, 1) input column ``a``. (The book's sigmoid overflows
    e^{−z} below z ≈ −709, with NumPy's warning, as the book's does.)"""
    for b, w, neuron in zip(biases, weights, neurons or _book(len(weights))):
        a = _f(neuron)(np.dot(w, a) + b)
    return a


def backprop(weights, biases, x: np.ndarray, y: np.ndarray, neurons=None,
             cost=QUADRATIC) -> tuple[list, list]:
    """(nabla_b, nabla_w): the gradient of ``cost`` for one example, layer by layer.

    x is an (n_0, 1) column and y the (n_L, 1) desired output.
    """
    neurons = neurons or _book(len(weights))
    nabla_b = [np.zeros(b.shape, b.dtype) for b in biases]
    nabla_w = [np.zeros(w.shape, w.dtype) for w in weights]
    activation = x
    activations = [x]  # layer by layer
    zs = []  # weighted inputs, layer by layer
    for b, w, neuron in zip(biases, weights, neurons):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = _f(neuron)(z)
        activations.append(activation)
    delta = cost.delta(activations[-1], y, neurons[-1].prime(zs[-1]))
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for layer in range(2, len(weights) + 1):
        delta = np.dot(weights[-layer + 1].transpose(), delta) * neurons[-layer].prime(zs[-layer])
        nabla_b[-layer] = delta
        nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
    return nabla_b, nabla_w


def update_mini_batch(weights: list, biases: list, mini_batch, eta: float, lmbda: float = 0.0, n: int = 1,
                      neurons=None, cost=QUADRATIC) -> None:
    """One gradient-descent step on a list of (x, y) columns; rebinds the list entries."""
    rule = UpdateRule(eta, lmbda, n)
    nabla_b = [np.zeros(b.shape, b.dtype) for b in biases]
    nabla_w = [np.zeros(w.shape, w.dtype) for w in weights]
    for x, y in mini_batch:
        delta_nabla_b, delta_nabla_w = backprop(weights, biases, x, y, neurons, cost)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    step, decay = rule.step(len(mini_batch)), rule.decay
    if decay == 1:  # chapter 1, and λ = 0: the book's w-(eta/len(mini_batch))*nw
        weights[:] = [maths.stepped(w, nw, step) for w, nw in zip(weights, nabla_w)]
    else:
        weights[:] = [maths.updated(w, nw, decay, step) for w, nw in zip(weights, nabla_w)]
    biases[:] = [maths.stepped(b, nb, step) for b, nb in zip(biases, nabla_b)]


def train_epoch(weights: list, biases: list, x: np.ndarray, y: np.ndarray, x_rows: np.ndarray,
                y_rows: np.ndarray, batch_size: int, eta: float, lmbda: float = 0.0, n: int = 1, neurons=None,
                cost=QUADRATIC) -> None:
    """One epoch of the book's SGD: example p is row x_rows[p] of x (N, n_0) with desired
    output row y_rows[p] of y (M, n_L).

    Each example is handed to backprop as a column, exactly as the book's loader would; the
    parameter lists are rebound, as in the book.
    """
    columns = [(x[i].reshape(-1, 1), y[j].reshape(-1, 1)) for i, j in zip(x_rows, y_rows)]
    for start in range(0, len(columns), batch_size):
        update_mini_batch(weights, biases, columns[start : start + batch_size], eta, lmbda, n, neurons, cost)


def evaluate(weights, biases, test_data) -> int:
    """How many (x, label) pairs the network classifies correctly, one example at a time."""
    return sum(int(np.argmax(feedforward(weights, biases, x)) == y) for x, y in test_data)


def _quiet():
    """No NumPy floating-point warnings: non-finite results are the callers' to report."""
    return np.errstate(over="ignore", invalid="ignore")


class LoopBackend:
    """The oracle as a :class:`~matnet.core.backend.Backend`: per-example backprop on columns,
    as in the book. It never checks for divergence (the book does not); the network checks
    the parameters it leaves."""

    name = "loop"

    def __init__(self, spec):
        self.spec = spec
        sizes, dtype = spec.sizes, spec.dtype
        self.weights = [np.zeros((n_out, n_in), dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros((n_out, 1), dtype) for n_out in sizes[1:]]

    def prepare(self, batch_size: int, *, outputs: bool = False,
                announce: Callable[[float | None], None] | None = None) -> float:
        """Nothing to compile: 0 seconds, nothing announced."""
        return 0.0

    def inputs(self, matrix: np.ndarray, name: str) -> np.ndarray:
        return converted(name, matrix, self.spec.dtype)

    def train(self, inputs, targets, x_rows, y_rows, batch_size, rule, check_finite) -> int:
        weights, biases = list(self.weights), list(self.biases)
        with _quiet():
            train_epoch(weights, biases, inputs, targets, x_rows, y_rows, batch_size, rule.eta, rule.lmbda,
                        rule.n, self.spec.neurons, self.spec.cost)
        for mine, new in zip(self.weights + self.biases, weights + biases):  # the book rebinds; we keep ours
            np.copyto(mine, new)
        return -(-x_rows.shape[0] // batch_size)

    def _column_outputs(self, rows: np.ndarray) -> np.ndarray:
        """(n_L, k): the output of each row of ``rows`` (k, n_0), fed forward as a column."""
        with _quiet():
            columns = [feedforward(self.weights, self.biases, row.reshape(-1, 1), self.spec.neurons)[:, 0]
                       for row in rows]
        return np.stack(columns, axis=1)

    def outputs(self, inputs, rows) -> tuple[np.ndarray, int]:
        out = self._column_outputs(inputs[rows]).T
        return out, int(np.count_nonzero(~np.isfinite(out)))

    def count_correct(self, inputs, rows, labels) -> tuple[int, int]:
        out, _ = self.outputs(inputs, rows)
        finite = np.isfinite(out).all(axis=1)
        correct = sum(int(ok and np.argmax(o) == label) for o, ok, label in zip(out, finite, labels))
        return correct, int(np.count_nonzero(~finite))

    def feedforward(self, columns) -> tuple[np.ndarray, int, int]:
        try:
            rows = converted("a", columns.T, self.spec.dtype)
        except ValueError:
            return np.empty(0), first_bad(columns, self.spec.dtype), 0
        out = self._column_outputs(rows)
        return out, -1, int(np.count_nonzero(~np.isfinite(out)))

    def gradient(self, x, y):
        with _quiet():
            return backprop(self.weights, self.biases, x, y, self.spec.neurons, self.spec.cost)


class LoopNetwork:
    """The book's ``Network`` class, unchanged in behaviour, for use as an oracle.

    Draws its initial parameters from ``np.random.randn`` and shuffles with
    ``random.shuffle``, so with the same seeds it follows the same trajectory as the book.
    """

    def __init__(self, sizes: Sequence[int]):
        self.num_layers = len(sizes)
        self.sizes = list(sizes)
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        return feedforward(self.weights, self.biases, a)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        training_data = training_data if isinstance(training_data, list) else list(training_data)
        if test_data is not None:
            test_data = list(test_data)
            n_test = len(test_data)
        n = len(training_data)
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k : k + mini_batch_size], eta)
            if test_data:
                print(f"Epoch {j}: {self.evaluate(test_data)} / {n_test}")
            else:
                print(f"Epoch {j} complete")

    def update_mini_batch(self, mini_batch, eta):
        update_mini_batch(self.weights, self.biases, mini_batch, eta)

    def backprop(self, x, y):
        return backprop(self.weights, self.biases, x, y)

    def evaluate(self, test_data):
        return evaluate(self.weights, self.biases, test_data)

    def cost_derivative(self, output_activations, y):
        return output_activations - y
