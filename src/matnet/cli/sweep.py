"""``matnet sweep``: a grid of book-mode runs (:func:`matnet.experiments.sweep.run_sweep`), one
line per run as it finishes, then the summary table of everything in the ``--out`` file."""

from __future__ import annotations

import argparse
import sys
import time

from matnet.cli.common import check_mnist_sizes, check_output_paths
from matnet.cli.options import (
    DATA_DIR_HELP,
    DTYPES,
    N_CLASSES,
    N_PIXELS,
    Subparsers,
    add_command,
    add_executor_options,
    executor_from,
    layer_sizes,
    list_of,
    positive_float,
    positive_int,
    seeds,
)
from matnet.core.backend import BACKENDS


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet sweep`` and its options."""
    sweep = add_command(subparsers, "sweep",
                        "a grid of book-mode runs (layer sizes × η × mini-batch × seeds), "
                        "on local cores, Dask or Ray; a JSON-lines file and a summary table out")
    sweep.add_argument("--sizes", type=layer_sizes, action="append", default=None,
                       help="layer sizes of one network (repeatable) (default: 784,30,10)")
    sweep.add_argument("--eta", type=list_of(positive_float, "--eta"), default="3", metavar="η,…",
                       help="learning rates, comma-separated")
    sweep.add_argument("--seeds", type=seeds, default="0", metavar="SEEDS",
                       help="seeds of each cell, e.g. 0-9 or 0,3,5-7")
    sweep.add_argument("--epochs", type=positive_int, default=30, help="epochs per run")
    sweep.add_argument("--batch-size", type=list_of(positive_int, "--batch-size"), default="10",
                       metavar="M,…", help="mini-batch sizes, comma-separated")
    sweep.add_argument("--backend", choices=BACKENDS, default="auto", help="how the epochs are computed")
    sweep.add_argument("--dtype", choices=DTYPES, default="float64", help="floating-point type")
    sweep.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    sweep.add_argument("--out", required=True, metavar="FILE.jsonl",
                       help="the JSON-lines file: one record per finished run, appended as it finishes")
    add_executor_options(sweep)
    sweep.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the grid; 1 when a run did not finish (each is named on stderr), else 0."""
    from matnet import progress
    from matnet.experiments import records, sweep

    sizes = args.sizes or [[N_PIXELS, 30, N_CLASSES]]
    for one in sizes:
        check_mnist_sizes(one, "--sizes")
    check_output_paths(out=args.out)
    executor = executor_from(args)
    started = time.perf_counter()
    outcome = sweep.run_sweep(
        sizes=sizes, etas=args.eta, seeds=args.seeds, epochs=args.epochs, batch_sizes=args.batch_size,
        dtype=args.dtype, backend=args.backend, out=args.out, executor=executor, resume=args.resume,
        data_dir=args.data_dir, retries=args.retries, max_runs=args.max_runs,
        on_record=lambda record: progress.write(sweep.describe_run(record)),
    )
    ran = len(outcome.records) - outcome.skipped
    print(f"matnet sweep: {ran} run(s) in {time.perf_counter() - started:.1f} s on {executor.describe()}",
          file=sys.stderr)
    sweep.report_failures(outcome.failures, args.out, "sweep", len(outcome.records))
    found, _ = records.read(args.out)  # the whole file: a resumed sweep's earlier runs too
    print(sweep.summary(found))
    return 1 if outcome.failures else 0
