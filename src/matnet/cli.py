"""``matnet`` command line: train, evaluate, baseline, reproduce, gradcheck, bench.

Each subcommand parses its arguments here and hands the work to the module that owns it.
Bad arguments or missing data end in a one-line message on stderr and exit status 2 or 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matnet.core.backends import BACKENDS
from matnet.errors import MatnetError


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


def _int_at_least(minimum: int):
    """An argparse type: an int ≥ minimum, or a message saying what was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an int ≥ {minimum}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def _dtype(text: str) -> np.dtype:
    if text not in ("float64", "float32"):
        raise argparse.ArgumentTypeError(f"--dtype must be float64 or float32, got {text!r}")
    return np.dtype(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a network on MNIST, printing the book's epoch lines")
    train.add_argument("--sizes", type=_sizes, default=[784, 30, 10], help="layer sizes, e.g. 784,30,10")
    train.add_argument("--epochs", type=_non_negative_int, default=30)
    train.add_argument("--batch-size", type=_positive_int, default=10)
    train.add_argument("--eta", type=_positive_float, default=3.0)
    train.add_argument(
        "--seed", type=int, default=None, help="seeds numpy's and random's global state (book mode)"
    )
    train.add_argument("--backend", choices=BACKENDS, default="auto")
    train.add_argument("--dtype", type=_dtype, default=np.dtype(np.float64))
    train.add_argument(
        "--data-dir", default=None, help="MNIST folder (default: $MATNET_DATA, then data/mnist)"
    )
    train.add_argument("--json", default=None, metavar="FILE", help="write per-epoch accuracy and timing")
    train.add_argument("--save", default=None, metavar="FILE", help="save the trained network (.npz)")
    train.add_argument(
        "--no-check-finite", action="store_true", help="the book's silent behaviour on divergence"
    )
    train.set_defaults(run=cmd_train)

    evaluate = sub.add_parser("evaluate", help="test-set accuracy and confusion matrix of a saved network")
    evaluate.add_argument("file")
    evaluate.add_argument("--data-dir", default=None)
    evaluate.set_defaults(run=cmd_evaluate)

    baseline = sub.add_parser("baseline", help="the book's non-network baselines")
    baseline.add_argument("kind", choices=["darkness", "random"])
    baseline.add_argument("--data-dir", default=None)
    baseline.add_argument("--seed", type=int, default=0)
    baseline.set_defaults(run=cmd_baseline)

    gradcheck = sub.add_parser("gradcheck", help="finite-difference check of backprop (book §2.8)")
    gradcheck.add_argument("--sizes", type=_sizes, default=[784, 30, 10])
    gradcheck.add_argument("--backend", choices=BACKENDS, default="auto")
    gradcheck.add_argument("--seed", type=int, default=0)
    gradcheck.add_argument("--eps", type=_positive_float, default=1e-5)
    gradcheck.set_defaults(run=cmd_gradcheck)

    reproduce = sub.add_parser("reproduce", help="the book's chapter-1 results table, several seeds each")
    reproduce.add_argument("--epochs", type=_positive_int, default=30)
    reproduce.add_argument("--batch-size", type=_positive_int, default=10)
    reproduce.add_argument("--seeds", type=_positive_int, default=None, help="seeds per experiment")
    reproduce.add_argument("--only", action="append", default=None, metavar="NAME", help="e.g. '30 hidden'")
    reproduce.add_argument("--backend", choices=BACKENDS, default="auto")
    reproduce.add_argument("--dtype", type=_dtype, default=np.dtype(np.float64))
    reproduce.add_argument("--data-dir", default=None)
    reproduce.set_defaults(run=cmd_reproduce)

    bench = sub.add_parser("bench", help="speedup report: every path timed side by side")
    bench.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    bench.add_argument("--json", default=None, metavar="FILE")
    bench.add_argument("--plot", default=None, metavar="FILE.png")
    bench.add_argument("--workload", action="append", default=None, help="only these workloads (repeatable)")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except MatnetError as exc:
        print(f"matnet {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"matnet {args.command}: interrupted", file=sys.stderr)
        return 130


class _Progress:
    """A one-line progress indicator within an epoch, on a terminal only."""

    def __init__(self, stream):
        self.stream = stream

    def __call__(self, done: int, total: int) -> None:
        end = "\r" if done < total else "\r" + " " * 40 + "\r"
        self.stream.write(f"  mini-batch {done}/{total}{end}")
        self.stream.flush()


def cmd_train(args) -> int:
    import random

    from matnet import datasets
    from matnet.network import Network

    data = datasets.load_mnist(args.data_dir, dtype=args.dtype)
    if args.seed is not None:
        np.random.seed(args.seed)
        random.seed(args.seed)
    net = Network(
        args.sizes, backend=args.backend, dtype=args.dtype, check_finite=not args.no_check_finite
    )
    epochs: list[dict] = []

    def report(r) -> None:
        epochs.append({"epoch": r.epoch, "correct": r.correct, "n_test": r.n_test, "seconds": r.seconds})
        print(f"Epoch {r.epoch}: {r.correct} / {r.n_test}  ({r.seconds:.3f} s)", flush=True)

    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
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
    if args.json:
        _write_json(
            args.json,
            {
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
            },
        )
    if args.save:
        net.save(args.save)
    return 0


def cmd_evaluate(args) -> int:
    from matnet import datasets
    from matnet.network import Network

    net = Network.load(args.file)
    test = datasets.load_mnist(args.data_dir, dtype=net.dtype).test
    outputs = net.feedforward(test.images.T)
    predicted = np.argmax(outputs, axis=0)
    n_out = net.sizes[-1]
    confusion = np.zeros((n_out, n_out), np.int64)
    np.add.at(confusion, (test.labels, predicted), 1)
    correct = int(np.trace(confusion))
    print(f"{correct} / {test.labels.size} correct ({100 * correct / test.labels.size:.2f}%)")
    print("confusion matrix (rows: true digit, columns: predicted)")
    print("     " + " ".join(f"{j:5d}" for j in range(n_out)))
    for i, row in enumerate(confusion):
        print(f"{i:3d}  " + " ".join(f"{v:5d}" for v in row))
    return 0


def cmd_baseline(args) -> int:
    from matnet import datasets
    from matnet.experiments import baselines

    data = datasets.load_mnist(args.data_dir)
    if args.kind == "darkness":
        correct = baselines.average_darkness(data.training, data.test)
    else:
        correct = baselines.random_guessing(data.test, seed=args.seed)
    print(f"Baseline classifier using {args.kind}: {correct} of {data.test.labels.size} values correct.")
    return 0


def cmd_gradcheck(args) -> int:
    from matnet.gradcheck import cli_main  # (matnet.gradcheck itself is the function)

    return cli_main(args)


def cmd_reproduce(args) -> int:
    from matnet.experiments import reproduce

    return reproduce.cli_main(args)


def cmd_bench(args) -> int:
    from matnet.bench import report

    return report.cli_main(args)


def _write_json(path: str, payload: dict) -> None:
    from matnet.io import atomic_write_bytes

    atomic_write_bytes(Path(path), (json.dumps(payload, indent=2) + "\n").encode())


if __name__ == "__main__":
    raise SystemExit(main())
