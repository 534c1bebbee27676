"""``matnet sweep``: a grid of book-mode runs in, a JSON-lines file and a summary table out.

Each run is one seed of one cell (sizes, η, mini-batch size, dtype, backend); see
:mod:`matnet.experiments.runs`. Runs execute where :mod:`matnet.experiments.scheduling` sends
them, and each finished run is appended to the ``--out`` file at once, so an interrupted sweep
loses only the runs in flight and ``--resume`` runs only what the file lacks. The summary (best,
mean and spread of each cell's best accuracies) is computed from the file.

:func:`run_sweep` is the whole sweep for a notebook, in keywords; the command line
(:mod:`matnet.cli.sweep`) reads its options into those keywords and prints what comes back.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from matnet import datasets, progress
from matnet.errors import UsageError
from matnet.experiments import MAX_RUNS, records
from matnet.experiments.runs import RunSpec, check
from matnet.experiments.scheduling import Executor, Failure, execute


def grid(
    sizes: Sequence[Sequence[int]],
    etas: Sequence[float],
    seeds: Sequence[int],
    *,
    epochs: int = 30,
    batch_sizes: Sequence[int] = (10,),
    dtype: str = "float64",
    backend: str = "auto",
    max_runs: int = MAX_RUNS,
) -> list[RunSpec]:
    """Every combination, seeds innermost (a cell's runs are scheduled together), duplicates
    dropped. Raises UsageError for a grid that cannot run, or of more than ``max_runs`` runs,
    before anything is built or scheduled."""
    given = {"--sizes": sizes, "--eta": etas, "--seeds": seeds, "--batch-size": batch_sizes}
    for name, values in given.items():
        if not values:
            raise UsageError(f"{name} is empty: the grid has no runs")
    check_run_count(math.prod(map(len, given.values())), max_runs)
    if any(not eta > 0 for eta in etas):  # also refuses NaN
        raise UsageError(f"--eta must be positive, got {', '.join(f'{eta:g}' for eta in etas)}")
    if epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    specs = [RunSpec(tuple(s), float(eta), seed, epochs, batch, dtype, backend)
             for s in sizes for eta in etas for batch in batch_sizes for seed in seeds]
    return list(dict.fromkeys(specs))


def check_run_count(count: int, max_runs: int) -> None:
    """UsageError when ``count`` runs are more than ``max_runs`` (counted before they are listed:
    a typo such as ``--seeds 0-4294967295`` must not fill the memory first)."""
    if count > max_runs:
        raise UsageError(f"that is {count:,} runs, more than --max-runs {max_runs:,}: "
                         "ask for fewer, or raise --max-runs")


@dataclass
class Outcome:
    """What a sweep left: every record in the file for its runs, and what did not finish."""

    records: dict[tuple, dict] = field(default_factory=dict)  # by RunSpec.key()
    failures: list[Failure] = field(default_factory=list)
    skipped: int = 0  # already in the file (--resume)


def run_grid(
    specs: list[RunSpec],
    out: str | None,
    executor: Executor,
    *,
    resume: bool = False,
    data_dir: str | None = None,
    retries: int = 2,
    on_record: Callable[[dict], None] | None = None,
    label: str = "sweep",
) -> Outcome:
    """Run the specs the ``out`` file lacks (all of them without ``resume``; the file must then
    not exist yet), appending each record as it arrives. ``out=None`` keeps records in memory."""
    if resume and out is None:
        raise UsageError("--resume continues the runs of an --out file: name it with --out FILE")
    with records.locked(out) if out is not None else contextlib.nullcontext():
        return _run_grid(specs, out, executor, resume, data_dir, retries, on_record, label)


def _run_grid(specs: list[RunSpec], out: str | None, executor: Executor, resume: bool, data_dir: str | None,
              retries: int, on_record: Callable[[dict], None] | None, label: str) -> Outcome:
    """:func:`run_grid`, holding the lock of ``out``: nothing else appends to it meanwhile."""
    outcome = Outcome()
    intact = 0
    if out is not None:
        if not resume and os.path.lexists(out):
            try:
                held = len(records.read(out)[0])
            except UsageError:  # not a sweep's file at all
                held = 0
            holds = f"already holds {held} run(s)" if held else "already exists"
            raise UsageError(f"--out {out} {holds}: add --resume to finish that sweep, "
                             "or choose another file")
        existing, intact = records.read(out)
        wanted = {spec.key() for spec in specs}
        for record in existing:
            key = RunSpec.from_parameters(record["parameters"]).key()
            if key in wanted:
                outcome.records[key] = record
        outcome.skipped = len(outcome.records)
    todo = [spec for spec in specs if spec.key() not in outcome.records]
    if executor.local:  # what every run would refuse, and the data (downloaded if missing): once
        for spec in {(spec.backend, spec.dtype): spec for spec in todo}.values():
            check(spec)
        for dtype in dict.fromkeys(spec.dtype for spec in todo):
            datasets.load_mnist(data_dir, dtype=dtype)
    if outcome.skipped:
        print(f"matnet {label}: {outcome.skipped} of {len(specs)} runs already in {out}; "
              f"running the other {len(todo)} on {executor.describe()}", file=sys.stderr)
    bar = progress.bar(len(todo), label, "run")
    appender = records.Appender(out, intact) if out is not None and todo else None

    def arrived(record: dict) -> None:
        if appender is not None:
            appender.append(record)
        outcome.records[RunSpec.from_parameters(record["parameters"]).key()] = record
        bar.update(1)
        if on_record is not None:
            on_record(record)

    try:
        outcome.failures = execute(todo, executor, arrived, data_dir=data_dir, retries=retries)
    except KeyboardInterrupt:
        if out is None:
            message = f"{len(outcome.records)} run(s) had finished; none is kept without --out FILE"
        else:  # counted in the file: the interrupt may have come between a write and its count
            kept = len(records.read(out)[0])
            message = f"{kept} finished run(s) are in {out}; the same command with --resume runs the rest"
        print(f"matnet {label}: {message}", file=sys.stderr)
        raise
    finally:
        bar.close()
        if appender is not None:
            appender.close()
    return outcome


def run_sweep(
    *,
    sizes: Sequence[Sequence[int]] = ((784, 30, 10),),
    etas: Sequence[float] = (3.0,),
    seeds: Sequence[int] = (0,),
    epochs: int = 30,
    batch_sizes: Sequence[int] = (10,),
    dtype: str | np.dtype = "float64",
    backend: str = "auto",
    out: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    data_dir: str | None = None,
    retries: int = 2,
    on_record: Callable[[dict], None] | None = None,
    max_runs: int = MAX_RUNS,
) -> Outcome:
    """Every run of the grid (see :func:`grid`) where ``executor`` says (default: in this
    process), each record appended to ``out`` as it arrives and passed to ``on_record``.

    ``out`` must not hold runs yet, unless ``resume``: then only the runs it lacks are made. Without
    ``out`` the records are kept in memory only: ``summary(outcome.records.values())``.
    """
    specs = grid(sizes, etas, seeds, epochs=epochs, batch_sizes=batch_sizes, dtype=str(np.dtype(dtype)),
                 backend=backend, max_runs=max_runs)
    return run_grid(specs, out, executor or Executor(), resume=resume, data_dir=data_dir, retries=retries,
                    on_record=on_record, label="sweep")


def describe_run(record: dict) -> str:
    """One line for a finished run, printed as it arrives."""
    p = record["parameters"]
    accuracies = record["accuracies"]  # one per epoch, at least one
    return (f"  {p['sizes']}, η = {p['eta']:g}, mini-batch {p['batch_size']}, seed {p['seed']}: "
            f"best {max(accuracies):.2%}, last {accuracies[-1]:.2%} ({record['run_seconds']:.1f} s)")


def summary(found: Iterable[dict]) -> str:
    """The Markdown table of each cell: runs, best, mean and spread of the runs' best-epoch
    accuracies, mean accuracy after the last epoch, median seconds per epoch."""
    cells: dict[tuple, list[dict]] = {}
    for record in found:
        cells.setdefault(RunSpec.from_parameters(record["parameters"]).cell(), []).append(record)
    lines = [
        "| network | η | mini-batch | epochs | dtype | backend | runs | best | mean of bests "
        "| spread (min – max) | std | mean last | s / epoch |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for runs in cells.values():
        p = runs[0]["parameters"]
        bests = [max(r["accuracies"]) for r in runs]
        lasts = [r["accuracies"][-1] for r in runs]
        std = f"{statistics.stdev(bests):.2%}" if len(bests) > 1 else "–"
        seconds = statistics.median(s for r in runs for s in r["seconds"])
        lines.append(
            f"| [{', '.join(map(str, p['sizes']))}] | {p['eta']:g} | {p['batch_size']} | {p['epochs']} "
            f"| {p['dtype']} | {p['backend']} | {len(runs)} | {max(bests):.2%} "
            f"| {statistics.mean(bests):.2%} | {min(bests):.2%} – {max(bests):.2%} | {std} "
            f"| {statistics.mean(lasts):.2%} | {seconds:.3f} |"
        )
    return "\n".join(lines)


def report_failures(failures: list[Failure], out: str | None, label: str, finished: int) -> None:
    """One line on stderr per reason a run did not finish (naming the command that makes the
    run alone; runs that failed alike share the line), then, with ``out``, how many of the
    runs the file holds (``finished``) and how to make the missing ones: ``--resume``."""
    alike: dict[str, list[Failure]] = {}
    for failure in failures:
        alike.setdefault(failure.reason, []).append(failure)
    for reason, group in alike.items():
        runs = group[0].spec.command() + (f" and {len(group) - 1} other run(s)" if len(group) > 1 else "")
        print(f"matnet {label}: {runs} did not finish: {reason}", file=sys.stderr)
    if failures and out is not None:
        print(f"matnet {label}: the file {out} has {finished} of the {finished + len(failures)} runs; "
              "the same command with --resume runs the missing ones", file=sys.stderr)
