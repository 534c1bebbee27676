"""What the benchmark modules share: how much of each workload they run, and timing a
matnet.bench.workloads Runner with pytest-benchmark.

Two sizes (:class:`Size`, chosen in ``conftest.py``):

- the full suite, ``pytest benchmarks --benchmark-only``: each benchmark timed over the rounds
  below, the book and the loop on LOOP_EXAMPLES examples of an epoch, the book's calls on the
  loader's whole lists;
- the smoke run, ``pytest benchmarks --smoke --benchmark-disable`` (CI's step): every benchmark
  made once on a small slice — SMOKE_EXAMPLES examples of an epoch or an evaluation (whole
  mini-batches: 1,000 at m = 1000), the book's calls on the first SMOKE_TRAINING training
  pairs with every session cut to SMOKE_EPOCHS epoch (chapter 3's 400 epochs included) — so
  that a benchmark that no longer runs is noticed in a minute. Its numbers mean nothing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matnet.bench import calls
from matnet.bench import workloads as wl

#: The loop (and, at mini-batch 1, the engine paths and torch) time this many examples of
#: an epoch; benchmark.extra_info records the scale to a full epoch.
LOOP_EXAMPLES = 5_000
EPOCH_ROUNDS = 3
EVALUATE_ROUNDS = 5
STEP_ROUNDS = 200
KERNEL_ROUNDS = 50
KERNEL_ITERATIONS = 200

SMOKE_EXAMPLES = 100
SMOKE_TRAINING = 300  # training pairs of the book's calls (and 100 validation, 100 test)
SMOKE_EPOCHS = 1


@dataclasses.dataclass(frozen=True)
class Size:
    """How much each benchmark runs: the full suite, or (``smoke``) once on a small slice."""

    smoke: bool = False

    def rounds(self, full: int) -> int:
        return 1 if self.smoke else full

    def iterations(self, full: int) -> int:
        """Back-to-back calls per timed round (the calls of microseconds)."""
        return 1 if self.smoke else full

    def examples(self, full: int | None) -> int | None:
        """Examples of an epoch or an evaluation a runner processes (None: all)."""
        return SMOKE_EXAMPLES if self.smoke else full

    def data(self, data: calls.Data) -> calls.Data:
        """The loader's lists and arrays the book's calls run on."""
        if not self.smoke:
            return data
        n = SMOKE_TRAINING
        return calls.Data(data.training[:n], data.validation[:100], data.test[:100], data.x[:n],
                          data.labels[:n])

    def call(self, call: calls.Call) -> calls.Call:
        """``call``, its session cut to SMOKE_EPOCHS epochs in the smoke run (the book runs them
        all: no part is scaled)."""
        if not self.smoke:
            return call
        return dataclasses.replace(call, epochs=min(call.epochs, SMOKE_EPOCHS), book_epochs=None)


def runner_or_skip(state: wl.State, path: str, examples: int | None = None) -> wl.Runner:
    """The Runner of ``path``, or a pytest skip saying why the path cannot run here."""
    try:
        return wl.make_runner(state, path, examples)
    except wl.PathUnavailableError as exc:
        pytest.skip(str(exc))


def time_runner(benchmark, runner: wl.Runner, rounds: int, size: Size) -> None:
    """Warm up (untimed), then ``rounds`` timed runs (one in the smoke run), each from the
    initial parameters (the reset is pedantic's untimed setup). extra_info says how to scale
    to the full workload."""
    with np.errstate(over="ignore"):  # the book's sigmoid (and the loop's) overflows exp, as
        _time_runner(benchmark, runner, size.rounds(rounds), size)  # in the book; the report too


def _time_runner(benchmark, runner: wl.Runner, rounds: int, size: Size) -> None:
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
        benchmark.pedantic(runner.run, rounds=rounds, iterations=size.iterations(runner.repeat),
                           warmup_rounds=0)
    else:
        benchmark.pedantic(runner.run, setup=runner.reset, rounds=rounds, iterations=1, warmup_rounds=0)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and runner.scale != 1:
        benchmark.extra_info["median_seconds_scaled"] = stats.stats.median * runner.scale
