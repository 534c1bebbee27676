"""The elementwise kernels of the whole-batch engine, by name, in a NumPy and a numba registry.

Both registries compute the maths table's formulas (``matnet.core.maths``) for sigmoid
neurons, writing into ``out``: the NumPy one with the table's functions on whole arrays, the
numba one with the same functions compiled into one loop each (``compiled``). They run the
same tests and benchmarks::

    from matnet.core.kernels import get_kernels
    k = get_kernels("numba")
    k.sigmoid(z, out=a)

The numba registry (and numba itself) is imported on first use, so NumPy-only code never
pays for it, and matnet works where numba cannot be installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matnet.core.kernels import numpy_kernels

Kernel = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Kernels:
    """The elementwise steps of backpropagation for sigmoid neurons, each writing into ``out``."""

    name: str
    sigmoid: Kernel  # (z, out) -> out = σ(z)
    sigmoid_prime: Kernel  # (a, out) -> out = σ′ from the output, a(1 − a)
    output_delta: Kernel  # (cost, a, y, out) -> out = cost.delta(a, y, a(1 − a))       BP1
    hidden_delta: Kernel  # (g, a, out) -> out = g ⊙ a(1 − a), g = δ^{l+1} W^{l+1}     BP2


def _registry(name: str, module) -> Kernels:
    return Kernels(name, module.sigmoid, module.sigmoid_prime, module.output_delta, module.hidden_delta)


REGISTRY_NAMES = ("numpy", "numba")
_registries: dict[str, Kernels] = {"numpy": _registry("numpy", numpy_kernels)}


def get_kernels(name: str) -> Kernels:
    """The registry called ``name`` ("numpy" or "numba"; the latter imports numba)."""
    if name not in REGISTRY_NAMES:
        raise ValueError(f"unknown kernel registry {name!r}; choose from {list(REGISTRY_NAMES)}")
    if name not in _registries:
        from matnet.core.kernels import numba_kernels

        _registries[name] = _registry(name, numba_kernels)
    return _registries[name]


def numba_importable() -> bool:
    """Whether numba is installed (found without importing it)."""
    return importlib.util.find_spec("numba") is not None


def jit_enabled() -> bool:
    """Whether numba compiles: installed, and not switched off with NUMBA_DISABLE_JIT=1."""
    if not numba_importable():
        return False
    import numba

    return not numba.config.DISABLE_JIT
