"""``matnet reproduce``: the book's results table of chapter 1 or 3
(:func:`matnet.experiments.reproduce.run`), one line per run as it finishes, then the table,
and optionally a plot of every run (chapter 3: each session's monitored curves)."""

from __future__ import annotations

import argparse
import sys

from matnet.cli.common import check_output_paths, check_pictures
from matnet.cli.options import (
    DATA_DIR_HELP,
    DTYPES,
    Subparsers,
    add_command,
    add_executor_options,
    executor_from,
    positive_int,
)
from matnet.core.backend import BACKENDS


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet reproduce`` and its options."""
    from matnet.experiments.reproduce import CHAPTERS

    names = [e.name for chapter in CHAPTERS.values() for e in chapter.experiments]
    reproduce = add_command(subparsers, "reproduce",
                            "the book's results table of chapter 1 or 3, several seeds each")
    reproduce.add_argument("--chapter", type=int, choices=sorted(CHAPTERS), default=1,
                           help="chapter 1's network (network.py) or chapter 3's sessions (network2.py)")
    reproduce.add_argument("--epochs", type=positive_int, default=None,
                           help="epochs per run (default: 30 in chapter 1, each session's own in chapter 3)")
    reproduce.add_argument("--batch-size", type=positive_int, default=10, help="mini-batch size")
    reproduce.add_argument("--seeds", type=positive_int, default=None,
                           help="seeds per experiment (default: each experiment's own count)")
    reproduce.add_argument("--only", action="append", default=None, metavar="NAME",
                           choices=names,
                           help="run only this experiment of the chapter (repeatable), one of: "
                                + ", ".join(map(repr, names)))
    reproduce.add_argument("--backend", choices=BACKENDS, default="auto", help="how the epochs are computed")
    reproduce.add_argument("--dtype", choices=DTYPES, default="float64", help="floating-point type")
    reproduce.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    reproduce.add_argument("--plot", default=None, metavar="FILE.png",
                           help="draw every run of every row, the book's figures dashed (chapter 3: each "
                                "session's accuracies and costs per epoch)")
    reproduce.add_argument("--out", default=None, metavar="FILE.jsonl",
                           help="also keep each run, as it finishes, in this JSON-lines file")
    add_executor_options(reproduce)
    reproduce.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the experiments; print the table. 1 when a run did not finish (each is named on stderr)."""
    from matnet import progress
    from matnet.experiments import reproduce, sweep

    check_output_paths(plot=args.plot, out=args.out)
    check_pictures(plot=args.plot)

    def finished(experiment: reproduce.Experiment, run: reproduce.Run) -> None:
        progress.write(f"  {experiment.name}, seed {run.seed}: best {max(run.accuracies):.2%}, "
                       f"last {run.accuracies[-1]:.2%}")

    result = reproduce.run(
        chapter=args.chapter, only=args.only, seeds=args.seeds, epochs=args.epochs,
        batch_size=args.batch_size,
        backend=args.backend, dtype=args.dtype, data_dir=args.data_dir, out=args.out,
        executor=executor_from(args), resume=args.resume, retries=args.retries, on_run=finished,
        max_runs=args.max_runs,
    )
    sweep.report_failures(result.failures, args.out, "reproduce", sum(len(runs) for _, runs in result.rows))
    print(result.table())
    if args.plot:
        from matnet import plots

        plots.save(result.figure(), args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 1 if result.failures else 0
