"""The child process of ``matnet.core.compile_beside``: compiles the named kernels of one network.

``python -m matnet.core.compile_child DTYPE SIZES BATCH_SIZE NAME...``, e.g. ``float64 784,30,10
10 count_correct helpers``: the kernels ``FusedBackend.prepare`` would compile for that network,
into the disk cache the parent reads.
"""

from __future__ import annotations

import sys

import numpy as np

from matnet.core.fused_backend import FusedBackend
from matnet.core.maths import SIGMOID
from matnet.core.spec import Spec


def main(argv: list[str]) -> None:
    dtype, sizes, batch_size, *names = argv
    layers = tuple(int(n) for n in sizes.split(","))
    spec = Spec(layers, np.dtype(dtype), (SIGMOID,) * (len(layers) - 1))
    FusedBackend(spec).compile_only(int(batch_size), names)


if __name__ == "__main__":
    main(sys.argv[1:])
