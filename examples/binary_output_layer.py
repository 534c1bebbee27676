"""§1.4's exercise: an extra layer that turns the 10 outputs into the digit's 4-bit binary form.

Output neuron k of the new layer fires for the digits whose bit k is 1: weight 10 from each
such digit's neuron, 0 from the others, bias −5. If the correct digit's old output is at least
0.99 and every other below 0.01 (the exercise's assumption), bit k's weighted input is at
least 10 · 0.99 − 5 = 4.9 (σ ≥ 0.992) when the bit is 1 and at most 10 · 9 · 0.01 − 5 = −4.1
(σ ≤ 0.017) when it is 0. Checked on a network trained here, over the whole test set: where the
assumption holds the 4 bits always read the digit; elsewhere they usually still do.
Run: MATNET_DATA=... python examples/binary_output_layer.py [--epochs N]
"""

from __future__ import annotations

import argparse

import numpy as np

from matnet import mnist_loader
from matnet.network import Network

BITS = np.array([[(digit >> k) & 1 for digit in range(10)] for k in range(4)], dtype=float)  # (4, 10)
WEIGHTS = 10.0 * BITS
BIASES = np.full((4, 1), -5.0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def as_bits(outputs: np.ndarray) -> np.ndarray:
    """(4, m) bits read from (10, m) outputs by the new layer, each thresholded at 1/2."""
    return (sigmoid(WEIGHTS @ outputs + BIASES) > 0.5).astype(int)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    training, _, test = mnist_loader.load_data_wrapper()
    net = Network([784, 30, 10], seed=0)
    net.SGD(training, args.epochs, 10, 3.0, verbose=False)

    x = np.hstack([image for image, _ in test])  # (784, 10000)
    outputs = net.feedforward(x)  # (10, 10000)
    predicted = outputs.argmax(axis=0)
    digits = (as_bits(outputs) * (1 << np.arange(4))[:, None]).sum(axis=0)
    top = np.sort(outputs, axis=0)
    confident = (top[-1] >= 0.99) & (top[:-1] < 0.01).all(axis=0)

    agree = digits == predicted
    print(f"network [784, 30, 10] after {args.epochs} epochs: "
          f"{net.evaluate(test)} / {len(test)} test images right")
    print(f"outputs meeting the exercise's assumption: {confident.sum()} of {len(test)}; "
          f"4 bits read the network's digit on {agree[confident].sum()} of them")
    print(f"over all test images the 4 bits read the network's digit on {agree.sum()} of {len(test)}")
    for digit in range(10):
        column = np.where(np.arange(10) == digit, 0.995, 0.001)[:, None]
        print(f"  digit {digit}: bits (8 4 2 1) = {''.join(map(str, as_bits(column)[::-1, 0]))}")
        assert (as_bits(column)[:, 0] == BITS[:, digit]).all()
    assert confident.sum() > 0 and agree[confident].all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
