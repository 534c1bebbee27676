"""The maths of the book's networks, defined once: activations, costs, the update rule.

Every path reads this table. The whole-batch engine (``engine``), the per-example oracle
(``loop``), gradcheck's finite differences, and the drop-in ``network`` and ``network2`` call
these functions; the compiled path (``fused*``) picks its variant of each by the same name and
inlines the *elementwise* formulas below into its kernels (``kernels.compiled``), so it runs
the very same arithmetic.

**Elementwise** formulas are plain arithmetic on NumPy arrays and on scalars alike. Their
constants come in as arguments (``one``): numba types a literal ``1`` as int64 and would
compute float32 networks in float64.

Adding a cost is one :class:`Cost` entry in ``COSTS`` plus its code in the compiled path's
``kernels.compiled.OUTPUT_ERRORS``; adding a regularizer is a change of :class:`UpdateRule`
and of ``updated``, which every path applies (the fused path through its compiled form).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

Elementwise = Callable[[np.ndarray], np.ndarray]

# ------------------------------------------------------------------------------ activations


_EXP_OVERFLOW: dict[np.dtype, float] = {}  # per dtype: below this z, e^{−z} would overflow


def sigmoid(z, out: np.ndarray | None = None):
    """σ(z) = 1 / (1 + e^{−z}), elementwise, for any real z and without overflow warnings.

    The book's formula, to the bit, wherever e^{−z} is finite; below about −709 (float64; −88
    in float32), where it would overflow, a two-sided formula keeps the tail exact (subnormal
    results included). A scalar gives a scalar; ``out`` (z's shape and dtype, may be z) is
    filled in place and returned. Integer input is computed in float64.
    """
    if type(z) is not np.ndarray or z.dtype.kind != "f":
        z = np.asarray(z)
        if z.dtype.kind != "f":
            z = z.astype(np.float64)
        if z.ndim == 0 and out is None:
            return sigmoid(z.reshape(1))[0]
    bound = _EXP_OVERFLOW.get(z.dtype)
    if bound is None:
        bound = _EXP_OVERFLOW.setdefault(z.dtype, -float(np.log(np.finfo(z.dtype).max)) * 0.999)
    if z.size and z.min() < bound:  # the rare tail: two-sided, exact
        e = np.exp(-np.abs(z))
        tail = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        if out is None:
            return tail.astype(z.dtype, copy=False)
        np.copyto(out, tail, casting="same_kind")
        return out
    if out is None:
        return sigmoid_as_the_book(z)
    np.negative(z, out=out)  # the same operations in place: no temporary for the engine's batches
    np.exp(out, out=out)
    out += 1.0
    np.divide(1.0, out, out=out)
    return out


def sigmoid_as_the_book(z: np.ndarray) -> np.ndarray:
    """σ(z) as the book computes it, 1.0 / (1.0 + np.exp(-z)): ``sigmoid``'s values where
    e^{−z} is finite; below about −709 e^{−z} overflows, with NumPy's warning, and σ is 0. The
    per-example oracle uses it, as the book does (its callers silence the warning): it costs a
    third of ``sigmoid``'s guard on a column of 30 values."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """σ′(z) = σ(z)(1 − σ(z)), from the weighted input z, as the book computes it."""
    s = sigmoid(z)
    return s * (1 - s)


def sigmoid_prime_from_output(a, one=1.0):
    """σ′(z) read off the activation a = σ(z): a(1 − a), with no second exp. Elementwise."""
    return a * (one - a)


def linear(z: np.ndarray) -> np.ndarray:
    """f(z) = z (chapter 2's linear neurons)."""
    return z.copy()


def linear_prime(z: np.ndarray) -> np.ndarray:
    """f′(z) = 1."""
    return np.ones_like(z)


@dataclass(frozen=True)
class Activation:
    """A neuron: its activation ``f`` and derivative ``prime``, each mapping a layer's weighted
    inputs z, (n_l, m) with one column per example, to an array of z's shape.

    ``from_output`` is f′ computed from the activation a = f(z) instead of z, where that is
    possible (σ′ = a(1 − a)): the engine then needs no stored z and no second exp.
    """

    name: str
    f: Elementwise
    prime: Elementwise
    from_output: Callable | None = None

    def __reduce__(self):
        """A table entry pickles (and copies) as its name, so a copy is the entry itself, which
        backends recognize by identity; a user's pair of functions, by value."""
        if ACTIVATIONS.get(self.name) is self:
            return _activation_named, (self.name,)
        return Activation, (self.name, self.f, self.prime, self.from_output)

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


SIGMOID = Activation("sigmoid", sigmoid, sigmoid_prime, sigmoid_prime_from_output)
LINEAR = Activation("linear", linear, linear_prime)
ACTIVATIONS = {a.name: a for a in (SIGMOID, LINEAR)}


def _activation_named(name: str) -> Activation:
    return ACTIVATIONS[name]

# ------------------------------------------------------------------------------------ costs


def quadratic_cost(a: np.ndarray, y: np.ndarray) -> float:
    """C = ½ ‖a − y‖², summed over every example (column or row) of a and y."""
    d = a - y
    return 0.5 * float(np.sum(d * d))


def quadratic_delta(a, y, prime):
    """BP1 for the quadratic cost: δ^L = (a − y) ⊙ f′(z^L), given ``prime`` = f′(z^L). Elementwise."""
    return (a - y) * prime


def cross_entropy_cost(a: np.ndarray, y: np.ndarray) -> float:
    """C = Σ −y ln a − (1 − y) ln(1 − a), summed over every example; NaN terms count as 0 and
    infinite ones as the largest float, as the book's ``nan_to_num`` makes them (a = y = 1
    gives 0 · ln 0 = NaN: its cost is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))))


def cross_entropy_delta(a, y, prime):
    """BP1 for the cross-entropy cost of sigmoid output neurons: δ^L = a − y (σ′ cancels,
    which is why learning does not slow down when the output saturates). Elementwise."""
    return a - y


@dataclass(frozen=True)
class Cost:
    """A cost: its value ``fn(a, y)`` summed over the examples, and its output error
    ``delta(a, y, prime)`` = ∂C/∂z^L, given prime = f′(z^L) of the output neurons."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    delta: Callable
    sigmoid_output: bool  # delta holds for sigmoid output neurons only

    def __reduce__(self):
        """A table entry pickles (and copies) as its name, as an Activation does."""
        if COSTS.get(self.name) is self:
            return _cost_named, (self.name,)
        return Cost, (self.name, self.fn, self.delta, self.sigmoid_output)


QUADRATIC = Cost("quadratic", quadratic_cost, quadratic_delta, sigmoid_output=False)
CROSS_ENTROPY = Cost("cross-entropy", cross_entropy_cost, cross_entropy_delta, sigmoid_output=True)
COSTS = {c.name: c for c in (QUADRATIC, CROSS_ENTROPY)}


def _cost_named(name: str) -> Cost:
    return COSTS[name]

# ------------------------------------------------------------------------------ the update


def stepped(w, g, step):
    """The update of a parameter that does not decay (every bias; every weight in chapter 1),
    whose mini-batch gradient *sum* is g: w ← w − step · g, step = η/m. Elementwise: the
    book's ``b-(eta/len(mini_batch))*nb``, to the bit in NumPy."""
    return w - step * g


def updated(w, g, decay, step):
    """The update of a weight with L2 weight decay (chapter 3): w ← decay · w − step · g, with
    decay = 1 − ηλ/n. Elementwise: the book's ``(1-eta*(lmbda/n))*w-(eta/len(mini_batch))*nw``,
    to the bit in NumPy; with decay = 1 it is ``stepped``. (Self-contained: numba compiles it.)"""
    return decay * w - step * g


def apply_update(w: np.ndarray, g: np.ndarray, decay: float, step: float) -> None:
    """``updated`` (``stepped`` when decay is 1) in place on arrays, for the large ones (g is
    overwritten): the same roundings, decay · w, step · g and their difference, without
    temporaries."""
    g *= step
    if decay != 1.0:
        w *= decay
    w -= g


class UpdateRule(NamedTuple):
    """Mini-batch gradient descent with L2 regularization (chapter 3):

        w ← (1 − ηλ/n) w − (η/m) Σ_x ∇w C_x,      b ← b − (η/m) Σ_x ∇b C_x

    for a mini-batch of m of the n training examples; λ = 0 is chapter 1's rule. (A named
    tuple: one is made per ``update_mini_batch`` call, a microsecond call.)
    """

    eta: float
    lmbda: float = 0.0
    n: int = 1

    @property
    def decay(self) -> float:
        """1 − ηλ/n, as the book computes it: ``1 - eta * (lmbda / n)``."""
        return 1 - self.eta * (self.lmbda / self.n)

    def step(self, m: int) -> float:
        """η/m for a mini-batch of m examples."""
        return self.eta / m


def l2_penalty(weights: Sequence[np.ndarray], lmbda: float, n: int) -> float:
    """The regularization term of the cost, ½ (λ/n) Σ_w w², over every weight (no biases)."""
    return 0.5 * (lmbda / n) * sum(float(np.linalg.norm(w)) ** 2 for w in weights)
