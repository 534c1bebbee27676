"""Evaluation (classify and count) of the 10,000 test images, every path that evaluates."""

from __future__ import annotations

import pytest

from benchmarks.suite import EVALUATE_ROUNDS, runner_or_skip, time_runner
from matnet.bench import workloads as wl

EVALUATIONS = [w.name for w in wl.WORKLOADS if w.kind == "evaluate"]


@pytest.mark.parametrize("path", wl.PATHS)
@pytest.mark.parametrize("name", EVALUATIONS)
def test_evaluate(benchmark, workload_state, size, name, path):
    runner = runner_or_skip(workload_state(name), path, size.examples(None))
    time_runner(benchmark, runner, EVALUATE_ROUNDS, size)
