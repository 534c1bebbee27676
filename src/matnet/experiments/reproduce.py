"""``matnet reproduce``: the book's experiments, several seeds each, as a Markdown table.

Every run computes the book's session in book mode — chapter 1's
``np.random.seed(s); random.seed(s); Network(sizes).SGD(training_data, 30, 10, eta, test_data)``,
or chapter 3's ``network2`` sessions as the chapter types them — on the real MNIST split, on the
machinery of ``matnet sweep`` (local processes, Dask or Ray, a JSON-lines file to resume from;
see :mod:`matnet.experiments.runs`).

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
from typing import TYPE_CHECKING

import numpy as np

from matnet.errors import UsageError
from matnet.experiments import MAX_RUNS
from matnet.experiments.runspec import RunSpec

if TYPE_CHECKING:  # the machinery loads the networks: imported when a table is run, not before
    from matnet.experiments.scheduling import Executor, Failure


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
class Session(Experiment):
    """One of chapter 3's sessions: ``network2.Network(sizes, cost=…)``, its initial weights
    ("large" for ``large_weight_initializer()``), then ``SGD`` on the first ``training_size``
    training images for ``epochs`` epochs with λ = ``lmbda``, evaluated on ``evaluation`` data,
    monitoring ``monitor`` (``matnet.experiments.runs.MONITORS``)."""

    lmbda: float = 0.0
    cost: str = "cross-entropy"
    weights: str = "default"
    training_size: int = 50_000
    evaluation: str = "test"
    epochs: int = 30
    monitor: tuple[str, ...] = ("evaluation_accuracy",)

    def specs(self, epochs: int | None, batch_size: int, backend: str, dtype: str) -> list[RunSpec]:
        """The session's runs: seeds 0, 1, …, each the chapter's code in book mode
        (``epochs`` None: the session's own count)."""
        return [RunSpec(self.sizes, self.eta, seed, epochs or self.epochs, batch_size, dtype, backend,
                        lmbda=self.lmbda, cost=self.cost, weights=self.weights,
                        training_size=self.training_size, evaluation=self.evaluation, monitor=self.monitor)
                for seed in range(self.seeds)]

    @property
    def label(self) -> str:
        return (f"{list(self.sizes)}, η = {self.eta:g}, λ = {self.lmbda:g}, {self.weights} weights, "
                f"{self.training_size:,} images")


@dataclass(frozen=True)
class Chapter:
    """One of the book's tables of results, reproduced row by row."""

    number: int
    experiments: tuple[Experiment, ...]
    epochs: int | None = 30  # every run's, unless asked otherwise (None: each session's own)

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
EVERY_MONITOR = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")
CHAPTER_3 = Chapter(3, (
    Session("overfitting", (784, 30, 10), 0.5, 3, "82.27%, then stalls while the training cost keeps "
            "falling", 0.8227, weights="large", training_size=1000, epochs=400,
            monitor=("evaluation_accuracy", "training_cost")),
    Session("regularized, λ = 0.1", (784, 30, 10), 0.5, 3, "87.1%, still improving", 0.871, lmbda=0.1,
            weights="large", training_size=1000, epochs=400, monitor=EVERY_MONITOR),
    Session("full set, λ = 5", (784, 30, 10), 0.5, 3, "regularized on all 50,000 images", lmbda=5.0,
            weights="large", evaluation="validation", monitor=("evaluation_accuracy", "training_accuracy")),
    Session("100 hidden, λ = 5", (784, 100, 10), 0.5, 3, "97.92% on the validation data", 0.9792, lmbda=5.0,
            weights="large", evaluation="validation"),
    Session("100 hidden, η = 0.1, 60 epochs", (784, 100, 10), 0.1, 3, "98.04% on the validation data",
            0.9804, lmbda=5.0, weights="large", evaluation="validation", epochs=60),
    Session("large initial weights", (784, 30, 10), 0.1, 3, "learns more slowly at first", lmbda=5.0,
            weights="large", evaluation="validation"),
    Session("default initial weights", (784, 30, 10), 0.1, 3, "N(0, 1/n_in): better from the start",
            lmbda=5.0, evaluation="validation"),
), epochs=None)
CHAPTERS = {chapter.number: chapter for chapter in (CHAPTER_1, CHAPTER_3)}
EXPERIMENTS = CHAPTER_1.experiments


@dataclass
class Run:
    """One finished run of an experiment: evaluation accuracy and seconds per epoch, and
    whatever else it monitored (chapter 3: ``training_accuracy``, ``training_cost``,
    ``evaluation_cost``)."""

    seed: int
    accuracies: list[float]
    seconds: list[float]
    monitored: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_record(cls, record: dict) -> Run:
        """The run a record of the JSON-lines file holds."""
        return cls(record["parameters"]["seed"], record["accuracies"], record["seconds"],
                   {name: record[name] for name in EVERY_MONITOR if name in record})


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
        """The Markdown table of the rows (see :func:`table` and :func:`sessions_table`)."""
        if self.chapter.number == 3:
            return sessions_table(self.rows, self.dtype)
        return table(self.rows, self.epochs, self.dtype)

    def figure(self):
        """Every run of every row, the book's figures dashed (chapter 3: each session's
        monitored curves; see :func:`figure`)."""
        title = f"{self.chapter.title}: every seed, {self.dtype}"
        if self.chapter.number == 3:
            from matnet import plots

            panels = [(e.name, [{"accuracies": r.accuracies, **r.monitored} for r in runs], e.book_accuracy)
                      for e, runs in self.rows]
            return plots.monitored_figure(panels, title=title)
        return figure(self.rows, title)


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
    epochs: int | None = None,
    batch_size: int = 10,
    backend: str = "auto",
    dtype: str | np.dtype = "float64",
    data_dir: str | None = None,
    out: str | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    retries: int = 2,
    on_run: Callable[[Experiment, Run], None] | None = None,
    max_runs: int = MAX_RUNS,
) -> Reproduction:
    """Run the experiments of the book's ``chapter`` named in ``only`` (default: all), ``seeds``
    seeds each (default: each experiment's own count), ``epochs`` epochs each (default: 30 in
    chapter 1, each session's own in chapter 3), where ``executor`` says (default: in this
    process); ``on_run(experiment, run)`` is told of each run as it finishes.

    With ``out``, each run is appended to that JSON-lines file as it finishes (which must not
    hold runs yet, unless ``resume``: then only the runs it lacks are made). Unknown names are a
    UsageError, raised before the data is loaded (or downloaded): a typo costs nothing; so is a
    table of more than ``max_runs`` runs.
    """
    from matnet.experiments.scheduling import Executor
    from matnet.experiments.sweep import check_run_count, run_grid

    if chapter not in CHAPTERS:
        raise UsageError(f"chapter {chapter} has no table to reproduce; choose from "
                         f"{', '.join(map(str, CHAPTERS))}")
    source = CHAPTERS[chapter]
    epochs = epochs or source.epochs
    dtype = np.dtype(dtype)
    chosen = choose(source, only, seeds)
    check_run_count(sum(e.seeds for e in chosen), max_runs)
    planned = [(e, e.specs(epochs, batch_size, backend, str(dtype))) for e in chosen]
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


def sessions_table(rows: list[tuple[Experiment, list[Run]]], dtype: np.dtype) -> str:
    """Chapter 3's Markdown table: each session's settings, its best and final evaluation
    accuracy (best seed, mean over seeds), its final training cost where monitored, seconds
    per epoch, and what the book reports."""
    lines = [
        "| session | network | η | λ | initial weights | training images | evaluated on | epochs | dtype "
        "| seeds | best epoch, best seed | mean of best epochs | mean after the last epoch "
        "| training cost after the last | s / epoch | book |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for session, runs in rows:
        bests = [max(r.accuracies) for r in runs]
        lasts = [r.accuracies[-1] for r in runs]
        costs = [r.monitored["training_cost"][-1] for r in runs if "training_cost" in r.monitored]
        seconds = statistics.median(s for r in runs for s in r.seconds)
        cost = f"{statistics.mean(costs):.4f}" if costs else "–"
        lines.append(
            f"| {session.name} | [{', '.join(map(str, session.sizes))}] | {session.eta:g} "
            f"| {session.lmbda:g} "
            f"| {session.weights} | {session.training_size:,} | {session.evaluation} "
            f"| {len(runs[0].accuracies)} | {dtype} | {len(runs)} | {max(bests):.2%} "
            f"| {statistics.mean(bests):.2%} | {statistics.mean(lasts):.2%} | {cost} | {seconds:.4f} "
            f"| {session.book} |"
        )
    return "\n".join(lines)


def figure(rows: list[tuple[Experiment, list[Run]]], title: str):
    """Every run of every row on shared axes, each row's book figure dashed (matplotlib)."""
    from matnet import plots

    return plots.runs_figure([(e.label, [r.accuracies for r in runs], e.book_accuracy) for e, runs in rows],
                             title=title)
