"""matnet: the book's sigmoid networks as whole-batch matrix products, made fast.

``matnet.network`` and ``matnet.mnist_loader`` are drop-in replacements for the modules of
Michael Nielsen's *Neural Networks and Deep Learning* (chapters 1–2).
"""

from matnet.errors import DataError, DivergenceError, MatnetError, ModelFileError
from matnet.network import Network

__all__ = ["DataError", "DivergenceError", "MatnetError", "ModelFileError", "Network", "gradcheck"]
__version__ = "0.1.0"


def __getattr__(name):
    if name == "gradcheck":  # imported lazily: most users never need it
        from matnet.gradcheck import gradcheck

        return gradcheck
    raise AttributeError(f"module 'matnet' has no attribute {name!r}")
