"""Shared fixtures: the real MNIST data (through MATNET_DATA) and small synthetic problems; and,
on the pytest-xdist workers of a run of the suite, its fused kernels compiled before any test."""

from __future__ import annotations

import os

import numpy as np
import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """On each pytest-xdist worker of a run of most of the suite, compile the fused kernels of
    the suite's networks before any test, the work shared between the workers (tests/_compiled.py)."""
    from tests import _compiled

    if not _compiled.wanted(len(session.items)):
        return
    from matnet.core.kernels import jit

    if jit.CACHE_DIR is not None:  # no cache: nothing to share, each test compiles what it needs
        _compiled.compile_the_suites_kernels(jit.CACHE_DIR)


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
