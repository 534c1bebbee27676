"""§1.5: gradient descent in one dimension, printed as a trajectory.

For C(v) = (v − 2)², ∇C = 2(v − 2) and the step v → v − η ∇C multiplies the distance to the
minimum by (1 − 2η): with η = 0.1 the ball rolls down to v = 2; with η = 1.1 each step
overshoots further and it diverges — the book's warning that η must be small enough for the
approximation ΔC ≈ ∇C · Δv to hold. Run: python examples/gradient_descent_1d.py
"""

from __future__ import annotations


def cost(v: float) -> float:
    return (v - 2.0) ** 2


def gradient(v: float) -> float:
    return 2.0 * (v - 2.0)


def descend(v: float, eta: float, steps: int) -> list[float]:
    path = [v]
    for _ in range(steps):
        v -= eta * gradient(v)
        path.append(v)
    return path


def main() -> int:
    for eta in (0.1, 1.1):
        path = descend(-1.0, eta, 10)
        print(f"eta = {eta}: v = " + ", ".join(f"{v:.3f}" for v in path))
        print("         C = " + ", ".join(f"{cost(v):.3f}" for v in path))
    converging, diverging = descend(-1.0, 0.1, 50), descend(-1.0, 1.1, 50)
    assert all(cost(b) < cost(a) for a, b in zip(converging, converging[1:]))
    assert abs(converging[-1] - 2.0) < 1e-4
    assert cost(diverging[-1]) > cost(diverging[0]) * 1e6
    print("eta = 0.1 descends to the minimum v = 2 at every step; eta = 1.1 overshoots and diverges")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
