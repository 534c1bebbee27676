"""``matnet evaluate``: a saved network's test-set accuracy and confusion matrix, and optionally
pictures of the digits it gets wrong and right.

Only the test files are read: a network can be scored where the training files are missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from matnet.cli.common import check_output_paths, check_pictures, save_figure
from matnet.cli.options import DATA_DIR_HELP, N_CLASSES, N_PIXELS, Subparsers, add_command, int_in
from matnet.errors import MatnetError, UsageError
from matnet.plots import MAX_DIGITS


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet evaluate`` and its options."""
    evaluate = add_command(subparsers, "evaluate",
                           "test-set accuracy and confusion matrix of a saved network")
    evaluate.add_argument("file", help="a network saved by 'matnet train --save' or Network.save")
    evaluate.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    evaluate.add_argument("--errors", default=None, metavar="FILE.png",
                          help="draw the misclassified test digits, most confident first (matplotlib)")
    evaluate.add_argument("--digits", type=int_in(1, MAX_DIGITS), default=50, metavar="N",
                          help=f"--errors draws at most N digits, N from 1 to {MAX_DIGITS}")
    evaluate.add_argument("--gallery", default=None, metavar="FILE.png",
                          help="draw the first 8 correctly classified test digits of each class (matplotlib)")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the accuracy and the confusion matrix; draw what ``--errors``/``--gallery`` ask for."""
    from matnet import datasets
    from matnet.network import Network

    try:
        net = Network.load(args.file)
    except MatnetError:  # ModelFileError: a bad file, reported as such
        raise
    except (ValueError, TypeError) as exc:  # what Network refuses to rebuild
        raise UsageError(f"{args.file}: cannot rebuild the network: {exc}") from None
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if (n_in, n_out) != (N_PIXELS, N_CLASSES):
        raise UsageError(
            f"{args.file}: the network maps {n_in} inputs to {n_out} outputs; MNIST's test set "
            f"needs {N_PIXELS} inputs and {N_CLASSES} outputs"
        )
    check_output_paths(errors=args.errors, gallery=args.gallery)
    check_pictures(errors=args.errors, gallery=args.gallery)
    test = datasets.load_mnist_test(args.data_dir, dtype=net.dtype)
    outputs = net.feedforward(test.images.T)
    predicted = np.argmax(outputs, axis=0)
    confusion = np.zeros((n_out, n_out), np.int64)
    np.add.at(confusion, (test.labels, predicted), 1)
    correct = int(np.trace(confusion))
    print(f"{correct} / {test.labels.size} correct ({100 * correct / test.labels.size:.2f}%)")
    print("confusion matrix (rows: true digit, columns: predicted)")
    print("     " + " ".join(f"{j:5d}" for j in range(n_out)))
    for i, row in enumerate(confusion):
        print(f"{i:3d}  " + " ".join(f"{v:5d}" for v in row))
    status = 0
    if args.errors or args.gallery:
        status = _draw(args, net, test)
    return status


def _draw(args: argparse.Namespace, net, test) -> int:
    """The pictures asked for, of ``net`` on the ``test`` images; the exit status."""
    from matnet import plots

    status = 0
    test_data = (test.images, test.labels)
    if args.errors:
        fig = plots.mistakes_figure(net, test_data, digits=args.digits, source=Path(args.file).name)
        status = max(status, save_figure(fig, args.errors))
    if args.gallery:
        fig = plots.gallery_figure(net, test_data, per_class=8, source=Path(args.file).name)
        status = max(status, save_figure(fig, args.gallery))
    return status
