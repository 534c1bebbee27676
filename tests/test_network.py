"""The drop-in Network: the book's names, formats, printed lines and random-number use."""

from __future__ import annotations

import random

import numpy as np
import pytest

import matnet
import matnet.network as network
from matnet.core import loop
from matnet.core.loop import LoopNetwork
from tests.helpers import book_pairs, synthetic


def test_book_surface():
    np.random.seed(0)
    net = network.Network([784, 30, 10])
    assert net.num_layers == 3 and net.sizes == [784, 30, 10]
    assert [b.shape for b in net.biases] == [(30, 1), (10, 1)]
    assert [w.shape for w in net.weights] == [(30, 784), (10, 30)]
    assert matnet.Network is network.Network
    for name in ("feedforward", "SGD", "update_mini_batch", "backprop", "evaluate", "cost_derivative"):
        assert callable(getattr(net, name))


def test_initial_parameters_use_randn_in_the_books_order():
    np.random.seed(42)
    net = network.Network([5, 4, 3])
    np.random.seed(42)
    biases = [np.random.randn(y, 1) for y in (4, 3)]
    weights = [np.random.randn(y, x) for x, y in ((5, 4), (4, 3))]
    for got, want in zip(net.biases + net.weights, biases + weights):
        np.testing.assert_array_equal(got, want)


def test_seed_mode_leaves_global_random_state_alone():
    np.random.seed(1)
    random.seed(1)
    before = (np.random.get_state()[1].copy(), random.getstate())
    x, y = synthetic([4, 3, 2], 20)
    a = network.Network([4, 3, 2], seed=7)
    a.SGD((x, y), 2, 5, 1.0, verbose=False)
    assert (np.random.get_state()[1] == before[0]).all() and random.getstate() == before[1]
    b = network.Network([4, 3, 2], rng=np.random.default_rng(7))
    b.SGD((x, y), 2, 5, 1.0, verbose=False)
    for u, v in zip(a.weights, b.weights):
        np.testing.assert_array_equal(u, v)


def test_training_list_is_shuffled_in_place_like_the_book():
    x, y = synthetic([4, 3, 2], 30)
    ours, theirs = book_pairs(x, y), book_pairs(x, y)
    random.seed(3)
    np.random.seed(3)
    network.Network([4, 3, 2]).SGD(ours, 3, 4, 1.0, verbose=False)
    random.seed(3)
    np.random.seed(3)
    LoopNetwork([4, 3, 2]).SGD(theirs, 3, 4, 1.0)
    assert [id(p[0]) for p in ours] != [id(p[0]) for p in book_pairs(x, y)]
    for (xa, _), (xb, _) in zip(ours, theirs):
        np.testing.assert_array_equal(xa, xb)


def test_printed_lines(capsys):
    x, y = synthetic([4, 3, 2], 20)
    test = [(xi.reshape(-1, 1), int(np.argmax(yi))) for xi, yi in zip(x, y)]
    net = network.Network([4, 3, 2], seed=0)
    net.SGD(book_pairs(x, y), 2, 5, 1.0, test_data=test)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for j, line in enumerate(lines):
        head, counts = line.split(": ")
        assert head == f"Epoch {j}"
        correct, total = counts.split(" / ")
        assert total == "20" and 0 <= int(correct) <= 20
    net.SGD(book_pairs(x, y), 2, 5, 1.0)
    assert capsys.readouterr().out == "Epoch 0 complete\nEpoch 1 complete\n"


@pytest.mark.parametrize("backend", ["numpy", "numba", "loop"])
def test_every_data_format_trains_the_same(backend):
    x, y = synthetic([6, 5, 3], 40, seed=2)
    labels = np.argmax(y, axis=1)
    formats = {
        "list": book_pairs(x, y),
        "zip": zip([xi.reshape(-1, 1) for xi in x], [yi.reshape(-1, 1) for yi in y]),
        "arrays-onehot": (x, y),
        "arrays-labels": (x, labels),
        "list-labels": [(xi.reshape(-1, 1), int(li)) for xi, li in zip(x, labels)],
    }
    results = {}
    for name, data in formats.items():
        net = network.Network([6, 5, 3], seed=1, backend=backend)
        net.SGD(data, 2, 8, 2.0, verbose=False)
        results[name] = net.weights
    for name, weights in results.items():
        for got, want in zip(weights, results["arrays-onehot"]):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=name)


def test_feedforward_shapes_and_values():
    net = network.Network([5, 4, 3], seed=0)
    rng = np.random.default_rng(0)
    column = rng.random((5, 1))
    matrix = rng.random((5, 7))
    expected = loop.feedforward(net.weights, net.biases, column)
    np.testing.assert_allclose(net.feedforward(column), expected, rtol=1e-14)
    out = net.feedforward(matrix)
    assert out.shape == (3, 7)
    for j in range(7):
        expected = loop.feedforward(net.weights, net.biases, matrix[:, j : j + 1])
        np.testing.assert_allclose(out[:, j : j + 1], expected, rtol=1e-14)
    assert net.feedforward(column[:, 0]).shape == (3,)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_backprop_and_update_match_the_book(backend):
    net = network.Network([6, 5, 4, 3], seed=4, backend=backend)
    x, y = synthetic([6, 5, 4, 3], 9, seed=4)
    nabla_b, nabla_w = net.backprop(x[0].reshape(-1, 1), y[0].reshape(-1, 1))
    want_b, want_w = loop.backprop(net.weights, net.biases, x[0].reshape(-1, 1), y[0].reshape(-1, 1))
    for got, want in zip(nabla_b + nabla_w, want_b + want_w):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    weights, biases = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    net.update_mini_batch(book_pairs(x, y), 0.7)
    loop.update_mini_batch(weights, biases, book_pairs(x, y), 0.7)
    for got, want in zip(net.weights + net.biases, weights + biases):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


def test_evaluate_matches_the_per_example_count(mnist_slice):
    _, _, test_x, test_labels = mnist_slice
    net = network.Network([784, 30, 10], seed=3)
    test = [(xi.reshape(-1, 1), int(li)) for xi, li in zip(test_x, test_labels)]
    assert net.evaluate(test) == loop.evaluate(net.weights, net.biases, test)
    assert net.evaluate((test_x, test_labels)) == net.evaluate(test)


def test_cost_derivative_and_module_functions():
    net = network.Network([2, 2], seed=0)
    a, y = np.array([[0.2], [0.9]]), np.array([[0.0], [1.0]])
    np.testing.assert_allclose(net.cost_derivative(a, y), a - y)
    assert network.sigmoid(0.0) == 0.5
    expected = [0.25, np.exp(-2) / (1 + np.exp(-2)) ** 2]
    np.testing.assert_allclose(network.sigmoid_prime(np.array([0.0, 2.0])), expected)
    assert network.sigmoid(np.array([-1e4, 1e4])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("backend", ["numpy", "numba", "loop"])
def test_user_edits_between_calls_are_respected(backend):
    x, y = synthetic([4, 3, 2], 12)
    net = network.Network([4, 3, 2], seed=0, backend=backend)
    net.SGD((x, y), 1, 4, 1.0, verbose=False)
    net.weights[0] = np.zeros((3, 4))  # replaced
    net.biases[1][:] = 0.5  # edited in place
    net.weights[1] = net.weights[1].astype(np.float32)  # wrong dtype: converted, not ignored
    expected = [w.astype(np.float64) for w in net.weights], [b.copy() for b in net.biases]
    loop.update_mini_batch(*expected, book_pairs(x, y)[:4], 1.0)
    # one mini-batch in the order the network will draw
    random_state = np.random.get_state(), random.getstate()
    net.update_mini_batch(book_pairs(x, y)[:4], 1.0)
    np.random.set_state(random_state[0])
    random.setstate(random_state[1])
    for got, want in zip(net.weights + net.biases, expected[0] + expected[1]):
        np.testing.assert_allclose(got, want, atol=1e-14)
    assert np.allclose(net.feedforward(x[:1].T), loop.feedforward(net.weights, net.biases, x[:1].T))


def test_float32_network_keeps_its_dtype():
    x, y = synthetic([4, 3, 2], 12)
    net = network.Network([4, 3, 2], seed=0, dtype=np.float32)
    net.SGD((x, y), 2, 4, 1.0, verbose=False)
    assert all(a.dtype == np.float32 for a in net.weights + net.biases)
    assert net.feedforward(x[:3].T).dtype == np.float32


def test_unknown_backend_and_dtype_are_refused():
    with pytest.raises(ValueError, match="backend must be one of"):
        network.Network([2, 2], backend="gpu")
    with pytest.raises(TypeError, match="dtype must be float64 or float32"):
        network.Network([2, 2], dtype=np.int32)


def test_a_fused_network_hands_out_views_that_edits_reach_and_prepare_leaves_alone():
    """After its first call a numba network's lists hold views of its own buffers: an edit
    through one is seen by the next call, a replaced array is copied in (and the list then
    holds the view again), and compiling (prepare) never touches the parameters."""
    x, y = synthetic([4, 3, 2], 12)
    net = network.Network([4, 3, 2], seed=0, backend="numba")
    column = x[:1].T

    def expected():
        return loop.feedforward([w.copy() for w in net.weights], [b.copy() for b in net.biases], column)

    net.feedforward(column)
    views = [*net.weights, *net.biases]
    net.weights[0][1, 2] = 5.0
    net.biases[1][0, 0] = -3.0
    np.testing.assert_allclose(net.feedforward(column), expected(), rtol=1e-14)
    before = [a.copy() for a in views]
    net.prepare(50)  # compiles on throw-away parameters
    for a, b in zip([*net.weights, *net.biases], before):
        np.testing.assert_array_equal(a, b)
    assert all(a is b for a, b in zip([*net.weights, *net.biases], views))
    replacement = np.full((3, 4), 0.25)
    net.weights[0] = replacement
    want = expected()
    np.testing.assert_allclose(net.feedforward(column), want, rtol=1e-14)
    assert net.weights[0] is views[0]  # the view is back, holding the replacement's values
    np.testing.assert_array_equal(net.weights[0], replacement)
    net.SGD((x, y), 1, 4, 1.0, verbose=False)
    assert net.weights[0] is views[0]  # trained in place, in the buffers the views show
    assert not np.array_equal(net.weights[0], replacement)
