"""One epoch of the 50,000 training images: mini-batch 1, 10, 100, 1000 for [784, 30, 10],
mini-batch 10 for [784, 100, 10] and [784, 100, 100, 10]; float64 and float32.

The loop (and, at mini-batch 1, the engine paths and torch) runs a prefix of the epoch;
``extra_info["median_seconds_scaled"]`` is its time scaled to the whole epoch.
"""

from __future__ import annotations

import pytest

from benchmarks.suite import EPOCH_ROUNDS, LOOP_EXAMPLES, runner_or_skip, time_runner
from matnet.bench import workloads as wl
from matnet.bench.report import examples_for

EPOCHS = [w.name for w in wl.WORKLOADS if w.kind == "epoch"]


@pytest.mark.parametrize("path", wl.PATHS)
@pytest.mark.parametrize("name", EPOCHS)
def test_epoch(benchmark, workload_state, size, name, path):
    state = workload_state(name)
    runner = runner_or_skip(state, path, size.examples(examples_for(state.workload, path, LOOP_EXAMPLES)))
    time_runner(benchmark, runner, EPOCH_ROUNDS, size)
