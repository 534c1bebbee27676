"""Neurons other than the sigmoid (chapter 2's exercises): linear layers, a user's (f, f′) pair,
one modified neuron. Every backend that serves them agrees with the per-example oracle, the
gradient checks out against finite differences, and the book's network is untouched."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from matnet.core import activations
from matnet.core.maths import LINEAR, SIGMOID
from matnet.errors import ModelFileError
from matnet.gradcheck import gradcheck
from matnet.network import Network

SIZES = [6, 5, 4, 3]
TANH = (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2)


def _softplus_row0(z):
    out = 1.0 / (1.0 + np.exp(-z))
    out[0] = np.logaddexp(0.0, z[0])
    return out


def _softplus_row0_prime(z):
    s = 1.0 / (1.0 + np.exp(-z))
    out = s * (1 - s)
    out[0] = s[0]
    return out


ONE_MODIFIED = (_softplus_row0, _softplus_row0_prime)
SPECS = {
    "linear": "linear",
    "mixed": ["linear", "sigmoid", "linear"],
    "tanh": TANH,
    "one modified neuron": [ONE_MODIFIED, "sigmoid", "sigmoid"],
}


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, SIZES[0])), rng.integers(0, SIZES[-1], n)


# ------------------------------------------------------------------ what users give
def test_the_sigmoid_everywhere_is_the_books_network():
    assert activations.resolve("sigmoid", 3) == (SIGMOID,) * 3
    assert activations.resolve(["sigmoid"] * 3, 3) == (SIGMOID,) * 3
    net = Network(SIZES, seed=0)
    assert net.neurons == (SIGMOID,) * 3 and net.activations == ("sigmoid",) * 3
    assert net.computed_by == "numba"  # the compiled path serves it


def test_names_pairs_and_lists_resolve_per_layer():
    layers = activations.resolve(["linear", TANH, "sigmoid"], 3)
    assert [a.name for a in layers] == ["linear", "tanh", "sigmoid"]
    assert layers[0] is LINEAR and layers[2] is SIGMOID
    assert activations.resolve("linear", 2) == (LINEAR, LINEAR)


@pytest.mark.parametrize(("spec", "error", "match"), [
    ("relu", ValueError, r"must be one of \['linear', 'sigmoid'\] or a pair \(f, f_prime\), got 'relu'"),
    (["linear"], ValueError, "one per layer of weights: 3 for this network, got 1"),
    ((np.tanh,), TypeError, "activation must be a name"),
    ((np.tanh, 3), TypeError, "activation must be a name"),
    (["linear", "sigmoid", 7], TypeError, r"activation\[2\] must be a name"),
])
def test_a_bad_activation_is_refused_by_name(spec, error, match):
    with pytest.raises(error, match=match):
        Network(SIZES, activation=spec)


def test_a_function_returning_the_wrong_shape_fails_at_construction():
    with pytest.raises(ValueError, match=r"layer 1: activation '<lambda>' must return real numbers of the "
                                         r"input's shape \(4, 2\), got float64 of shape \(2,\)"):
        Network(SIZES, activation=["sigmoid", (lambda z: z.sum(axis=0), np.ones_like), "sigmoid"])


def test_a_named_function_is_reported_under_its_name():
    def sum_(z):
        return z.sum(axis=0)

    with pytest.raises(ValueError, match=r"layer 0: activation 'sum_' must return"):
        Network(SIZES, activation=[(sum_, np.ones_like), "sigmoid", "sigmoid"])


def test_a_function_that_writes_to_its_input_is_stopped():
    def doubling(z):
        z *= 2
        return z

    with pytest.raises(ValueError, match="read-only"):
        Network(SIZES, activation=(doubling, np.ones_like))


def test_the_fused_path_refuses_other_neurons_and_auto_picks_numpy():
    with pytest.raises(ValueError, match="backend 'numba' computes sigmoid neurons only, not linear, tanh"):
        Network(SIZES, backend="numba", activation=["linear", TANH, "sigmoid"])
    assert Network(SIZES, activation="linear").computed_by == "numpy"


# ------------------------------------------------------------------ what the network computes
@pytest.mark.parametrize("backend", ["numpy", "loop"])
def test_one_modified_neuron_computes_its_own_function(backend):
    """The user's functions see (neurons, examples): row 0 is the softplus neuron, in every
    path (the engine's rows and columns, the oracle's columns)."""
    net = Network(SIZES[:2], seed=3, backend=backend, activation=[ONE_MODIFIED])
    x, _ = _data(7)
    z = net.weights[0] @ x.T + net.biases[0]
    expected = 1.0 / (1.0 + np.exp(-z))
    expected[0] = np.logaddexp(0.0, z[0])
    np.testing.assert_allclose(net.feedforward(x.T), expected, rtol=1e-13)
    np.testing.assert_allclose(net.feedforward(x[0].reshape(-1, 1)), expected[:, :1], rtol=1e-13)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_engine_follows_the_oracles_trajectory(name):
    x, labels = _data(60)
    nets = {b: Network(SIZES, seed=1, backend=b, activation=SPECS[name]) for b in ("numpy", "loop")}
    initial = nets["loop"].weights[0].copy()
    for net in nets.values():
        net.SGD((x, labels), 3, 7, 0.01, verbose=False)
    for w_engine, w_loop in zip(nets["numpy"].weights + nets["numpy"].biases,
                                nets["loop"].weights + nets["loop"].biases):
        np.testing.assert_allclose(w_engine, w_loop, rtol=1e-9, atol=1e-12)
    assert nets["numpy"].evaluate((x, labels)) == nets["loop"].evaluate((x, labels))
    assert np.abs(nets["loop"].weights[0] - initial).max() > 1e-3  # it did train


@pytest.mark.parametrize("backend", ["auto", "numpy", "loop"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradcheck_passes_for_every_activation_on_every_backend_that_serves_it(name, backend):
    net = Network(SIZES, seed=2, backend=backend, activation=SPECS[name])
    x, labels = _data(3, seed=4)
    y = np.eye(SIZES[-1])[labels].T
    for gradient in ("backprop", "engine", "loop", "sgd"):
        assert gradcheck(net, x.T, y, gradient=gradient) < 1e-6, gradient


def test_gradcheck_catches_a_wrong_derivative():
    net = Network(SIZES, seed=2, activation=(np.tanh, np.ones_like))  # f′ of tanh is not 1
    x, labels = _data(3, seed=4)
    assert gradcheck(net, x.T, np.eye(SIZES[-1])[labels].T) > 1e-2


def test_a_float32_network_of_linear_neurons_stays_float32():
    net = Network(SIZES, seed=0, dtype=np.float32, activation="linear")
    x, labels = _data()
    net.SGD((x, labels), 1, 10, 0.01, verbose=False)
    assert {w.dtype for w in net.weights + net.biases} == {np.dtype(np.float32)}
    assert net.feedforward(x[0].reshape(-1, 1)).dtype == np.float32


def test_a_linear_network_is_an_affine_map():
    net = Network(SIZES, seed=5, activation="linear")
    x, _ = _data(4)
    w, b = np.eye(SIZES[0]), np.zeros((SIZES[0], 1))
    for wl, bl in zip(net.weights, net.biases):
        w, b = wl @ w, wl @ b + bl
    np.testing.assert_allclose(net.feedforward(x.T), w @ x.T + b, rtol=1e-12)


# ------------------------------------------------------------------ files
def test_named_activations_are_saved_and_loaded(tmp_path):
    net = Network(SIZES, seed=0, activation=["linear", "sigmoid", "linear"])
    net.save(tmp_path / "n.npz")
    back = Network.load(tmp_path / "n.npz")
    assert back.activations == ("linear", "sigmoid", "linear") and back.computed_by == "numpy"
    x, _ = _data(5)
    np.testing.assert_array_equal(back.feedforward(x.T), net.feedforward(x.T))


def test_the_books_network_writes_no_activations(tmp_path):
    Network(SIZES, seed=0).save(tmp_path / "n.npz")
    assert "activations.npy" not in zipfile.ZipFile(tmp_path / "n.npz").namelist()


def test_a_users_function_is_not_saved(tmp_path):
    with pytest.raises(ValueError, match="layer 0's activation 'tanh' is a function of yours"):
        Network(SIZES, activation=TANH).save(tmp_path / "n.npz")
    assert not (tmp_path / "n.npz").exists()


@pytest.mark.parametrize(("stored", "match"), [
    (np.array(["linear", "relu", "sigmoid"]), r"unknown activations \['relu'\]"),
    (np.array(["linear", "sigmoid"]), r"activations must be 3 names, got <U7 of shape \(2,\)"),
    (np.array([1, 2, 3]), r"activations must be 3 names, got int64"),
])
def test_a_file_with_bad_activations_is_refused(tmp_path, stored, match):
    Network(SIZES, seed=0, activation="linear").save(tmp_path / "n.npz")
    with np.load(tmp_path / "n.npz") as saved:
        arrays = {key: saved[key] for key in saved.files}
    arrays["activations"] = stored
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match=match):
        Network.load(tmp_path / "bad.npz")
