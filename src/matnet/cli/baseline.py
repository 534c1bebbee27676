"""``matnet baseline``: the book's non-network baselines — average darkness, random guessing,
and the support vector machine of scikit-learn — in the book's words."""

from __future__ import annotations

import argparse

from matnet.cli.options import DATA_DIR_HELP, Subparsers, add_command, positive_int, seed


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet baseline`` and its options."""
    baseline = add_command(subparsers, "baseline", "the book's non-network baselines")
    baseline.add_argument("kind", choices=["darkness", "random", "svm"],
                          help="which baseline (svm needs scikit-learn: pip install 'matnet[svm]')")
    baseline.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    baseline.add_argument("--seed", type=seed, default=0, help="seed of the random guesses")
    baseline.add_argument("--setting", choices=["book", "today", "both"], default="both",
                          help='svm: SVC(gamma="auto") as in the book, SVC() as scikit-learn has it today, '
                               "or both")
    baseline.add_argument("--train-size", type=positive_int, default=None, metavar="N",
                          help="svm: train on the first N training images (default: all 50,000, as the "
                               "book; a few minutes per setting)")
    baseline.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """One line: how many test digits the baseline classifies correctly."""
    from matnet import datasets
    from matnet.experiments import baselines

    if args.kind == "svm":
        return _svm(args)
    if args.kind == "darkness":
        data = datasets.load_mnist(args.data_dir)
        test = data.test
        correct = baselines.average_darkness(data.training, test)
    else:
        test = datasets.load_mnist_test(args.data_dir)
        correct = baselines.random_guessing(test, seed=args.seed)
    print(f"Baseline classifier using {args.kind}: {correct} of {test.labels.size} values correct.")
    return 0


def _svm(args: argparse.Namespace) -> int:
    """``matnet baseline svm``: one line per setting, the count, the time, the training size."""
    from matnet import datasets
    from matnet.experiments import svm

    settings = ["book", "today"] if args.setting == "both" else [args.setting]
    svm.svc_class()  # without scikit-learn: say so before loading the data
    data = datasets.load_mnist(args.data_dir)
    for setting in settings:
        result = svm.svm_baseline(data.training, data.test, setting, args.train_size)
        print(f"SVM baseline, {svm.DESCRIPTIONS[setting]}: {result.correct} of {result.total} values "
              f"correct (trained on {result.train_size:,} images; {result.seconds:.1f} s)", flush=True)
    return 0
