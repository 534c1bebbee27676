"""The registry of the loader's rows (matnet.data.rows): a list of registered tuples, in any
order, is found as rows of its stacked arrays; a list seen before is recalled only while it
holds the very same elements — an edit in place is always seen."""

from __future__ import annotations

import random

import numpy as np
import pytest

from matnet.data import rows as registered
from matnet.network import Network


@pytest.fixture
def source():
    """20 registered (x, label) tuples, x (4, 1) read-only views of one stacked array."""
    registered.forget()
    inputs = np.arange(80, dtype=np.float64).reshape(20, 4) / 80
    inputs.flags.writeable = False
    labels = np.arange(20) % 3
    pairs = registered.Pairs(inputs, None, labels)
    tuples = [(inputs[r].reshape(4, 1), int(labels[r])) for r in range(20)]
    registered.register(pairs, tuples)
    yield pairs, tuples
    registered.forget()


def _check(found, objects):
    source, rows = found
    for obj, r in zip(objects, rows):
        assert obj[0].base is source.inputs or np.shares_memory(obj[0], source.inputs)
        np.testing.assert_array_equal(obj[0].ravel(), source.inputs[r])
        assert obj[1] == source.labels[r]


def test_a_shuffled_list_of_registered_tuples_is_found_row_by_row(source):
    pairs, tuples = source
    objects = list(tuples)
    random.Random(1).shuffle(objects)
    found = registered.find(objects)
    assert found[0] is pairs
    _check(found, objects)


def test_the_same_list_unchanged_is_found_again(source):
    objects = list(source[1])
    first = registered.find(objects)
    again = registered.find(objects)
    assert again[0] is first[0]
    np.testing.assert_array_equal(again[1], first[1])


@pytest.mark.parametrize(
    "edit",
    [
        lambda objs: objs.reverse(),
        lambda objs: objs.__setitem__(slice(0, 2), [objs[1], objs[0]]),
        lambda objs: objs.__setitem__(3, objs[7]),
        lambda objs: objs.pop(),
        lambda objs: objs.append(objs[0]),
    ],
    ids=["reversed", "swapped", "replaced by another registered tuple", "shortened", "lengthened"],
)
def test_a_list_edited_in_place_is_found_as_it_now_is(source, edit):
    objects = list(source[1])
    registered.find(objects)
    edit(objects)
    _check(registered.find(objects), objects)


@pytest.mark.parametrize(
    "replacement",
    [
        lambda pair: (pair[0].copy(), pair[1]),  # the same values in an array of its own
        lambda pair: (np.zeros((4, 1)), pair[1]),
        lambda pair: [pair[0], pair[1]],  # a list, not the registered tuple
    ],
    ids=["copied array", "other array", "list"],
)
def test_an_element_replaced_by_an_unregistered_one_is_not_found(source, replacement):
    objects = list(source[1])
    registered.find(objects)
    objects[5] = replacement(objects[5])
    assert registered.find(objects) is None


def test_a_remembered_order_is_recalled_without_a_lookup(source):
    """SGD re-orders the caller's list itself and tells the registry the rows: the next find
    hands those very rows back."""
    pairs, tuples = source
    objects = list(tuples)
    _, rows = registered.find(objects)
    order = np.random.default_rng(0).permutation(20)
    objects[:] = [objects[k] for k in order]
    remembered = rows[order]
    registered.remember(objects, pairs, remembered)
    found = registered.find(objects)
    assert found[1] is remembered
    _check(found, objects)


def test_evaluate_sees_a_test_list_edited_between_calls(source):
    """A network's evaluate on the loader's tuples, the list then edited in place: the second
    call counts the list as it now is (the same as a fresh list with those elements)."""
    _, tuples = source
    np.random.seed(0)
    net = Network([4, 5, 3])
    test = list(tuples)
    net.evaluate(test)
    test[:10] = [(np.full((4, 1), 0.9), 2)] * 10  # unregistered: stacked, not looked up
    assert net.evaluate(test) == net.evaluate(list(test))
    test[:] = tuples[::-1]
    assert net.evaluate(test) == net.evaluate(list(tuples))


def test_sgd_recalls_the_order_it_shuffled_the_callers_list_into(source):
    """Two one-epoch SGD calls on one list (the second recalls the order the first shuffled it
    into) train exactly as the same calls with the shuffled list copied in between (a new
    list, looked up afresh)."""
    pairs, _ = source
    targets = np.eye(3)[pairs.labels]
    targets.flags.writeable = False
    training = registered.Pairs(pairs.inputs, targets, pairs.labels)
    tuples = [(pairs.inputs[r].reshape(4, 1), targets[r].reshape(3, 1)) for r in range(20)]
    registered.register(training, tuples)
    nets = []
    for copied in (False, True):
        np.random.seed(3)
        random.seed(3)
        net = Network([4, 5, 3])
        data = list(tuples)
        net.SGD(data, 1, 3, 1.0, verbose=False)
        assert any(a is not b for a, b in zip(data, tuples))  # shuffled in place, as the book's is
        net.SGD(list(data) if copied else data, 1, 3, 1.0, verbose=False)
        nets.append(net)
    for a, b in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        np.testing.assert_array_equal(a, b)
