"""CI performance gate: speed *ratios* measured side by side in this run, against gate.toml.

Absolute times mean nothing on a shared 2-core machine; a ratio of two paths timed
interleaved in one process does (GUIDE §3). Each check in gate.toml names a workload (or a
kernel case) of ``matnet.bench.workloads``, a fast and a slow path, and the minimum speedup
slow/fast. The gate warms both paths up, times them in ``rounds`` interleaved rounds (A B,
B A, …), takes the median of the per-round ratios, and re-measures a failing check up to
``retries`` times before declaring failure (a check passes if any attempt clears its
threshold: noise only ever makes a fast path look slower, never a regression look fast).

Run:  python benchmarks/gate.py [--config FILE] [--only NAME] [--measure-only] [--json FILE]
Exit: 0 all checks passed; 1 a check failed; 2 bad configuration or missing data.

The core (:func:`measure_pair`, :func:`run_check`, :func:`run_gate`) takes the runners to
time, so tests can hand it deliberately slowed ones. gate.toml is read with ``tomllib``
(Python 3.11+), else ``tomli`` when installed, else :func:`parse_simple_toml`, which reads
the small subset gate.toml is kept to (tables, arrays of tables, scalar values, comments).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from matnet.bench import workloads as wl
from matnet.bench.report import format_seconds

HERE = Path(__file__).resolve().parent
DEFAULT_CONFIG = HERE / "gate.toml"
SHARED_MNIST = HERE.parent.parent / "shared" / "data" / "mnist"  # the workplace's copy

Say = Callable[[str], None]


@dataclass(frozen=True)
class Check:
    """One ratio to hold: median slow/fast speedup ≥ ``min_ratio`` on ``workload``."""

    name: str
    workload: str  # a matnet.bench.workloads workload name, or a kernel case ("kernel-…")
    fast: str  # path (registry name for kernel cases)
    slow: str
    min_ratio: float
    fast_examples: int | None = None  # prefix of the epoch / evaluation (None: all)
    slow_examples: int | None = None


@dataclass
class Measurement:
    """One attempt: medians of seconds per full workload (per call for kernels), and ratios."""

    fast_seconds: float
    slow_seconds: float
    ratio: float
    ratios: list[float] = field(default_factory=list)


@dataclass
class Outcome:
    check: Check
    attempts: list[Measurement]
    passed: bool
    unit: str = "run"

    @property
    def last(self) -> Measurement:
        return self.attempts[-1]

    def line(self) -> str:
        """The one-line verdict: workload, measured ratio, threshold and both timings."""
        c, m = self.check, self.best
        verdict = "PASS" if self.passed else "FAIL"
        relation = "≥" if self.passed else "<"
        tries = ""
        if len(self.attempts) > 1:
            tries = f"; {len(self.attempts)} attempts: " + ", ".join(f"{a.ratio:.2f}x" for a in self.attempts)
        return (
            f"{verdict} {c.name} [{c.workload}]: measured ratio {m.ratio:.2f}x {relation} threshold "
            f"{c.min_ratio:.2f}x ({c.fast} {format_seconds(m.fast_seconds)} vs "
            f"{c.slow} {format_seconds(m.slow_seconds)} per {self.unit}{tries})"
        )

    @property
    def best(self) -> Measurement:
        return max(self.attempts, key=lambda a: a.ratio)




# ------------------------------------------------------------------------------------ core


def measure_pair(fast: wl.Runner, slow: wl.Runner, rounds: int, warmup: bool = True) -> Measurement:
    """Time ``fast`` and ``slow`` interleaved for ``rounds`` rounds; median ratio slow/fast."""
    samples = wl.time_interleaved({"fast": fast, "slow": slow}, rounds, warmup=warmup)
    ratios = wl.ratios(samples["slow"], samples["fast"])
    fast_seconds, slow_seconds = statistics.median(samples["fast"]), statistics.median(samples["slow"])
    return Measurement(fast_seconds, slow_seconds, statistics.median(ratios), ratios)


def run_check(
    check: Check, fast: wl.Runner, slow: wl.Runner, rounds: int, retries: int, unit: str = "run"
) -> Outcome:
    """Measure, and re-measure up to ``retries`` times while below the threshold."""
    attempts = [measure_pair(fast, slow, rounds)]
    while attempts[-1].ratio < check.min_ratio and len(attempts) <= retries:
        attempts.append(measure_pair(fast, slow, rounds, warmup=False))
    passed = max(a.ratio for a in attempts) >= check.min_ratio
    return Outcome(check, attempts, passed, unit)


RunnersFor = Callable[[Check], tuple[wl.Runner, wl.Runner, str]]


def run_gate(
    checks: Iterable[Check], runners_for: RunnersFor, rounds: int, retries: int, say: Say = print
) -> list[Outcome]:
    """Run every check with the (fast, slow, unit) runners ``runners_for`` gives; one line each."""
    outcomes = []
    for check in checks:
        started = time.perf_counter()
        fast, slow, unit = runners_for(check)
        outcome = run_check(check, fast, slow, rounds, retries, unit)
        say(f"{outcome.line()}  [{time.perf_counter() - started:.1f} s]")
        outcomes.append(outcome)
    return outcomes


class MatnetRunners:
    """Runners for checks from matnet.bench.workloads; workload states are built once and shared."""

    def __init__(self, data_dir: str | None = None, kernel_sample_seconds: float = 0.02):
        self.data_dir = data_dir
        self.kernel_sample_seconds = kernel_sample_seconds
        self._states: dict[str, wl.State] = {}

    def __call__(self, check: Check) -> tuple[wl.Runner, wl.Runner, str]:
        if check.workload.startswith("kernel-"):
            case = wl.find_kernel(check.workload)
            fast, slow = (wl.kernel_runner(case, path) for path in (check.fast, check.slow))
            # Both sample the same number of calls, about kernel_sample_seconds of the slower.
            repeat = max(wl.calibrate(r, self.kernel_sample_seconds) for r in (fast, slow))
            fast.repeat = slow.repeat = repeat
            return fast, slow, "call"
        w = wl.find(check.workload)
        if w.name not in self._states:
            self._states[w.name] = wl.setup(w, data_dir=self.data_dir)
        state = self._states[w.name]
        fast = wl.make_runner(state, check.fast, check.fast_examples)
        slow = wl.make_runner(state, check.slow, check.slow_examples)
        return fast, slow, w.unit


# ------------------------------------------------------------------------------------ config


def _scalar(text: str, where: str) -> object:
    text = text.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return text[1:-1].encode().decode("unicode_escape")
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text.replace("_", ""))
    except ValueError:
        pass
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"{where}: unsupported TOML value {text!r} (gate.toml keeps to "
                         "strings, numbers and booleans)") from None


def _strip_comment(line: str) -> str:
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def parse_simple_toml(text: str) -> dict:
    """The TOML subset gate.toml uses: ``[table]``, ``[[array]]``, ``key = scalar``, comments.

    Used only where neither ``tomllib`` (3.11+) nor ``tomli`` exists.
    """
    root: dict = {}
    current = root
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        where = f"line {number}"
        if line.startswith("[[") and line.endswith("]]"):
            current = {}
            root.setdefault(line[2:-2].strip(), []).append(current)
        elif line.startswith("[") and line.endswith("]"):
            current = root.setdefault(line[1:-1].strip(), {})
        elif "=" in line:
            key, value = line.split("=", 1)
            current[key.strip()] = _scalar(value, where)
        else:
            raise ValueError(f"{where}: cannot parse {raw!r}")
    return root


def parse_toml(text: str) -> dict:
    """TOML via tomllib, tomli, or the subset parser, whichever exists first."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return parse_simple_toml(text)
    return tomllib.loads(text)


def load_config(path: Path) -> tuple[dict, list[Check]]:
    """(settings, checks) from gate.toml; ValueError on anything malformed."""
    config = parse_toml(path.read_text(encoding="utf-8"))
    settings = {"rounds": 7, "retries": 2, "blas_threads": 1, **config.get("settings", {})}
    checks = []
    known = set(Check.__dataclass_fields__)
    for entry in config.get("check", []):
        extra = set(entry) - known
        if extra:
            raise ValueError(f"{path}: check {entry.get('name')!r} has unknown keys {sorted(extra)}")
        try:
            check = Check(**entry)
        except TypeError as exc:
            raise ValueError(f"{path}: check {entry.get('name')!r}: {exc}") from None
        if check.min_ratio <= 0:
            raise ValueError(f"{path}: check {check.name!r} needs min_ratio > 0")
        checks.append(check)
    if not checks:
        raise ValueError(f"{path}: no [[check]] entries")
    return settings, checks


# ------------------------------------------------------------------------------------ main


def limit_blas_threads(threads: int | None, say: Say) -> object | None:
    """Limit BLAS threads with threadpoolctl (returns the limiter to keep alive)."""
    if not threads:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        say(f"note: threadpoolctl is not installed, so BLAS threads cannot be limited to {threads}; "
            "ratios may be noisier")
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def _data_dir(arg: str | None) -> str | None:
    """--data-dir, else MATNET_DATA (load_mnist reads it), else the workplace's shared copy."""
    if arg or os.environ.get("MATNET_DATA"):
        return arg
    return str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--only", action="append", help="run only this check (repeatable)")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $MATNET_DATA)")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure once, print ratios, never fail (for recording noise)")
    parser.add_argument("--json", type=Path, default=None, help="write the measurements here")
    args = parser.parse_args(argv)
    say = print

    from matnet.bench.report import blas_summary, cpu_model
    from matnet.errors import MatnetError

    try:
        settings, checks = load_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"gate: bad configuration: {exc}", file=sys.stderr)
        return 2
    if args.only:
        checks = [c for c in checks if c.name in args.only]
    if args.measure_only:
        checks = [Check(**{**asdict(c), "min_ratio": 0.0}) for c in checks]
    limiter = limit_blas_threads(settings["blas_threads"], say)
    say(f"gate: {cpu_model()}, {os.cpu_count()} logical CPUs; {blas_summary()}")
    say(f"gate: {len(checks)} checks, {settings['rounds']} interleaved rounds each, "
        f"up to {settings['retries']} re-measures of a failing check")
    started = time.perf_counter()
    try:
        outcomes = run_gate(checks, MatnetRunners(_data_dir(args.data_dir)), settings["rounds"],
                            0 if args.measure_only else settings["retries"], say)
    except (MatnetError, KeyError, wl.PathUnavailableError) as exc:
        print(f"gate: cannot measure: {exc}", file=sys.stderr)
        return 2
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    failed = [o for o in outcomes if not o.passed]
    say(f"gate: {len(outcomes) - len(failed)}/{len(outcomes)} checks passed in "
        f"{time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps([
            {"check": asdict(o.check), "passed": o.passed, "unit": o.unit,
             "attempts": [asdict(a) for a in o.attempts]} for o in outcomes
        ], indent=2) + "\n")
    return 0 if args.measure_only or not failed else 1


if __name__ == "__main__":
    sys.exit(main())
