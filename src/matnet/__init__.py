"""matnet: the book's sigmoid networks as whole-batch matrix products, made fast.

``matnet.network`` and ``matnet.mnist_loader`` are drop-in replacements for the modules of
Michael Nielsen's *Neural Networks and Deep Learning* (chapters 1–2)::

    import matnet.mnist_loader as mnist_loader
    import matnet.network as network

Importing ``matnet`` itself is cheap: ``Network`` and the submodules load on first use, and
numba only where compiled code runs.
"""

from __future__ import annotations

import importlib

from matnet.errors import DataError, DivergenceError, MatnetError, ModelFileError

__all__ = ["DataError", "DivergenceError", "MatnetError", "ModelFileError", "Network"]
__version__ = "0.1.0"

_SUBMODULES = {"cli", "datasets", "gradcheck", "io", "mnist_loader", "network"}


def __getattr__(name: str):
    if name == "Network":
        from matnet.network import Network

        return Network
    if name in _SUBMODULES:
        return importlib.import_module(f"matnet.{name}")
    raise AttributeError(f"module 'matnet' has no attribute {name!r}")
