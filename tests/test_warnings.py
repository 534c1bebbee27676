"""No floating-point warnings anywhere, even where the book's code prints
"RuntimeWarning: overflow encountered in exp": extreme inputs, huge weights, and the book's
η = 100 run, which must still end near 10% accuracy as in the book (chapter 1).

Each test turns warnings into errors itself, so it means the same without pytest's
``filterwarnings = error``.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from matnet.network import Network, sigmoid, sigmoid_prime
from tests.helpers import synthetic

BACKENDS = ["numpy", "numba", "loop"]
TINY = np.finfo(np.float64).tiny  # smallest normal float64
SUBNORMAL = 5e-324  # smallest subnormal float64


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        (1e4, 1.0),
        (-1e4, 0.0),
        (745.0, 1.0),
        (-745.0, SUBNORMAL),  # e^-745 rounds to the smallest subnormal, not to 0
        (-746.0, 0.0),
        (709.8, 1.0),
        (-709.8, np.exp(-709.8) / (1 + np.exp(-709.8))),
        (0.0, 0.5),
        (-0.0, 0.5),
        (SUBNORMAL, 0.5),
        (-SUBNORMAL, 0.5),
        (TINY, 0.5),
        (np.finfo(np.float64).max, 1.0),
        (-np.finfo(np.float64).max, 0.0),
    ],
)
def test_sigmoid_at_the_edges_of_float64(z, expected):
    assert sigmoid(z) == expected
    assert sigmoid(np.array([z]))[0] == expected
    assert 0.0 <= sigmoid_prime(z) <= 0.25


def test_sigmoid_over_the_whole_range_is_monotone_and_bounded():
    z = np.concatenate([-np.logspace(-320, 308, 2000)[::-1], [0.0], np.logspace(-320, 308, 2000)])
    s = sigmoid(z)
    assert np.all(np.diff(s) >= 0) and s[0] == 0.0 and s[-1] == 1.0 and s[2000] == 0.5
    np.testing.assert_array_equal(sigmoid(z[:4000].reshape(2, -1, 1)).ravel(), s[:4000])  # any shape
    for dtype in (np.float32, np.float16):
        half = np.geomspace(float(np.finfo(dtype).smallest_subnormal), float(np.finfo(dtype).max), 500)
        small = sigmoid(np.concatenate([-half[::-1], [0.0], half]).astype(dtype))
        assert small.dtype == dtype and np.all(np.diff(small) >= 0)
        assert small[0] == 0.0 and small[500] == 0.5 and small[-1] == 1.0
    assert sigmoid(np.float32(-100.0)) > 0  # float32 subnormal, not flushed to 0
    np.testing.assert_array_equal(sigmoid_prime(np.array([-1e4, 1e4])), [0.0, 0.0])


def book_feedforward(weights, biases, a):
    """The book's feedforward, verbatim but for the overflow warning it would print: the oracle."""
    with np.errstate(over="ignore"):
        for b, w in zip(biases, weights):
            a = 1.0 / (1.0 + np.exp(-(np.dot(w, a) + b)))
    return a


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scale", [1e3, 1e150, 1e300])
def test_feedforward_with_huge_weights(backend, scale):
    """Weighted inputs up to ~6·scale: beyond e^709 but within float64. Every output is the
    book's own number (σ saturates to exactly 0 or 1 where the book's exp overflows), and
    evaluate counts what those outputs say."""
    net = Network([6, 5, 3], seed=0, backend=backend)
    for w in net.weights:
        w *= scale
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (6, 50))
    labels = rng.integers(0, 3, 50)
    want = book_feedforward(net.weights, net.biases, x)
    assert ((want == 0) | (want == 1)).mean() > 0.8  # saturated: the case this test is about
    out = net.feedforward(x)
    assert out.shape == (3, 50)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(net.feedforward(x[:, :1]), out[:, :1])
    assert net.evaluate((x.T, labels)) == int(np.count_nonzero(np.argmax(want, axis=0) == labels))


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_at_eta_100_on_synthetic_data(backend):
    x, y = synthetic([20, 10, 4], 200, seed=0)
    net = Network([20, 10, 4], seed=0, backend=backend)
    before = [a.copy() for a in [*net.weights, *net.biases]]
    net.SGD((x, y), 3, 10, 100.0, test_data=(x, y), verbose=False)  # no DivergenceError, no warning
    after = [*net.weights, *net.biases]
    assert all(np.isfinite(a).all() for a in after)
    assert not all(np.array_equal(a, b) for a, b in zip(after, before))  # it did train


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_at_eta_100_on_a_real_mnist_slice(backend, mnist_slice):
    x, y, test_x, test_labels = mnist_slice
    net = Network([784, 30, 10], seed=1, backend=backend)
    accuracy = []
    net.SGD((x, y), 3, 10, 100.0, test_data=(test_x, test_labels), verbose=False,
            on_epoch=lambda r: accuracy.append(r.correct / r.n_test))
    assert all(np.isfinite(a).all() for a in [*net.weights, *net.biases])
    assert len(accuracy) == 3 and max(accuracy) < 0.3  # saturated: far from the ~90% of η = 3.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("eta", [1e150, 1e308])
def test_absurd_learning_rates_end_in_saturation(backend, eta, mnist_slice):
    """η = 1e150 or 1e308: the first steps saturate every sigmoid, gradients vanish, and the
    weights stay finite. So no DivergenceError (which would mean an overflow the book's silent
    run also makes): the run is the book's silent one, bit for bit, at chance accuracy."""
    x, y, test_x, test_labels = mnist_slice
    data, test = (x[:300], y[:300]), (test_x[:300], test_labels[:300])
    accuracy = []
    net = Network([784, 30, 10], seed=2, backend=backend)
    net.SGD(data, 2, 10, eta, test_data=test, verbose=False, on_epoch=lambda r: accuracy.append(r.correct))
    silent = Network([784, 30, 10], seed=2, backend=backend, check_finite=False)
    silent.SGD(data, 2, 10, eta, test_data=test, verbose=False)
    for got, want in zip([*net.weights, *net.biases], [*silent.weights, *silent.biases], strict=True):
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, want)
    assert len(accuracy) == 2 and max(accuracy) < 0.3 * 300
    assert not np.array_equal(net.weights[1], Network([784, 30, 10], seed=2, backend=backend).weights[1])


@pytest.mark.slow
def test_the_books_eta_100_run(mnist):
    """Chapter 1: "net.SGD(training_data, 30, 10, 100.0, test_data=test_data)" — the learning
    rate is far too large, the network saturates and classifies about 10% of the test images
    correctly, epoch after epoch. Same here, silently, with the default (fastest) backend."""
    np.random.seed(0)
    random.seed(0)
    net = Network([784, 30, 10])
    accuracy = []
    net.SGD(mnist.training, 30, 10, 100.0, test_data=mnist.test, verbose=False,
            on_epoch=lambda r: accuracy.append(r.correct / r.n_test))
    assert len(accuracy) == 30
    assert all(np.isfinite(a).all() for a in [*net.weights, *net.biases])
    assert max(accuracy) < 0.2 and 0.08 <= float(np.median(accuracy)) <= 0.12, accuracy
