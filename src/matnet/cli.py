"""``matnet`` command line: train, evaluate, baseline, reproduce, sweep, gradcheck, bench.

Each subcommand parses its arguments here and hands the work to the module that owns it.
Every user mistake ends in one line on stderr, never a traceback: exit status 2 for a request
that cannot work as given (a bad argument, layer sizes that do not fit MNIST, an output path
that cannot be written), checked before any long work starts; 1 for missing or broken files
and data. A finished training run is saved before anything else can fail.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matnet.core.backends import BACKENDS
from matnet.errors import MatnetError, UsageError

DESCRIPTION = (
    "The sigmoid networks of Nielsen's 'Neural Networks and Deep Learning' (chapters 1-2), "
    "trained fast on MNIST."
)
N_PIXELS, N_CLASSES = 784, 10  # MNIST's inputs and classes
DTYPES = ("float64", "float32")
MAX_SEED = 2**32 - 1  # np.random.seed's range, which book mode uses


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: what is wrong, and where to read more."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes must be comma-separated ints like 784,30,10, got {text!r}"
        ) from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--sizes needs ≥ 2 positive layer sizes, got {text!r}")
    return sizes


def _int_in(minimum: int, maximum: int | None = None):
    """An argparse type: an int in [minimum, maximum], or a message saying what was expected."""
    expected = f"an int ≥ {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _int_in(1)
_non_negative_int = _int_in(0)
_seed = _int_in(0, MAX_SEED)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def _list_of(item, name: str):
    """An argparse type: comma-separated values of ``item``'s type."""

    def parse(text: str) -> list:
        values = [item(part.strip()) for part in text.split(",") if part.strip()]
        if not values:
            raise argparse.ArgumentTypeError(f"{name} needs at least one value, got {text!r}")
        return values

    return parse


def _seeds(text: str) -> list[int]:
    """Seeds as ``0-9`` (inclusive), ``3`` or a comma-separated mix such as ``0,2,5-7``."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dash, last = part.partition("-")
        low = _seed(first)
        high = _seed(last) if dash else low
        if high < low:
            raise argparse.ArgumentTypeError(f"the seed range {part!r} is empty (write it low-high)")
        seeds += range(low, high + 1)
    if not seeds:
        raise argparse.ArgumentTypeError(f"no seeds in {text!r}")
    return list(dict.fromkeys(seeds))


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Where the runs execute, and the JSON-lines file they are kept in (sweep, reproduce)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                       help="run N at a time in local processes (joblib; one BLAS thread each) "
                            "(default: 1, in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="send the runs to the Dask cluster at ADDRESS, e.g. tcp://host:8786, "
                            "with pip install 'matnet[dask]' (default: none, run here)")
    where.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                       help="send the runs to Ray: the cluster at ADDRESS, or without it "
                            "$RAY_ADDRESS or a new local Ray, with pip install 'matnet[ray]' "
                            "(default: none, run here)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in --out and run only the others")
    parser.add_argument("--retries", type=_non_negative_int, default=2,
                        help="times a run is scheduled again after its worker process died")


def build_parser() -> argparse.ArgumentParser:
    from matnet.experiments.reproduce import EXPERIMENTS

    parser = _Parser(prog="matnet", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                              formatter_class=_HelpFormatter)

    data_dir = "MNIST folder (default: $MATNET_DATA, then data/mnist, then ~/.cache/matnet/mnist)"
    train = command("train", "train a network on MNIST, printing the book's epoch lines")
    train.add_argument("--sizes", type=_sizes, default="784,30,10",
                       help=f"layer sizes, from {N_PIXELS} inputs to {N_CLASSES} outputs")
    train.add_argument("--epochs", type=_non_negative_int, default=30, help="passes over the training data")
    train.add_argument("--batch-size", type=_positive_int, default=10, help="mini-batch size")
    train.add_argument("--eta", type=_positive_float, default=3.0, help="learning rate η")
    train.add_argument("--seed", type=_seed, default=None,
                       help="seeds numpy's and random's global state, as the book's session would "
                            "(default: unseeded, so each run differs)")
    train.add_argument("--backend", choices=BACKENDS, default="auto", help="how the epochs are computed")
    train.add_argument("--dtype", choices=DTYPES, default="float64", help="the network's float type")
    train.add_argument("--data-dir", default=None, metavar="DIR", help=data_dir)
    train.add_argument("--json", default=None, metavar="FILE", help="write per-epoch accuracy and timing")
    train.add_argument("--save", default=None, metavar="FILE", help="save the trained network (.npz)")
    train.add_argument("--plot", default=None, metavar="FILE.png",
                       help="draw the learning curve: test accuracy per epoch (matplotlib)")
    train.add_argument("--cost", action="store_true",
                       help="also compute the training cost C after each epoch (one pass over the training "
                            "images), into --json and --plot")
    train.add_argument("--no-check-finite", action="store_true",
                       help="the book's silent behaviour on divergence")
    train.set_defaults(run=cmd_train)

    evaluate = command("evaluate", "test-set accuracy and confusion matrix of a saved network")
    evaluate.add_argument("file", help="a network saved by 'matnet train --save' or Network.save")
    evaluate.add_argument("--data-dir", default=None, metavar="DIR", help=data_dir)
    evaluate.add_argument("--errors", default=None, metavar="FILE.png",
                          help="draw the misclassified test digits, most confident first (matplotlib)")
    evaluate.add_argument("--digits", type=_positive_int, default=50, metavar="N",
                          help="--errors draws at most N digits")
    evaluate.add_argument("--gallery", default=None, metavar="FILE.png",
                          help="draw the first 8 correctly classified test digits of each class (matplotlib)")
    evaluate.set_defaults(run=cmd_evaluate)

    baseline = command("baseline", "the book's non-network baselines")
    baseline.add_argument("kind", choices=["darkness", "random", "svm"],
                          help="which baseline (svm needs scikit-learn: pip install 'matnet[svm]')")
    baseline.add_argument("--data-dir", default=None, metavar="DIR", help=data_dir)
    baseline.add_argument("--seed", type=_seed, default=0, help="seed of the random guesses")
    baseline.add_argument("--setting", choices=["book", "today", "both"], default="both",
                          help='svm: SVC(gamma="auto") as in the book, SVC() as scikit-learn has it today, '
                               "or both")
    baseline.add_argument("--train-size", type=_positive_int, default=None, metavar="N",
                          help="svm: train on the first N training images (default: all 50,000, as the "
                               "book; a few minutes per setting)")
    baseline.set_defaults(run=cmd_baseline)

    gradcheck = command("gradcheck", "finite-difference check of backprop (book §2.8)")
    gradcheck.add_argument("--sizes", type=_sizes, default="784,30,10", help="layer sizes")
    gradcheck.add_argument("--backend", choices=BACKENDS, default="auto", help="the training backend checked")
    gradcheck.add_argument("--seed", type=_seed, default=0, help="seed of the network and the example")
    gradcheck.add_argument("--eps", type=_positive_float, default=1e-5, help="finite-difference step")
    gradcheck.set_defaults(run=cmd_gradcheck)

    reproduce = command("reproduce", "the book's chapter-1 results table, several seeds each")
    reproduce.add_argument("--epochs", type=_positive_int, default=30, help="epochs per run")
    reproduce.add_argument("--batch-size", type=_positive_int, default=10, help="mini-batch size")
    reproduce.add_argument("--seeds", type=_positive_int, default=None,
                           help="seeds per experiment (default: each experiment's own count)")
    reproduce.add_argument("--only", action="append", default=None, metavar="NAME",
                           choices=[e.name for e in EXPERIMENTS],
                           help="run only this experiment (repeatable), one of: "
                                + ", ".join(repr(e.name) for e in EXPERIMENTS))
    reproduce.add_argument("--backend", choices=BACKENDS, default="auto", help="how the epochs are computed")
    reproduce.add_argument("--dtype", choices=DTYPES, default="float64", help="floating-point type")
    reproduce.add_argument("--data-dir", default=None, metavar="DIR", help=data_dir)
    reproduce.add_argument("--plot", default=None, metavar="FILE.png",
                           help="draw every run of every row on shared axes, the book's figures dashed")
    reproduce.add_argument("--out", default=None, metavar="FILE.jsonl",
                           help="also keep each run, as it finishes, in this JSON-lines file")
    _add_executor_options(reproduce)
    reproduce.set_defaults(run=cmd_reproduce)

    sweep = command("sweep", "a grid of book-mode runs (layer sizes × η × mini-batch × seeds), "
                             "on local cores, Dask or Ray; a JSON-lines file and a summary table out")
    sweep.add_argument("--sizes", type=_sizes, action="append", default=None,
                       help="layer sizes of one network (repeatable) (default: 784,30,10)")
    sweep.add_argument("--eta", type=_list_of(_positive_float, "--eta"), default="3", metavar="η,…",
                       help="learning rates, comma-separated")
    sweep.add_argument("--seeds", type=_seeds, default="0", metavar="SEEDS",
                       help="seeds of each cell, e.g. 0-9 or 0,3,5-7")
    sweep.add_argument("--epochs", type=_positive_int, default=30, help="epochs per run")
    sweep.add_argument("--batch-size", type=_list_of(_positive_int, "--batch-size"), default="10",
                       metavar="M,…", help="mini-batch sizes, comma-separated")
    sweep.add_argument("--backend", choices=BACKENDS, default="auto", help="how the epochs are computed")
    sweep.add_argument("--dtype", choices=DTYPES, default="float64", help="floating-point type")
    sweep.add_argument("--data-dir", default=None, metavar="DIR", help=data_dir)
    sweep.add_argument("--out", required=True, metavar="FILE.jsonl",
                       help="the JSON-lines file: one record per finished run, appended as it finishes")
    _add_executor_options(sweep)
    sweep.set_defaults(run=cmd_sweep)

    bench = command("bench", "speedup report: the book's calls and every path, against the book's code")
    bench.add_argument("--quick", action="store_true",
                       help="the headline calls and five workloads, fewer rounds (see benchmarks/README.md)")
    bench.add_argument("--json", default=None, metavar="FILE", help="write the whole report as JSON")
    bench.add_argument("--plot", default=None, metavar="FILE.png", help="draw the speedups (matplotlib)")
    bench.add_argument("--call", action="append", default=None,
                       help="only these of the book's calls (repeatable), e.g. session, epoch, evaluate")
    bench.add_argument("--workload", action="append", default=None, help="only these workloads (repeatable)")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line) and run the command; the exit status."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run parsed arguments; every error a user can cause becomes one line on stderr."""
    if isinstance(getattr(args, "dtype", None), str):
        args.dtype = np.dtype(args.dtype)
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"matnet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MatnetError as exc:
        print(f"matnet {args.command}: {exc}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        print(f"matnet {args.command}: out of memory ({exc or 'is the batch size too large?'})",
              file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of our output left (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a file that cannot be read or written, named by the error
        print(f"matnet {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"matnet {args.command}: interrupted", file=sys.stderr)
        return 130


def check_output_paths(**paths: str | None) -> None:
    """UsageError unless every given output path (``--option=path``) can be written, and no
    two name the same file: checked before the work, so the work is not lost after."""
    from matnet.io import output_path_problem

    seen: dict[str, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        flag = "--" + option.replace("_", "-")
        problem = output_path_problem(path)
        if problem is not None:
            raise UsageError(f"{flag} {path!r}: {problem}")
        key = os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{seen[key]} and {flag} both name {path!r}: one would overwrite the other")
        seen[key] = flag


def _check_mnist_sizes(sizes: list[int], what: str) -> None:
    if sizes[0] != N_PIXELS or sizes[-1] != N_CLASSES:
        raise UsageError(
            f"{what} {','.join(map(str, sizes))} must start with {N_PIXELS} (MNIST's pixels per image) "
            f"and end with {N_CLASSES} (its classes)"
        )


def _build_network(sizes: list[int], **kwargs):
    """``Network(sizes, **kwargs)``; what it refuses (or ``--backend numba`` without numba)
    becomes a one-line UsageError."""
    from matnet.network import Network

    try:
        return Network(sizes, **kwargs)
    except (ValueError, TypeError, MemoryError, ImportError) as exc:
        raise UsageError(f"cannot build a network of sizes {sizes}: {exc}") from None


def cmd_train(args) -> int:
    import random

    from matnet import datasets

    _check_mnist_sizes(args.sizes, "--sizes")
    check_output_paths(save=args.save, json=args.json, plot=args.plot)
    if args.plot:
        check_plotting()
    data = datasets.load_mnist(args.data_dir, dtype=args.dtype)
    if args.seed is not None:
        np.random.seed(args.seed)
        random.seed(args.seed)
    net = _build_network(
        args.sizes, backend=args.backend, dtype=args.dtype, check_finite=not args.no_check_finite
    )
    if args.seed is None:
        print("matnet train: unseeded: each run starts from fresh random numbers "
              "(pass --seed N to repeat a run)", file=sys.stderr)
    epochs: list[dict] = []

    def report(r) -> None:
        epochs.append({"epoch": r.epoch, "correct": r.correct, "n_test": r.n_test, "seconds": r.seconds})
        cost = ""
        if args.cost:
            epochs[-1]["cost"] = training_cost(net, data.training)
            cost = f", training cost {epochs[-1]['cost']:.5f}"
        print(f"Epoch {r.epoch}: {r.correct} / {r.n_test}  ({r.seconds:.3f} s{cost})", flush=True)

    from matnet.progress import EpochProgress

    progress = EpochProgress(sys.stderr) if sys.stderr.isatty() else None  # piped: no slicing, no bar
    compile_seconds = net.prepare(args.batch_size)
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
        status = max(status, save_figure(plots.learning_curve(epochs, costs=costs, title=title), args.plot))
    return status


def training_cost(net, training) -> float:
    """The book's quadratic cost C = 1/(2n) Σ_x ‖y(x) − a‖² over the training images."""
    outputs = net.feedforward(training.images.T)  # (10, n)
    outputs[training.labels, np.arange(training.labels.size)] -= 1.0
    return float(0.5 * np.einsum("ij,ij->", outputs, outputs) / training.labels.size)


def check_plotting() -> None:
    """UsageError (one line, before any work) when matplotlib cannot be imported."""
    from matnet import plots

    try:
        plots.require_matplotlib()
    except plots.PlotUnavailableError as exc:
        raise UsageError(str(exc)) from None


def save_figure(fig, path: str) -> int:
    """Write ``fig`` to ``path`` atomically: 0, or 1 and one line on stderr when it cannot be."""
    from matnet import plots

    try:
        plots.save(fig, path)
    except OSError as exc:
        print(f"matnet: cannot write the picture: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}", file=sys.stderr)
    return 0


def write_outputs(net, save: str | None, json_path: str | None, summary: dict) -> int:
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


def _rescue(net) -> str:
    """Save ``net`` to a new file in the temporary folder; say where (or that it failed)."""
    try:
        fd, path = tempfile.mkstemp(prefix="matnet-unsaved-", suffix=".npz")
        os.close(fd)
        net.save(path)
    except (OSError, ValueError) as exc:
        return f"nor could it be saved to the temporary folder ({exc})"
    return f"it was saved to {path} instead"


def cmd_evaluate(args) -> int:
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
    if args.errors or args.gallery:
        check_plotting()
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
        from matnet import plots

        rows = np.ascontiguousarray(outputs.T)  # (n, 10)
        if args.errors:
            wrong = plots.mistakes(test.labels, rows)
            shown = wrong[: args.digits]
            title = (f"{Path(args.file).name}: the {len(shown)} most confident of {len(wrong)} mistakes "
                     "(true → predicted (output))")
            fig = plots.digits_grid(test.images, test.labels, rows, shown, title=title)
            status = max(status, save_figure(fig, args.errors))
        if args.gallery:
            shown = plots.gallery(test.labels, rows, per_class=8)
            title = f"{Path(args.file).name}: correctly classified test digits (true = predicted (output))"
            fig = plots.digits_grid(test.images, test.labels, rows, shown, columns=8, title=title)
            status = max(status, save_figure(fig, args.gallery))
    return status


def cmd_baseline(args) -> int:
    from matnet import datasets
    from matnet.experiments import baselines

    if args.kind == "svm":
        return _svm_baselines(args)
    if args.kind == "darkness":
        data = datasets.load_mnist(args.data_dir)
        test = data.test
        correct = baselines.average_darkness(data.training, test)
    else:
        test = datasets.load_mnist_test(args.data_dir)
        correct = baselines.random_guessing(test, seed=args.seed)
    print(f"Baseline classifier using {args.kind}: {correct} of {test.labels.size} values correct.")
    return 0


def _svm_baselines(args) -> int:
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


def cmd_gradcheck(args) -> int:
    from matnet.gradcheck import cli_main
    from matnet.progress import bar

    return cli_main(args, bar=bar)


def cmd_sweep(args) -> int:
    args.sizes = args.sizes or [[N_PIXELS, 30, N_CLASSES]]
    for sizes in args.sizes:
        _check_mnist_sizes(sizes, "--sizes")
    check_output_paths(out=args.out)
    from matnet.experiments import sweep

    return sweep.cli_main(args)


def cmd_reproduce(args) -> int:
    from matnet.experiments import reproduce

    check_output_paths(plot=args.plot, out=args.out)
    if args.plot:
        check_plotting()
    return reproduce.cli_main(args)


def cmd_bench(args) -> int:
    from matnet.bench import report

    return report.cli_main(args)


def _write_json(path: str, payload: dict) -> None:
    from matnet.io import atomic_write_bytes

    atomic_write_bytes(Path(path), (json.dumps(payload, indent=2) + "\n").encode())


if __name__ == "__main__":
    raise SystemExit(main())
