"""``matnet reproduce``: the book's experiments, several seeds each, as a Markdown table.

Every run computes the book's session in book mode (the numbers of
``np.random.seed(s); random.seed(s); Network(sizes).SGD(training_data, 30, 10, eta, test_data)``)
on the real MNIST split, on the machinery of ``matnet sweep`` (local processes, Dask or Ray,
a JSON-lines file to resume from; see :mod:`matnet.experiments.runs`).

A :class:`Chapter` is one of the book's tables: its experiments, each of which says what runs
it needs (:meth:`Experiment.specs`). :func:`run` runs any chapter's table the same way, so a
chapter's table is added by adding a :class:`Chapter` to ``CHAPTERS`` (with experiments of its
own kind where its runs differ), not by copying the machinery.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matnet.errors import UsageError
from matnet.experiments.runs import RunSpec
from matnet.experiments.scheduling import Executor, Failure
from matnet.experiments.sweep import run_grid


@dataclass(frozen=True)
class Experiment:
    """One row of one of the book's tables of results."""

    name: str
    sizes: tuple[int, ...]
    eta: float
    seeds: int
    book: str  # what the book reports, in its words
    book_accuracy: float | None = None  # the same as a fraction, where it gives one

    def specs(self, epochs: int, batch_size: int, backend: str, dtype: str) -> list[RunSpec]:
        """The experiment's runs: seeds 0, 1, ..., each the book's session in book mode."""
        return [RunSpec(self.sizes, self.eta, seed, epochs, batch_size, dtype, backend)
                for seed in range(self.seeds)]

    @property
    def label(self) -> str:
        """The experiment in a plot's legend."""
        return f"{list(self.sizes)}, η = {self.eta:g}"


@dataclass(frozen=True)
class Chapter:
    """One of the book's tables of results, reproduced row by row."""

    number: int
    experiments: tuple[Experiment, ...]

    @property
    def title(self) -> str:
        return f"the book's chapter-{self.number} experiments"


CHAPTER_1 = Chapter(1, (
    Experiment("30 hidden", (784, 30, 10), 3.0, 3, "95.42% (best of 3)", 0.9542),
    Experiment("100 hidden", (784, 100, 10), 3.0, 5, "96.59% (one run)", 0.9659),
    Experiment("100 hidden, η = 0.001", (784, 100, 10), 0.001, 3, "≈ 21% after 30 epochs", 0.21),
    Experiment("30 hidden, η = 100", (784, 30, 10), 100.0, 3, "≈ 10% (no learning)", 0.10),
    Experiment("no hidden layer", (784, 10), 3.0, 3, "exercise (no figure given)"),
))
CHAPTERS = {chapter.number: chapter for chapter in (CHAPTER_1,)}
EXPERIMENTS = CHAPTER_1.experiments


@dataclass
class Run:
    """One finished run of an experiment: test accuracy and seconds, per epoch."""

    seed: int
    accuracies: list[float]
    seconds: list[float]

    @classmethod
    def from_record(cls, record: dict) -> Run:
        """The run a record of the JSON-lines file holds."""
        return cls(record["parameters"]["seed"], record["accuracies"], record["seconds"])


@dataclass
class Reproduction:
    """What :func:`run` made: each experiment's finished runs (an experiment none of whose runs
    finished has no row), the runs that did not finish, and what the table and plot state."""

    chapter: Chapter
    epochs: int
    dtype: np.dtype
    rows: list[tuple[Experiment, list[Run]]]
    failures: list[Failure]

    def table(self) -> str:
        """The Markdown table of the rows (see :func:`table`)."""
        return table(self.rows, self.epochs, self.dtype)

    def figure(self):
        """Every run of every row, the book's figures dashed (see :func:`figure`)."""
        return figure(self.rows, f"{self.chapter.title}: every seed, {self.dtype}")


def choose(chapter: Chapter, only: Sequence[str] | None = None, seeds: int | None = None) -> list[Experiment]:
    """The chapter's experiments named in ``only`` (default: all), in the table's order, each
    with ``seeds`` seeds (default: its own count). UsageError for a name the chapter lacks."""
    known = [e.name for e in chapter.experiments]
    unknown = [name for name in only or () if name not in known]
    if unknown:
        raise UsageError(f"--only {', '.join(map(repr, unknown))} matched no experiment; "
                         f"choose from {', '.join(map(repr, known))}")
    chosen = [e for e in chapter.experiments if not only or e.name in only]
    return [dataclasses.replace(e, seeds=seeds) for e in chosen] if seeds else chosen


def run(
    *,
    chapter: int = 1,
    only: Sequence[str] | None = None,
    seeds: int | None = None,
    epochs: int = 30,
    batch_size: int = 10,
    backend: str = "auto",
    dtype: str | np.dtype = "float64",
    data_dir: str | None = None,
    out: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    retries: int = 2,
    on_run: Callable[[Experiment, Run], None] | None = None,
) -> Reproduction:
    """Run the experiments of the book's ``chapter`` named in ``only`` (default: all), ``seeds``
    seeds each (default: each experiment's own count), where ``executor`` says (default: in
    this process); ``on_run(experiment, run)`` is told of each run as it finishes.

    With ``out``, each run is appended to that JSON-lines file as it finishes (which must not
    hold runs yet, unless ``resume``: then only the runs it lacks are made). Unknown names are a
    UsageError, raised before the data is loaded (or downloaded): a typo costs nothing.
    """
    if chapter not in CHAPTERS:
        raise UsageError(f"chapter {chapter} has no table to reproduce; choose from "
                         f"{', '.join(map(str, CHAPTERS))}")
    source = CHAPTERS[chapter]
    dtype = np.dtype(dtype)
    planned = [(e, e.specs(epochs, batch_size, backend, str(dtype))) for e in choose(source, only, seeds)]
    experiment_of = {spec.key(): e for e, specs in planned for spec in specs}

    def finished(record: dict) -> None:
        if on_run is not None:
            key = RunSpec.from_parameters(record["parameters"]).key()
            on_run(experiment_of[key], Run.from_record(record))

    outcome = run_grid([spec for _, specs in planned for spec in specs], out, executor or Executor(),
                       resume=resume, data_dir=data_dir, retries=retries, on_record=finished,
                       label="reproduce")
    rows = []
    for experiment, specs in planned:
        done = [outcome.records[spec.key()] for spec in specs if spec.key() in outcome.records]
        if done:
            rows.append((experiment, [Run.from_record(record) for record in done]))
    return Reproduction(source, epochs, dtype, rows, outcome.failures)


def table(rows: list[tuple[Experiment, list[Run]]], epochs: int, dtype: np.dtype) -> str:
    """The Markdown table of best/mean accuracies and seconds per epoch."""
    lines = [
        f"| network | η | dtype | seeds | best epoch, best seed | mean of best epochs "
        f"| mean after epoch {epochs} | per-seed best | s / epoch | book |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for experiment, runs in rows:
        bests = [max(r.accuracies) for r in runs]
        lasts = [r.accuracies[-1] for r in runs]
        seconds = statistics.median(s for r in runs for s in r.seconds)
        sizes = "[" + ", ".join(map(str, experiment.sizes)) + "]"
        lines.append(
            f"| {sizes} | {experiment.eta:g} | {dtype} | {len(runs)} | {max(bests):.2%} "
            f"| {statistics.mean(bests):.2%} | {statistics.mean(lasts):.2%} "
            f"| {', '.join(f'{b:.2%}' for b in bests)} | {seconds:.3f} | {experiment.book} |"
        )
    return "\n".join(lines)


def figure(rows: list[tuple[Experiment, list[Run]]], title: str):
    """Every run of every row on shared axes, each row's book figure dashed (matplotlib)."""
    from matnet import plots

    return plots.runs_figure([(e.label, [r.accuracies for r in runs], e.book_accuracy) for e, runs in rows],
                             title=title)
