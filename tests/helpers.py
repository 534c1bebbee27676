"""Small helpers shared by the tests."""

from __future__ import annotations

import numpy as np


def book_pairs(x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The book's training format: (784, 1) column, (10, 1) one-hot column."""
    return [(xi.reshape(-1, 1), yi.reshape(-1, 1)) for xi, yi in zip(x, y)]


def synthetic(sizes, n, seed=0, sparsity=0.0):
    """Random inputs in [0, 1) (a fraction ``sparsity`` of them zero) and one-hot targets."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]))
    x[rng.random(x.shape) < sparsity] = 0.0
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    return x, y
