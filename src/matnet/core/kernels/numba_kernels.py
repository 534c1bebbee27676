"""The numba registry: the same kernels as the NumPy one, each one compiled loop.

Each kernel runs once over contiguous memory and fuses what NumPy does in several passes
(``output_delta`` is one pass instead of four), calling the maths table's formulas compiled
by ``compiled`` and the compiled path's own σ (``vector_sigmoid``). Inputs may be any shape
as long as they are C-contiguous; ``out`` must not alias an input (except in ``sigmoid``).
"""

from __future__ import annotations

import numpy as np

from matnet.core import maths
from matnet.core.kernels.compiled import cost_code, output_error, sigmoid_prime_from_output
from matnet.core.kernels.jit import cached_njit, recompiles
from matnet.core.kernels.vector_sigmoid import sigmoid as _sigmoid_of


@cached_njit
def _sigmoid(z, out, flush):
    zf = z.reshape(z.size)
    of = out.reshape(out.size)
    for i in range(zf.size):
        of[i] = _sigmoid_of(np.float64(zf[i]), flush)


@cached_njit
def _sigmoid_prime(a, out, one):
    af = a.reshape(a.size)
    of = out.reshape(out.size)
    for i in range(af.size):
        of[i] = sigmoid_prime_from_output(af[i], one)


@cached_njit
def _output_delta(cost, a, y, out, one):
    af = a.reshape(a.size)
    yf = y.reshape(y.size)
    of = out.reshape(out.size)
    for i in range(af.size):
        of[i] = output_error(cost, af[i], yf[i], one)


@cached_njit
def _hidden_delta(g, a, out, one):
    gf = g.reshape(g.size)
    af = a.reshape(a.size)
    of = out.reshape(out.size)
    for i in range(af.size):
        of[i] = gf[i] * sigmoid_prime_from_output(af[i], one)


def _contiguous(*arrays: np.ndarray) -> None:
    for arr in arrays:
        if not arr.flags.c_contiguous:
            raise ValueError(f"numba kernels need C-contiguous arrays, got strides {arr.strides}")


@recompiles
def sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = σ(z) for any real z, subnormal tails included; ``out`` may be ``z``."""
    _contiguous(z, out)
    _sigmoid(z, out, -np.inf)
    return out


@recompiles
def sigmoid_prime(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = a (1 − a) = σ′(z) from the activation a."""
    _contiguous(a, out)
    _sigmoid_prime(a, out, out.dtype.type(1))
    return out


@recompiles
def output_delta(cost: maths.Cost, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP1 in one pass: out = cost.delta(a, y, a(1 − a)). Shapes (m, n_L)."""
    _contiguous(a, y, out)
    _output_delta(cost_code(cost), a, y, out, out.dtype.type(1))
    return out


@recompiles
def hidden_delta(g: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP2's Hadamard product in one pass: out = g ⊙ a(1 − a), g = δ^{l+1} W^{l+1}."""
    _contiguous(g, a, out)
    _hidden_delta(g, a, out, out.dtype.type(1))
    return out
