"""Fixtures of the benchmark suite: workload states built once per session, and a helper
that times a matnet.bench.workloads Runner with pytest-benchmark.

Run with ``pytest benchmarks --benchmark-only`` (pyproject's testpaths keep the unit-test run
from collecting this folder); ``--blas-threads N`` limits BLAS threads for the session
(threadpoolctl). MNIST comes from where ``matnet.mnist_loader`` finds it: MATNET_DATA, else
the repository's data/mnist (downloaded there on first use).

Timings of a prefix (the loop, and the engine paths at mini-batch 1) are shown under a name
ending in ``[k of n examples: ×s for the whole]``: multiply by s to compare with full runs
(``extra_info["median_seconds_scaled"]`` has the product).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from matnet.bench import workloads as wl

#: The loop (and, at mini-batch 1, the engine paths and torch) time this many examples of
#: an epoch; benchmark.extra_info records the scale to a full epoch.
LOOP_EXAMPLES = 5_000
EPOCH_ROUNDS = 3
EVALUATE_ROUNDS = 5
STEP_ROUNDS = 200


_limiter = None  # threadpoolctl's limiter, kept for the session


def pytest_addoption(parser):
    parser.addoption("--blas-threads", type=int, default=None,
                     help="limit BLAS threads for the session (threadpoolctl); default: BLAS's own")


def pytest_configure(config):
    global _limiter
    threads = config.getoption("--blas-threads", None)
    if threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            raise pytest.UsageError("--blas-threads needs threadpoolctl") from None
        _limiter = threadpool_limits(limits=threads, user_api="blas")


def pytest_report_header(config):
    from matnet.bench.report import blas_summary, cpu_model

    return f"matnet: {cpu_model()}, {os.cpu_count()} logical CPUs; {blas_summary()}"


@pytest.fixture(scope="session")
def book_data():
    """The loader's lists and arrays (matnet.bench.calls.Data), loaded once per session."""
    from matnet.bench import calls

    return calls.load()


@pytest.fixture(scope="session")
def workload_state():
    """``workload_state(name)``: the State of that workload, built once per session."""
    states: dict[str, wl.State] = {}

    def get(name: str) -> wl.State:
        if name not in states:
            states[name] = wl.setup(wl.find(name))
        return states[name]

    return get


def runner_or_skip(state: wl.State, path: str, examples: int | None = None) -> wl.Runner:
    """The Runner of ``path``, or a pytest skip saying why the path cannot run here."""
    try:
        return wl.make_runner(state, path, examples)
    except wl.PathUnavailableError as exc:
        pytest.skip(str(exc))


def time_runner(benchmark, runner: wl.Runner, rounds: int) -> None:
    """Warm up (untimed), then ``rounds`` timed runs, each from the initial parameters (the
    reset is pedantic's untimed setup). extra_info says how to scale to the full workload."""
    with np.errstate(over="ignore"):  # the book's sigmoid (and the loop's) overflows exp, as
        _time_runner(benchmark, runner, rounds)  # in the book; the report ignores it the same way


def _time_runner(benchmark, runner, rounds: int) -> None:
    runner.prepare()
    benchmark.group = runner.name
    if runner.scale != 1:
        whole = round(runner.examples * runner.scale)
        part = runner.note.removesuffix(", scaled") or f"{runner.examples:,} of {whole:,} examples"
        benchmark.name += f" [{part}: ×{runner.scale:g} for the whole]"
    benchmark.extra_info.update(path=runner.path, examples=runner.examples, scale=runner.scale)
    if runner.note:
        benchmark.extra_info["note"] = runner.note
    if runner.repeat > 1:  # a call of microseconds, timed in runs of runner.repeat (stateless)
        benchmark.pedantic(runner.run, rounds=rounds, iterations=runner.repeat, warmup_rounds=0)
    else:
        benchmark.pedantic(runner.run, setup=runner.reset, rounds=rounds, iterations=1, warmup_rounds=0)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and runner.scale != 1:
        benchmark.extra_info["median_seconds_scaled"] = stats.stats.median * runner.scale
