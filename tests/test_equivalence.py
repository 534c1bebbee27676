"""The central promise: same seeds → the matrix engines follow the book's trajectory.

At η = 3.0 rounding differences (a different summation order) grow chaotically: at m = 10
from ~1e-15 after 200 mini-batches to ~1e-8 after 3,000. At m = 1 the growth is much faster
(measured here: 1e-14 after 50 steps, 1e-9 after 400, O(0.1) after 1,000 — the book's own loop
diverges from itself the same way when one weight is moved by one ULP), so m = 1 runs at
η = 3.0 stay at 200 steps, and longer runs use η = 0.5, where trajectories stay ~1e-15 apart.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from matnet.core.loop import LoopNetwork
from matnet.network import Network
from tests.helpers import book_pairs, synthetic

TOL = 1e-9


_ORACLES: dict[tuple, tuple[LoopNetwork, str | None]] = {}  # the oracle's runs, shared by the backends


def train_both(sizes, data, epochs, batch_size, eta, seed, backend, test_data=None, capsys=None, case=()):
    """Train the oracle and matnet from the same global seeds; return both networks. The
    oracle's run (the book's per-example loop, the slow half) is made once per ``case`` (what
    names the data) and its arguments, for all the backends compared with it."""
    key = (case, tuple(sizes), epochs, batch_size, eta, seed, test_data is not None, capsys is not None)
    if key not in _ORACLES:
        np.random.seed(seed)
        random.seed(seed)
        oracle = LoopNetwork(sizes)
        oracle.SGD(list(data), epochs, batch_size, eta, test_data=test_data)
        _ORACLES[key] = oracle, capsys.readouterr().out if capsys else None
    oracle, oracle_out = _ORACLES[key]
    np.random.seed(seed)
    random.seed(seed)
    net = Network(sizes, backend=backend)
    net.SGD(list(data), epochs, batch_size, eta, test_data=test_data)
    net_out = capsys.readouterr().out if capsys else None
    return oracle, net, oracle_out, net_out


def max_difference(a, b) -> float:
    return max(
        max(float(np.abs(x - y).max()) for x, y in zip(a.weights, b.weights)),
        max(float(np.abs(x - y).max()) for x, y in zip(a.biases, b.biases)),
    )


@pytest.mark.parametrize("backend", ["numpy", "numba", "loop"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("sizes", "batch_size", "epochs", "n"),
    [([784, 30, 10], 10, 2, 1000), ([784, 30, 20, 10], 7, 2, 1000), ([784, 30, 10], 1, 1, 200)],
)
def test_mnist_trajectory_matches_the_book(mnist_slice, capsys, backend, seed, sizes, batch_size, epochs, n):
    x, y, test_x, test_labels = mnist_slice
    x, y = x[:n], y[:n]
    test = [(xi.reshape(-1, 1), int(li)) for xi, li in zip(test_x[:300], test_labels[:300])]
    oracle, net, oracle_out, net_out = train_both(
        sizes, book_pairs(x, y), epochs, batch_size, 3.0, seed, backend, test, capsys, case=("mnist", n)
    )
    assert max_difference(oracle, net) <= TOL
    assert net_out == oracle_out
    assert net_out.splitlines()[0].startswith("Epoch 0: ")


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("batch_size", [1, 10, 7])
def test_small_net_many_epochs(backend, seed, batch_size):
    x, y = synthetic([4, 3, 2], 53, seed=seed)
    oracle, net, _, _ = train_both([4, 3, 2], book_pairs(x, y), 5, batch_size, 3.0, seed, backend,
                                   case="synthetic")
    assert max_difference(oracle, net) <= TOL


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_long_run_at_small_eta_stays_together(mnist_slice, backend):
    """At η ≤ 0.5 the dynamics do not amplify rounding, so a longer run still agrees."""
    x, y, _, _ = mnist_slice
    oracle, net, _, _ = train_both([784, 30, 10], book_pairs(x, y), 3, 1, 0.5, 11, backend, case="mnist")
    assert max_difference(oracle, net) <= TOL


def test_float32_stays_close_to_float64(mnist_slice):
    x, y, test_x, test_labels = mnist_slice
    results = {}
    for dtype in (np.float64, np.float32):
        net = Network([784, 30, 10], seed=5, dtype=dtype)
        net.SGD((x, y), 2, 10, 3.0, verbose=False)
        assert all(w.dtype == dtype for w in net.weights + net.biases)
        results[dtype] = net
    diff = max(np.abs(a - b).max() for a, b in zip(results[np.float64].weights, results[np.float32].weights))
    assert diff < 1e-2
    correct = [results[d].evaluate((test_x, test_labels)) for d in (np.float64, np.float32)]
    assert abs(correct[0] - correct[1]) <= 10
