"""§2's exercise "alternate presentation of the equations of backpropagation": BP1 and BP2 with
the diagonal matrix Σ′(z), whose diagonal is σ′(z), in place of the Hadamard product.

δᴸ = Σ′(zᴸ) ∇ₐC                                 (BP1)
δˡ = Σ′(zˡ) (Wˡ⁺¹)ᵀ δˡ⁺¹                        (BP2)
δˡ = Σ′(zˡ)(Wˡ⁺¹)ᵀ ⋯ Σ′(zᴸ⁻¹)(Wᴸ)ᵀ Σ′(zᴸ) ∇ₐC  (the two combined)

All three are computed here on a real MNIST training image and a seeded network, and compared
with the Hadamard form and with matnet's own ``backprop`` (whose bias gradients are the δs).
Run: MATNET_DATA=... python examples/matrix_form_backprop.py
"""

from __future__ import annotations

import numpy as np

from matnet import mnist_loader
from matnet.network import Network


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def main() -> int:
    training, _, _ = mnist_loader.load_data_wrapper()
    x, y = training[0]
    net = Network([784, 30, 20, 10], seed=1)
    weights, biases = [w.copy() for w in net.weights], [b.copy() for b in net.biases]

    zs, activation = [], x
    for w, b in zip(weights, biases):
        zs.append(w @ activation + b)
        activation = sigmoid(zs[-1])
    grad_a = activation - y  # ∇ₐC for the quadratic cost

    hadamard = [sigmoid_prime(zs[-1]) * grad_a]
    for layer in range(len(zs) - 2, -1, -1):
        hadamard.insert(0, sigmoid_prime(zs[layer]) * (weights[layer + 1].T @ hadamard[0]))

    sigma = [np.diagflat(sigmoid_prime(z)) for z in zs]
    matrix = [sigma[-1] @ grad_a]
    for layer in range(len(zs) - 2, -1, -1):
        matrix.insert(0, sigma[layer] @ weights[layer + 1].T @ matrix[0])

    combined = sigma[0]
    for layer in range(1, len(zs)):
        combined = combined @ weights[layer].T @ sigma[layer]
    combined = combined @ grad_a

    nabla_b, _ = net.backprop(x, y)
    print(f"network {net.sizes}, MNIST training image 0 (digit {int(np.argmax(y))})")
    for layer, (h, m, b) in enumerate(zip(hadamard, matrix, nabla_b), start=1):
        print(f"  layer {layer}: |δ| = {np.linalg.norm(h):.3e}; Hadamard vs Σ′ form "
              f"{np.abs(h - m).max():.1e}, vs matnet's backprop {np.abs(h - b).max():.1e}")
        assert np.allclose(h, m, rtol=1e-12, atol=1e-15) and np.allclose(h, b, rtol=1e-9, atol=1e-15)
    print(f"  the combined product for δ¹: vs Hadamard {np.abs(combined - hadamard[0]).max():.1e}")
    assert np.allclose(combined, hadamard[0], rtol=1e-12, atol=1e-15)
    print("the matrix form and the Hadamard form are the same equations; the Hadamard form never "
          f"builds the {zs[0].size}x{zs[0].size} diagonal matrices")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
