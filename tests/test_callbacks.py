"""What an ``on_epoch`` or ``on_progress`` callback may do to the training list (issue 21, item 14).

SGD reads its data once and shuffles the caller's list in place when it returns. A callback
that appended to the list lost what it appended (202 pairs became 200), and one that cleared
it made SGD raise a bare IndexError. The rule: a callback may read the list, not add, remove
or replace pairs; one that does stops SGD after that epoch with a TrainingDataChangedError,
and the list stays exactly as the callback left it.
"""

from __future__ import annotations

import numpy as np
import pytest

import matnet.network2 as network2
from matnet.core.pairs import PairList, stack
from matnet.errors import TrainingDataChangedError
from matnet.network import Network
from tests.helpers import book_pairs, synthetic

SIZES = [6, 5, 3]


def training_list(kind: str) -> list:
    x, y = synthetic(SIZES, 200, seed=0, sparsity=0.5)
    if kind == "list":
        return book_pairs(x, y)
    x.flags.writeable = False
    return PairList(stack(x, y.argmax(axis=1), y))  # what the loader hands out


EDITS = {
    "append": lambda data: data.extend(data[:2]),
    "clear": lambda data: data.clear(),
    "pop": lambda data: data.pop(),
    "replace": lambda data: data.__setitem__(5, (data[5][0].copy(), data[5][1].copy())),
}


@pytest.mark.parametrize("kind", ["list", "loader's list"])
@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("callback", ["on_epoch", "on_progress"])
def test_a_callback_that_changes_the_list_stops_sgd_and_loses_nothing(kind, edit, callback):
    data = training_list(kind)
    left = []
    epochs = []

    def change(*_):
        if not left:
            EDITS[edit](data)
            left.append(list(data))

    net = Network(SIZES, seed=3, backend="numpy")
    with pytest.raises(TrainingDataChangedError) as caught:
        net.SGD(data, 3, 10, 0.5, verbose=False, **{callback: change},
                **({"on_epoch": epochs.append} if callback == "on_progress" else {}))
    assert len(data) == len(left[0]) and all(a is b for a, b in zip(data, left[0]))  # as left
    message = str(caught.value)
    assert "\n" not in message and "after epoch 0" in message and "callback" in message
    assert epochs == [] or [r.epoch for r in epochs] == [0]  # stopped after the epoch it happened in


@pytest.mark.parametrize("kind", ["list", "loader's list"])
def test_a_callback_that_reads_the_list_changes_nothing(kind):
    def session(reads: bool) -> tuple[list, Network]:
        data = training_list(kind)
        net = Network(SIZES, seed=3, backend="numpy")
        seen = []
        read = (lambda r: seen.append((len(data), net.evaluate(data), data[0][0].sum()))) if reads else None
        net.SGD(data, 3, 10, 0.5, verbose=False, on_epoch=read)
        assert len(seen) == (3 if reads else 0)
        return data, net

    (plain, quiet), (read, reader) = session(False), session(True)
    assert [p[0].tobytes() for p in plain] == [p[0].tobytes() for p in read]  # the same shuffle
    assert all(np.array_equal(a, b) for a, b in zip(quiet.weights, reader.weights))


def test_chapter_3_callbacks_follow_the_same_rule():
    data = training_list("list")
    net = network2.Network(SIZES, seed=3, backend="numpy")
    with pytest.raises(TrainingDataChangedError, match="after epoch 1"):
        net.SGD(data, 3, 10, 0.5, verbose=False, on_epoch=lambda e: e.epoch == 1 and data.append(data[0]))
    assert len(data) == 201
