"""``matnet train``: one network trained on MNIST, printing the book's epoch lines.

Its outputs (``--save``, ``--json``, ``--plot``) are checked before the data is loaded and
written after the last epoch, the network first: it is the work that cannot be redone cheaply,
so a network that cannot be written where asked is written to the temporary folder instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from matnet.cli import common
from matnet.cli.options import (
    DATA_DIR_HELP,
    DTYPES,
    MAX_SEED,
    N_CLASSES,
    N_PIXELS,
    Subparsers,
    add_command,
    layer_sizes,
    positive_float,
    positive_int,
    seed,
)
from matnet.core.backend import BACKENDS

if TYPE_CHECKING:  # imported when training starts: `matnet train --help` builds no network
    from matnet.data.split import LabeledImages
    from matnet.network import Network


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet train`` and its options."""
    train = add_command(subparsers, "train", "train a network on MNIST, printing the book's epoch lines")
    train.add_argument("--sizes", type=layer_sizes, default="784,30,10",
                       help=f"layer sizes, from {N_PIXELS} inputs to {N_CLASSES} outputs")
    train.add_argument("--epochs", type=positive_int, default=30, help="passes over the training data")
    train.add_argument("--batch-size", type=positive_int, default=10, help="mini-batch size")
    train.add_argument("--eta", type=positive_float, default=3.0, help="learning rate η")
    train.add_argument("--seed", type=seed, default=None,
                       help="seeds numpy's and random's global state, as the book's session would "
                            "(default: a fresh seed each run, printed so that the run can be repeated)")
    train.add_argument("--backend", choices=BACKENDS, default="auto", help="how the epochs are computed")
    train.add_argument("--dtype", choices=DTYPES, default="float64", help="the network's float type")
    train.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    train.add_argument("--json", default=None, metavar="FILE", help="write per-epoch accuracy and timing")
    train.add_argument("--save", default=None, metavar="FILE", help="save the trained network (.npz)")
    train.add_argument("--plot", default=None, metavar="FILE.png",
                       help="draw the learning curve: test accuracy per epoch (matplotlib)")
    train.add_argument("--cost", action="store_true",
                       help="also compute the training cost C after each epoch (one pass over the training "
                            "images), into --json and --plot")
    train.add_argument("--no-check-finite", action="store_true",
                       help="the book's silent behaviour on divergence")
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train as asked, one line per epoch on stdout; then save, summarize and draw."""
    import random

    from matnet import datasets
    from matnet.progress import EpochProgress

    common.check_mnist_sizes(args.sizes, "--sizes")
    common.check_output_paths(save=args.save, json=args.json, plot=args.plot)
    common.check_pictures(plot=args.plot)
    drawn = args.seed is None  # a fresh run, but one that can be repeated: its seed is said
    if drawn:
        args.seed = secrets.randbelow(MAX_SEED + 1)
    np.random.seed(args.seed)
    random.seed(args.seed)
    network = _Meanwhile(lambda: prepared_network(args))  # while the data loads
    data = datasets.load_mnist(args.data_dir, dtype=args.dtype)
    if drawn:
        print(f"matnet train: seed {args.seed} (pass --seed {args.seed} to repeat this run)", file=sys.stderr)
    net, compile_seconds = network.result()
    epochs: list[dict] = []

    def report(r) -> None:
        epochs.append({"epoch": r.epoch, "correct": r.correct, "n_test": r.n_test, "seconds": r.seconds})
        cost = ""
        if args.cost:
            epochs[-1]["cost"] = training_cost(net, data.training)
            cost = f", training cost {epochs[-1]['cost']:.5f}"
        print(f"Epoch {r.epoch}: {r.correct} / {r.n_test}  ({r.seconds:.3f} s{cost})", flush=True)

    progress = EpochProgress(sys.stderr) if sys.stderr.isatty() else None  # piped: no slicing, no bar
    if compile_seconds >= 0.05:
        print(f"(numba compile or cache load: {compile_seconds:.2f} s, not counted below)", file=sys.stderr)
    started = time.perf_counter()
    net.SGD(
        data.training,
        args.epochs,
        args.batch_size,
        args.eta,
        test_data=data.test,
        verbose=False,
        on_epoch=report,
        on_progress=progress,
    )
    summary = {
        "sizes": args.sizes,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "eta": args.eta,
        "seed": args.seed,
        "backend": args.backend,
        "dtype": str(args.dtype),
        "compile_seconds": compile_seconds,
        "total_seconds": time.perf_counter() - started,
        "per_epoch": epochs,
        "best_accuracy": max((e["correct"] / e["n_test"] for e in epochs), default=None),
    }
    status = write_outputs(net, args.save, args.json, summary)
    if args.plot:
        from matnet import plots

        costs = [e["cost"] for e in epochs] if args.cost else None
        title = f"Network({args.sizes}), η = {args.eta:g}, mini-batch {args.batch_size}"
        fig = plots.learning_curve(epochs, costs=costs, title=title)
        status = max(status, common.save_figure(fig, args.plot))
    return status


T = TypeVar("T")


class _Meanwhile(Generic[T]):
    """``work()`` on a thread of its own, while the caller does something else (load the data:
    its files are read and decompressed with the GIL released). A daemon thread: when the
    caller fails first (a missing data file), the process exits without waiting for it."""

    def __init__(self, work: Callable[[], T]):
        self._work = work
        self._outcome: list = []
        self._thread = threading.Thread(target=self._run, name="matnet-network", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome.append((True, self._work()))
        except BaseException as exc:  # handed to the caller, raised there
            self._outcome.append((False, exc))

    def result(self) -> T:
        """What ``work()`` returned, or raise what it raised."""
        self._thread.join()
        done, value = self._outcome[0]
        if not done:
            raise value
        return value


def prepared_network(args: argparse.Namespace) -> tuple[Network, float]:
    """(the network ``args`` ask for, the seconds its compiled code took to compile or load),
    saying at once when a first run compiles."""
    from matnet.model import say_compiling

    net = build_network(args.sizes, backend=args.backend, dtype=args.dtype,
                        check_finite=not args.no_check_finite)
    return net, net.prepare(args.batch_size, announce=say_compiling)


def build_network(sizes: list[int], **kwargs) -> Network:
    """``Network(sizes, **kwargs)``; what it refuses (or ``--backend numba`` without numba)
    becomes a one-line UsageError."""
    from matnet.network import Network

    with common.building_network(sizes):
        return Network(sizes, **kwargs)


def training_cost(net: Network, training: LabeledImages) -> float:
    """The book's quadratic cost C = 1/(2n) Σ_x ‖y(x) − a‖² over the training images."""
    outputs = net.feedforward(training.images.T)  # (10, n)
    outputs[training.labels, np.arange(training.labels.size)] -= 1.0
    return float(0.5 * np.einsum("ij,ij->", outputs, outputs) / training.labels.size)


def write_outputs(net: Network, save: str | None, json_path: str | None, summary: dict) -> int:
    """Save the network first (the work that cannot be redone cheaply), then the JSON summary.

    Each failure is one line on stderr. A network that cannot be written where asked (the
    disk filled up, the folder went away during training) is written to a new file in the
    system's temporary folder instead, and the line says where. Returns the exit status.
    """
    status = 0
    if save is not None:
        try:
            net.save(save)
        except OSError as exc:
            print(f"matnet train: cannot save the network: {exc}; {_rescue(net)}", file=sys.stderr)
            status = 1
        except ValueError as exc:  # e.g. non-finite weights after --no-check-finite
            print(f"matnet train: cannot save the network: {exc}", file=sys.stderr)
            status = 1
    if json_path is not None:
        try:
            _write_json(json_path, summary)
        except OSError as exc:
            print(f"matnet train: cannot write the JSON summary: {exc}", file=sys.stderr)
            status = 1
    return status


def _rescue(net: Network) -> str:
    """Save ``net`` to a new file in the temporary folder; say where (or that it failed, leaving
    no empty file behind)."""
    try:
        fd, path = tempfile.mkstemp(prefix="matnet-unsaved-", suffix=".npz")
        os.close(fd)
    except OSError as exc:
        return f"nor could it be saved to {tempfile.gettempdir()} ({exc.strerror or exc})"
    try:
        net.save(path)
    except (OSError, ValueError) as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return f"nor could it be saved to {os.path.dirname(path)} ({exc.strerror or exc})"
    return f"it was saved to {path} instead"


def _write_json(path: str, payload: dict) -> None:
    from matnet.io import atomic_write_bytes

    atomic_write_bytes(Path(path), (json.dumps(payload, indent=2) + "\n").encode())
