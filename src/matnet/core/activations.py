"""Which neurons a network has, layer by layer (chapter 2's last two exercises).

"Backpropagation with a single modified neuron" and "with linear neurons": only BP1 and BP2
change, σ′(z) becoming the neuron's own f′(z). A network takes one activation for every layer
or a list of them, one per layer of weights:

- ``"sigmoid"``, the book's σ(z) = 1 / (1 + e^{−z}) (the default);
- ``"linear"``, f(z) = z, f′(z) = 1;
- a pair ``(f, f_prime)`` of your own functions, each taking a layer's weighted inputs as an
  (n_l, m) array — one column per example, as the book's vectors; read-only, since the engine
  keeps them for BP1 and BP2 — and returning an array of that shape. A function may treat
  neurons differently, e.g. ``np.where(row == k, g(z), σ(z))`` with ``row`` the neuron index
  of each row, for one modified neuron (``examples/modified_neuron.py``).

The named neurons are entries of the maths table (``matnet.core.maths.ACTIVATIONS``); this
module turns a network's ``activation`` argument into one entry per layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matnet.core.maths import ACTIVATIONS, SIGMOID, Activation


def resolve(spec: object, depth: int) -> tuple[Activation, ...]:
    """The activation of each of the ``depth`` layers of weights given ``spec`` (a name, an
    (f, f_prime) pair, an Activation, or a list of those, one per layer). ValueError/TypeError
    naming what is wrong."""
    if isinstance(spec, list):
        if len(spec) != depth:
            raise ValueError(f"activation lists one per layer of weights: {depth} for this network, "
                             f"got {len(spec)}")
        layers = tuple(_one(item, f"activation[{i}]") for i, item in enumerate(spec))
    else:
        layers = (_one(spec, "activation"),) * depth
    return layers


def _one(spec: object, where: str) -> Activation:
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"{where} must be one of {sorted(ACTIVATIONS)} or a pair (f, f_prime), "
                             f"got {spec!r}")
        return ACTIVATIONS[spec]
    if isinstance(spec, tuple) and len(spec) == 2 and all(callable(fn) for fn in spec):
        f, prime = spec
        return Activation(getattr(f, "__name__", "custom"), f, prime)
    raise TypeError(f"{where} must be a name ({', '.join(sorted(ACTIVATIONS))}) or a pair of functions "
                    f"(f, f_prime), got {spec!r}")


def check(activations: Sequence[Activation], sizes: Sequence[int], dtype: np.dtype) -> None:
    """Call each layer's f and f′ once on a small probe (n_l, 2) of its weighted inputs, so
    that a function returning the wrong shape fails here, before any weight changes, with the
    layer named — not in the middle of an epoch."""
    for layer, activation in enumerate(activations):
        if activation is SIGMOID:
            continue
        probe = np.linspace(-2.0, 2.0, 2 * sizes[layer + 1]).astype(dtype).reshape(sizes[layer + 1], 2)
        try:
            activation.value(probe)
            activation.derivative(probe)
        except ValueError as exc:
            raise ValueError(f"layer {layer}: {exc}") from None

