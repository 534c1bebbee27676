"""One mini-batch step (m = 10, as it happens inside an epoch: gather, forward, backward,
update), every path, the book's three network sizes, float64 and float32."""

from __future__ import annotations

import pytest

from benchmarks.suite import STEP_ROUNDS, runner_or_skip, time_runner
from matnet.bench import workloads as wl

STEPS = [w.name for w in wl.WORKLOADS if w.kind == "step"]


@pytest.mark.parametrize("path", wl.PATHS)
@pytest.mark.parametrize("name", STEPS)
def test_step(benchmark, workload_state, size, name, path):
    runner = runner_or_skip(workload_state(name), path)
    time_runner(benchmark, runner, STEP_ROUNDS, size)
