"""Shared fixtures: the real MNIST data (through MATNET_DATA) and small synthetic problems."""

from __future__ import annotations

import os

import numpy as np
import pytest


@pytest.fixture(scope="session")
def mnist():
    """The book's split of the real MNIST files named by MATNET_DATA (CI always sets it)."""
    if not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set: point it at a folder with the four MNIST files")
    from matnet import datasets

    return datasets.load_mnist()


@pytest.fixture(scope="session")
def mnist_slice(mnist):
    """(X (1000, 784), one-hot Y (1000, 10), test X (1000, 784), test labels (1000,))."""
    x = mnist.training.images[:1000]
    labels = mnist.training.labels[:1000]
    y = np.eye(10)[labels]
    return x, y, mnist.test.images[:1000], mnist.test.labels[:1000]
