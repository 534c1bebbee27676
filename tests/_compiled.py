"""The fused kernels of the suite's networks, compiled once per run, the work shared between
pytest-xdist's workers.

numba compiles each fused kernel apart for each kind of network (dtype and depth), 2–9 s a
kernel, 80 s of CPU for all the kinds the suite trains and evaluates, and writes them to its
disk cache. Left to the tests, the two workers of ``pytest -n 2`` each compile a kernel the
first time one of their tests needs it: both compiled the [784, 30, 10] network's in their
first tests, and compiling beside tests that start processes took half as long again (the
suite from an empty cache: 129 s; 85 s with this). Here, right after collection, each worker
takes the next kind nobody has taken (a
lock file per kind, beside the cache), compiles it through the public API (so with the very
argument types the tests use: test_fused.py checks there is one version per kind), and when
none is left waits for the kinds the other took; every test after that finds its kernels in
the cache. With the cache warm this loads them, well under a second.

conftest.py does this only for a run of most of the suite on several workers: a run of a few
tests compiles just the kernels they need, as before.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

# Each kind of network, with what of it the suite runs, most compile time first (so that the
# two workers finish together): name, sizes, dtype, and which kernels: training at m = 10 and
# evaluation, the outputs of many examples, training in sub-batches, one column (feedforward
# and backprop).
KINDS: tuple[tuple[str, list[int], type, tuple[str, ...]], ...] = (
    ("784-30-10-f32", [784, 30, 10], np.float32, ("train", "outputs", "sub-batches", "column")),  # ~31 s
    ("784-30-10-f64", [784, 30, 10], np.float64, ("train", "outputs", "sub-batches")),  # ~26 s
    ("784-10-f64", [784, 10], np.float64, ("train", "outputs", "column")),  # ~18 s
    ("784-30-20-10-f64", [784, 30, 20, 10], np.float64, ("train", "column")),  # ~17 s
    ("784-30-10-f64-column", [784, 30, 10], np.float64, ("column",)),  # ~4 s
)


def _compile(sizes: list[int], dtype: type, kernels: tuple[str, ...]) -> None:
    from matnet.network import Network

    net = Network(sizes, seed=0, dtype=dtype)
    if "train" in kernels:
        net.prepare(10, outputs="outputs" in kernels)  # epoch, count_correct (and outputs_of_rows)
    if "sub-batches" in kernels:
        net.prepare(1000)  # epoch_in_sub_batches
    if "column" in kernels:
        x = np.zeros((sizes[0], 1))
        net.feedforward(x)  # outputs_of_columns
        net.backprop(x, np.zeros((sizes[-1], 1)))  # gradient_of_column


def compile_the_suites_kernels(folder: Path, compile_kind: Callable[..., None] = _compile) -> list[str]:
    """Compile (or load) every kind in KINDS, sharing the work with any other process doing the
    same with the same ``folder`` (lock files there); the names of the kinds compiled here."""
    done, left = [], []
    for name, *kind in KINDS:
        with open(folder / f"suite-{name}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another worker is compiling it
                left.append((name, kind))
                continue
            compile_kind(*kind)
            done.append(name)
    for name, kind in left:  # wait for it, then load it (or compile it, had that worker died)
        with open(folder / f"suite-{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            compile_kind(*kind)
    return done


def wanted(items: int) -> bool:
    """Whether this process should compile the suite's kernels before its tests: it is one of
    several pytest-xdist workers of a run of most of the suite, and numba compiles."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) < 2 or items < 500:
        return False
    from matnet.core.kernels import jit_enabled

    return jit_enabled()
