"""A data file's bytes in order, gunzipped on the fly, never more of them than the reader asks for.

Reading a whole file and then decompressing it trusts the file: a gzip file of a few megabytes
can inflate to gigabytes. A :class:`ByteStream` hands out the decompressed bytes piece by
piece instead, so a reader that knows how many bytes it needs (an IDX header announces them, a
pickle announces them opcode by opcode) inflates that many, then checks that nothing follows.
No read allocates more than the bytes it returns plus one bounded chunk: a length announced by
the file is never used to allocate before the bytes are there.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from matnet.errors import CorruptDataError, DataError, MissingDataError

__all__ = ["GZIP_MAGIC", "MAX_DEFLATE_RATIO", "ByteStream"]

GZIP_MAGIC = b"\x1f\x8b"
#: Deflate's best case is a 258-byte match coded in 2 bits: no gzip file inflates by more.
MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20  # compressed bytes read, or decompressed bytes produced, per step
_TRUNCATED = "corrupt gzip data: the stream is truncated (the file was cut short)"


class ByteStream:
    """The content of ``file``: its bytes, or their decompression when it starts with the gzip
    magic bytes (several concatenated gzip members are one stream, as for ``gzip.decompress``).

    ``size`` is the file's size on disk and ``compressed`` says whether it is gzip;
    :meth:`max_content` bounds how many bytes the content can honestly hold. Use as a context
    manager. Errors are :class:`DataError` subclasses naming the file.
    """

    def __init__(self, file: Path) -> None:
        self.file = file
        try:
            self._f = open(file, "rb")  # noqa: SIM115  (closed by close())
        except FileNotFoundError:
            raise MissingDataError(file, "no such file") from None
        except OSError as error:
            raise DataError(file, f"cannot read the file: {error.strerror or error}") from error
        try:
            self.size = os.fstat(self._f.fileno()).st_size
            self.compressed = self._raw_read(2) == GZIP_MAGIC
            self._f.seek(0)
        except BaseException:
            self._f.close()
            raise
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if self.compressed else None
        self._input = b""  # compressed bytes read from the file, not yet inflated
        self.consumed = 0  # content bytes handed out so far

    def __enter__(self) -> ByteStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()

    def max_content(self) -> int:
        """The most content bytes this file can hold: its size, or for gzip the size times
        deflate's greatest possible ratio."""
        return self.size * MAX_DEFLATE_RATIO if self.compressed else self.size

    def read(self, n: int) -> bytes:
        """Up to ``n`` (≥ 1) content bytes; fewer only when the content ends (b"" at its end).
        At most about 1 MiB is produced per call whatever ``n`` is."""
        n = min(n, _CHUNK)
        data = self._raw_read(n) if self._inflater is None else self._inflate(n)
        self.consumed += len(data)
        return data

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` (a writable byte buffer) with the next content bytes; the count filled,
        less than ``len(view)`` only when the content ends."""
        view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        filled = 0
        while filled < len(view):
            if self._inflater is None:
                try:
                    got = self._f.readinto(view[filled : filled + _CHUNK])
                except OSError as error:
                    raise DataError(self.file, f"cannot read the file: {error.strerror or error}") from error
                self.consumed += got
            else:
                piece = self.read(len(view) - filled)
                got = len(piece)
                view[filled : filled + got] = piece
            if not got:
                break
            filled += got
        return filled

    def count_rest(self, limit: int) -> int:
        """How many content bytes remain, counting at most ``limit`` + 1 of them (so a gzip
        bomb's tail is never inflated beyond that)."""
        if self._inflater is None:
            return min(max(self.size - self._f.tell(), 0), limit + 1)
        rest = 0
        while rest <= limit and (piece := self.read(limit + 1 - rest)):
            rest += len(piece)
        return rest

    # ------------------------------------------------------------------------ internals
    def _raw_read(self, n: int) -> bytes:
        try:
            return self._f.read(n)
        except OSError as error:
            raise DataError(self.file, f"cannot read the file: {error.strerror or error}") from error

    def _inflate(self, n: int) -> bytes:
        """Up to ``n`` decompressed bytes, b"" at the end of the last gzip member."""
        while True:
            inflater = self._inflater
            if inflater.eof:  # a member ended: the file ends, or another member follows
                self._input = inflater.unused_data.lstrip(b"\0") or self._raw_read(_CHUNK).lstrip(b"\0")
                while not self._input:  # zero padding between or after members, as gzip allows
                    more = self._raw_read(_CHUNK)
                    if not more:
                        return b""
                    self._input = more.lstrip(b"\0")
                if len(self._input) < 2:
                    self._input += self._raw_read(1)
                if self._input[:2] != GZIP_MAGIC:
                    raise CorruptDataError(
                        self.file, "corrupt gzip data: bytes that are not gzip data follow the gzip stream"
                    )
                inflater = self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            if not self._input:
                self._input = self._raw_read(_CHUNK)
                if not self._input:
                    raise CorruptDataError(self.file, _TRUNCATED)
            try:
                data = inflater.decompress(self._input, n)
            except zlib.error as error:
                raise CorruptDataError(self.file, f"corrupt gzip data: {error}") from None
            self._input = inflater.unconsumed_tail
            if data:
                return data
