"""MNIST and Fashion-MNIST as plain arrays: the public face of :mod:`matnet.data`.

``load_mnist()`` returns the book's 50,000 / 10,000 / 10,000 split as read-only arrays
(images (n, 784) in [0, 1], labels (n,) int64), verified against SHA-256 checksums and
downloaded when missing; see :mod:`matnet.data.datasets` for where the files are looked for.
"""

from matnet.data.datasets import *  # noqa: F403  (this module is the public name of that one)
from matnet.data.datasets import __all__ as __all__
