"""The book's per-example algorithm: matnet's 1x speed baseline and its correctness oracle.

This is chapter 1–2's ``network.py`` written for Python 3: backpropagation runs once per
training example on (n, 1) column vectors and the mini-batch gradient is the sum of those
per-example gradients. It deliberately shares no code with ``matnet.core.engine`` (not even the
sigmoid), so that a bug in one cannot hide the same bug in the other.

``neurons`` (optional everywhere) gives other neurons than the sigmoid, one per layer of
weights: objects with ``name``, ``f`` and ``prime`` (``matnet.core.activations.Activation``);
a layer named "sigmoid" still runs this module's own sigmoid. ``None`` is the book's network.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np


def sigmoid(z):
    """The book's sigmoid, 1 / (1 + e^{-z}). (For z < -709, e^{-z} overflows to inf with a
    RuntimeWarning, as in the book, and the result is the right limit 0.)"""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid, recomputed from z as the book does."""
    return sigmoid(z) * (1 - sigmoid(z))


def _functions(neurons, depth: int) -> list[tuple]:
    """(f, f′) for each of the ``depth`` layers: this module's sigmoid unless ``neurons`` says otherwise."""
    if neurons is None:
        return [(sigmoid, sigmoid_prime)] * depth
    return [(sigmoid, sigmoid_prime) if n.name == "sigmoid" else (n.f, n.prime) for n in neurons]


def feedforward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], a: np.ndarray,
                neurons=None) -> np.ndarray:
    """Output of the network for the (n_0, 1) input column ``a``."""
    for b, w, (f, _) in zip(biases, weights, _functions(neurons, len(weights))):
        a = f(np.dot(w, a) + b)
    return a


def backprop(weights, biases, x: np.ndarray, y: np.ndarray, neurons=None) -> tuple[list, list]:
    """(nabla_b, nabla_w): the gradient of the quadratic cost for one example, layer by layer.

    x is an (n_0, 1) column and y the (n_L, 1) desired output.
    """
    functions = _functions(neurons, len(weights))
    nabla_b = [np.zeros(b.shape, b.dtype) for b in biases]
    nabla_w = [np.zeros(w.shape, w.dtype) for w in weights]
    activation = x
    activations = [x]  # layer by layer
    zs = []  # weighted inputs, layer by layer
    for b, w, (f, _) in zip(biases, weights, functions):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = f(z)
        activations.append(activation)
    delta = (activations[-1] - y) * functions[-1][1](zs[-1])
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for layer in range(2, len(weights) + 1):
        delta = np.dot(weights[-layer + 1].transpose(), delta) * functions[-layer][1](zs[-layer])
        nabla_b[-layer] = delta
        nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
    return nabla_b, nabla_w


def update_mini_batch(weights: list, biases: list, mini_batch, eta: float, neurons=None) -> None:
    """One gradient-descent step on a list of (x, y) columns; rebinds the list entries."""
    nabla_b = [np.zeros(b.shape, b.dtype) for b in biases]
    nabla_w = [np.zeros(w.shape, w.dtype) for w in weights]
    for x, y in mini_batch:
        delta_nabla_b, delta_nabla_w = backprop(weights, biases, x, y, neurons)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    step = eta / len(mini_batch)
    weights[:] = [w - step * nw for w, nw in zip(weights, nabla_w)]
    biases[:] = [b - step * nb for b, nb in zip(biases, nabla_b)]


def train_epoch(
    weights: list,
    biases: list,
    x: np.ndarray,
    y: np.ndarray,
    x_rows: np.ndarray,
    y_rows: np.ndarray,
    batch_size: int,
    eta: float,
    neurons=None,
) -> None:
    """One epoch of the book's SGD: example p is row x_rows[p] of x (N, n_0) with one-hot row
    y_rows[p] of y (M, n_L).

    Each example is handed to backprop as a column, exactly as the book's loader would; the
    parameter lists are rebound, as in the book.
    """
    columns = [(x[i].reshape(-1, 1), y[j].reshape(-1, 1)) for i, j in zip(x_rows, y_rows)]
    for start in range(0, len(columns), batch_size):
        update_mini_batch(weights, biases, columns[start : start + batch_size], eta, neurons)


def evaluate(weights, biases, test_data) -> int:
    """How many (x, label) pairs the network classifies correctly, one example at a time."""
    return sum(int(np.argmax(feedforward(weights, biases, x)) == y) for x, y in test_data)


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
