"""Neurons other than the book's sigmoid, layer by layer (chapter 2's last two exercises).

"Backpropagation with a single modified neuron" and "with linear neurons": only BP1 and BP2
change, σ′(z) becoming the neuron's own f′(z). A network takes one activation for every layer
or a list of them, one per layer of weights:

- ``"sigmoid"``, the book's σ(z) = 1 / (1 + e^{−z}) (the default);
- ``"linear"``, f(z) = z, f′(z) = 1;
- a pair ``(f, f_prime)`` of your own functions, each taking a layer's weighted inputs as an
  (n_l, m) array — one column per example, as the book's vectors; read-only, since the engine
  keeps them for BP1 and BP2 — and returning an array of that shape. A function may treat
  neurons differently, e.g. ``np.where(row == k, g(z), σ(z))`` with ``row`` the neuron index
  of each row, for one modified neuron
  (``examples/modified_neuron.py``).

A network of sigmoids only resolves to ``None``: the book's network, which every backend serves
(the fused numba path serves nothing else, so ``auto`` computes any other on the NumPy engine).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matnet.core.kernels import numpy_kernels

Elementwise = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """A neuron's activation ``f`` and its derivative ``prime``, both taking a layer's weighted
    inputs z, (n_l, m) with one column per example, and returning f(z), f′(z) of z's shape."""

    name: str
    f: Elementwise
    prime: Elementwise

    def value(self, z: np.ndarray) -> np.ndarray:
        """f(z), checked to be a real array of z's shape, in z's dtype."""
        return self._checked(self.f, "", z)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """f′(z), checked likewise."""
        return self._checked(self.prime, "'s derivative", z)

    def _checked(self, fn: Elementwise, what: str, z: np.ndarray) -> np.ndarray:
        frozen = z.view()  # the engine keeps z for BP1/BP2: a function must not write to it
        frozen.flags.writeable = False
        out = np.asarray(fn(frozen))
        if out.shape != z.shape or out.dtype.kind not in "biuf":
            raise ValueError(f"activation {self.name!r}{what} must return real numbers of the input's shape "
                             f"{z.shape}, got {out.dtype} of shape {out.shape}")
        return out.astype(z.dtype, copy=False)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return numpy_kernels.sigmoid(z, np.empty_like(z))


def _sigmoid_prime(z: np.ndarray) -> np.ndarray:
    s = _sigmoid(z)
    return s * (1 - s)


SIGMOID = Activation("sigmoid", _sigmoid, _sigmoid_prime)
LINEAR = Activation("linear", lambda z: z.copy(), np.ones_like)
NAMED = {a.name: a for a in (SIGMOID, LINEAR)}


def resolve(spec: object, depth: int) -> tuple[Activation, ...] | None:
    """The activation of each of the ``depth`` layers of weights given ``spec`` (a name, an
    (f, f_prime) pair, an Activation, or a list of those, one per layer), or ``None`` when
    every layer is the sigmoid. ValueError/TypeError naming what is wrong."""
    if isinstance(spec, list):
        if len(spec) != depth:
            raise ValueError(f"activation lists one per layer of weights: {depth} for this network, "
                             f"got {len(spec)}")
        layers = tuple(_one(item, f"activation[{i}]") for i, item in enumerate(spec))
    else:
        layers = (_one(spec, "activation"),) * depth
    return None if all(a is SIGMOID for a in layers) else layers


def _one(spec: object, where: str) -> Activation:
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec not in NAMED:
            raise ValueError(f"{where} must be one of {sorted(NAMED)} or a pair (f, f_prime), got {spec!r}")
        return NAMED[spec]
    if isinstance(spec, tuple) and len(spec) == 2 and all(callable(fn) for fn in spec):
        f, prime = spec
        return Activation(getattr(f, "__name__", "custom"), f, prime)
    raise TypeError(f"{where} must be a name ({', '.join(sorted(NAMED))}) or a pair of functions "
                    f"(f, f_prime), got {spec!r}")


def check(activations: Sequence[Activation] | None, sizes: Sequence[int], dtype: np.dtype) -> None:
    """Call each layer's f and f′ once on a small probe (n_l, 2) of its weighted inputs, so
    that a function returning the wrong shape fails here, before any weight changes, with the
    layer named — not in the middle of an epoch."""
    for layer, activation in enumerate(activations or ()):
        probe = np.linspace(-2.0, 2.0, 2 * sizes[layer + 1]).astype(dtype).reshape(sizes[layer + 1], 2)
        try:
            activation.value(probe)
            activation.derivative(probe)
        except ValueError as exc:
            raise ValueError(f"layer {layer}: {exc}") from None


def names(activations: Sequence[Activation] | None, depth: int) -> tuple[str, ...]:
    """Each layer's activation name (the book's network: all "sigmoid")."""
    return ("sigmoid",) * depth if activations is None else tuple(a.name for a in activations)
