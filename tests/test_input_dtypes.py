"""Inputs in the float types NumPy has beyond float32 and float64 (issue 21, item 12).

float16, big-endian ``>f8`` and long double (float128) inputs crashed inside numba
(``NotImplementedError: float16``, typing errors) where the NumPy engine took ``>f8``. Every
backend now takes what converts exactly — ``>f8`` to native, float16 to float32, float128 whose
every value is a float64 — and computes exactly what it computes on those values in float64;
a float128 value that float64 cannot hold is refused in one line naming the dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

from matnet.network import Network
from tests.helpers import book_pairs, synthetic

BACKENDS = ["numba", "numpy"]
SIZES = [6, 5, 3]
LONG_DOUBLE = pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8,
                                 reason="long double is float64 on this platform")
EXACT = [np.float16, ">f8", ">f4", ">i4", pytest.param(np.longdouble, marks=LONG_DOUBLE)]


def dtype_id(dtype) -> str:
    return np.dtype(dtype).str


def outcomes(backend: str, x: np.ndarray, labels: np.ndarray) -> tuple:
    """What SGD, evaluate, feedforward (of one column, of a few, of many) and backprop make of x."""
    targets = np.eye(SIZES[-1])[labels]
    net = Network(SIZES, seed=3, backend=backend)
    net.SGD((x, targets), 2, 10, 1.0, verbose=False)
    pairs = book_pairs(x[:20], targets[:20])
    net.update_mini_batch(pairs[:5], 0.5)
    net.SGD(pairs, 1, 5, 0.5, verbose=False)  # the book's list of columns
    gradient = net.backprop(x[0].reshape(-1, 1), targets[0].reshape(-1, 1))
    wide = np.tile(x.T, (1, 2))  # 160 columns: the fused path's CSR route
    return (net.evaluate((x, labels)), net.feedforward(x[0]), net.feedforward(x[:3].T), net.feedforward(wide),
            *net.weights, *net.biases, *gradient[0], *gradient[1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", EXACT, ids=dtype_id)
def test_inputs_converted_exactly_compute_as_their_values(backend, dtype):
    x, y = synthetic(SIZES, 80, seed=0, sparsity=0.5)
    if np.dtype(dtype).kind == "i":
        x = np.round(x * 4)
    x = x.astype(dtype)
    labels = y.argmax(axis=1)
    expected = outcomes(backend, x.astype(np.float64), labels)
    got = outcomes(backend, x, labels)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


@LONG_DOUBLE
@pytest.mark.parametrize("backend", BACKENDS)
def test_long_double_beyond_float64_is_one_line_naming_the_dtype(backend):
    x, y = synthetic(SIZES, 20, seed=0)
    x = x.astype(np.longdouble)
    x[4, 2] = np.longdouble(1) / 3  # not a float64
    net = Network(SIZES, seed=3, backend=backend)
    before = [a.copy() for a in net.weights + net.biases]
    calls = {
        "SGD": lambda: net.SGD((x, y), 1, 10, 1.0, verbose=False),
        "SGD on a list": lambda: net.SGD(book_pairs(x, y), 1, 10, 1.0, verbose=False),
        "evaluate": lambda: net.evaluate((x, y.argmax(axis=1))),
        "feedforward": lambda: net.feedforward(x.T),
        "backprop": lambda: net.backprop(x[4].reshape(-1, 1), y[4].reshape(-1, 1)),
        "update_mini_batch": lambda: net.update_mini_batch(book_pairs(x[:5], y[:5]), 1.0),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError) as caught:
            call()
        message = str(caught.value)
        assert "\n" not in message and str(np.dtype(np.longdouble)) in message, (name, message)
        assert "float64 cannot hold" in message and str(x[4, 2]) in message, (name, message)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights + net.biases))
