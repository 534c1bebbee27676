"""``matnet reproduce``: the book's chapter-1 experiments, several seeds each, as a Markdown table.

Every run is the book's session in book mode (``np.random.seed(s); random.seed(s)``, then
``Network(sizes).SGD(training_data, 30, 10, eta, test_data)``) on the real MNIST split.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from matnet import datasets, progress
from matnet.network import EpochReport, Network


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


def run_experiment(
    experiment: Experiment,
    data: datasets.Split,
    epochs: int,
    batch_size: int,
    backend: str,
    dtype: np.dtype | type = np.float64,
    on_epoch: Callable[[], None] | None = None,
) -> list[Run]:
    """Train ``experiment.seeds`` networks (seeds 0, 1, ...) and record every epoch
    (``on_epoch()`` is called after each, e.g. to advance a progress bar)."""
    runs = []
    for seed in range(experiment.seeds):
        np.random.seed(seed)
        random.seed(seed)
        net = Network(list(experiment.sizes), backend=backend, dtype=dtype)
        net.prepare(batch_size)
        run = Run(seed, [], [])

        def record(report: EpochReport, run: Run = run) -> None:
            run.accuracies.append(report.correct / report.n_test)
            run.seconds.append(report.seconds)
            if on_epoch is not None:
                on_epoch()

        net.SGD(data.training, epochs, batch_size, experiment.eta, test_data=data.test, verbose=False,
                on_epoch=record)
        runs.append(run)
        tqdm.write(f"  {experiment.name}, seed {seed}: best {max(run.accuracies):.2%}, "
                   f"last {run.accuracies[-1]:.2%}", file=sys.stderr)  # above a progress bar, if any
    return runs


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
    plot = getattr(args, "plot", None)  # its path and matplotlib are checked by the CLI
    data = datasets.load_mnist(args.data_dir, dtype=args.dtype)
    if args.seeds:
        chosen = [dataclasses.replace(e, seeds=args.seeds) for e in chosen]
    rows = []
    epochs = progress.bar(sum(e.seeds for e in chosen) * args.epochs, "reproduce", "epoch")
    for experiment in chosen:
        runs = run_experiment(experiment, data, args.epochs, args.batch_size, args.backend, args.dtype,
                              on_epoch=lambda: epochs.update(1))
        rows.append((experiment, runs))
    epochs.close()
    print(table(rows, args.epochs, args.dtype))
    if plot:
        from matnet import plots

        lines = [(f"{list(e.sizes)}, η = {e.eta:g}", [r.accuracies for r in runs], e.book_accuracy)
                 for e, runs in rows]
        title = f"the book's chapter-1 experiments: every seed, {args.dtype}"
        plots.save(plots.runs_figure(lines, title=title), plot)
        print(f"wrote {plot}", file=sys.stderr)
    return 0
