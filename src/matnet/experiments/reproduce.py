"""``matnet reproduce``: the book's chapter-1 experiments, several seeds each, as a Markdown table.

Every run computes the book's session in book mode (the numbers of
``np.random.seed(s); random.seed(s); Network(sizes).SGD(training_data, 30, 10, eta, test_data)``)
on the real MNIST split, on the machinery of ``matnet sweep`` (``--jobs N``, ``--scheduler``,
``--ray``, ``--out``/``--resume``; see :mod:`matnet.experiments.runs`).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
from dataclasses import dataclass

import numpy as np

from matnet import progress
from matnet.experiments.runs import RunSpec
from matnet.experiments.scheduling import Executor
from matnet.experiments.sweep import report_failures, run_grid


@dataclass(frozen=True)
class Experiment:
    """One row of the book's chapter-1 results."""

    name: str
    sizes: tuple[int, ...]
    eta: float
    seeds: int
    book: str  # what the book reports, in its words
    book_accuracy: float | None = None  # the same as a fraction, where it gives one


EXPERIMENTS = (
    Experiment("30 hidden", (784, 30, 10), 3.0, 3, "95.42% (best of 3)", 0.9542),
    Experiment("100 hidden", (784, 100, 10), 3.0, 5, "96.59% (one run)", 0.9659),
    Experiment("100 hidden, η = 0.001", (784, 100, 10), 0.001, 3, "≈ 21% after 30 epochs", 0.21),
    Experiment("30 hidden, η = 100", (784, 30, 10), 100.0, 3, "≈ 10% (no learning)", 0.10),
    Experiment("no hidden layer", (784, 10), 3.0, 3, "exercise (no figure given)"),
)


@dataclass
class Run:
    seed: int
    accuracies: list[float]
    seconds: list[float]


def specs(experiment: Experiment, epochs: int, batch_size: int, backend: str, dtype: str) -> list[RunSpec]:
    """The experiment's runs: seeds 0, 1, ..., each the book's session in book mode."""
    return [RunSpec(experiment.sizes, experiment.eta, seed, epochs, batch_size, dtype, backend)
            for seed in range(experiment.seeds)]


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


def cli_main(args) -> int:
    # Names are checked before the data is loaded (or downloaded): a typo costs nothing.
    unknown = [name for name in args.only or () if name not in {e.name for e in EXPERIMENTS}]
    if unknown:
        names = ", ".join(repr(e.name) for e in EXPERIMENTS)
        print(f"matnet reproduce: --only {', '.join(map(repr, unknown))} matched no experiment; "
              f"choose from {names}", file=sys.stderr)
        return 2
    chosen = [e for e in EXPERIMENTS if not args.only or e.name in args.only]
    if args.seeds:
        chosen = [dataclasses.replace(e, seeds=args.seeds) for e in chosen]
    plot = getattr(args, "plot", None)  # its path and matplotlib are checked by the CLI
    dtype = str(np.dtype(args.dtype))
    planned = [(e, specs(e, args.epochs, args.batch_size, args.backend, dtype)) for e in chosen]
    names = {spec.key(): e.name for e, runs in planned for spec in runs}

    def finished(record: dict) -> None:
        spec = RunSpec.from_parameters(record["parameters"])
        progress.write(f"  {names[spec.key()]}, seed {spec.seed}: best {max(record['accuracies']):.2%}, "
                       f"last {record['accuracies'][-1]:.2%}")

    outcome = run_grid([spec for _, runs in planned for spec in runs], args.out, Executor.from_args(args),
                       resume=args.resume, data_dir=args.data_dir, retries=args.retries,
                       on_record=finished, label="reproduce")
    report_failures(outcome.failures, args.out, "reproduce")
    rows = []
    for experiment, runs in planned:
        done = [outcome.records[spec.key()] for spec in runs if spec.key() in outcome.records]
        if done:
            made = [Run(r["parameters"]["seed"], r["accuracies"], r["seconds"]) for r in done]
            rows.append((experiment, made))
    print(table(rows, args.epochs, np.dtype(args.dtype)))
    if plot:
        from matnet import plots

        lines = [(f"{list(e.sizes)}, η = {e.eta:g}", [r.accuracies for r in runs], e.book_accuracy)
                 for e, runs in rows]
        title = f"the book's chapter-1 experiments: every seed, {args.dtype}"
        plots.save(plots.runs_figure(lines, title=title), plot)
        print(f"wrote {plot}", file=sys.stderr)
    return 1 if outcome.failures else 0
