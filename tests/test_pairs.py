"""matnet.core.pairs: the loader's lists know which row of their stacked arrays each pair is —
as made, after SGD's shuffle, sliced, or after any edit in place — and a list holding
anything else is read as any list; nothing process-wide is kept."""

from __future__ import annotations

import copy
import pickle
import random

import numpy as np
import pytest

from matnet.core.pairs import PairList, stack
from matnet.network import Network


@pytest.fixture
def stacked():
    """20 (x, label) pairs, x (4, 1) read-only views of one stacked array."""
    inputs = np.arange(80, dtype=np.float64).reshape(20, 4) / 80
    inputs.flags.writeable = False
    return stack(inputs, np.arange(20) % 3)


def _check(pairs: PairList) -> None:
    """Every pair is the stacked row its list says."""
    rows = pairs.rows()
    assert rows is not None and rows.shape == (len(pairs),)
    for (x, label), r in zip(pairs, rows):
        assert np.shares_memory(x, pairs.stacked.inputs)
        np.testing.assert_array_equal(x.ravel(), pairs.stacked.inputs[r])
        assert label == pairs.stacked.labels[r]


def test_a_new_list_is_every_row_in_order(stacked):
    pairs = PairList(stacked)
    assert isinstance(pairs, list) and len(pairs) == 20
    np.testing.assert_array_equal(pairs.rows(), np.arange(20))
    _check(pairs)


@pytest.mark.parametrize(
    "edit",
    [
        lambda objs: random.Random(1).shuffle(objs),
        lambda objs: objs.reverse(),
        lambda objs: objs.__setitem__(slice(0, 2), [objs[1], objs[0]]),
        lambda objs: objs.__setitem__(3, objs[7]),
        lambda objs: objs.pop(),
        lambda objs: objs.append(objs[0]),
    ],
    ids=["random.shuffle", "reversed", "swapped", "replaced by another of its pairs", "shortened",
         "lengthened"],
)
def test_a_list_edited_in_place_is_found_as_it_now_is(stacked, edit):
    pairs = PairList(stacked)
    pairs.rows()
    edit(pairs)
    _check(pairs)


@pytest.mark.parametrize(
    "replacement",
    [
        lambda pair: (pair[0].copy(), pair[1]),  # the same values in an array of its own
        lambda pair: (np.zeros((4, 1)), pair[1]),
        lambda pair: [pair[0], pair[1]],  # a list, not the stacked tuple
    ],
    ids=["copied array", "other array", "list"],
)
def test_a_pair_of_another_origin_makes_the_rows_unknown(stacked, replacement):
    pairs = PairList(stacked)
    pairs[5] = replacement(pairs[5])
    assert pairs.rows() is None


def test_reorder_is_remembered_without_a_lookup(stacked):
    pairs = PairList(stacked)
    order = np.random.default_rng(0).permutation(20)
    pairs.reorder(order)
    assert pairs.rows() is order
    _check(pairs)


def test_slices_know_their_rows_and_forget_what_changed(stacked):
    pairs = PairList(stacked)
    pairs.reorder(np.arange(20)[::-1].copy())
    first = pairs[:7]
    assert isinstance(first, PairList)
    np.testing.assert_array_equal(first.rows(), np.arange(19, 12, -1))
    inner = first[2:5]
    np.testing.assert_array_equal(inner.rows(), [17, 16, 15])
    later = pairs[10:]
    pairs[12] = pairs[0]  # the parent changes after slicing: the slice is what it held
    np.testing.assert_array_equal(later.rows(), np.arange(9, -1, -1))
    _check(pairs[::3])
    assert type(pairs[3]) is tuple


def test_copies_and_pickles_are_plain_lists_of_equal_pairs(stacked):
    pairs = PairList(stacked)
    for other in (copy.copy(pairs), pickle.loads(pickle.dumps(pairs))):
        assert type(other) is list and len(other) == 20
        np.testing.assert_array_equal(other[4][0], pairs[4][0])


def test_evaluate_sees_a_test_list_edited_between_calls(stacked):
    """A network's evaluate on the loader's pairs, the list then edited in place: the second
    call counts the list as it now is (the same as a plain list with those elements)."""
    np.random.seed(0)
    net = Network([4, 5, 3])
    test = PairList(stacked)
    net.evaluate(test)
    test[:10] = [(np.full((4, 1), 0.9), 2)] * 10  # of another origin: stacked, not looked up
    assert net.evaluate(test) == net.evaluate(list(test))
    test[:] = list(PairList(stacked))[::-1]
    assert net.evaluate(test) == net.evaluate(list(PairList(stacked)))


def test_sgd_keeps_the_order_it_shuffled_the_callers_list_into(stacked):
    """Two one-epoch SGD calls on one list (the second reads the order the first shuffled it
    into) train exactly as the same calls with the shuffled list copied in between (a plain
    list, stacked afresh)."""
    targets = np.eye(3)[stacked.labels]
    targets.flags.writeable = False
    training = stack(stacked.inputs, stacked.labels, targets)
    nets = []
    for copied in (False, True):
        np.random.seed(3)
        random.seed(3)
        net = Network([4, 5, 3])
        data = PairList(training)
        net.SGD(data, 1, 3, 1.0, verbose=False)
        assert not np.array_equal(data.rows(), np.arange(20))  # shuffled in place, as the book's is
        net.SGD(list(data) if copied else data, 1, 3, 1.0, verbose=False)
        nets.append(net)
    for a, b in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        np.testing.assert_array_equal(a, b)
