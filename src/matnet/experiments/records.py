"""A sweep's JSON-lines file: one record per finished run, appended as runs finish.

The file is the sweep's only state: ``--resume`` reads which runs it already holds, and the
summary table is computed from it. Each record is appended with a single ``write`` of one
line and then flushed to disk, so a sweep killed at any moment leaves every finished run
intact; at worst its last line is cut short, and :func:`read` drops such a tail (that run is
simply run again). A damaged line anywhere else is an error that names its line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

from matnet.errors import UsageError
from matnet.io import errors_naming


def read(path: str | os.PathLike[str]) -> tuple[list[dict], int]:
    """The records of ``path`` (none if it does not exist) and the byte length of its intact
    part: a last line without its newline (a write cut short) is not part of it."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return [], 0
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None
    intact = data.rfind(b"\n") + 1  # a tail after the last newline is an unfinished write
    records = []
    for number, line in enumerate(data[:intact].splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise UsageError(f"{path}, line {number}: not a JSON record of a run "
                             "(is this a sweep's --out file?)") from None
        if not isinstance(record, dict) or not isinstance(record.get("parameters"), dict):
            raise UsageError(f"{path}, line {number}: a JSON value without the run's 'parameters'")
        records.append(record)
    return records, intact


class Appender:
    """Appends records to ``path`` (created if missing), cutting off an unfinished last line
    first so that the next record starts on a line of its own."""

    def __init__(self, path: str | os.PathLike[str], intact: int):
        self.path = Path(path)
        self._file: IO[bytes] = open(self.path, "ab")  # noqa: SIM115 (closed by close())
        if self._file.tell() > intact:
            self._file.truncate(intact)

    def append(self, record: dict) -> None:
        with errors_naming(self.path):  # a full disk's error names no file by itself
            self._file.write((json.dumps(record, sort_keys=True) + "\n").encode())
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with errors_naming(self.path):  # closing writes what a failed write left in the buffer
            self._file.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
