"""Very deep networks (issue 21, item 15).

The compiled path holds a network's layers in tuples, and numba's compile time grows with
their length: 100 layers were still compiling after a minute, and at 1,000 numba refuses
(``UnsupportedError``, a traceback at the command line). Past ``MAX_COMPILED_DEPTH`` layers of
weights, ``auto`` computes on the NumPy engine, and ``backend="numba"`` is refused in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from matnet.core.backend import MAX_COMPILED_DEPTH
from matnet.core.kernels import jit_enabled
from matnet.network import Network
from tests.helpers import synthetic


def sizes_of_depth(depth: int) -> list[int]:
    """[6, 4, 4, …, 3]: ``depth`` layers of weights."""
    return [6, *[4] * (depth - 1), 3]


def test_auto_computes_past_the_compiled_depth_on_the_numpy_engine():
    deep = Network(sizes_of_depth(MAX_COMPILED_DEPTH + 1), seed=0)
    assert deep.computed_by == "numpy"
    twin = Network(sizes_of_depth(MAX_COMPILED_DEPTH + 1), seed=0, backend="numpy")
    x, y = synthetic(deep.sizes, 40, seed=0)
    for net in (deep, twin):
        net.SGD((x, y), 1, 10, 0.5, verbose=False)
    assert all(np.array_equal(a, b) for a, b in zip(deep.weights + deep.biases, twin.weights + twin.biases))
    at_the_limit = Network(sizes_of_depth(MAX_COMPILED_DEPTH), seed=0)
    assert at_the_limit.computed_by == ("numba" if jit_enabled() else "numpy")


@pytest.mark.parametrize("depth", [MAX_COMPILED_DEPTH + 1, 1001])
def test_backend_numba_past_the_compiled_depth_is_one_clear_line(depth):
    expected = f"up to {MAX_COMPILED_DEPTH} layers of weights, not {depth}"
    with pytest.raises(ValueError, match=expected) as caught:
        Network(sizes_of_depth(depth), backend="numba")
    assert "\n" not in str(caught.value) and "backend='numpy'" in str(caught.value)


@pytest.mark.skipif(not os.environ.get("MATNET_DATA"), reason="MATNET_DATA is not set")
def test_the_cli_evaluates_a_network_of_a_thousand_hidden_layers(tmp_path):
    """``matnet evaluate`` of a saved [784, 10 × 1000, 10] network: auto used to pick the
    compiled path, and numba's traceback came out; it runs on the NumPy engine."""
    path = tmp_path / "deep.npz"
    Network([784, *[10] * 1000, 10], seed=0, backend="numpy").save(path)
    result = subprocess.run([sys.executable, "-m", "matnet", "evaluate", str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "/ 10000" in result.stdout, result.stdout
