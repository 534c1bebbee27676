"""What a backend computes: a network's sizes, float type, neurons and cost.

Every backend (``matnet.core.backend``) is built for one :class:`Spec` and reads its maths
from the entries the spec names in the maths table (``matnet.core.maths``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matnet.core.maths import QUADRATIC, SIGMOID, Activation, Cost

Gradient = tuple[list[np.ndarray], list[np.ndarray]]  # (nabla_b, nabla_w), the book's layout


@dataclass(frozen=True)
class Spec:
    """What a backend computes: the layer sizes, the float type, each layer's neurons (one
    ``maths.Activation`` per layer of weights) and the cost (a ``maths.Cost``)."""

    sizes: tuple[int, ...]
    dtype: np.dtype
    neurons: tuple[Activation, ...]
    cost: Cost = QUADRATIC

    def __post_init__(self) -> None:
        if self.cost.sigmoid_output and self.neurons[-1] is not SIGMOID:
            raise ValueError(f"the {self.cost.name} cost's output error a − y holds for sigmoid output "
                             f"neurons only, not {self.neurons[-1].name!r}")

    @property
    def sigmoids_only(self) -> bool:
        """Whether every layer is the book's sigmoid (what the compiled path computes)."""
        return all(a is SIGMOID for a in self.neurons)
