"""matnet: the book's sigmoid networks as whole-batch matrix products, made fast.

``matnet.network`` and ``matnet.mnist_loader`` are drop-in replacements for the modules of
Michael Nielsen's *Neural Networks and Deep Learning* (chapters 1–2).
"""

from matnet.errors import DataError, DivergenceError, MatnetError, ModelFileError
from matnet.gradcheck import gradcheck  # bound after the submodule: matnet.gradcheck is the function
from matnet.network import Network

__all__ = ["DataError", "DivergenceError", "MatnetError", "ModelFileError", "Network", "gradcheck"]
__version__ = "0.1.0"

