"""matnet.network2, chapter 3's drop-in, against the book's network2 written the book's way
(matnet.bench.book_network2): the same names, numbers, printed lines, returned lists, files and
random numbers; the cost and the regularizer from the one maths table on every backend."""

from __future__ import annotations

import contextlib
import io
import json
import random

import numpy as np
import pytest

import matnet.network2 as network2
from matnet import gradcheck, mnist_loader
from matnet.bench import book_network2 as book
from matnet.errors import ModelFileError
from tests.helpers import synthetic

COSTS = ["CrossEntropyCost", "QuadraticCost"]


@pytest.fixture(scope="module")
def lists(mnist):
    """The loader's lists: training (50,000 one-hot pairs), validation, test (labels)."""
    return mnist_loader.load_data_wrapper()


def both(make, seed=7):
    """``make(module)`` for the book's module and matnet's, from the same seeds."""
    made = []
    for module in (book, network2):
        np.random.seed(seed)
        random.seed(seed)
        made.append(make(module))
    return made


def quietly(fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn()
    return result, out.getvalue()


def gap(a, b) -> float:
    return max(float(np.abs(np.asarray(u, np.float64) - v).max())
               for u, v in zip(a.weights + a.biases, b.weights + b.biases))


def test_the_books_names_are_here():
    for name in ("Network", "QuadraticCost", "CrossEntropyCost", "load", "vectorized_result", "sigmoid",
                 "sigmoid_prime"):
        assert hasattr(network2, name), name
    net = network2.Network([4, 3, 2])
    assert net.cost is network2.CrossEntropyCost and net.num_layers == 3 and net.sizes == [4, 3, 2]
    for method in ("default_weight_initializer", "large_weight_initializer", "feedforward", "SGD",
                   "update_mini_batch", "backprop", "accuracy", "total_cost", "save"):
        assert callable(getattr(net, method)), method
    assert net.computed_by == "numba"  # the compiled path, by default


def test_the_cost_classes_compute_the_books_formulas():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(10, 1))
    a, y = network2.sigmoid(z), np.eye(10)[:, [3]]
    for name in COSTS:
        ours, theirs = getattr(network2, name), getattr(book, name)
        assert ours.fn(a, y) == pytest.approx(theirs.fn(a, y), rel=1e-14)
        np.testing.assert_allclose(ours.delta(z, a, y), theirs.delta(z, a, y), rtol=1e-14)
    ones = np.ones((10, 1))
    assert network2.CrossEntropyCost.fn(ones, ones) == 0.0  # a = y = 1: nan_to_num's 0, no warning


@pytest.mark.parametrize("initializer", ["default_weight_initializer", "large_weight_initializer"])
def test_initializers_draw_the_books_numbers(initializer):
    def make(module):
        net = module.Network([20, 7, 3])
        getattr(net, initializer)()
        return net, np.random.get_state()[1].copy()

    (theirs, their_state), (ours, our_state) = both(make)
    assert gap(theirs, ours) == 0.0
    np.testing.assert_array_equal(their_state, our_state)  # the same numbers drawn: the same state after


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("lmbda", [0.0, 5.0])
@pytest.mark.parametrize("initializer", ["default", "large"])
def test_sgd_follows_the_books_trajectory_and_prints_its_lines(lists, cost, lmbda, initializer):
    training, _, test = lists

    def make(module):
        net = module.Network([784, 30, 10], cost=getattr(module, cost))
        if initializer == "large":
            net.large_weight_initializer()
        data = training[:200] if module is network2 else list(training[:200])
        evaluation = test[:100] if module is network2 else list(test[:100])
        result, printed = quietly(lambda: net.SGD(
            data, 2, 10, 0.5, lmbda=lmbda, evaluation_data=evaluation, monitor_evaluation_cost=True,
            monitor_evaluation_accuracy=True, monitor_training_cost=True, monitor_training_accuracy=True))
        return net, result, printed

    (theirs, their_lists, their_lines), (ours, our_lists, our_lines) = both(make)
    assert gap(theirs, ours) < 1e-9
    e_cost, e_accuracy, t_cost, t_accuracy = our_lists
    assert (e_accuracy, t_accuracy) == (their_lists[1], their_lists[3])
    np.testing.assert_allclose(e_cost + t_cost, their_lists[0] + their_lists[2], rtol=1e-10)
    assert [type(v) for v in e_accuracy] == [int, int] and all(isinstance(v, float) for v in e_cost)
    # The same lines, the costs' last digits aside (the sums run in another order).
    words = [line.rsplit(":", 1)[0] if "Cost" in line else line for line in our_lines.splitlines()]
    assert words == [line.rsplit(":", 1)[0] if "Cost" in line else line for line in their_lines.splitlines()]
    assert our_lines.splitlines()[:6] == ["Epoch 0 training complete", our_lines.splitlines()[1],
                                         f"Accuracy on training data: {t_accuracy[0]} / 200",
                                         our_lines.splitlines()[3],
                                         f"Accuracy on evaluation data: {e_accuracy[0]} / 100", ""]


def test_monitors_print_in_the_books_order_only_what_is_asked(lists):
    training, validation, _ = lists
    net = network2.Network([784, 30, 10], seed=0)
    result, printed = quietly(lambda: net.SGD(training[:100], 2, 10, 0.5, evaluation_data=validation[:50],
                                              monitor_evaluation_accuracy=True))
    assert result[0] == [] and len(result[1]) == 2 and result[2:] == ([], [])
    lines = printed.splitlines()
    assert lines[0] == "Epoch 0 training complete" and lines[1].startswith("Accuracy on evaluation data: ")
    assert lines[1].endswith(" / 50") and lines[2] == "" and lines[3] == "Epoch 1 training complete"
    assert quietly(lambda: net.SGD(training[:100], 1, 10, 0.5))[1] == "Epoch 0 training complete\n\n"


@pytest.mark.parametrize("cost", COSTS)
def test_update_mini_batch_backprop_accuracy_and_total_cost_are_the_books(lists, cost):
    training, _, test = lists

    def make(module):
        net = module.Network([784, 30, 10], cost=getattr(module, cost))
        net.update_mini_batch(list(training[:10]), 0.5, 5.0, 1000)
        x, y = training[3]
        return (net, net.backprop(x, y), net.accuracy(list(training[:300]), convert=True),
                net.accuracy(list(test[:300])), net.total_cost(list(training[:300]), 5.0),
                net.total_cost(list(test[:300]), 5.0, convert=True))

    theirs, ours = both(make)
    assert gap(theirs[0], ours[0]) < 1e-12
    for mine, book_gradient in zip(ours[1][0] + ours[1][1], theirs[1][0] + theirs[1][1]):
        np.testing.assert_allclose(mine, book_gradient, rtol=1e-9, atol=1e-14)
    assert ours[2:4] == theirs[2:4]
    np.testing.assert_allclose(ours[4:], theirs[4:], rtol=1e-10)


def test_a_cost_assigned_after_construction_is_the_one_trained_with(lists):
    training, _, _ = lists

    def make(module):
        net = module.Network([784, 30, 10])
        net.cost = module.QuadraticCost
        quietly(lambda: net.SGD(list(training[:100]), 1, 10, 0.5, lmbda=1.0))
        return net

    theirs, ours = both(make)
    assert gap(theirs, ours) < 1e-12


def test_arrays_and_float32_train_too(lists):
    test = lists[2]
    x, labels = synthetic([784, 30, 10], 200, sparsity=0.8)
    net = network2.Network([784, 30, 10], dtype=np.float32, seed=0)
    lists_ = net.SGD((x, labels.argmax(axis=1)), 2, 10, 0.5, lmbda=1.0, evaluation_data=test[:100],
                     monitor_evaluation_accuracy=True, monitor_training_cost=True, verbose=False)
    assert all(w.dtype == np.float32 for w in net.weights + net.biases)
    assert len(lists_[1]) == 2 and all(np.isfinite(lists_[2]))


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda net, data: net.SGD(data, 1, 10, 0.5, lmbda=-1.0), ValueError,
     r"lmbda must be a finite number ≥ 0"),
    (lambda net, data: net.SGD(data, 1, 10, 0.5, lmbda=float("nan")), ValueError, "lmbda must be"),
    (lambda net, data: net.SGD(data, 1, 10, 0.5, lmbda="big"), TypeError, "lmbda must be a real number"),
    (lambda net, data: net.SGD(data, 1, 10, 0.5, monitor_evaluation_cost=True), ValueError,
     "need evaluation_data"),
    (lambda net, data: net.SGD([(np.zeros((5, 1)), np.zeros((3, 1)))], 1, 10, 0.5), ValueError,
     r"inputs\[0\] must have shape \(4, 1\), got \(5, 1\)"),
    (lambda net, data: net.update_mini_batch(data, 0.5, 1.0, 0), ValueError, "n must be ≥ 1"),
    (lambda net, data: net.total_cost(data, -2.0), ValueError, "lmbda must be"),
])
def test_bad_arguments_are_one_clear_error_and_change_nothing(call, error, match):
    x, y = synthetic([4, 3, 2], 20)
    data = [(xi.reshape(-1, 1), yi.reshape(-1, 1)) for xi, yi in zip(x, y)]
    net = network2.Network([4, 3, 2], seed=0)
    before = [a.copy() for a in net.weights + net.biases]
    with pytest.raises(error, match=match):
        call(net, data)
    for a, b in zip(net.weights + net.biases, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cost", [object, "CrossEntropyCost", book.CrossEntropyCost, None])
def test_a_cost_that_is_not_a_cost_class_is_refused(cost):
    with pytest.raises(TypeError, match="cost must be QuadraticCost or CrossEntropyCost"):
        network2.Network([4, 3, 2], cost=cost)


@pytest.mark.parametrize("cost", COSTS)
def test_files_saved_by_either_load_in_the_other(tmp_path, cost):
    np.random.seed(3)
    ours = network2.Network([6, 5, 3], cost=getattr(network2, cost), dtype=np.float32)
    ours.save(tmp_path / "ours.json")
    theirs = book.load(str(tmp_path / "ours.json"))
    assert theirs.cost is getattr(book, cost) and gap(ours, theirs) == 0.0
    theirs.save(str(tmp_path / "theirs.json"))
    states = []
    for load in (book.load, network2.load):  # the book's load draws an initialization: so does ours
        np.random.seed(4)
        loaded = load(tmp_path / "theirs.json" if load is network2.load else str(tmp_path / "theirs.json"))
        states.append(np.random.get_state()[1].copy())
    np.testing.assert_array_equal(*states)
    assert loaded.cost is getattr(network2, cost) and gap(loaded, theirs) == 0.0
    assert json.loads((tmp_path / "ours.json").read_text())["cost"] == cost


@pytest.mark.parametrize(("content", "match"), [
    (b"\x89PNG not json", "not a network2 JSON file"),
    (b"[1, 2, 3]", "needs the keys sizes, weights, biases and cost"),
    (b'{"sizes": [2, 1], "weights": [[[0.5, 0.5]]], "biases": [[[0]]], "cost": "LogLikelihood"}',
     "unknown cost 'LogLikelihood'"),
    (b'{"sizes": [2], "weights": [], "biases": [], "cost": "QuadraticCost"}', "at least 2 layers"),
    (b'{"sizes": [100000000, 100000000], "weights": [[[1.0]]], "biases": [[[0.0]]], "cost": "QuadraticCost"}',
     r"weights\[0\] must be a 100000000 × 100000000 array"),
    (b'{"sizes": [2, 1], "weights": [[[0.5, "x"]]], "biases": [[[0.0]]], "cost": "QuadraticCost"}',
     r"weights\[0\] must be a 1 × 2 array of numbers"),
    (b'{"sizes": [2, 1], "weights": [[[0.5, 1e999]]], "biases": [[[0.0]]], "cost": "QuadraticCost"}',
     r"weights\[0\] contains NaN or inf"),
])
def test_a_file_that_is_not_a_network_is_refused_naming_it(tmp_path, content, match):
    path = tmp_path / "net.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=match) as raised:
        network2.load(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("backend", ["numba", "numpy", "loop"])
@pytest.mark.parametrize("cost", COSTS)
def test_gradcheck_passes_for_both_costs_with_regularization(backend, cost):
    sizes = [5, 4, 3]
    net = network2.Network(sizes, cost=getattr(network2, cost), backend=backend, seed=1)
    x, y = synthetic(sizes, 3, seed=1)
    for gradient in ("backprop", "engine", "loop", "sgd"):
        assert gradcheck.gradcheck(net, x.T, y.T, gradient=gradient, lmbda=3.0, n=50) < 1e-6, gradient


def test_gradcheck_catches_a_regularizer_left_out():
    sizes = [5, 4, 3]
    net = network2.Network(sizes, seed=2)
    x, y = synthetic(sizes, 3, seed=2)
    unregularized = gradcheck.gradient_function(net, "backprop")  # the gradient of the cost alone
    assert gradcheck.gradcheck(net, x.T, y.T, gradient=unregularized, lmbda=3.0, n=50) > 1e-3
