"""Options and fixtures of the benchmark suite: its size, and workload states built once per
session. What the modules share otherwise is in ``benchmarks.suite``.

Run with ``pytest benchmarks --benchmark-only`` (pyproject's testpaths keep the unit-test run
from collecting this folder); ``--blas-threads N`` limits BLAS threads for the session
(threadpoolctl); ``--smoke`` makes every benchmark once on a small slice (with
``--benchmark-disable``: CI's step, about a minute). MNIST comes from where
``matnet.mnist_loader`` finds it: MATNET_DATA, else the repository's data/mnist (downloaded
there on first use).

Timings of a prefix (the loop, and the engine paths at mini-batch 1) are shown under a name
ending in ``[k of n examples: ×s for the whole]``: multiply by s to compare with full runs
(``extra_info["median_seconds_scaled"]`` has the product).
"""

from __future__ import annotations

import os

import pytest

from benchmarks.suite import Size
from matnet.bench import workloads as wl

_limiter = None  # threadpoolctl's limiter, kept for the session


def pytest_addoption(parser):
    parser.addoption("--blas-threads", type=int, default=None,
                     help="limit BLAS threads for the session (threadpoolctl); default: BLAS's own")
    parser.addoption("--smoke", action="store_true", default=False,
                     help="make every benchmark once on a small slice (see benchmarks/suite.py); "
                          "use with --benchmark-disable")


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

    smoke = "; smoke run: every benchmark once, on a small slice" if config.getoption("--smoke") else ""
    return f"matnet: {cpu_model()}, {os.cpu_count()} logical CPUs; {blas_summary()}{smoke}"


@pytest.fixture(scope="session")
def size(pytestconfig) -> Size:
    """How much each benchmark runs: the full suite, or the smoke run (``--smoke``)."""
    return Size(smoke=pytestconfig.getoption("--smoke"))


@pytest.fixture(scope="session")
def book_data(size):
    """The loader's lists and arrays (matnet.bench.calls.Data), loaded once per session (a
    slice of them in the smoke run)."""
    from matnet.bench import calls

    return size.data(calls.load())


@pytest.fixture(scope="session")
def workload_state():
    """``workload_state(name)``: the State of that workload, built once per session."""
    states: dict[str, wl.State] = {}

    def get(name: str) -> wl.State:
        if name not in states:
            states[name] = wl.setup(wl.find(name))
        return states[name]

    return get
