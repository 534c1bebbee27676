"""The command line's vocabulary: the parser and help formatter every command uses, the types
its arguments are read with, and the options several commands share.

Every argument a user can get wrong is refused here, by argparse, in one line that names the
option and points at the command's ``--help`` — before any command has loaded data or built a
network.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from matnet.experiments import MAX_RUNS

if TYPE_CHECKING:  # imported when a command runs: `matnet --help` needs none of the experiments
    from matnet.experiments.scheduling import Executor

N_PIXELS, N_CLASSES = 784, 10  # MNIST's inputs and classes
DTYPES = ("float64", "float32")
MAX_SEED = 2**32 - 1  # np.random.seed's range, which book mode uses
DATA_DIR_HELP = "MNIST folder (default: $MATNET_DATA, then data/mnist, then ~/.cache/matnet/mnist)"
Subparsers = Any  # what add_subparsers returns: argparse names its class only privately


class CommandLineError(Exception):
    """A mistake on the command line, found by ``parser``: reported by the outermost parse."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: what is wrong, a hint where one helps (the
    option meant by a mistyped one, the list a stray space split), and the help to read — the
    subcommand's, when the mistake was made in a subcommand's arguments."""

    def error(self, message: str):
        raise CommandLineError(self, message)  # the outermost parse_args knows the whole command line

    def add_subparsers(self, **kwargs):
        self._commands = super().add_subparsers(**kwargs)
        return self._commands

    def parse_args(self, args=None, namespace=None) -> argparse.Namespace:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            parsed, extras = self.parse_known_args(argv, namespace)
            if extras:
                command = self._command_parser(parsed)
                command.error(f"unrecognized arguments: {' '.join(extras)}{did_you_mean(extras, command)}")
        except CommandLineError as mistake:
            prog = mistake.parser.prog
            mistake.parser.exit(2, f"{prog}: error: {mistake}{split_list(argv)} (see '{prog} --help')\n")
        return parsed

    def _command_parser(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The parser of the subcommand ``parsed`` ran (this one when there is none)."""
        commands = getattr(self, "_commands", None)
        if commands is None:
            return self
        return commands.choices.get(getattr(parsed, commands.dest, None), self)


def option_names(parser: argparse.ArgumentParser) -> list[str]:
    """Every option ``parser`` takes, as its usage line lists them."""
    return sorted(set(re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", parser.format_usage())))


def did_you_mean(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """'; did you mean --epochs?' for the first unknown option that is close to a known one."""
    known = option_names(parser)
    for extra in extras:
        if extra.startswith("-"):
            close = difflib.get_close_matches(extra.partition("=")[0], known, n=1, cutoff=0.6)
            if close:
                return f"; did you mean {close[0]}?"
    return ""


def split_list(argv: list[str]) -> str:
    """'; --sizes takes one comma-separated word, without spaces: --sizes 784,30,10' when a
    space split a comma-separated value in ``argv`` (a word ending or starting with a comma)."""
    for i in range(len(argv) - 1):
        left, right = argv[i], argv[i + 1]
        if right.startswith("-") or not (left.endswith(",") or right.startswith(",")):
            continue
        start = max((j for j in range(i + 1) if argv[j].startswith("--")), default=None)
        if start is None:
            return "; a comma-separated list is one word, without spaces"
        end = i + 1
        while end + 1 < len(argv) and not argv[end + 1].startswith("-") and (
                argv[end].endswith(",") or argv[end + 1].startswith(",")):
            end += 1
        option, _, first = argv[start].partition("=")
        word = "".join([first, *argv[start + 1:end + 1]])
        return f"; {option} takes one comma-separated word, without spaces: {option} {word}"
    return ""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def add_command(subparsers: Subparsers, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand's parser; its one-line ``help`` is also its description, as a sentence. No
    abbreviated options: ``reproduce --seed 3`` would be read as ``--seeds 3`` and run the whole
    table; it is a mistake with a hint instead."""
    return subparsers.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                                 formatter_class=HelpFormatter, allow_abbrev=False)


# ------------------------------------------------------------------------------- argument types


def layer_sizes(text: str) -> list[int]:
    """``--sizes``: comma-separated positive layer sizes, at least two."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes must be comma-separated ints like 784,30,10, got {text!r}"
        ) from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--sizes needs ≥ 2 positive layer sizes, got {text!r}")
    return sizes


def int_in(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
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


positive_int = int_in(1)
non_negative_int = int_in(0)
seed = int_in(0, MAX_SEED)


def positive_float(text: str) -> float:
    """A finite number > 0 (a learning rate, a step)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def list_of(item: Callable[[str], Any], name: str) -> Callable[[str], list]:
    """An argparse type: comma-separated values of ``item``'s type."""

    def parse(text: str) -> list:
        values = [item(part.strip()) for part in text.split(",") if part.strip()]
        if not values:
            raise argparse.ArgumentTypeError(f"{name} needs at least one value, got {text!r}")
        return values

    return parse


class Seeds(Sequence[int]):
    """``--seeds`` as read: disjoint ranges in the order given, each seed once. Its length is
    known without listing the seeds, so that a grid's size is checked before it is built
    (``0-4294967295`` is four billion seeds, not a list of them)."""

    def __init__(self, ranges: list[range]):
        self.ranges = ranges

    def __len__(self) -> int:
        return sum(len(r) for r in self.ranges)

    def __iter__(self) -> Iterator[int]:
        return itertools.chain.from_iterable(self.ranges)

    def __getitem__(self, index: int) -> int:  # type: ignore[override] (no slices)
        position = index + len(self) if index < 0 else index
        for part in self.ranges:
            if 0 <= position < len(part):
                return part[position]
            position -= len(part)
        raise IndexError(index)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Seeds({self.ranges})"


def seeds(text: str) -> Seeds:
    """Seeds as ``0-9`` (inclusive), ``3`` or a comma-separated mix such as ``0,2,5-7``."""
    found: list[range] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dash, last = part.partition("-")
        low = seed(first)
        high = seed(last) if dash else low
        if high < low:
            raise argparse.ArgumentTypeError(f"the seed range {part!r} is empty (write it low-high)")
        new = [range(low, high + 1)]
        for taken in found:  # keep only what no earlier part gave
            new = [piece for r in new for piece in (range(r.start, min(r.stop, taken.start)),
                                                   range(max(r.start, taken.stop), r.stop)) if piece]
        found += new
    if not found:
        raise argparse.ArgumentTypeError(f"no seeds in {text!r}")
    return Seeds(found)


# ------------------------------------------------------------------------------- where runs go


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Where the runs execute, and the JSON-lines file they are kept in (sweep, reproduce)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=positive_int, default=None, metavar="N",
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
    parser.add_argument("--retries", type=non_negative_int, default=2,
                        help="times a run is scheduled again after its worker process died")
    parser.add_argument("--connect-timeout", type=positive_float, default=10.0, metavar="S",
                        help="seconds to wait for the --scheduler to answer, in all")
    parser.add_argument("--max-runs", type=positive_int, default=MAX_RUNS, metavar="N",
                        help="refuse a grid of more runs than this (a typo in --seeds can ask for billions)")


def executor_from(args: argparse.Namespace) -> Executor:
    """The Executor that ``add_executor_options``'s ``--jobs``, ``--scheduler`` and ``--ray`` ask for."""
    from matnet.experiments.scheduling import Executor

    return Executor(jobs=args.jobs or 1, scheduler=args.scheduler, ray=args.ray,
                    connect_timeout=args.connect_timeout)
