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
(and at most a stray ``.<name>.<random>.tmp`` beside it). Reads never unpickle, refuse
compressed members, and check every member's declared size, shape and dtype against the file
and the network's sizes before reading it, so a truncated, corrupt, tampered or hostile file
is a ``ModelFileError`` naming the path and the reason, and reading costs the parameters it
returns, not what a file claims.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, NamedTuple, Protocol

import numpy as np

from matnet.core import validation
from matnet.core.maths import ACTIVATIONS as NAMED_ACTIVATIONS
from matnet.core.maths import SIGMOID
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
    untouched. A new file gets the usual permissions (0o666 less the umask); a replaced one
    keeps its permission bits (a 0600 file stays 0600), though not its owner or extended
    attributes.

    Replacing is a rename, so ``path`` becomes a new file: other hard links to the old file
    keep the old content, and a symbolic link at ``path`` is replaced by a regular file
    rather than written through. A ``path`` that exists and is not a regular file (a folder,
    a device such as /dev/null) is refused. OSErrors name ``path``, never the temporary file,
    whose name is shortened as needed to stay within the file system's name limit.
    """
    target = Path(path)
    folder = target.parent
    try:
        mode = _replaced_mode(target)
        fd, tmp = _create_temporary(folder, target.name)
    except OSError as exc:
        raise _naming(exc, target) from None
    try:
        with open(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, target) from None
        raise
    try:
        _fsync_folder(folder)
    except OSError as exc:
        raise _naming(exc, target) from None


def _replaced_mode(target: Path) -> int | None:
    """The permission bits of the regular file ``target`` will replace; None if it is new."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a folder, not a file", str(target))
    if not stat.S_ISREG(st.st_mode):
        raise FileExistsError(errno.EEXIST, "Exists and is not a regular file", str(target))
    return stat.S_IMODE(st.st_mode)


@contextlib.contextmanager
def errors_naming(path: str | os.PathLike[str]) -> Iterator[None]:
    """OSErrors raised inside, as the same kind of error about ``path``: a write to an open file
    that fails (a full disk, a file-size limit) raises one that names no file."""
    try:
        yield
    except OSError as exc:
        raise _naming(exc, Path(path)) from None


def _naming(exc: OSError, target: Path) -> OSError:
    """``exc`` as the same kind of OSError, about ``target`` (not a temporary file)."""
    if exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(target))


def output_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``atomic_write`` could not write ``path``, or None: for checking an output path
    before long work rather than failing after it. Checks the name is not empty and fits the
    file system, the folder exists and is writable, and the target is not a folder or other
    non-regular file. (The disk can still fill up; nothing short of writing can tell.)"""
    if os.fspath(path) in ("", b""):
        return "the file name is empty"
    target = Path(path)
    folder = target.parent
    try:
        if not folder.exists():
            return f"the folder {folder} does not exist"
        if not folder.is_dir():
            return f"{folder} is not a folder"
        if len(os.fsencode(target.name)) > _name_max(folder):
            return f"the file name is longer than the {_name_max(folder)} bytes the file system allows"
        if target.is_dir():
            return f"{target} is a folder, not a file"
        if target.exists() and not target.is_file():
            return f"{target} exists and is not a regular file"
    except OSError as exc:  # e.g. a path too deep to resolve
        return exc.strerror or str(exc)
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Create or replace ``path`` with ``data`` all-or-nothing (see ``atomic_write``)."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez`` of ``arrays`` to exactly ``path`` (no ``.npz`` appended), all-or-nothing.
    The archive is made in memory first (a network's is kilobytes to megabytes), so a write
    that fails (a full disk) fails in one place: older NumPy left a half-closed zip file whose
    garbage collection printed a traceback after the one-line error."""
    archive = io.BytesIO()
    np.savez(archive, **arrays)
    atomic_write_bytes(path, archive.getvalue())


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new, exclusively created ``.<name>.<random>.tmp`` in ``folder``, opened for writing;
    ``name`` is shortened when the whole would exceed the file system's name limit."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    limit = _name_max(folder)
    for _ in range(100):
        token = secrets.token_hex(6)
        stem = name
        while len(os.fsencode(f".{stem}.{token}.tmp")) > limit and stem:
            stem = stem[:-1]
        tmp = folder / f".{stem}.{token}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a unique temporary file", str(folder))


def _name_max(folder: Path) -> int:
    """The longest file name, in bytes, that ``folder``'s file system accepts."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such folder, or no pathconf (Windows)
        return 255


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
    activations = _activation_names(getattr(net, "neurons", None))
    if activations is not None:  # the book's sigmoids write no member: such files are as before
        arrays["activations"] = np.array(activations)
    for i, (w, b) in enumerate(zip(weights, biases)):
        arrays[f"weights_{i}"] = w
        arrays[f"biases_{i}"] = b
    atomic_write_npz(path, arrays)


def _activation_names(neurons) -> list[str] | None:
    """The names to store for a network's layers, None for the book's sigmoids; a function of
    the user's is code, not data, and is refused with a ValueError."""
    if neurons is None or all(neuron is SIGMOID for neuron in neurons):
        return None
    for i, neuron in enumerate(neurons):
        if NAMED_ACTIVATIONS.get(neuron.name) is not neuron:
            raise ValueError(f"cannot save the network: layer {i}'s activation {neuron.name!r} is a "
                             f"function of yours (code, not data); a file stores "
                             f"{', '.join(NAMED_ACTIVATIONS)} only. Save the parameters with np.savez "
                             "and rebuild with Network.from_parameters")
    return [neuron.name for neuron in neurons]


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
            problem = _array_problem(name, arr.shape, arr.dtype, shape, dtype, sizes)
            if problem is not None:
                return problem
            if not _all_finite(arr):
                return f"{name} contains NaN or inf"
    return None


def _array_problem(
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    expected_shape: tuple[int, int],
    expected_dtype: np.dtype | None,
    sizes: list[int],
) -> str | None:
    """What is wrong with an array of this shape and dtype in place ``name``, or None."""
    if expected_dtype is not None and dtype != expected_dtype:
        return f"{name} has dtype {dtype}, expected {expected_dtype}"
    if dtype.kind not in "biuf":
        return f"{name} has dtype {dtype}, expected real numbers"
    if shape != expected_shape:
        return f"{name} has shape {shape}, expected {expected_shape} for sizes {_few(sizes)}"
    return None


def _few(items: list, limit: int = 8) -> str:
    """``items`` for a message: all of them, or the first ``limit`` and how many there are."""
    if len(items) <= limit:
        return repr(items)
    return "[" + ", ".join(map(repr, items[:limit])) + f", ... ({len(items)} in all)]"


# -------------------------------------------------------------------------------- loading
class SavedNetwork(NamedTuple):
    """The validated contents of a network file."""

    sizes: list[int]
    dtype: np.dtype
    weights: list[np.ndarray]  # weights[l]: (sizes[l+1], sizes[l])
    biases: list[np.ndarray]  # biases[l]: (sizes[l+1], 1)
    activations: list[str] | None = None  # each layer's neurons by name; None: the sigmoids


class _Member(NamedTuple):
    """One array of the archive, as its zip entry and ``.npy`` header declare it."""

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int  # where the data starts within the member (after the .npy header)


_CHUNK = 1 << 18  # bytes read, and checked for finiteness, at a time
_Fail = Callable[[str], ModelFileError]  # makes the error for a reason, naming the file


def read_network(path: str | os.PathLike[str]) -> SavedNetwork:
    """The sizes, dtype, weights and biases stored in ``path``, every one of them checked.

    Never unpickles. Reads what the file honestly holds and no more: compressed members
    (which matnet never writes) are refused, every member's declared size must fit in the
    file, and every ``.npy`` header's shape and dtype must match its member's size and the
    network's sizes before a byte of it is allocated; the arrays are then read straight into
    place in 256 KiB pieces, so loading peaks at the returned parameters plus about 1 MiB. Any
    problem — missing file, not a zip, truncated or corrupt data, a missing, extra,
    compressed, object-dtype, mis-shaped or non-finite array, an unknown format marker or
    version — raises ``ModelFileError`` with the path and the reason.
    """
    path = Path(path)

    def fail(reason: str) -> ModelFileError:
        return ModelFileError(f"{path}: {reason}")

    if not path.exists():
        raise fail("no such file")
    if not path.is_file():
        raise fail("not a regular file")
    try:
        with open(path, "rb") as f:
            if f.read(4) not in _ZIP_MAGIC:  # a .npy, a pickle, text: not ours
                raise fail("not a .npz file (it does not start with a zip signature)")
            f.seek(0)
            size = os.fstat(f.fileno()).st_size
            try:
                archive = zipfile.ZipFile(f)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
                raise fail(f"not a readable .npz file ({type(exc).__name__}: {exc})") from exc
            with archive:
                return _read_archive(archive, size, fail)
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror or exc})") from exc


def _read_archive(archive: zipfile.ZipFile, size: int, fail: _Fail) -> SavedNetwork:
    members = _members(archive, size, fail)
    missing_meta = [key for key in _META if key not in members]
    if missing_meta:
        raise fail(f"not a matnet network file: missing {', '.join(missing_meta)}")
    marker = _read_member(archive, members["format"], fail)
    if marker.shape != () or marker.dtype.kind != "U" or str(marker) != FORMAT:
        raise fail(f"not a matnet network file: format marker is {marker!r}, expected {FORMAT!r}")
    version = _read_member(archive, members["version"], fail)
    if version.shape != () or version.dtype.kind not in "iu":
        raise fail(f"version must be an integer, got {version!r}")
    if int(version) != VERSION:
        raise fail(f"unknown file version {int(version)} (this matnet reads version {VERSION})")
    sizes = _read_sizes(_read_member(archive, members["sizes"], fail), fail)
    dtype_name = _read_member(archive, members["dtype"], fail)
    if dtype_name.shape != () or dtype_name.dtype.kind != "U" or str(dtype_name) not in DTYPES:
        raise fail(f"dtype must be one of {DTYPES}, got {dtype_name!r}")
    dtype = np.dtype(str(dtype_name))
    layers = range(len(sizes) - 1)
    expected = set(_META) | {f"{kind}_{i}" for kind in ("weights", "biases") for i in layers}
    present = set(members) - {"activations"}  # optional
    if present - expected:
        raise fail(f"unexpected arrays {_few(sorted(present - expected))} for sizes {_few(sizes)}")
    if expected - present:
        raise fail(f"missing arrays {_few(sorted(expected - present))} for sizes {_few(sizes)}")
    # Every parameter array's declared shape and dtype is checked before any is allocated.
    for i in layers:
        for name, shape in ((f"weights_{i}", (sizes[i + 1], sizes[i])), (f"biases_{i}", (sizes[i + 1], 1))):
            member = members[name]
            problem = _array_problem(name, member.shape, member.dtype, shape, dtype, sizes)
            if problem is not None:
                raise fail(problem)
    weights, biases = [], []
    for i in layers:
        for name, arrays in ((f"weights_{i}", weights), (f"biases_{i}", biases)):
            array = _read_member(archive, members[name], fail)
            if not _all_finite(array):
                raise fail(f"{name} contains NaN or inf")
            arrays.append(array)
    activations = None
    if "activations" in members:
        activations = _read_activations(archive, members["activations"], len(sizes) - 1, fail)
    return SavedNetwork(sizes, dtype, weights, biases, activations)


def _read_activations(archive: zipfile.ZipFile, member: _Member, depth: int, fail: _Fail) -> list[str]:
    """The layers' activation names: (depth,) short strings, each a name matnet knows."""
    longest = max(len(name) for name in NAMED_ACTIVATIONS)
    if member.shape != (depth,) or member.dtype.kind != "U" or member.dtype.itemsize > 4 * longest:
        raise fail(f"activations must be {depth} names, got {member.dtype} of shape {member.shape}")
    names = [str(name) for name in _read_member(archive, member, fail)]
    unknown = sorted(set(names) - set(NAMED_ACTIVATIONS))
    if unknown:
        raise fail(f"unknown activations {_few(unknown)}; known: {', '.join(NAMED_ACTIVATIONS)}")
    return names


def _members(archive: zipfile.ZipFile, size: int, fail: _Fail) -> dict[str, _Member]:
    """Every entry of the archive with its declared array, checked against the file's size:
    stored (not compressed), within the file, and its .npy header's shape and dtype adding up
    to exactly the member's size. Nothing but the headers is read."""
    infos = archive.infolist()
    claimed = sum(info.compress_size for info in infos)
    if claimed > size:
        raise fail(f"its members claim {claimed} bytes in all, more than the file's {size}")
    members: dict[str, _Member] = {}
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in members:
            raise fail(f"array {key!r} appears twice")
        if info.compress_type != zipfile.ZIP_STORED:
            method = zipfile.compressor_names.get(info.compress_type, f"method {info.compress_type}")
            raise fail(
                f"array {key!r} is compressed ({method}); matnet writes uncompressed .npz files "
                "and reads no other kind"
            )
        if info.file_size != info.compress_size:
            raise fail(f"array {key!r} is stored in {info.compress_size} bytes but claims {info.file_size}")
        try:
            with archive.open(info) as member:
                major, minor = np.lib.format.read_magic(member)
                if (major, minor) == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif (major, minor) == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(f"unsupported .npy format version {major}.{minor}")
                offset = member.tell()
        except Exception as exc:  # bad zip entry, bad .npy magic or header
            raise fail(f"cannot read array {key!r} ({type(exc).__name__}: {exc})") from exc
        if dtype.hasobject:
            raise fail(
                f"cannot read array {key!r} (ValueError: it holds Python objects, which only "
                "unpickling could rebuild, and matnet reads with allow_pickle=False)"
            )
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        if offset + nbytes != info.file_size:
            raise fail(
                f"array {key!r}: its header declares {shape} of {dtype} = {nbytes} bytes, "
                f"the member holds {info.file_size - offset}"
            )
        members[key] = _Member(key, info, shape, dtype, fortran, offset)
    return members


def _read_member(archive: zipfile.ZipFile, member: _Member, fail: _Fail) -> np.ndarray:
    """The member's array, read in place piece by piece (its size was checked already)."""
    array = np.empty(member.shape, member.dtype, order="F" if member.fortran else "C")
    raw = memoryview(array.T if member.fortran else array).cast("B") if array.size else memoryview(b"")
    try:
        with archive.open(member.info) as f:
            f.read(member.offset)
            filled = 0
            while filled < len(raw):
                piece = f.read(min(_CHUNK, len(raw) - filled))
                if not piece:
                    raise EOFError(f"the data ends after {filled} of {len(raw)} bytes")
                raw[filled : filled + len(piece)] = piece
                filled += len(piece)
            f.read(1)  # at the end of the member zipfile checks its CRC-32
    except Exception as exc:  # CRC errors, truncation
        raise fail(f"cannot read array {member.key!r} ({type(exc).__name__}: {exc})") from exc
    return array


def _all_finite(array: np.ndarray) -> bool:
    """No NaN or inf in ``array``, checked a piece at a time (no array-sized temporary)."""
    flat = array.reshape(-1, order="A")
    step = max(1, _CHUNK // max(array.itemsize, 1))
    return all(np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step))


def _read_sizes(arr: np.ndarray, fail: _Fail) -> list[int]:
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or arr.size < 2 or (arr < 1).any():
        raise fail(f"sizes must be ≥ 2 positive integers, got {arr!r}")
    return [int(n) for n in arr]
