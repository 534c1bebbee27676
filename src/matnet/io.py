"""Saving and loading networks: one ``.npz`` file, written atomically, read without pickle.

File format (version 1): an uncompressed ``.npz`` holding

    format     "matnet-network"                 marks the file as ours
    version    1                                bumped on any incompatible change
    sizes      int64 (L,)                       neurons per layer, L ≥ 2
    dtype      "float64" or "float32"           the network's dtype
    weights_l  dtype (sizes[l+1], sizes[l])     for l = 0 .. L-2, the book's layout
    biases_l   dtype (sizes[l+1], 1)

The path is used exactly as given: unlike ``np.savez``, no ``.npz`` is appended, so
``save("model")`` and ``load("model")`` name the same file.

Writes are all-or-nothing: the bytes go to a temporary file beside the target, which is
fsynced and renamed over it, so a crash or kill mid-save leaves the previous file intact
(and at most a stray ``.<name>.<random>.tmp`` beside it). Reads never unpickle
(``allow_pickle=False``) and check every array before a network is built, so a truncated,
corrupt or tampered file is a ``ModelFileError`` naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, NamedTuple, Protocol

import numpy as np

from matnet.core import validation
from matnet.errors import ModelFileError


class Network(Protocol):
    """What ``save_network`` reads of a network (``matnet.network.Network`` has it)."""

    sizes: list[int]
    dtype: np.dtype
    weights: list[np.ndarray]
    biases: list[np.ndarray]

FORMAT = "matnet-network"
VERSION = 1
DTYPES = ("float64", "float32")
_META = ("format", "version", "sizes", "dtype")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip


# ------------------------------------------------------------------------- atomic writes
def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Create or replace ``path`` all-or-nothing with what ``write(f)`` writes to ``f``.

    ``f`` is a temporary file in the target's folder (a rename is only atomic within one
    file system). It is flushed and fsynced, renamed over ``path`` with ``os.replace``, and
    the folder is fsynced so the rename itself survives a power cut. On any exception,
    KeyboardInterrupt included, the temporary file is removed and the previous ``path`` is
    untouched. The new file gets the usual permissions (0o666 less the umask).
    """
    target = Path(path)
    folder = target.parent
    fd, tmp = _create_temporary(folder, target.name)
    try:
        with open(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Create or replace ``path`` with ``data`` all-or-nothing (see ``atomic_write``)."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez`` of ``arrays`` to exactly ``path`` (no ``.npz`` appended), all-or-nothing."""
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new, exclusively created ``.<name>.<random>.tmp`` in ``folder``, opened for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a unique temporary file", str(folder))


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable: POSIX only promises it once the folder's entry is on disk."""
    if os.name != "posix":  # folders cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot sync a folder; the file itself is synced
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------- saving
def save_network(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net``'s sizes, dtype, weights and biases to ``path`` atomically (format above).

    ``net`` is anything with ``sizes``, ``dtype``, ``weights`` and ``biases`` in the book's
    layout. Arrays are stored in ``net.dtype``. A network whose parameters are non-finite or
    mis-shaped is refused with a ValueError, since ``load_network`` would refuse the file.
    """
    try:
        sizes = validation.check_sizes(net.sizes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot save the network: {exc}") from None
    dtype = np.dtype(net.dtype)
    if dtype.name not in DTYPES:
        raise TypeError(f"cannot save the network: dtype must be one of {DTYPES}, got {dtype}")
    weights = [np.asarray(w) for w in net.weights]
    biases = [np.asarray(b) for b in net.biases]
    problem = _parameter_problem(sizes, weights, biases, dtype=None)
    if problem is not None:
        raise ValueError(f"cannot save the network: {problem}")
    with np.errstate(over="ignore"):  # a float64 value beyond float32's range: refused below
        weights = [np.ascontiguousarray(w, dtype=dtype) for w in weights]
        biases = [np.ascontiguousarray(b, dtype=dtype) for b in biases]
    problem = _parameter_problem(sizes, weights, biases, dtype=dtype)
    if problem is not None:
        raise ValueError(f"cannot save the network as {dtype}: {problem}")
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, np.int64),
        "sizes": np.array(sizes, np.int64),
        "dtype": np.array(dtype.name),
    }
    for i, (w, b) in enumerate(zip(weights, biases)):
        arrays[f"weights_{i}"] = w
        arrays[f"biases_{i}"] = b
    atomic_write_npz(path, arrays)


def _parameter_problem(
    sizes: list[int], weights: list[np.ndarray], biases: list[np.ndarray], dtype: np.dtype | None
) -> str | None:
    """What is wrong with the parameter arrays for these sizes, or None.

    With ``dtype`` every array must have exactly that dtype (a file); without, any real
    numeric dtype will do (a network about to be saved, converted on the way).
    """
    if len(weights) != len(sizes) - 1 or len(biases) != len(sizes) - 1:
        return (
            f"sizes {sizes} need {len(sizes) - 1} weight and bias arrays, "
            f"got {len(weights)} and {len(biases)}"
        )
    for i, (w, b) in enumerate(zip(weights, biases)):
        for name, arr, shape in (
            (f"weights_{i}", w, (sizes[i + 1], sizes[i])),
            (f"biases_{i}", b, (sizes[i + 1], 1)),
        ):
            if dtype is not None and arr.dtype != dtype:
                return f"{name} has dtype {arr.dtype}, expected {dtype}"
            if arr.dtype.kind not in "biuf":
                return f"{name} has dtype {arr.dtype}, expected real numbers"
            if arr.shape != shape:
                return f"{name} has shape {arr.shape}, expected {shape} for sizes {sizes}"
            if not np.isfinite(arr).all():
                return f"{name} contains NaN or inf"
    return None


# -------------------------------------------------------------------------------- loading
class SavedNetwork(NamedTuple):
    """The validated contents of a network file."""

    sizes: list[int]
    dtype: np.dtype
    weights: list[np.ndarray]  # weights[l]: (sizes[l+1], sizes[l])
    biases: list[np.ndarray]  # biases[l]: (sizes[l+1], 1)


def read_network(path: str | os.PathLike[str]) -> SavedNetwork:
    """The sizes, dtype, weights and biases stored in ``path``, every one of them checked.

    Never unpickles. Any problem — missing file, not a zip, truncated or corrupt data, a
    missing, extra, object-dtype, mis-shaped or non-finite array, an unknown format marker or
    version — raises ``ModelFileError`` with the path and the reason.
    """
    path = Path(path)

    def fail(reason: str) -> ModelFileError:
        return ModelFileError(f"{path}: {reason}")

    if not path.exists():
        raise fail("no such file")
    if not path.is_file():
        raise fail("not a regular file")
    # Handing np.load an open file (not the path) keeps the handle ours to close, even when
    # the zip turns out to be broken (np.load would leak its own handle then).
    try:
        with open(path, "rb") as f:
            if f.read(4) not in _ZIP_MAGIC:  # else np.load tries .npy or (refused) pickle
                raise fail("not a .npz file (it does not start with a zip signature)")
            f.seek(0)
            try:
                loaded = np.load(f, allow_pickle=False)
            except Exception as exc:  # any parse failure of an untrusted file is a bad file
                raise fail(f"not a readable .npz file ({type(exc).__name__}: {exc})") from exc
            with loaded:
                weights, biases, sizes, dtype = _read_contents(loaded, fail)
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror or exc})") from exc
    problem = _parameter_problem(sizes, weights, biases, dtype)
    if problem is not None:
        raise fail(problem)
    return SavedNetwork(sizes, dtype, weights, biases)


def _read_contents(loaded: np.lib.npyio.NpzFile, fail: Callable[[str], ModelFileError]):
    """(weights, biases, sizes, dtype) from an open npz, after checking its metadata and
    that it holds exactly the arrays those sizes call for."""

    def read(key: str) -> np.ndarray:
        try:
            return loaded[key]
        except Exception as exc:  # CRC errors, truncation, object arrays, bad .npy headers
            raise fail(f"cannot read array {key!r} ({type(exc).__name__}: {exc})") from exc

    present = set(loaded.files)
    missing_meta = [key for key in _META if key not in present]
    if missing_meta:
        raise fail(f"not a matnet network file: missing {', '.join(missing_meta)}")
    marker = read("format")
    if marker.shape != () or marker.dtype.kind != "U" or str(marker) != FORMAT:
        raise fail(f"not a matnet network file: format marker is {marker!r}, expected {FORMAT!r}")
    version = read("version")
    if version.shape != () or version.dtype.kind not in "iu":
        raise fail(f"version must be an integer, got {version!r}")
    if int(version) != VERSION:
        raise fail(f"unknown file version {int(version)} (this matnet reads version {VERSION})")
    sizes = _read_sizes(read("sizes"), fail)
    dtype_name = read("dtype")
    if dtype_name.shape != () or dtype_name.dtype.kind != "U" or str(dtype_name) not in DTYPES:
        raise fail(f"dtype must be one of {DTYPES}, got {dtype_name!r}")
    layers = range(len(sizes) - 1)
    expected = set(_META) | {f"{kind}_{i}" for kind in ("weights", "biases") for i in layers}
    if present - expected:
        raise fail(f"unexpected arrays {sorted(present - expected)} for sizes {sizes}")
    if expected - present:
        raise fail(f"missing arrays {sorted(expected - present)} for sizes {sizes}")
    weights = [read(f"weights_{i}") for i in layers]
    biases = [read(f"biases_{i}") for i in layers]
    return weights, biases, sizes, np.dtype(str(dtype_name))


def _read_sizes(arr: np.ndarray, fail: Callable[[str], ModelFileError]) -> list[int]:
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or arr.size < 2 or (arr < 1).any():
        raise fail(f"sizes must be ≥ 2 positive integers, got {arr!r}")
    return [int(n) for n in arr]
