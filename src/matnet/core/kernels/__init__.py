"""One registry of elementwise kernels, with a NumPy and a numba implementation of each.

The engine looks kernels up by registry name, so both implementations run the same tests and
the same benchmarks and cannot drift apart::

    from matnet.core.kernels import REGISTRIES
    k = REGISTRIES["numba"]
    k.sigmoid(z, out=a)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matnet.core.kernels import numba_kernels, numpy_kernels

Kernel = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Kernels:
    """The four elementwise operations backpropagation needs, all writing into ``out``."""

    name: str
    sigmoid: Kernel  # (z, out) -> out = σ(z)
    sigmoid_prime: Kernel  # (a, out) -> out = a(1 - a)
    output_delta: Kernel  # (a, y, out) -> out = (a - y) ⊙ a(1 - a)            BP1
    hidden_delta: Kernel  # (g, a, out) -> out = g ⊙ a(1 - a), g = δ W          BP2


def _registry(name: str, module) -> Kernels:
    return Kernels(
        name=name,
        sigmoid=module.sigmoid,
        sigmoid_prime=module.sigmoid_prime,
        output_delta=module.output_delta,
        hidden_delta=module.hidden_delta,
    )


REGISTRIES: dict[str, Kernels] = {
    "numpy": _registry("numpy", numpy_kernels),
    "numba": _registry("numba", numba_kernels),
}


def get_kernels(name: str) -> Kernels:
    """The registry called ``name`` ("numpy" or "numba")."""
    try:
        return REGISTRIES[name]
    except KeyError:
        raise ValueError(f"unknown kernel registry {name!r}; choose from {sorted(REGISTRIES)}") from None
