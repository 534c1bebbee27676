"""Elementwise kernels, NumPy vs numba registry, at the book's shapes and 10x larger."""

from __future__ import annotations

import pytest

from benchmarks.suite import KERNEL_ITERATIONS, KERNEL_ROUNDS
from matnet.bench import workloads as wl


@pytest.mark.parametrize("registry", wl.KERNEL_PATHS)
@pytest.mark.parametrize("case", wl.KERNEL_CASES, ids=lambda c: c.name)
def test_kernel(benchmark, size, case, registry):
    runner = wl.kernel_runner(case, registry)
    runner.prepare()  # numba compiles on the first call
    benchmark.group = case.name
    benchmark.extra_info.update(path=registry, shape=[case.rows, case.cols], dtype=case.dtype)
    benchmark.pedantic(runner.run, rounds=size.rounds(KERNEL_ROUNDS),
                       iterations=size.iterations(KERNEL_ITERATIONS), warmup_rounds=1)
