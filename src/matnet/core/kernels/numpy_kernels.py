"""The NumPy registry: the maths table's formulas on whole arrays, written into ``out``.

Shapes are whatever the caller stacks, typically (m, n) for a mini-batch of m examples in a
layer of n neurons; ``out`` must not alias an input, except in ``sigmoid``.
"""

from __future__ import annotations

import numpy as np

from matnet.core import maths

sigmoid = maths.sigmoid  # (z, out) -> out = σ(z); ``out`` may be ``z``


def sigmoid_prime(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = σ′ read off the activation a = σ(z): a(1 − a)."""
    np.copyto(out, maths.sigmoid_prime_from_output(a))
    return out


def output_delta(cost: maths.Cost, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP1 for sigmoid outputs: out = cost.delta(a, y, a(1 − a)). Shapes (m, n_L)."""
    np.copyto(out, cost.delta(a, y, maths.sigmoid_prime_from_output(a)))
    return out


def hidden_delta(g: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP2's Hadamard product: out = g ⊙ a(1 − a), g = δ^{l+1} W^{l+1} already computed."""
    return np.multiply(g, maths.sigmoid_prime_from_output(a), out=out)
