"""Divergence: non-finite numbers during training stop it with a DivergenceError that names the
epoch and mini-batch and leaves the last finite weights in place; check_finite=False is the
book's silent behaviour instead. Ways to diverge through the public API, on every backend:

* an *update* that overflows: zero first-layer weights keep the hidden layer unsaturated, so
  inputs of 1e5 give first-layer gradients ~1e3, and η = 1e308 turns them into ±inf steps;
* a *gradient* that overflows: 200 identical examples with inputs of 1.7e308 sum past the
  largest float;
* the user editing the weights between mini-batches (through ``on_progress``) into such a
  state, or into ±1e300 weights whose products with ±1e10 inputs overflow to ±inf.

A huge η alone does not do it: the sigmoid saturates, gradients vanish and the weights stay
finite (see test_warnings.py).
"""

from __future__ import annotations

import random
import re
import warnings

import numpy as np
import pytest

from matnet.errors import DivergenceError
from matnet.network import Network

BACKENDS = ["numpy", "numba", "loop"]


def parameters(net) -> list[np.ndarray]:
    return [*net.weights, *net.biases]


def copies(net) -> list[np.ndarray]:
    return [a.copy() for a in parameters(net)]


def assert_parameters(net, expected) -> None:
    for got, want in zip(parameters(net), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def overflowing_update(backend, check_finite=True) -> tuple[Network, tuple]:
    """A network and data whose first update is a finite gradient times η = 1e308 → ±inf."""
    net = Network([3, 4, 2], backend=backend, seed=0, check_finite=check_finite)
    net.weights[0][...] = 0.0
    x = np.full((8, 3), 1e5)
    labels = np.arange(8) % 2
    return net, (x, labels)


def overflowing_gradient(backend, check_finite=True) -> tuple[Network, tuple]:
    """A network and data whose summed first-layer gradient overflows (200 × ~0.01 × 1.7e308)."""
    net = Network([1, 3, 2], backend=backend, seed=1, check_finite=check_finite)
    net.weights[0][...] = 0.0
    x = np.full((200, 1), 1.7e308)
    labels = np.zeros(200, np.int64)
    return net, (x, labels)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("setup", [overflowing_update, overflowing_gradient])
def test_divergence_is_reported_and_the_weights_kept(setup, backend):
    net, data = setup(backend)
    before = copies(net)
    batch = 1 if setup is overflowing_update else 200
    eta = 1e308 if setup is overflowing_update else 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way to the error
        with pytest.raises(DivergenceError, match=r"diverged in epoch 0 at mini-batch 0 of \d+") as info:
            net.SGD(data, 3, batch, eta, verbose=False)
    assert f"eta={eta}" in str(info.value) and "check_finite=False" in str(info.value)
    assert_parameters(net, before)  # the first mini-batch diverged: nothing was applied


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("setup", [overflowing_update, overflowing_gradient])
def test_check_finite_false_is_the_books_silent_behaviour(setup, backend):
    net, data = setup(backend, check_finite=False)
    batch = 1 if setup is overflowing_update else 200
    eta = 1e308 if setup is overflowing_update else 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.SGD(data, 2, batch, eta, verbose=False, test_data=data)
        assert not all(np.isfinite(a).all() for a in parameters(net))
        # evaluate counts an example correct when its outputs are finite and their largest
        # is the label: exactly what feedforward's (unchecked) outputs say
        x, labels = data
        out = net.feedforward(x.T)
        finite = np.isfinite(out).all(axis=0)
        assert net.evaluate(data) == int(np.count_nonzero(finite & (np.argmax(out, axis=0) == labels)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_error_names_a_later_epoch_and_mini_batch(backend):
    """Training runs normally (saturated, finite) until the user puts the network into an
    overflowing state after mini-batch 3 of epoch 1; mini-batch 4 then diverges."""
    net, (x, labels) = overflowing_update(backend)
    dangerous = copies(net)  # zero first-layer weights: the next update overflows
    rng = np.random.default_rng(0)
    for w in net.weights:
        w[...] = rng.standard_normal(w.shape)  # saturated by the 1e5 inputs: stays finite
    progress = []
    state = {}

    def on_progress(done, total):
        progress.append((done, total))
        if len(progress) == total + 4:  # epoch 1, after mini-batch 3
            for a, value in zip(parameters(net), dangerous, strict=True):
                a[...] = value
            state["last finite"] = copies(net)

    with pytest.raises(DivergenceError, match=r"diverged in epoch 1 at mini-batch 4 of 8\b"):
        net.SGD((x, labels), 3, 1, 1e308, verbose=False, on_progress=on_progress)
    assert len(progress) == 8 + 4
    assert_parameters(net, state["last finite"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_culprit_is_found_inside_a_whole_epoch_run(backend):
    """Without a progress callback an epoch is one backend call, and the backends only look at
    gradients: an update that overflows is found afterwards, by replaying the epoch. Book
    mode shuffles with ``random`` exactly like the book, so the culprit's position is known:
    inputs are 0 except one example of 1.7e308, whose update η·δ·x overflows."""
    n, culprit_position = 12, 3
    random.seed(11)
    order = list(range(n))
    random.shuffle(order)
    x = np.zeros((n, 2))
    x[order[culprit_position]] = 1.7e308
    labels = np.arange(n) % 2
    np.random.seed(0)
    net = Network([2, 3, 2], backend=backend)
    net.weights[0][...] = 0.0  # unsaturated hidden layer: δ^1 ~ 0.01
    np.random.seed(0)
    expected = Network([2, 3, 2], backend="numpy")
    expected.weights[0][...] = 0.0
    for i in order[:culprit_position]:  # the mini-batches before the culprit
        expected.update_mini_batch([(x[i].reshape(-1, 1), int(labels[i]))], 100.0)
    assert not np.allclose(expected.biases[0], net.biases[0])  # they moved the weights

    random.seed(11)
    with pytest.raises(DivergenceError, match=rf"epoch 0 at mini-batch {culprit_position} of {n}\b"):
        net.SGD((x, labels), 2, 1, 100.0, verbose=False)
    for got, want in zip(parameters(net), parameters(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def run_with_huge_weights_from_epoch_1(backend, check_finite):
    """(network, {(epoch, mini-batches done): parameters}, error or None): SGD on inputs of
    ±1e10 whose first-layer weights the user sets to ±1e300 after mini-batch 3 of epoch 1."""
    net = Network([4, 3, 2], backend=backend, seed=0, check_finite=check_finite)
    rng = np.random.default_rng(0)
    x = rng.choice([-1e10, 1e10], size=(20, 4))
    labels = rng.integers(0, 2, 20)
    snapshots = {(0, 0): copies(net)}
    epoch = [0]

    def on_progress(done, total):
        snapshots[(epoch[0], done)] = copies(net)
        if (epoch[0], done) == (1, 4):
            net.weights[0][...] = np.array([[1.0, -1.0, 1.0, -1.0]] * 3) * 1e300
            snapshots[(1, 4)] = copies(net)
        if done == total:
            epoch[0] += 1

    try:
        net.SGD((x, labels), 3, 2, 1.0, verbose=False, on_progress=on_progress)
    except DivergenceError as exc:
        return net, snapshots, exc
    return net, snapshots, None


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_finite_activations_mid_epoch(backend):
    """Weights of ±1e300 against inputs of ±1e10: products overflow. Whether that gives NaN
    (inf − inf) or a saturated sigmoid depends on the order of the sums and on fused
    multiply-adds, so backends differ; each must do what the book's silent run (check_finite
    False) on the same backend says: stop with an error naming the first mini-batch that
    left a parameter non-finite, with the parameters from just before it; else finish with
    exactly the silent run's parameters."""
    silent, silent_snapshots, silent_error = run_with_huge_weights_from_epoch_1(backend, False)
    assert silent_error is None
    net, snapshots, error = run_with_huge_weights_from_epoch_1(backend, True)
    assert all(np.isfinite(a).all() for a in parameters(net))
    went_bad = sorted(key for key, params in silent_snapshots.items()
                      if not all(np.isfinite(a).all() for a in params))
    if not went_bad:
        assert error is None, str(error)
        assert_parameters(net, copies(silent))
        return
    epoch, done = went_bad[0]  # the mini-batch done - 1 of that epoch made them so
    assert (epoch, done) == (1, 5)  # the first mini-batch with the user's weights
    assert error is not None, "the silent run went non-finite, the checked one said nothing"
    assert re.search(rf"epoch {epoch} at mini-batch {done - 1} of 10\b", str(error)), str(error)
    assert_parameters(net, snapshots[(epoch, done - 1)])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_update_mini_batch_divergence_leaves_the_weights(backend):
    net, (x, labels) = overflowing_update(backend)
    before = copies(net)
    batch = [(xi.reshape(-1, 1), int(li)) for xi, li in zip(x, labels)]
    with pytest.raises(DivergenceError, match="weights and biases left unchanged"):
        net.update_mini_batch(batch, 1e308)
    assert_parameters(net, before)
    huge_batch = [(np.full((3, 1), 1.7e308), 0)] * 200  # the overflowing gradient, one step
    with pytest.raises(DivergenceError, match="not finite"):
        net.update_mini_batch(huge_batch, 3.0)
    assert_parameters(net, before)


def test_divergence_is_a_floating_point_error():
    assert issubclass(DivergenceError, FloatingPointError)
