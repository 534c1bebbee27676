"""``matnet`` command line: train, evaluate, baseline, gradcheck, reproduce, sweep, bench.

Each subcommand is a module of this package: its ``add_parser`` registers its options, its
``run(args)`` reads them, hands the work to the library module that owns it and prints what
comes back. Only this package knows about argparse; the library takes keyword arguments.

Every user mistake ends in one line on stderr, never a traceback: exit status 2 for a request
that cannot work as given (a bad argument, layer sizes that do not fit MNIST, an output path
that cannot be written), checked before any long work starts; 1 for missing or broken files
and data. A finished training run is saved before anything else can fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from matnet.cli import baseline, bench, evaluate, gradcheck, reproduce, sweep, train
from matnet.cli.options import Parser
from matnet.errors import MatnetError, MatnetWarning, UsageError

DESCRIPTION = (
    "The sigmoid networks of Nielsen's 'Neural Networks and Deep Learning' (chapters 1-3), "
    "trained fast on MNIST."
)
COMMANDS = (train, evaluate, baseline, gradcheck, reproduce, sweep, bench)  # in `matnet --help`'s order


def build_parser() -> argparse.ArgumentParser:
    """The ``matnet`` parser: every command's options, and in ``args.run`` the function that runs it."""
    parser = Parser(prog="matnet", description=DESCRIPTION)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line) and run the command; the exit status."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run parsed arguments; every error a user can cause becomes one line on stderr."""
    if isinstance(getattr(args, "dtype", None), str):
        args.dtype = np.dtype(args.dtype)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_for_matnet_warnings(args.command, warnings.showwarning)
            return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"matnet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MatnetError as exc:
        print(f"matnet {args.command}: {exc}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        print(f"matnet {args.command}: out of memory ({str(exc) or 'is the batch size too large?'})",
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


def _one_line_for_matnet_warnings(command: str, show):
    """``warnings.showwarning`` printing matnet's own warnings as ``matnet <command>: warning: …``
    on stderr, and any other as ``show`` does."""

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, MatnetWarning):
            print(f"matnet {command}: warning: {message}", file=sys.stderr if file is None else file)
        else:
            show(message, category, filename, lineno, file, line)

    return showwarning
