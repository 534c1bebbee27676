"""§1.2's exercise, "sigmoid neurons simulating perceptrons", parts I and II.

Part I: multiplying every weight and bias of a network of perceptrons by c > 0 changes no
output (the sign of c·(w·x + b) is the sign of w·x + b). Part II: a network of sigmoid
neurons with the same weights and biases times c approaches the perceptron network as
c → ∞, provided w·x + b ≠ 0 at every neuron; where w·x + b = 0 the sigmoid stays at 1/2 for
every c while the perceptron says 0. The network is the book's two-bit adder of NAND gates.
Run: python examples/sigmoid_simulates_perceptrons.py
"""

from __future__ import annotations

import itertools
import math

NAND = ((-2.0, -2.0), 3.0)


def step(z: float) -> float:
    return 1.0 if z > 0 else 0.0


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def adder(x1: float, x2: float, c: float, neuron) -> tuple[float, float]:
    """The adder of five NAND neurons, every weight and bias times c, with ``neuron`` σ or step."""
    (w1, w2), b = NAND

    def gate(a: float, bb: float) -> float:
        return neuron(c * (w1 * a + w2 * bb + b))

    g1 = gate(x1, x2)
    return gate(gate(x1, g1), gate(g1, x2)), gate(g1, g1)


def main() -> int:
    inputs = list(itertools.product((0.0, 1.0), repeat=2))
    reference = [adder(*x, 1.0, step) for x in inputs]
    print("Part I: perceptrons, every weight and bias times c")
    for c in (0.01, 1.0, 100.0):
        same = [adder(*x, c, step) for x in inputs] == reference
        print(f"  c = {c:g}: outputs {'unchanged' if same else 'CHANGED'}")
        assert same
    print("Part II: sigmoid neurons, every weight and bias times c (no neuron has w·x + b = 0)")
    gaps = []
    for c in (1.0, 10.0, 100.0):
        gap = max(abs(s - p) for x, ref in zip(inputs, reference)
                  for s, p in zip(adder(*x, c, sigmoid), ref))
        gaps.append(gap)
        print(f"  c = {c:g}: largest difference from the perceptron adder {gap:.3g}")
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6
    print("where w·x + b = 0 (a neuron with weights 1, -1 and bias 0, input (1, 1)):")
    for c in (1.0, 1000.0):
        z = c * (1.0 * 1 - 1.0 * 1 + 0.0)
        print(f"  c = {c:g}: sigmoid {sigmoid(z):.2f}, perceptron {step(z):.0f}")
        assert sigmoid(z) == 0.5 and step(z) == 0.0
    print("so the sigmoid network matches the perceptrons in the limit only where no w·x + b is 0")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
