"""Checking the scalar arguments users hand in: layer sizes, counts, η, seeds.

Every check runs before any weight changes, and every error names the argument, what was
expected and what was found. (Data arguments are checked in :mod:`matnet.core.inputs`.)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Set

import numpy as np


def check_sizes(sizes: object) -> list[int]:
    """The layer sizes as a list of ≥ 2 positive ints, or a ValueError/TypeError saying why."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
        raise TypeError(f"sizes must be a sequence of layer sizes like [784, 30, 10], got {sizes!r}")
    if isinstance(sizes, (Set, Mapping)):  # no order: which layer is first?
        raise TypeError(f"sizes must be an ordered sequence like [784, 30, 10], got a {type(sizes).__name__}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least 2 layers (input and output), got {sizes!r}")
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"sizes[{i}] must be an int, got {n!r} ({type(n).__name__})")
        if n < 1:
            raise ValueError(f"sizes[{i}] must be a positive number of neurons, got {n}")
    return [int(n) for n in sizes]


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int ≥ minimum (bools refused: ``True`` is not a batch size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value}")
    return int(value)


def check_eta(eta: object) -> float:
    """The learning rate as a finite positive float."""
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real):
        raise TypeError(f"eta must be a real number, got {eta!r} ({type(eta).__name__})")
    if not math.isfinite(eta) or eta <= 0:
        raise ValueError(f"eta must be a finite positive number, got {eta!r}")
    return float(eta)


def check_seed(seed: object) -> int:
    """A seed for ``np.random.default_rng``: an int ≥ 0 (NumPy refuses negative seeds)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int ≥ 0, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"seed must be ≥ 0, got {seed}")
    return int(seed)


def check_rng(rng: object):
    """A ``np.random.Generator`` (``np.random.default_rng(s)``) or a ``BookRandom``, not a seed
    or a RandomState."""
    from matnet.core.shuffle import BookRandom

    if not isinstance(rng, (np.random.Generator, BookRandom)):
        hint = " (pass seed= for an int)" if isinstance(rng, numbers.Integral) else ""
        raise TypeError(f"rng must be a numpy.random.Generator or a matnet BookRandom, got {rng!r:.60} "
                        f"({type(rng).__name__}){hint}")
    return rng
