"""The NumPy side of the kernel registry: in-place elementwise kernels.

Every kernel writes into ``out`` and reads its inputs, which ``out`` must not alias (except
``sigmoid``, which may run in place). Shapes are whatever the caller stacks, typically
(m, n) for a mini-batch of m examples in a layer of n neurons.
"""

from __future__ import annotations

import numpy as np


def _exp_overflow_bound(dtype: np.dtype) -> float:
    """Most negative z for which exp(-z) stays finite in ``dtype`` (-709.78 for float64)."""
    return -float(np.log(np.finfo(dtype).max)) * 0.999


def sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = 1 / (1 + exp(-z)), for any finite z, without overflow warnings.

    The book's formula is used where it cannot overflow (it is accurate to a few ULP there);
    below about -709 (float64; -88 in float32), where exp(-z) would overflow, a stable
    two-sided formula takes over, keeping subnormal results. ``out`` may be ``z``.
    """
    if z.size and z.min() < _exp_overflow_bound(z.dtype):
        np.copyto(out, _sigmoid_wide(z))
        return out
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.divide(1.0, out, out=out)
    return out


def _sigmoid_wide(z: np.ndarray) -> np.ndarray:
    """Rare path for inputs beyond exp's range: allocates, branch-free, exact at both tails."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_prime(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = a (1 - a) = sigmoid'(z), from the stored activation a = sigmoid(z): no second exp."""
    np.subtract(1.0, a, out=out)
    out *= a
    return out


def output_delta(a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP1 for the quadratic cost: out = (a - y) ⊙ a ⊙ (1 - a). Shapes (m, n_L)."""
    np.subtract(1.0, a, out=out)
    out *= a
    # One (m, n_L) temporary: the output layer is the narrowest, so it is the cheapest place.
    out *= a - y
    return out


def hidden_delta(g: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP2's Hadamard: out = g ⊙ a ⊙ (1 - a), where g = δ^{l+1} W^{l+1} is already computed."""
    np.subtract(1.0, a, out=out)
    out *= a
    out *= g
    return out
