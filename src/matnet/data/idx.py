"""The MNIST-format IDX files: their names, checksums and sizes, and reading them (gzip or raw).

Every reader validates the header against the data length and, when given a digest, the
SHA-256 of the decompressed bytes, so gzipped and raw copies both verify. Files are read as a
stream (:mod:`matnet.data.stream`): the header first, then exactly the bytes it announces, so
a gzip bomb behind a valid header costs no more than the data it announces.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matnet.errors import ChecksumError, CorruptDataError, MissingDataError

from .stream import MAX_DEFLATE_RATIO, ByteStream

__all__ = [
    "FASHION_SHA256",
    "FILES",
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "N_CLASSES",
    "N_PIXELS",
    "SHA256",
    "read_idx",
]

#: The four IDX files of MNIST and Fashion-MNIST (each may also be stored as ``name.gz``).
FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: SHA-256 of the *decompressed* MNIST files: any faithful copy verifies, gzipped or not.
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: SHA-256 of the decompressed Fashion-MNIST files (as shipped by Debian's
#: ``dataset-fashion-mnist`` and zalandoresearch/fashion-mnist).
FASHION_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
N_PIXELS = 28 * 28
N_CLASSES = 10

# Decompressed sizes, so a hostile or broken mirror cannot fill the disk.
RAW_SIZES = {
    "train-images-idx3-ubyte": 16 + 60_000 * N_PIXELS,
    "train-labels-idx1-ubyte": 8 + 60_000,
    "t10k-images-idx3-ubyte": 16 + 10_000 * N_PIXELS,
    "t10k-labels-idx1-ubyte": 8 + 10_000,
}


def read_idx(path: str | os.PathLike[str], *, sha256: str | None = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes into a uint8 array shaped as its header says.

    ``path`` may name the raw file or its gzipped form; if it does not exist, ``path + ".gz"``
    (or ``path`` without ``.gz``) is tried. Compression is detected by the gzip magic bytes,
    not the extension. Images files (magic 2051) give ``(n, rows, columns)``, labels files
    (magic 2049) give ``(n,)``. With ``sha256``, the decompressed bytes must have that digest.
    The result is read-only.

    Memory and time follow what the header announces, never what a file might inflate to:
    the header is read first, a size the file cannot hold is refused before anything is
    allocated, and decompression stops after the announced bytes (plus a bounded look for
    trailing ones). Raises :class:`MissingDataError`, :class:`CorruptDataError` (bad gzip, bad
    magic, impossible dimensions, truncated, trailing bytes) and :class:`ChecksumError`, each
    naming the file.
    """
    file = _existing_idx_file(Path(path))
    array, digest = _read_idx(file, digest=sha256 is not None)
    if sha256 is not None:
        _verify_sha256(file, digest, sha256)
    return array


def _existing_idx_file(path: Path) -> Path:
    """``path`` itself, else its gzipped or un-gzipped sibling; MissingDataError if none."""
    if path.is_file():
        return path
    alternative = path.with_name(path.name[:-3] if path.name.endswith(".gz") else path.name + ".gz")
    if alternative.is_file():
        return alternative
    raise MissingDataError(path, f"no such file (looked for {path.name} and {alternative.name})")


def find_idx_file(folder: Path, name: str) -> Path | None:
    """The file holding IDX ``name`` in ``folder``: the raw file if present, else ``name.gz``."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def file_list(names: Sequence[str]) -> str:
    """``names`` for a message, each marked as possibly gzipped."""
    return ", ".join(f"{name}[.gz]" for name in names)


def missing_files_message(folder: Path, missing: Sequence[str]) -> str:
    """What to do when ``missing`` files are absent from the default ``folder``."""
    return (
        f"missing {file_list(missing)}. Set MATNET_DATA to a folder holding {', '.join(FILES)} "
        f"(each gzipped or not), or place those files in {folder}"
    )


def _read_idx(file: Path, *, digest: bool) -> tuple[np.ndarray, str | None]:
    """Stream ``file``: validate its header, read exactly the data it announces. Returns the
    read-only array and, when ``digest``, the SHA-256 of all its (decompressed) bytes."""
    with ByteStream(file) as stream:
        head = _read_exactly(stream, 4)
        if len(head) < 4:
            raise CorruptDataError(file, f"truncated: {len(head)} bytes, too short for an IDX header")
        magic = int.from_bytes(head, "big")
        if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
            raise CorruptDataError(
                file,
                f"bad magic number {magic} (0x{magic:08x}): expected {IMAGES_MAGIC} (images) or "
                f"{LABELS_MAGIC} (labels); this is not an MNIST-style IDX file",
            )
        ndim = head[3]
        header_size = 4 + 4 * ndim
        dims = _read_exactly(stream, 4 * ndim)
        if len(dims) < 4 * ndim:
            raise CorruptDataError(
                file, f"truncated: {4 + len(dims)} bytes, the {ndim}-dimension header needs {header_size}"
            )
        shape = tuple(int.from_bytes(dims[i : i + 4], "big") for i in range(0, len(dims), 4))
        expected = math.prod(shape)  # Python ints: no overflow, however large the dimensions
        described = "x".join(map(str, shape))
        _check_announced_size(stream, header_size, expected, described)
        data = np.empty(expected, dtype=np.uint8)
        found = stream.readinto(memoryview(data))
        if found < expected:
            raise CorruptDataError(
                file,
                f"truncated: the header promises {described} = {expected} data bytes, the file holds {found}",
            )
        trailing = stream.count_rest(_TRAILING_SHOWN)
        if trailing:
            count = f"{trailing}" if trailing <= _TRAILING_SHOWN else f"more than {_TRAILING_SHOWN}"
            raise CorruptDataError(
                file,
                f"{count} trailing bytes after the {described} = {expected} data bytes the header promises",
            )
    sha256 = None
    if digest:
        hasher = hashlib.sha256(head)
        hasher.update(dims)
        hasher.update(data)
        sha256 = hasher.hexdigest()
    data.flags.writeable = False
    return data.reshape(shape), sha256


_TRAILING_SHOWN = 1 << 20  # trailing bytes counted exactly up to this many, then "more than"


def _read_exactly(stream: ByteStream, n: int) -> bytes:
    """The next ``n`` content bytes, or fewer if the content ends first."""
    parts = []
    while n > 0 and (piece := stream.read(n)):
        parts.append(piece)
        n -= len(piece)
    return b"".join(parts)


def _check_announced_size(stream: ByteStream, header_size: int, expected: int, described: str) -> None:
    """Refuse, before allocating, a data size the file cannot hold."""
    file = stream.file
    if not stream.compressed:
        found = stream.size - header_size
        if found < expected:
            raise CorruptDataError(
                file,
                f"truncated: the header promises {described} = {expected} data bytes, the file holds {found}",
            )
        if found > expected:
            raise CorruptDataError(
                file,
                f"{found - expected} trailing bytes after the {described} = {expected} data bytes "
                "the header promises",
            )
        return
    most = stream.max_content() - header_size
    if expected > most:
        raise CorruptDataError(
            file,
            f"the header promises {described} = {expected} data bytes, more than a {stream.size}-byte "
            f"gzip file can hold (at most {most}, at deflate's greatest ratio of {MAX_DEFLATE_RATIO}:1)",
        )


def _verify_sha256(file: Path, actual: str | None, expected: str) -> None:
    if actual != expected:
        raise ChecksumError(file, expected, actual)


def read_images(file: Path, sha256: str | None) -> np.ndarray:
    """An images file as (n, 784) uint8, format, size and checksum validated."""
    array, digest = _read_idx(file, digest=sha256 is not None)
    if array.ndim != 3:
        raise CorruptDataError(file, f"expected an images file (magic {IMAGES_MAGIC}), found a labels file")
    if array.shape[1:] != (28, 28):
        raise CorruptDataError(file, f"images are {array.shape[1]}x{array.shape[2]} pixels, expected 28x28")
    if sha256 is not None:
        _verify_sha256(file, digest, sha256)
    return array.reshape(len(array), N_PIXELS)


def read_labels(file: Path, sha256: str | None) -> np.ndarray:
    """A labels file as (n,) uint8 with every value in [0, 10), checksum validated."""
    array, digest = _read_idx(file, digest=sha256 is not None)
    if array.ndim != 1:
        raise CorruptDataError(file, f"expected a labels file (magic {LABELS_MAGIC}), found an images file")
    if array.size and array.max() >= N_CLASSES:
        index = int(np.argmax(array >= N_CLASSES))
        raise CorruptDataError(
            file,
            f"label values must be in [0, {N_CLASSES}): found {array[index]} at index {index}",
        )
    if sha256 is not None:
        _verify_sha256(file, digest, sha256)
    return array
