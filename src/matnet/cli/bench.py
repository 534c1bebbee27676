"""``matnet bench``: the speedup report (:mod:`matnet.bench.report`) — the book's calls, then
every path of every workload, against the book's code — as Markdown, JSON and a plot.

Names, output paths and matplotlib are checked first: the measuring takes minutes.
"""

from __future__ import annotations

import argparse
import sys

from matnet.cli.common import check_output_paths, check_pictures
from matnet.cli.options import Subparsers, add_command


def add_parser(subparsers: Subparsers) -> None:
    """Register ``matnet bench`` and its options."""
    bench = add_command(subparsers, "bench",
                        "speedup report: the book's calls and every path, against the book's code")
    bench.add_argument("--quick", action="store_true",
                       help="the headline calls and five workloads, fewer rounds (see benchmarks/README.md)")
    bench.add_argument("--json", default=None, metavar="FILE", help="write the whole report as JSON")
    bench.add_argument("--plot", default=None, metavar="FILE.png", help="draw the speedups (matplotlib)")
    bench.add_argument("--call", action="append", default=None,
                       help="only these of the book's calls (repeatable), e.g. session, epoch, evaluate")
    bench.add_argument("--workload", action="append", default=None, help="only these workloads (repeatable)")
    bench.add_argument("--waits", action="store_true",
                       help="only what a user waits for beyond the epochs: a cold and a warm matnet train, "
                            "the user's own arrays, float32 at m = 1, 10, 100 (in the full report too)")
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Measure what ``--quick``, ``--call`` and ``--workload`` choose; print the Markdown report
    and write the JSON and the plot asked for. 2, with one line, for a request that cannot work."""
    from matnet.bench import calls as drop_in
    from matnet.bench import report
    from matnet.bench import workloads as wl

    check_output_paths(json=args.json, plot=args.plot)
    check_pictures(plot=args.plot)
    chosen = bool(args.workload or args.call or args.waits)
    names = list(args.workload or ([] if chosen else
                                   report.QUICK_WORKLOADS if args.quick else [w.name for w in wl.WORKLOADS]))
    calls = list(args.call or ([] if chosen else
                               drop_in.QUICK_CALLS if args.quick else [c.name for c in drop_in.CALLS]))
    for kind, picked, known in (("workload", names, [w.name for w in wl.WORKLOADS]),
                                ("call", calls, [c.name for c in drop_in.CALLS])):
        unknown = [n for n in picked if n not in known]
        if unknown:
            print(f"matnet bench: unknown {kind} {', '.join(unknown)}; choose from: {', '.join(known)}",
                  file=sys.stderr)
            return 2
    measured = _measure(args.quick, names, calls, quick_paths=bool(args.quick and not args.workload),
                        monitoring=not chosen, waits=args.waits or not chosen)
    if args.json:  # first: the measurements are what took minutes
        report.write_json(measured, args.json)
    print(report.markdown(measured), end="")
    if args.plot:
        report.plot(measured, args.plot)
    return 0


def _measure(quick: bool, names: list[str], calls: list[str], quick_paths: bool, monitoring: bool,
             waits: bool) -> dict:
    """``report.run`` at the settings of ``--quick`` (or of the full report), with a progress bar
    that advances once per line the report says."""
    from matnet import progress
    from matnet.bench import report
    from matnet.bench import workloads as wl

    steps = progress.bar(2 + (1 + len(calls) if calls else 0) + monitoring + waits + len(names),
                         "bench", "step")

    def say(message: str) -> None:
        progress.write(message)  # above the bar
        steps.update(1)

    measured = report.run(
        names,
        rounds=report.QUICK_ROUNDS if quick else report.FULL_ROUNDS,
        loop_examples=report.QUICK_LOOP_EXAMPLES if quick else report.FULL_LOOP_EXAMPLES,
        quick=bool(quick),
        peak_size=1024 if quick else 2048,
        paths=wl.CORE_PATHS if quick_paths else None,
        calls=calls,
        call_rounds=report.QUICK_ROUNDS if quick else report.FULL_ROUNDS,
        monitoring=monitoring,
        waits=waits,
        progress=say,
    )
    steps.close()
    return measured
