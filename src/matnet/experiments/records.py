"""A sweep's JSON-lines file: one record per finished run, appended as runs finish.

The file is the sweep's only state: ``--resume`` reads which runs it already holds, and the
summary table is computed from it. Each record is appended with a single ``write`` of one
line and then flushed to disk, so a sweep killed at any moment leaves every finished run
intact; at worst its last line is cut short, and :func:`read` drops such a tail (that run is
simply run again). Every other line must be a whole record of a run (:func:`problem`); one
that is not is an error that names its line, and a run recorded twice counts once.

One sweep writes a file at a time: :func:`locked` holds a lock beside it (``FILE.lock``, with
the writer's pid) from before the file is read until the last record is written, so that a
second sweep on the same file stops at once instead of cutting what the first one appends.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import IO

from matnet.errors import UsageError
from matnet.experiments.runspec import CHAPTER_3, RunSpec
from matnet.io import errors_naming

try:
    import fcntl
except ImportError:  # not on Windows: there, nothing stops two sweeps on one file
    fcntl = None  # type: ignore[assignment]

_CHAPTER_1 = tuple(f.name for f in fields(RunSpec) if f.name not in CHAPTER_3)
_CHAPTER_3 = tuple(f.name for f in fields(RunSpec))


def _is_int(value: object, minimum: int, maximum: float = math.inf) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: object, low: float, high: float = math.inf) -> bool:
    """A non-empty list of finite numbers in [low, high]."""
    return (isinstance(value, list) and len(value) > 0
            and all(_is_number(v) and low <= v <= high for v in value))


def _parameter_problem(name: str, value: object) -> str | None:
    checks = {
        "sizes": (lambda v: isinstance(v, list) and len(v) >= 2 and all(_is_int(n, 1) for n in v),
                  "a list of at least two positive ints"),
        "eta": (lambda v: _is_number(v) and v > 0, "a positive number"),
        "seed": (lambda v: _is_int(v, 0), "an int ≥ 0"),
        "epochs": (lambda v: _is_int(v, 1), "a positive int"),
        "batch_size": (lambda v: _is_int(v, 1), "a positive int"),
        "training_size": (lambda v: _is_int(v, 1), "a positive int"),
        "lmbda": (lambda v: _is_number(v) and v >= 0, "a number ≥ 0"),
        "monitor": (lambda v: isinstance(v, list) and all(isinstance(m, str) for m in v), "a list of names"),
    }
    valid, expected = checks.get(name, (lambda v: isinstance(v, str), "a string"))
    return None if valid(value) else f"'{name}' must be {expected}, not {json.dumps(value)}"


def problem(record: object) -> str | None:
    """What keeps ``record`` (a line's JSON value) from being a finished run's record, or None:
    its ``parameters`` must be exactly a chapter-1 or chapter-3 RunSpec's, of their types; its
    ``accuracies`` (one per epoch) fractions, its ``seconds`` per epoch numbers ≥ 0."""
    if not isinstance(record, dict) or not isinstance(record.get("parameters"), dict):
        return "a JSON value without the run's 'parameters'"
    parameters = record["parameters"]
    names = _CHAPTER_3 if "lmbda" in parameters else _CHAPTER_1
    missing = [name for name in names if name not in parameters]
    extra = [name for name in parameters if name not in names]
    if missing or extra:
        return "'parameters' " + " and ".join(
            part for part in (f"lacks {', '.join(map(repr, missing))}" if missing else "",
                              f"has unknown {', '.join(map(repr, extra))}" if extra else "") if part)
    for name in names:
        if (found := _parameter_problem(name, parameters[name])) is not None:
            return found
    if not _numbers(record.get("accuracies"), 0.0, 1.0):
        return (f"'accuracies' must be a non-empty list of fractions in [0, 1], "
                f"not {json.dumps(record.get('accuracies'))}")
    if not _numbers(record.get("seconds"), 0.0):
        return f"'seconds' must be a non-empty list of numbers ≥ 0, not {json.dumps(record.get('seconds'))}"
    return None


def read(path: str | os.PathLike[str]) -> tuple[list[dict], int]:
    """The records of ``path`` (none if it does not exist), each run once (the first record of
    it), and the byte length of its intact part: a last line without its newline (a write cut
    short) is not part of it. UsageError naming the line for anything that is not a record."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return [], 0
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None
    intact = data.rfind(b"\n") + 1  # a tail after the last newline is an unfinished write
    lines = data[:intact].splitlines()
    if data[intact:].strip() and not data[intact:].lstrip().startswith(b"{"):
        lines.append(data[intact:])  # not the start of a record: not ours to cut off
    found: dict[tuple, dict] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise UsageError(f"{path}, line {number}: not a JSON record of a run "
                             "(is this a sweep's --out file?)") from None
        if (wrong := problem(record)) is not None:
            raise UsageError(f"{path}, line {number}: {wrong}")
        found.setdefault(RunSpec.from_parameters(record["parameters"]).key(), record)
    return list(found.values()), intact


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``path``'s lock (``path.lock``, holding this pid) for the block: UsageError at once
    if another process holds it. The lock file is removed after; a crash leaves it unlocked."""
    if fcntl is None:
        yield
        return
    lock = Path(f"{path}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise UsageError(f"another matnet run is writing {path}"
                             + (f" (pid {holder})" if holder.isdigit() else "")) from None
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break  # else its last holder removed it after we opened it: lock the new one
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        with errors_naming(lock):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


class Appender:
    """Appends records to ``path`` (created at the first record, not before), cutting off an
    unfinished last line first so that the next record starts on a line of its own. Use it
    inside :func:`locked`: the cut is only safe while no one else writes."""

    def __init__(self, path: str | os.PathLike[str], intact: int):
        self.path = Path(path)
        self._intact = intact
        self._file: IO[bytes] | None = None

    def append(self, record: dict) -> None:
        with errors_naming(self.path):  # a full disk's error names no file by itself
            if self._file is None:
                self._file = open(self.path, "ab")  # noqa: SIM115 (closed by close())
                if self._file.tell() > self._intact:
                    self._file.truncate(self._intact)
            self._file.write((json.dumps(record, sort_keys=True) + "\n").encode())
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            with errors_naming(self.path):  # closing writes what a failed write left in the buffer
                self._file.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
