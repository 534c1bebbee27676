"""One registry of elementwise kernels, with a NumPy and a numba implementation of each.

The engine looks kernels up by registry name, so both implementations run the same tests and
the same benchmarks and cannot drift apart::

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
