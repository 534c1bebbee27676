"""``copy.deepcopy`` and ``pickle`` of a network (issue 21, item 13).

A copy of a compiled-path network used to carry its parameters as arrays of their own while
its kernels kept computing on buffers nobody showed: the copy trained, but its weights never
moved and its outputs were not the original's. A copied or unpickled network, of any backend
and either chapter, must train and predict exactly like the original, and independently of it.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import matnet.network2 as network2
from matnet.network import Network
from tests.helpers import synthetic

BACKENDS = ["numba", "numpy", "loop"]
COPIES = {"deepcopy": copy.deepcopy, "pickle": lambda net: pickle.loads(pickle.dumps(net))}
SIZES = [6, 5, 3]


def state(net) -> list[np.ndarray]:
    return [a.copy() for a in net.weights + net.biases]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", list(COPIES))
def test_a_copy_trains_and_predicts_exactly_like_the_original(backend, how):
    x, y = synthetic(SIZES, 60, seed=0, sparsity=0.5)
    labels = y.argmax(axis=1)
    original = Network(SIZES, seed=3, backend=backend)
    original.SGD((x, y), 1, 10, 1.0, verbose=False)
    twin = COPIES[how](original)
    assert twin.computed_by == original.computed_by == ("numba" if backend == "numba" else backend)
    before = state(original)
    twin.SGD((x, y), 2, 10, 1.0, verbose=False)  # the copy alone: the original must not move
    assert same(state(original), before) and not same(state(twin), before)
    original.SGD((x, y), 2, 10, 1.0, verbose=False)  # the same epochs, the same shuffles (own rng)
    assert same(state(twin), state(original))
    for a in (x[0], x[:3].T, x.T):
        np.testing.assert_array_equal(twin.feedforward(a), original.feedforward(a))
    assert twin.evaluate((x, labels)) == original.evaluate((x, labels))
    grads = [twin.backprop(x[1].reshape(-1, 1), y[1].reshape(-1, 1)),
             original.backprop(x[1].reshape(-1, 1), y[1].reshape(-1, 1))]
    assert same([*grads[0][0], *grads[0][1]], [*grads[1][0], *grads[1][1]])
    twin.weights[0][0, 0] += 1.0  # an edit through the copy's list is the copy's alone
    assert not np.array_equal(twin.feedforward(x[0]), original.feedforward(x[0]))


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("how", list(COPIES))
def test_a_chapter_3_copy_keeps_its_cost_and_can_change_it(backend, how):
    x, y = synthetic(SIZES, 60, seed=1, sparsity=0.5)
    original = network2.Network(SIZES, seed=3, backend=backend)
    twin = COPIES[how](original)
    assert twin.cost is network2.CrossEntropyCost
    for net in (original, twin):
        net.SGD((x, y), 1, 10, 0.5, lmbda=1.0, verbose=False)
        net.cost = network2.QuadraticCost  # a new cost: a new backend of the same kind
        net.SGD((x, y), 1, 10, 0.5, verbose=False)
    assert twin.computed_by == original.computed_by
    assert same(state(twin), state(original))
