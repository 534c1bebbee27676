"""MNIST and Fashion-MNIST as plain arrays: IDX reading, checksums, download, the book's split.

Everything here ends in a :class:`Split` of three :class:`LabeledImages`, the book's
50,000 / 10,000 / 10,000 partition: ``images`` is a float array of shape ``(n, 784)`` with
pixels in [0, 1] (one row per image, so a whole mini-batch is one matrix), ``labels`` an
int64 array of shape ``(n,)``. The arrays are C-contiguous and read-only because one decoded
copy is shared by every caller in the process (see ``clear_cache``).

Where MNIST is looked for, in order: the ``data_dir`` argument, the ``MATNET_DATA``
environment variable, ``data/mnist/`` of the source checkout when running from one, and a
per-user cache folder (``$XDG_CACHE_HOME/matnet/mnist`` or ``~/.cache/matnet/mnist``). Only
the two default folders are ever downloaded into, from the mirrors torchvision uses; a folder
the user named explicitly that lacks the files is an error. Every file is checked against the
SHA-256 of its decompressed bytes, so gzipped and raw copies both verify.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import importlib
import io
import logging
import os
import pickle
import socket
import tempfile
import threading
import urllib.error
import urllib.request
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from .errors import (
    ChecksumError,
    CorruptDataError,
    DataError,
    DownloadError,
    MissingDataError,
    UnsafePickleError,
)

__all__ = [
    "FASHION_SHA256",
    "FILES",
    "MIRRORS",
    "SHA256",
    "LabeledImages",
    "Split",
    "clear_cache",
    "default_data_dir",
    "download_mnist",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_pickle",
    "locate_mnist",
    "read_idx",
]

log = logging.getLogger(__name__)

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

#: Public MNIST mirrors, tried in order (the ones torchvision uses).
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

PICKLE_NAME = "mnist.pkl.gz"  # the book's file, used when a folder holds only it
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian: dataset-fashion-mnist

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
N_TRAINING = 50_000  # the book trains on the first 50,000 training images, validates on the rest
N_PIXELS = 28 * 28
N_CLASSES = 10

# Decompressed sizes, so a hostile or broken mirror cannot fill the disk.
_RAW_SIZES = {
    "train-images-idx3-ubyte": 16 + 60_000 * N_PIXELS,
    "train-labels-idx1-ubyte": 8 + 60_000,
    "t10k-images-idx3-ubyte": 16 + 10_000 * N_PIXELS,
    "t10k-labels-idx1-ubyte": 8 + 10_000,
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


class LabeledImages(NamedTuple):
    """One part of the split: ``images`` (n, 784) float in [0, 1], ``labels`` (n,) int64."""

    images: np.ndarray
    labels: np.ndarray


class Split(NamedTuple):
    """The book's partition: 50,000 training, 10,000 validation, 10,000 test images."""

    training: LabeledImages
    validation: LabeledImages
    test: LabeledImages


# ---------------------------------------------------------------------------------------------
# Reading IDX files


def read_idx(path: str | os.PathLike[str], *, sha256: str | None = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes into a uint8 array shaped as its header says.

    ``path`` may name the raw file or its gzipped form; if it does not exist, ``path + ".gz"``
    (or ``path`` without ``.gz``) is tried. Compression is detected by the gzip magic bytes,
    not the extension. Images files (magic 2051) give ``(n, rows, columns)``, labels files
    (magic 2049) give ``(n,)``. With ``sha256``, the decompressed bytes must have that digest.
    The result is a read-only view of the decompressed bytes (no copy, no Python loop).

    Raises :class:`MissingDataError` or :class:`CorruptDataError` (bad gzip, bad magic,
    truncated, trailing bytes) and :class:`ChecksumError`, each naming the file.
    """
    file = _existing_idx_file(Path(path))
    raw = _read_bytes(file)
    array = _parse_idx(file, raw)
    if sha256 is not None:
        _verify_sha256(file, raw, sha256)
    return array


def _existing_idx_file(path: Path) -> Path:
    """``path`` itself, else its gzipped or un-gzipped sibling; MissingDataError if none."""
    if path.is_file():
        return path
    alternative = path.with_name(path.name[:-3] if path.name.endswith(".gz") else path.name + ".gz")
    if alternative.is_file():
        return alternative
    raise MissingDataError(path, f"no such file (looked for {path.name} and {alternative.name})")


def _find(folder: Path, name: str) -> Path | None:
    """The file holding IDX ``name`` in ``folder``: the raw file if present, else ``name.gz``."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_bytes(file: Path) -> bytes:
    """The file's content, gunzipped if it starts with the gzip magic bytes."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise MissingDataError(file, "no such file") from None
    except OSError as error:
        raise DataError(file, f"cannot read the file: {error.strerror or error}") from error
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise CorruptDataError(
            file, "corrupt gzip data: the stream is truncated (the file was cut short)"
        ) from None
    except (OSError, zlib.error) as error:
        raise CorruptDataError(file, f"corrupt gzip data: {error}") from None


def _parse_idx(file: Path, raw: bytes) -> np.ndarray:
    """Validate an IDX header against the data length; return the data as a uint8 view."""
    if len(raw) < 4:
        raise CorruptDataError(file, f"truncated: {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise CorruptDataError(
            file,
            f"bad magic number {magic} (0x{magic:08x}): expected {IMAGES_MAGIC} (images) or "
            f"{LABELS_MAGIC} (labels); this is not an MNIST-style IDX file",
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataError(
            file, f"truncated: {len(raw)} bytes, the {ndim}-dimension header needs {header}"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64))
    found = len(raw) - header
    dims = "x".join(map(str, shape))
    if found < expected:
        raise CorruptDataError(
            file,
            f"truncated: the header promises {dims} = {expected} data bytes, the file holds {found}",
        )
    if found > expected:
        raise CorruptDataError(
            file,
            f"{found - expected} trailing bytes after the {dims} = {expected} data bytes the header promises",
        )
    return np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header).reshape(shape)


def _verify_sha256(file: Path, raw: bytes, expected: str) -> None:
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise ChecksumError(file, expected, actual)


def _read_images(file: Path, sha256: str | None) -> np.ndarray:
    """An images file as (n, 784) uint8, format, size and checksum validated."""
    raw = _read_bytes(file)
    array = _parse_idx(file, raw)
    if array.ndim != 3:
        raise CorruptDataError(file, f"expected an images file (magic {IMAGES_MAGIC}), found a labels file")
    if array.shape[1:] != (28, 28):
        raise CorruptDataError(file, f"images are {array.shape[1]}x{array.shape[2]} pixels, expected 28x28")
    if sha256 is not None:
        _verify_sha256(file, raw, sha256)
    return array.reshape(len(array), N_PIXELS)


def _read_labels(file: Path, sha256: str | None) -> np.ndarray:
    """A labels file as (n,) uint8 with every value in [0, 10), checksum validated."""
    raw = _read_bytes(file)
    array = _parse_idx(file, raw)
    if array.ndim != 1:
        raise CorruptDataError(file, f"expected a labels file (magic {LABELS_MAGIC}), found an images file")
    if array.size and array.max() >= N_CLASSES:
        index = int(np.argmax(array >= N_CLASSES))
        raise CorruptDataError(
            file,
            f"label values must be in [0, {N_CLASSES}): found {array[index]} at index {index}",
        )
    if sha256 is not None:
        _verify_sha256(file, raw, sha256)
    return array


# ---------------------------------------------------------------------------------------------
# Turning bytes into the split, with a small in-process cache


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    """float64 or float32 as an np.dtype; TypeError naming the offending value otherwise."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = np.dtype(object)
    if resolved.type not in (np.float64, np.float32):
        raise TypeError(f"dtype must be float64 or float32, got {dtype!r}")
    return resolved


def _scaled(pixels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """uint8 (n, 784) -> dtype (n, 784) in [0, 1], divided by 255 in dtype, read-only."""
    images = np.empty(pixels.shape, dtype=dtype)
    np.divide(pixels, dtype.type(255), out=images, dtype=dtype)
    images.flags.writeable = False
    return images


def _labels_int64(labels: np.ndarray) -> np.ndarray:
    result = labels.astype(np.int64)
    result.flags.writeable = False
    return result


def _book_split(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
) -> Split:
    """Cut (60000, 784) training arrays into 50k training + 10k validation views."""
    return Split(
        LabeledImages(train_images[:N_TRAINING], train_labels[:N_TRAINING]),
        LabeledImages(train_images[N_TRAINING:], train_labels[N_TRAINING:]),
        LabeledImages(test_images, test_labels),
    )


# Decoded splits, keyed by what they were decoded from. ``_aliases`` maps a cheap key (the
# files' identity, size and mtime, the dtype, the checksums verified) to a content key;
# ``_splits`` maps content keys to the arrays. Verified files share the content key of their
# checksums, so copies of MNIST in other folders reuse one set of arrays; at most _MAX_SPLITS
# sets are held (each is ~440 MB in float64).
_MAX_SPLITS = 3
_MAX_ALIASES = 64
_cache_lock = threading.Lock()
_aliases: OrderedDict[Hashable, Hashable] = OrderedDict()
_splits: OrderedDict[Hashable, Split] = OrderedDict()


def clear_cache() -> None:
    """Forget every decoded split, so the next load reads (and verifies) the files again."""
    with _cache_lock:
        _aliases.clear()
        _splits.clear()


def _cache_get(key: Hashable) -> Split | None:
    with _cache_lock:
        content = _aliases.get(key)
        split = _splits.get(content) if content is not None else None
        if split is not None:
            _aliases.move_to_end(key)
            _splits.move_to_end(content)
        return split


def _cache_get_content(content: Hashable) -> Split | None:
    with _cache_lock:
        return _splits.get(content)


def _cache_put(key: Hashable, content: Hashable, split: Split) -> Split:
    """Remember ``split``; return the one already cached for ``content`` if there is one."""
    with _cache_lock:
        split = _splits.setdefault(content, split)
        _splits.move_to_end(content)
        _aliases[key] = content
        _aliases.move_to_end(key)
        while len(_splits) > _MAX_SPLITS:
            _splits.popitem(last=False)
        while len(_aliases) > _MAX_ALIASES:
            _aliases.popitem(last=False)
        return split


def _file_key(files: Sequence[Path]) -> tuple[tuple[str, int, int, int, int], ...]:
    """Identity of the files as they are now: replacing or editing one changes the key."""
    key = []
    for file in files:
        stat = file.stat()
        key.append((str(file.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(key)


def _load_idx_folder(folder: Path, sums: dict[str, str], dtype: np.dtype, verify: bool) -> Split:
    """Read the four IDX files of ``folder`` (all present) into the book's split."""
    files = [_find(folder, name) for name in FILES]
    missing = [name for name, file in zip(FILES, files, strict=True) if file is None]
    if missing:
        raise MissingDataError(folder, f"missing {_file_list(missing)}")
    sums_key = tuple(sums[name] for name in FILES) if verify else None
    key = ("idx", _file_key(files), dtype.str, sums_key)
    cached = _cache_get(key)
    if cached is not None:
        return cached
    expected = [sums[name] if verify else None for name in FILES]
    train_images = _read_images(files[0], expected[0])
    train_labels = _read_labels(files[1], expected[1])
    test_images = _read_images(files[2], expected[2])
    test_labels = _read_labels(files[3], expected[3])
    for images, labels, images_file, labels_file in (
        (train_images, train_labels, files[0], files[1]),
        (test_images, test_labels, files[2], files[3]),
    ):
        if len(images) != len(labels):
            raise CorruptDataError(
                images_file,
                f"image/label count mismatch: {len(images)} images but {labels_file.name} "
                f"holds {len(labels)} labels",
            )
    if len(train_images) <= N_TRAINING or len(test_images) == 0:
        raise CorruptDataError(
            files[0],
            f"{len(train_images)} training and {len(test_images)} test images: the book's split "
            f"needs more than {N_TRAINING} training images and at least one test image",
        )
    # Verified files are identified by their checksums: copies elsewhere share the arrays.
    content = ("sha256", sums_key, dtype.str) if verify else key
    cached = _cache_get_content(content)
    if cached is None:
        cached = _book_split(
            _scaled(train_images, dtype),
            _labels_int64(train_labels),
            _scaled(test_images, dtype),
            _labels_int64(test_labels),
        )
    return _cache_put(key, content, cached)


def _file_list(names: Sequence[str]) -> str:
    return ", ".join(f"{name}[.gz]" for name in names)


# ---------------------------------------------------------------------------------------------
# Where the data lives

_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout's root when run from src/


def _checkout_data_dir() -> Path | None:
    """``data/mnist`` of the source checkout matnet runs from, or None if installed."""
    root = _SOURCE_ROOT
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root / "data" / "mnist"
    return None


def _user_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "matnet" / "mnist"


def default_data_dir() -> Path:
    """Where MNIST is downloaded to when no folder is named: the checkout's ``data/mnist``
    when running from a source checkout, else ``$XDG_CACHE_HOME/matnet/mnist`` (default
    ``~/.cache/matnet/mnist``)."""
    return _checkout_data_dir() or _user_cache_dir()


def _has_dataset(folder: Path) -> bool:
    return all(_find(folder, name) for name in FILES) or (folder / PICKLE_NAME).is_file()


def _locate(data_dir: str | os.PathLike[str] | None) -> tuple[Path, str]:
    """(folder, who chose it): 'data_dir', 'MATNET_DATA' or 'default'."""
    if data_dir is not None:
        return Path(data_dir).expanduser().resolve(), "data_dir"
    env = os.environ.get("MATNET_DATA", "")
    if env:
        return Path(env).expanduser().resolve(), "MATNET_DATA"
    defaults = [d for d in (_checkout_data_dir(), _user_cache_dir()) if d is not None]
    # A complete earlier download in the other default folder saves downloading again.
    folder = next((d for d in defaults if _has_dataset(d)), defaults[0])
    return folder.resolve(), "default"


def locate_mnist(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder :func:`load_mnist` would read, resolved, without checking or downloading.

    Order: ``data_dir`` → ``$MATNET_DATA`` → the checkout's ``data/mnist`` → the user cache
    folder (the first default folder holding a complete dataset wins, else
    :func:`default_data_dir`).
    """
    return _locate(data_dir)[0]


def _missing_message(folder: Path, missing: Sequence[str], origin: str) -> str:
    names = _file_list(missing)
    if origin != "default":
        return (
            f"missing {names} in the folder named by {origin}. Put the four MNIST IDX files "
            f"there (gzipped or not; their SHA-256 is checked) or the book's {PICKLE_NAME}, "
            f"or name no folder to let matnet download MNIST into {default_data_dir()}"
        )
    return (
        f"missing {names}. Set MATNET_DATA to a folder holding {', '.join(FILES)} "
        f"(each gzipped or not), or place those files in {folder}"
    )


# ---------------------------------------------------------------------------------------------
# Public loaders


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    dtype: DTypeLike = np.float64,
    download: bool = True,
    verify: bool = True,
) -> Split:
    """MNIST as the book's split: images (n, 784) ``dtype`` in [0, 1], labels (n,) int64.

    The folder is found as :func:`locate_mnist` says. A folder named by ``data_dir`` or
    ``MATNET_DATA`` must hold the four IDX files (or only the book's ``mnist.pkl.gz``);
    a default folder lacking them is filled by :func:`download_mnist` when ``download``.
    ``verify`` checks each file's decompressed SHA-256 against :data:`SHA256`. Results are
    cached in-process (read-only arrays), so repeated calls cost a few ``stat`` calls.
    """
    resolved_dtype = _float_dtype(dtype)
    folder, origin = _locate(data_dir)
    if origin != "default" and not folder.is_dir():
        raise MissingDataError(
            folder, f"no such folder (named by {origin}); it should hold {_file_list(FILES)}"
        )
    missing = [name for name in FILES if _find(folder, name) is None]
    if len(missing) == len(FILES) and (folder / PICKLE_NAME).is_file():
        return load_mnist_pickle(folder / PICKLE_NAME, dtype=resolved_dtype)
    if missing:
        if origin != "default" or not download:
            raise MissingDataError(folder, _missing_message(folder, missing, origin))
        download_mnist(folder)
    return _load_idx_folder(folder, SHA256, resolved_dtype, verify)


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    dtype: DTypeLike = np.float64,
    verify: bool = True,
) -> Split:
    """Fashion-MNIST (same format and split as MNIST); never downloads.

    Folder: ``data_dir`` → ``$MATNET_FASHION_DATA`` → ``/usr/share/datasets/fashion-mnist``
    (Debian package ``dataset-fashion-mnist``). ``verify`` checks :data:`FASHION_SHA256`.
    """
    resolved_dtype = _float_dtype(dtype)
    env = os.environ.get("MATNET_FASHION_DATA", "")
    if data_dir is not None:
        folder, origin = Path(data_dir), "data_dir"
    elif env:
        folder, origin = Path(env), "MATNET_FASHION_DATA"
    else:
        folder, origin = FASHION_SYSTEM_DIR, "default"
    folder = folder.expanduser().resolve()
    missing = [name for name in FILES if _find(folder, name) is None]
    if missing:
        raise MissingDataError(
            folder,
            f"missing Fashion-MNIST files {_file_list(missing)} (folder from {origin}). "
            f"Install them with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu, into "
            f"{FASHION_SYSTEM_DIR}) or set MATNET_FASHION_DATA to a folder holding them",
        )
    return _load_idx_folder(folder, FASHION_SHA256, resolved_dtype, verify)


# ---------------------------------------------------------------------------------------------
# Download


class _FetchError(Exception):
    """One mirror failed for one file; the message says why."""


def _mirror_list(mirrors: Sequence[str] | str | None) -> list[str]:
    if mirrors is None:
        env = os.environ.get("MATNET_MNIST_MIRRORS", "")
        mirrors = [m.strip() for m in env.split(",") if m.strip()] if env.strip() else MIRRORS
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    result = list(mirrors)
    if not result:
        raise ValueError("no MNIST mirrors given")
    for mirror in result:
        if not mirror.lower().startswith(("http://", "https://")):
            raise ValueError(f"mirror {mirror!r} is not an http:// or https:// URL")
    return result


def download_mnist(
    dest: str | os.PathLike[str],
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download the MNIST files missing from ``dest`` (gzipped) and return ``dest``.

    Each file is tried on each mirror in order (``mirrors``, else the comma-separated
    ``$MATNET_MNIST_MIRRORS``, else :data:`MIRRORS`). It is streamed to a temporary file in
    ``dest``, checked (Content-Length, gzip integrity, decompressed size and SHA-256), and only
    then renamed into place, so a partial or corrupt download never stays behind. ``timeout``
    bounds each connect and each read, in seconds. Raises :class:`DownloadError` listing every
    mirror's failure when a file cannot be had from any mirror.
    """
    folder = Path(dest).expanduser()
    urls = _mirror_list(mirrors)
    missing = [name for name in FILES if _find(folder, name) is None]
    if not missing:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(
            folder,
            f"cannot create the folder: {error.strerror or error}. "
            f"{_missing_message(folder, missing, 'default')}",
        ) from error
    for position, name in enumerate(missing):
        failures: list[tuple[str, str]] = []
        for mirror in urls:
            url = f"{mirror.rstrip('/')}/{name}.gz"
            log.info("downloading %s into %s", url, folder)
            try:
                _fetch(url, folder / f"{name}.gz", SHA256[name], _RAW_SIZES[name], timeout)
                break
            except _FetchError as error:
                log.info("%s failed: %s", url, error)
                failures.append((url, str(error)))
        else:
            attempts = "".join(f"\n  {url}: {reason}" for url, reason in failures)
            raise DownloadError(
                folder,
                f"could not download {name}.gz from any mirror:{attempts}\n"
                f"{_missing_message(folder, missing[position:], 'default')}",
                tuple(failures),
            )
    return folder


def _fetch(url: str, target: Path, sha256: str, raw_size: int, timeout: float) -> None:
    """Stream ``url`` (a gzip file) to ``target`` atomically, or raise _FetchError."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            _stream_verified(url, out, sha256, raw_size, timeout)
        os.replace(temporary, target)
    except _FetchError:
        raise
    except TimeoutError:
        raise _FetchError(f"timed out after {timeout:g} s") from None
    except http.client.IncompleteRead as error:
        raise _FetchError(f"truncated: the connection closed after {len(error.partial)} more bytes") from None
    except urllib.error.HTTPError as error:
        error.close()
        raise _FetchError(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise _FetchError(_describe_network_error(error.reason, timeout)) from None
    except (OSError, http.client.HTTPException) as error:
        raise _FetchError(_describe_network_error(error, timeout)) from None
    finally:
        Path(temporary).unlink(missing_ok=True)  # gone already after a successful replace


def _describe_network_error(reason: object, timeout: float) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (nothing is listening there)"
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name ({reason.strerror}); are you offline?"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _stream_verified(url: str, out: io.BufferedWriter, sha256: str, raw_size: int, timeout: float) -> None:
    """Copy the response body to ``out`` while gunzipping and hashing it on the fly."""
    request = urllib.request.Request(url, headers={"User-Agent": "matnet-datasets/1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        header = response.headers.get("Content-Length", "")
        length = int(header) if header.isdigit() else None
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing, CRC checked
        digest = hashlib.sha256()
        received = inflated = 0
        while chunk := response.read(_CHUNK):
            received += len(chunk)
            out.write(chunk)
            try:
                piece = inflater.decompress(chunk)
            except zlib.error as error:
                raise _FetchError(f"corrupt gzip data: {error}") from None
            inflated += len(piece)
            if inflated > raw_size:
                raise _FetchError(f"decompresses to more than the expected {raw_size} bytes")
            digest.update(piece)
            if inflater.unused_data:
                raise _FetchError("unexpected bytes after the end of the gzip stream")
    if length is not None and received != length:
        raise _FetchError(f"truncated: received {received} of {length} bytes (Content-Length)")
    if not inflater.eof:
        raise _FetchError(f"truncated: the gzip stream ends early (after {received} bytes)")
    actual = digest.hexdigest()
    if actual != sha256:
        raise _FetchError(f"checksum mismatch: expected sha256 {sha256}, found sha256 {actual}")


# ---------------------------------------------------------------------------------------------
# The book's mnist.pkl.gz, without letting a pickle run code


def _numpy_module(name: str) -> Any:
    """numpy.core.X / numpy._core.X, whichever this NumPy has, without deprecation warnings."""
    tail = name.split(".", 2)[2]
    for prefix in ("numpy._core.", "numpy.core."):
        try:
            return importlib.import_module(prefix + tail)
        except ImportError:
            continue
    raise ImportError(name)


def _latin1_encode(text: object, encoding: object = "latin1") -> bytes:
    """The only use of ``_codecs.encode`` in a protocol-2 array pickle: str -> bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _allowed_global(module: str, name: str) -> Callable[..., Any] | type | None:
    """The few globals needed to rebuild ndarrays from pickles of NumPy 1.x/2.x and Python
    2/3, or None. Legacy ``numpy.core`` names map to ``numpy._core`` on NumPy >= 2."""
    if module == "numpy" and name in ("ndarray", "dtype"):
        return getattr(np, name)
    if module == "_codecs" and name == "encode":
        return _latin1_encode
    if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in (
        "_reconstruct",
        "scalar",
    ):
        return getattr(_numpy_module(module), name)
    if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
        return getattr(_numpy_module(module), name)
    return None


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays and nothing else."""

    def __init__(self, file: io.BytesIO, path: Path) -> None:
        super().__init__(file, encoding="latin1")  # the book's file is a Python 2 pickle
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        found = _allowed_global(module, name)
        if found is None:
            raise UnsafePickleError(self.path, f"{module}.{name}")
        return found


def load_mnist_pickle(path: str | os.PathLike[str], *, dtype: DTypeLike = np.float64) -> Split:
    """The book's ``mnist.pkl.gz`` as a :class:`Split` (images (n, 784) ``dtype``, labels int64).

    The file is a (gzipped) pickle of three ``(images, labels)`` pairs. It is read with an
    unpickler that only rebuilds NumPy arrays, so a tampered file cannot run code: any other
    global raises :class:`UnsafePickleError`. Shapes, dtypes and value ranges are validated.
    """
    resolved_dtype = _float_dtype(dtype)
    file = Path(path).expanduser()
    if not file.is_file():
        raise MissingDataError(file, "no such file")
    key = ("pickle", _file_key([file]), resolved_dtype.str)
    cached = _cache_get(key)
    if cached is not None:
        return cached
    raw = _read_bytes(file)
    try:
        content = _ArrayUnpickler(io.BytesIO(raw), file).load()
    except DataError:
        raise
    except Exception as error:  # a corrupt pickle can raise almost anything
        raise CorruptDataError(file, f"not a valid pickle: {type(error).__name__}: {error}") from None
    parts = _validate_pickle_content(file, content)
    split = Split(
        *(
            LabeledImages(_readonly(images, resolved_dtype), _readonly(labels, np.dtype(np.int64)))
            for images, labels in parts
        )
    )
    return _cache_put(key, key, split)


def _readonly(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``array`` as C-contiguous read-only ``dtype`` (no copy when it already is one: the
    unpickled arrays belong to nobody else)."""
    result = np.ascontiguousarray(array, dtype=dtype)
    result.flags.writeable = False
    return result


def _validate_pickle_content(file: Path, content: object) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check the book's structure: 3 pairs of (images (n, 784) float in [0, 1], labels (n,)
    integers in [0, 10))."""
    if not isinstance(content, (tuple, list)) or len(content) != 3:
        raise CorruptDataError(
            file, "expected a 3-tuple (training, validation, test) of (images, labels) pairs"
        )
    parts = []
    for part_name, part in zip(("training", "validation", "test"), content, strict=True):
        if not isinstance(part, (tuple, list)) or len(part) != 2:
            raise CorruptDataError(file, f"{part_name} data is not an (images, labels) pair")
        images, labels = part
        if not (isinstance(images, np.ndarray) and isinstance(labels, np.ndarray)):
            raise CorruptDataError(file, f"{part_name} images and labels must be NumPy arrays")
        if images.ndim != 2 or images.shape[1] != N_PIXELS or images.dtype.kind != "f":
            raise CorruptDataError(
                file,
                f"{part_name} images must be a float (n, {N_PIXELS}) array, "
                f"found {images.dtype} {images.shape}",
            )
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise CorruptDataError(
                file,
                f"{part_name} labels must be an integer (n,) array, found {labels.dtype} {labels.shape}",
            )
        if len(images) != len(labels) or len(images) == 0:
            raise CorruptDataError(
                file,
                f"{part_name}: image/label count mismatch or empty: {len(images)} images, "
                f"{len(labels)} labels",
            )
        low, high = images.min(), images.max()
        if not (low >= 0 and high <= 1):  # also false for NaN
            raise CorruptDataError(file, f"{part_name} pixel values must be in [0, 1], found [{low}, {high}]")
        if labels.min() < 0 or labels.max() >= N_CLASSES:
            raise CorruptDataError(
                file,
                f"{part_name} label values must be in [0, {N_CLASSES}), "
                f"found [{labels.min()}, {labels.max()}]",
            )
        parts.append((images, labels))
    return parts
