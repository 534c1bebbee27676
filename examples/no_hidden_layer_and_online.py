"""Chapter 1's two experiments on the network's shape and the batch size, side by side:

- "a network with just two layers", [784, 10], no hidden layer, against the book's [784, 30, 10];
- online learning (mini-batch size 1) against mini-batches of 10, with the same step per
  example (η / m = 0.3 in both).

Prints test accuracy after each epoch and the median seconds per epoch (compilation
excluded), the answer to both exercises in numbers: how much the hidden layer buys, and the
book's question about online learning — it updates after every example (10x as many steps per
epoch), but every step pays its fixed cost alone, so an epoch takes longer than with batches.
Run: MATNET_DATA=... python examples/no_hidden_layer_and_online.py
"""

from __future__ import annotations

import argparse
import statistics
import time

from matnet import mnist_loader
from matnet.network import Network

RUNS = [  # (label, sizes, mini-batch size, η)
    ("[784, 10], m = 10", [784, 10], 10, 3.0),
    ("[784, 30, 10], m = 10", [784, 30, 10], 10, 3.0),
    ("[784, 30, 10], m = 1 (online)", [784, 30, 10], 1, 0.3),
]


def run(sizes, batch, eta, training, test, epochs: int, seed: int) -> tuple[list[int], float]:
    """(correct after each epoch, median seconds of an epoch's training)."""
    Network(sizes, seed=seed).SGD(training[: 2 * batch], 1, batch, eta, verbose=False)  # compile first
    net = Network(sizes, seed=seed)
    correct, seconds = [], []
    for _ in range(epochs):
        started = time.perf_counter()
        net.SGD(training, 1, batch, eta, verbose=False)
        seconds.append(time.perf_counter() - started)
        correct.append(net.evaluate(test))
    return correct, statistics.median(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train", type=int, default=50_000, help="training images to use")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    training, _, test = mnist_loader.load_data_wrapper()
    training = training[: args.train]
    results = {}
    for label, sizes, batch, eta in RUNS:
        correct, seconds = run(sizes, batch, eta, training, test, args.epochs, args.seed)
        results[label] = correct
        print(f"{label:31s} η = {eta:<4g} correct per epoch: {', '.join(map(str, correct))}; "
              f"{seconds:.3f} s per epoch")
    no_hidden, hidden, _ = (results[label] for label, *_ in RUNS)
    print(f"the hidden layer: {max(hidden) - max(no_hidden):+d} test images at best")
    assert all(0 <= c <= len(test) for r in results.values() for c in r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
