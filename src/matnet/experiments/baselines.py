"""The book's non-network baselines (chapter 1): random guessing and average darkness."""

from __future__ import annotations

import numpy as np

from matnet.datasets import LabeledImages


def average_darkness(training: LabeledImages, test: LabeledImages) -> int:
    """Test images whose digit is the one of closest average darkness (book: 2,225 / 10,000).

    Darkness is the sum of an image's pixels; each digit's average is taken over ``training``.
    Ties go to the smaller digit, as the book's ``min`` over digits 0–9 does.
    """
    darkness = training.images.sum(axis=1)
    digits = np.arange(10)
    averages = np.array([darkness[training.labels == d].mean() for d in digits])
    guesses = np.argmin(np.abs(test.images.sum(axis=1)[:, None] - averages[None, :]), axis=1)
    return int(np.count_nonzero(guesses == test.labels))


def random_guessing(test: LabeledImages, seed: int = 0) -> int:
    """Test images a uniformly random guess gets right (about one in ten)."""
    guesses = np.random.default_rng(seed).integers(0, 10, size=test.labels.size)
    return int(np.count_nonzero(guesses == test.labels))
