"""The compiled replay of random.shuffle: same permutation, same state afterwards."""

from __future__ import annotations

import random

import numpy as np
import pytest

from matnet.core import shuffle


@pytest.mark.parametrize("seed", [0, 1, 2, 99])
@pytest.mark.parametrize("n", [2, 3, 10, 624, 625, 1000, 50000])
def test_replay_equals_random_shuffle(seed, n):
    random.seed(seed)
    ours = shuffle.book_permutation(n)
    state_after_ours = random.getstate()
    random.seed(seed)
    items = list(range(n))
    random.shuffle(items)
    assert ours.tolist() == items
    assert random.getstate() == state_after_ours


def test_consecutive_epochs_stay_in_step():
    random.seed(5)
    ours = [shuffle.book_permutation(300) for _ in range(4)]
    random.seed(5)
    for perm in ours:
        items = list(range(300))
        random.shuffle(items)
        assert perm.tolist() == items


def test_self_check_restores_state_and_passes_here():
    random.seed(11)
    before = random.getstate()
    assert shuffle._compiled_path_is_exact()
    assert random.getstate() == before


def test_python_fallback_is_the_same_permutation():
    random.seed(3)
    fallback = shuffle._python_permutation(77)
    random.seed(3)
    assert np.array_equal(fallback, shuffle._compiled_permutation(77))
