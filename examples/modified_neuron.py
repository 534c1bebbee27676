"""§2's exercise "backpropagation with a single modified neuron": one hidden neuron outputs
f(w·x + b) with f other than the sigmoid; only BP1/BP2 change, f′ replacing σ′ for it.

Here hidden neuron 0 of [784, 30, 10] is a softplus, f(z) = log(1 + e^z), f′(z) = σ(z), given
to matnet as a pair of functions that see a layer's weighted inputs as (neurons, examples). The
script checks backprop against finite differences, checks that the neuron really computes f,
and trains the network for an epoch beside the book's. A whole layer of linear neurons
(exercise "backpropagation with linear neurons") is ``activation=["linear", "sigmoid"]``.
Run: MATNET_DATA=... python examples/modified_neuron.py [--epochs N]
"""

from __future__ import annotations

import argparse

import numpy as np

from matnet import mnist_loader
from matnet.gradcheck import gradcheck
from matnet.network import Network

MODIFIED = 0  # the hidden neuron that is not a sigmoid


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function, without overflow


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def hidden(z: np.ndarray) -> np.ndarray:
    """z is (30, m): row MODIFIED is the softplus neuron, the others are sigmoids."""
    out = sigmoid(z)
    out[MODIFIED] = softplus(z[MODIFIED])
    return out


def hidden_prime(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    out = s * (1 - s)
    out[MODIFIED] = s[MODIFIED]  # d/dz log(1 + e^z) = σ(z)
    return out


def describe_layers(net: Network) -> str:
    """Each layer's activation by name; a function of this script is named as such (``activations``
    lists a user's function by its ``__name__``)."""
    ours = {hidden.__name__: f"this script's function {hidden.__name__}() (neuron {MODIFIED} softplus, "
                             "the others sigmoids)"}
    layers = [f"layer {layer} ({neurons} neurons): {ours.get(name, name)}"
              for layer, (neurons, name) in enumerate(zip(net.sizes[1:], net.activations), start=1)]
    return f"activations: {'; '.join(layers)}; computed by the {net.computed_by} engine"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    training, _, test = mnist_loader.load_data_wrapper()
    modified = Network([784, 30, 10], seed=0, activation=[(hidden, hidden_prime), "sigmoid"])
    book = Network([784, 30, 10], seed=0)
    print(describe_layers(modified))

    x, y = training[0]
    error = gradcheck(modified, x, y)
    print(f"backprop against finite differences, MNIST training image 0: max relative error {error:.1e}")
    assert error < 1e-6
    w, b = modified.weights[0], modified.biases[0]
    images = np.hstack([image for image, _ in training[:1000]])  # (784, 1000)
    x = images[:, [int(np.argmax(w[MODIFIED] @ images))]]  # where the neuron is most active
    z = w[MODIFIED] @ x[:, 0] + b[MODIFIED, 0]
    hidden_output = Network.from_parameters([w], [b], activation=[(hidden, hidden_prime)]).feedforward(x)
    print(f"hidden neuron {MODIFIED}: weighted input {z:.3f}, output {hidden_output[MODIFIED, 0]:.3f} = "
          f"softplus {softplus(z):.3f} (a sigmoid would give {sigmoid(z):.3f})")
    assert np.isclose(hidden_output[MODIFIED, 0], softplus(z))

    for net, label in ((book, "all sigmoids"), (modified, f"neuron {MODIFIED} softplus")):
        net.SGD(training, args.epochs, 10, 3.0, verbose=False)
        print(f"{label:20s} after {args.epochs} epoch(s): {net.evaluate(test)} / {len(test)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
