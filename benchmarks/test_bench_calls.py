"""The book's calls as a reader makes them (matnet.bench.calls), on the loader's lists: the
book's own network.py, matnet's per-example oracle where the call has one, and matnet.

Each group is one call (``session``, ``epoch``, ``evaluate``, ``feedforward``…); compare the
paths inside a group. Where the book would take minutes it runs a part and the name says so
(``[×30 for the whole]``: one of the session's 30 epochs), with the scaled median in
``extra_info["median_seconds_scaled"]``. The ``session-busy`` row spins another process on a
core while it runs, as a busy CI neighbour would.
"""

from __future__ import annotations

import contextlib

import pytest

from benchmarks.suite import time_runner
from matnet.bench import calls
from matnet.bench.busy import busy_neighbour

ROUNDS = {"train": 3, "evaluate": 7, "feedforward": 30, "step": 30, "backprop": 30}


@pytest.mark.parametrize(("name", "path"), [(c.name, p) for c in calls.CALLS for p in calls.paths_for(c)])
def test_call(benchmark, book_data, size, name, path):
    call = size.call(calls.find(name))
    runner = calls.make_runner(call, path, book_data)
    with busy_neighbour() if call.busy else contextlib.nullcontext():
        time_runner(benchmark, runner, ROUNDS[call.kind], size)
    benchmark.extra_info["code"] = call.code
