"""§1.1: a perceptron as a NAND gate, and the circuit of NAND gates that adds two bits.

The book's perceptron has weights −2, −2 and bias 3: output 1 unless both inputs are 1, i.e.
NAND. NAND is universal: the book's adder (five NAND gates) computes the sum bit x1 ⊕ x2
and the carry bit x1 ∧ x2. Run: python examples/perceptrons.py
"""

from __future__ import annotations

import itertools


def perceptron(weights: tuple[float, ...], bias: float, inputs: tuple[int, ...]) -> int:
    """1 if w·x + b > 0, else 0 (the book's rule, equation (2))."""
    return int(sum(w * x for w, x in zip(weights, inputs)) + bias > 0)


def nand(a: int, b: int) -> int:
    return perceptron((-2, -2), 3, (a, b))


def add_bits(x1: int, x2: int) -> tuple[int, int]:
    """(sum bit, carry bit) from the book's circuit of five NAND gates."""
    g1 = nand(x1, x2)
    sum_bit = nand(nand(x1, g1), nand(g1, x2))
    carry = nand(g1, g1)
    return sum_bit, carry


def main() -> int:
    print("NAND perceptron (weights -2, -2, bias 3):")
    for a, b in itertools.product((0, 1), repeat=2):
        print(f"  {a} NAND {b} = {nand(a, b)}")
        assert nand(a, b) == 1 - (a & b)
    print("the adder of five NAND perceptrons:")
    for x1, x2 in itertools.product((0, 1), repeat=2):
        sum_bit, carry = add_bits(x1, x2)
        print(f"  {x1} + {x2} = {carry}{sum_bit} (binary)")
        assert 2 * carry + sum_bit == x1 + x2
    print("every row is binary addition: perceptrons can compute any logical function")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
