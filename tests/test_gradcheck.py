"""matnet.gradcheck: every gradient matnet computes agrees with finite differences (book §2.8)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import matnet
import matnet.cli
from matnet.core import loop
from matnet.core.loop import LoopNetwork
from matnet.gradcheck import check_gradient, numerical_gradient, relative_error
from matnet.network import Network

gradcheck = importlib.import_module("matnet.gradcheck")
SIZES = [[4, 3, 2], [5, 4, 3, 2]]


def test_package_attribute_is_the_module_no_function_shadows_it():
    assert matnet.gradcheck is gradcheck
    assert callable(matnet.gradcheck.gradcheck)


def example(sizes, m=1, seed=0):
    """m random inputs as columns (n_0, m) in [-1, 1) and one-hot targets (n_L, m)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (sizes[0], m))
    y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], m)]
    return x, y


def snapshot(net):
    """The parameter arrays and copies of their values. A call first, so that a fused network
    has made its lists hold views of its own buffers (its first call does): from then on the
    arrays in the lists stay the same objects."""
    net.feedforward(np.zeros((net.sizes[0], 1)))
    return [*net.weights, *net.biases], [a.copy() for a in [*net.weights, *net.biases]]


def assert_unchanged(net, before):
    arrays, copies = before
    now = [*net.weights, *net.biases]
    assert all(a is b for a, b in zip(now, arrays, strict=True)), "a parameter array was replaced"
    for a, copy in zip(now, copies, strict=True):
        np.testing.assert_array_equal(a, copy)


@pytest.mark.parametrize("gradient", ["backprop", "engine", "loop", "sgd"])
@pytest.mark.parametrize("backend", ["numpy", "numba", "loop"])
@pytest.mark.parametrize("sizes", SIZES)
def test_every_gradient_of_every_backend_passes(sizes, backend, gradient):
    for seed, m in ((0, 1), (1, 1), (2, 3)):
        net = Network(sizes, backend=backend, seed=seed)
        x, y = example(sizes, m, seed)
        before = snapshot(net)
        error = gradcheck.gradcheck(net, x, y, gradient=gradient)
        assert error < 1e-6, (seed, m, error)
        assert_unchanged(net, before)


@pytest.mark.parametrize("sizes", SIZES)
def test_the_books_loop_backprop_passes(sizes):
    np.random.seed(3)
    net = LoopNetwork(sizes)
    x, y = example(sizes, seed=3)

    def book_gradient(x, y):
        return loop.backprop(net.weights, net.biases, x, y)

    assert check_gradient(book_gradient, net.weights, net.biases, x, y) < 1e-6


def test_gradient_on_real_mnist_image(mnist):
    net = Network([784, 30, 10], seed=0, backend="numpy")
    x = mnist.training.images[7].reshape(-1, 1)
    label = int(mnist.training.labels[7])
    before = snapshot(net)
    assert gradcheck.gradcheck(net, x, label) < 1e-6
    assert_unchanged(net, before)


def test_a_one_neuron_network_matches_the_derivative_by_hand():
    # C = ½(σ(wx + b) − y)², so ∂C/∂w = (a − y) a (1 − a) x and ∂C/∂b = (a − y) a (1 − a).
    w, b, x, y = np.array([[0.7]]), np.array([[-0.3]]), np.array([[1.9]]), np.array([[1.0]])
    a = 1 / (1 + np.exp(-(w * x + b)))
    delta = (a - y) * a * (1 - a)
    nabla_b, nabla_w = numerical_gradient([w], [b], x, y)
    np.testing.assert_allclose(nabla_w[0], delta * x, rtol=1e-9)
    np.testing.assert_allclose(nabla_b[0], delta, rtol=1e-9)


def test_numerical_gradient_leaves_its_inputs_alone():
    net = Network([4, 3, 2], seed=0)
    before = snapshot(net)
    numerical_gradient(net.weights, net.biases, *example([4, 3, 2]))
    assert_unchanged(net, before)


def flipped(gradient_fn, layer, index):
    """``gradient_fn`` with one weight derivative's sign flipped: a one-character bug."""

    def wrong(x, y):
        nabla_b, nabla_w = gradient_fn(x, y)
        nabla_w = [g.copy() for g in nabla_w]
        nabla_w[layer][index] *= -1
        return nabla_b, nabla_w

    return wrong


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_sign_flip_in_one_component_is_caught(backend):
    sizes = [5, 4, 3, 2]
    net = Network(sizes, backend=backend, seed=1)
    x, y = example(sizes, seed=1)
    _, nabla_w = net.backprop(x, y)
    for layer in range(len(nabla_w)):
        index = np.unravel_index(np.argmax(np.abs(nabla_w[layer])), nabla_w[layer].shape)
        wrong = flipped(net.backprop, layer, index)
        assert gradcheck.gradcheck(net, x, y, gradient=wrong) > 0.5


def test_subtle_errors_are_caught():
    sizes = [5, 4, 3, 2]
    net = Network(sizes, backend="numpy", seed=2)
    x, y = example(sizes, m=2, seed=2)

    def scaled(x, y):  # 0.01% too large everywhere
        nabla_b, nabla_w = gradcheck.gradient_function(net, "engine")(x, y)
        return [g * 1.0001 for g in nabla_b], [g * 1.0001 for g in nabla_w]

    def cross_entropy_delta(x, y):  # BP1 without σ'(z): the cross-entropy cost's gradient
        weights, biases = net.weights, net.biases
        activations = [x]
        for w, b in zip(weights, biases):
            activations.append(1 / (1 + np.exp(-(w @ activations[-1] + b))))
        delta = activations[-1] - y
        nabla_b, nabla_w = [None] * len(weights), [None] * len(weights)
        for layer in range(len(weights) - 1, -1, -1):
            nabla_b[layer] = delta.sum(axis=1, keepdims=True)
            nabla_w[layer] = delta @ activations[layer].T
            a = activations[layer]
            delta = (weights[layer].T @ delta) * a * (1 - a)
        return nabla_b, nabla_w

    assert 1e-5 < gradcheck.gradcheck(net, x, y, gradient=scaled) < 1e-3
    assert gradcheck.gradcheck(net, x, y, gradient=cross_entropy_delta) > 0.1


def test_float32_networks_are_checked_to_their_own_precision():
    net = Network([5, 4, 3], dtype=np.float32, seed=0, backend="numpy")
    for gradient in ("backprop", "sgd"):
        assert 1e-9 < gradcheck.gradcheck(net, *example([5, 4, 3]), gradient=gradient) < 1e-5


def test_relative_error_definition():
    g = ([np.array([[0.5], [-0.25]])], [np.array([[1.0, 0.0]])])
    assert relative_error(g, g) == 0.0
    opposite = ([-a for a in g[0]], [-a for a in g[1]])
    assert relative_error(g, opposite) == 1.0
    off = ([np.array([[0.5], [-0.25]])], [np.array([[1.0, 1e-12]])])
    assert relative_error(off, g) == 1.0  # without a floor, 1e-12 against 0 is "all wrong"
    assert relative_error(off, g, floor=1e-3) == pytest.approx(1e-9)  # below the floor: absolute
    nan = ([np.array([[np.nan], [0.0]])], g[1])
    assert relative_error(nan, g) == float("inf")
    with pytest.raises(ValueError, match="shape"):
        relative_error(([np.zeros((3, 1))], g[1]), g)


def test_bad_arguments_are_refused():
    net = Network([4, 3, 2], seed=0)
    x, y = example([4, 3, 2])
    with pytest.raises(ValueError, match=r"x must be an \(4, m\) array"):
        gradcheck.gradcheck(net, np.ones((3, 1)), y)
    with pytest.raises(ValueError, match=r"y must have shape \(2, 1\)"):
        gradcheck.gradcheck(net, x, np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"y label must be in \[0, 2\)"):
        gradcheck.gradcheck(net, x, 2)
    with pytest.raises(ValueError, match="eps must be"):
        gradcheck.gradcheck(net, x, y, eps=0.0)
    with pytest.raises(ValueError, match="gradient must be one of"):
        gradcheck.gradcheck(net, x, y, gradient="magic")


def test_cli_passes_in_process(capsys):
    assert matnet.cli.main(["gradcheck", "--sizes", "4,3,2"]) == 0
    out = capsys.readouterr().out
    assert "parameters checked: 23 (18 weights, 5 biases)" in out
    assert "a random input" in out and "not MNIST's 784" in out
    assert "max relative error, net.backprop:" in out
    assert "one backprop gradient:" in out and "finite-difference gradient:" in out
    assert "46 forward passes" in out and out.rstrip().endswith("PASS: max relative error < 1e-06")


def test_cli_fails_on_a_wrong_backprop(capsys, monkeypatch):
    right_backprop = Network.backprop

    def wrong_backprop(self, x, y):
        nabla_b, nabla_w = right_backprop(self, x, y)
        return [-g for g in nabla_b], nabla_w

    monkeypatch.setattr(Network, "backprop", wrong_backprop)
    assert matnet.cli.main(["gradcheck", "--sizes", "4,3,2", "--backend", "numpy"]) == 1
    assert "FAIL: max relative error ≥ 1e-06" in capsys.readouterr().out


def test_cli_uses_a_real_mnist_image(mnist, capsys):
    assert matnet.cli.main(["gradcheck", "--sizes", "784,30,10", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    label = int(mnist.training.labels[3])
    assert f"example: MNIST training image 3 (digit {label})" in out
    assert "parameters checked: 23,860" in out and "47,720 forward passes" in out


def wrong_derivative_network(**kwargs) -> Network:
    """A [4, 3, 2] network whose neurons' f′ is twice σ′: backprop is wrong, f is right."""
    from matnet.core.maths import Activation, sigmoid, sigmoid_prime

    wrong = Activation("wrong", sigmoid, lambda z: 2 * sigmoid_prime(z))
    return Network([4, 3, 2], seed=0, backend="numpy", activation=[wrong, wrong], **kwargs)


@pytest.mark.parametrize("eps", [1e-16, 1e-320, gradcheck.MIN_EPS / 2])
def test_a_tiny_eps_never_passes_a_wrong_derivative(eps):
    """Issue 21, item 19: with a wrong f′, eps=1e-16 reported 2.3e-7 and eps=1e-320 0.00 (PASS)."""
    net = wrong_derivative_network()
    x, y = example([4, 3, 2])
    assert gradcheck.gradcheck(net, x, y, eps=1e-5) > 0.1
    assert gradcheck.gradcheck(net, x, y, eps=gradcheck.MIN_EPS) > 1e3 * gradcheck.TOLERANCE
    with pytest.raises(ValueError, match=f"eps must be a step between {gradcheck.MIN_EPS:g} and"):
        gradcheck.gradcheck(net, x, y, eps=eps)


def test_an_eps_below_the_parameters_resolution_is_refused_and_nan_never_passes():
    """Issue 21, item 19: at parameters of 1e12, w ± 1e-5 rounds to w, every difference quotient is
    0/0, and a gradient off by one everywhere reported 0.0 (PASS)."""
    net = wrong_derivative_network()
    for params in (*net.weights, *net.biases):
        params[...] = 1e12
    x, y = example([4, 3, 2])
    off_by_one = lambda x, y: tuple([g + 1 for g in gs] for gs in net.backprop(x, y))  # noqa: E731
    with pytest.raises(ValueError, match=r"eps 1e-05 is too small for a parameter of size 1e\+12"):
        gradcheck.gradcheck(net, x, y, eps=1e-5, gradient=off_by_one)
    with pytest.raises(ValueError, match=r"no eps up to 0\.1 can check"):
        gradcheck.gradcheck(net, x, y, eps=0.1, gradient=off_by_one)
    g = ([np.array([[0.5]])], [np.array([[1.0]])])
    assert relative_error(g, ([np.array([[np.nan]])], g[1])) == float("inf")


@pytest.mark.parametrize("eps", ["1e-16", "1e-320"])
def test_cli_refuses_a_tiny_eps_in_one_line_and_says_the_range(eps, capsys):
    assert matnet.cli.main(["gradcheck", "--sizes", "4,3,2", "--eps", eps]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"matnet gradcheck: error: eps must be a step between {gradcheck.MIN_EPS:g} and")
    with pytest.raises(SystemExit):
        matnet.cli.main(["gradcheck", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"finite-difference step, from {gradcheck.MIN_EPS:g} to {gradcheck.MAX_EPS:g}" in help_text
