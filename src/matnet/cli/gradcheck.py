"""``matnet gradcheck``: backprop and the training backend's step against finite differences
(book §2.8), on one example; the check itself is :func:`matnet.gradcheck.check_network`.

Exit status 0 when both errors are below ``matnet.gradcheck.TOLERANCE``, 1 when not, 2 for a
step or a network the check cannot work with (refused before anything is built).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matnet.cli.common import building_network
from matnet.cli.options import Subparsers, add_command, layer_sizes, positive_float, seed
from matnet.core.backend import BACKENDS
from matnet.errors import UsageError

if TYPE_CHECKING:  # the check is imported when it runs: `matnet --help` needs none of it
    from matnet.gradcheck import Report


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet gradcheck`` and its options."""
    gradcheck = add_command(subparsers, "gradcheck", "finite-difference check of backprop (book §2.8)")
    gradcheck.add_argument("--sizes", type=layer_sizes, default="784,30,10", help="layer sizes")
    gradcheck.add_argument("--backend", choices=BACKENDS, default="auto", help="the training backend checked")
    gradcheck.add_argument("--seed", type=seed, default=0, help="seed of the network and the example")
    gradcheck.add_argument("--eps", type=positive_float, default=1e-5,  # the range: gradcheck.check_eps
                           help="finite-difference step, from 1e-08 to 0.1: a smaller one is mostly the "
                                "rounding of a float64 cost, and would pass a wrong gradient")
    gradcheck.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check, with a progress bar of the finite differences on a terminal; print the findings."""
    from matnet import gradcheck, progress

    try:
        gradcheck.check_eps(args.eps)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    steps = None

    def advance(done: int) -> None:
        nonlocal steps
        if steps is None:  # made once the network is built: one that is refused draws no bar
            steps = progress.bar(n_parameters(args.sizes), "finite differences", "parameter")
        steps.update(done)

    try:  # check_network raises what Network refuses; the step, the other thing it checks, passed above
        with building_network(args.sizes):
            report = gradcheck.check_network(args.sizes, backend=args.backend, seed=args.seed, eps=args.eps,
                                             on_parameters=advance)
    finally:
        if steps is not None:
            steps.close()
    print_report(report)
    return 0 if report.passed else 1


def n_parameters(sizes: Sequence[int]) -> int:
    """The weights and biases of a network of ``sizes``: the finite differences' steps."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def print_report(report: Report) -> None:
    """The check's findings (a ``matnet.gradcheck.Report``): what was checked, the max relative
    errors, what a backprop gradient costs against the finite differences, and the verdict."""
    from matnet.gradcheck import TOLERANCE

    n_params = report.n_weights + report.n_biases
    backprop, forward = report.backprop_seconds, report.forward_seconds
    differences = report.differences_seconds
    print(f"gradcheck {report.sizes}, backend {report.backend}, seed {report.seed}, eps {report.eps:g}")
    print(f"example: {report.example}")
    print(f"parameters checked: {n_params:,} ({report.n_weights:,} weights, {report.n_biases:,} biases)")
    print(f"max relative error, net.backprop:            {report.errors['backprop']:.2e}")
    print(f"max relative error, training backend's step: {report.errors['sgd']:.2e}")
    print(
        f"one backprop gradient:      {backprop * 1e3:10.3f} ms"
        f"  (≈ {backprop / forward:.1f} forward passes of {forward * 1e3:.3f} ms)"
    )
    print(
        f"finite-difference gradient: {differences * 1e3:10.1f} ms"
        f"  ({2 * n_params:,} forward passes, {differences / backprop:,.0f}x backprop)"
    )
    print(f"{'PASS' if report.passed else 'FAIL'}: max relative error {'<' if report.passed else '≥'} "
          f"{TOLERANCE:g}")
