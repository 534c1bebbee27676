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

The pieces live in small modules, re-exported here: :mod:`matnet.data.idx` (the IDX files, their
checksums and reading), :mod:`matnet.data.split` (the split and its cache), :mod:`matnet.data.download`
(mirrors and download) and :mod:`matnet.data.book_pickle` (the book's ``mnist.pkl.gz``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from matnet.errors import CorruptDataError, MissingDataError

from .book_pickle import PICKLE_NAME as PICKLE_NAME
from .book_pickle import load_mnist_pickle
from .download import MIRRORS, download_mnist
from .idx import (
    FASHION_SHA256,
    FILES,
    SHA256,
    file_list,
    find_idx_file,
    missing_files_message,
    read_idx,
    read_images,
    read_labels,
)
from .idx import IMAGES_MAGIC as IMAGES_MAGIC
from .idx import LABELS_MAGIC as LABELS_MAGIC
from .idx import N_CLASSES as N_CLASSES
from .idx import N_PIXELS as N_PIXELS
from .split import (
    N_TRAINING,
    LabeledImages,
    Split,
    book_split,
    cache_get,
    cache_get_content,
    cache_put,
    clear_cache,
    file_key,
    float_dtype,
    labels_int64,
    scaled,
)

__all__ = [
    "FASHION_SHA256",
    "FILES",
    "MIRRORS",
    "N_CLASSES",
    "N_PIXELS",
    "N_TRAINING",
    "SHA256",
    "LabeledImages",
    "Split",
    "clear_cache",
    "default_data_dir",
    "download_mnist",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_pickle",
    "load_mnist_test",
    "locate_mnist",
    "read_idx",
]

FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian: dataset-fashion-mnist
TEST_FILES = FILES[2:]  # t10k images and labels


# ---------------------------------------------------------------------------------------------
# A folder of IDX files as the book's split, through the cache


def _load_idx_folder(folder: Path, sums: dict[str, str], dtype: np.dtype, verify: bool) -> Split:
    """Read the four IDX files of ``folder`` (all present) into the book's split."""
    files = [find_idx_file(folder, name) for name in FILES]
    missing = [name for name, file in zip(FILES, files, strict=True) if file is None]
    if missing:
        raise MissingDataError(folder, f"missing {file_list(missing)}")
    sums_key = tuple(sums[name] for name in FILES) if verify else None
    key = ("idx", file_key(files), dtype.str, sums_key)
    cached = cache_get(key)
    if cached is not None:
        return cached
    expected = [sums[name] if verify else None for name in FILES]
    # The test pair on a thread of its own while this one reads the training pair: zlib
    # inflates with the GIL released. A failure of the training pair is the one reported.
    with ThreadPoolExecutor(1, thread_name_prefix="matnet-idx") as reader:
        test_pair = reader.submit(_read_pair, files[2], files[3], expected[2], expected[3])
        train_images, train_labels = _read_pair(files[0], files[1], expected[0], expected[1])
        test_images, test_labels = test_pair.result()
    if len(train_images) <= N_TRAINING or len(test_images) == 0:
        raise CorruptDataError(
            files[0],
            f"{len(train_images)} training and {len(test_images)} test images: the book's split "
            f"needs more than {N_TRAINING} training images and at least one test image",
        )
    # Verified files are identified by their checksums: copies elsewhere share the arrays.
    content = ("sha256", sums_key, dtype.str) if verify else key
    cached = cache_get_content(content)
    if cached is None:
        cached = book_split(
            scaled(train_images, dtype),
            labels_int64(train_labels),
            scaled(test_images, dtype),
            labels_int64(test_labels),
        )
    return cache_put(key, content, cached)


def _load_idx_test(folder: Path, sums: dict[str, str], dtype: np.dtype, verify: bool) -> LabeledImages:
    """Read only the two test files of ``folder`` (both present); the training files are
    not opened, unless only to find the whole split already in the cache."""
    files = [find_idx_file(folder, name) for name in FILES]
    if all(files):
        sums_key = tuple(sums[name] for name in FILES) if verify else None
        cached = cache_get(("idx", file_key(files), dtype.str, sums_key))
        if cached is not None:
            return cached.test
    expected = [sums[name] if verify else None for name in FILES[2:]]
    images, labels = _read_pair(files[2], files[3], *expected)
    if len(images) == 0:
        raise CorruptDataError(files[2], "no test images: evaluating needs at least one")
    return LabeledImages(scaled(images, dtype), labels_int64(labels))


def _read_pair(
    images_file: Path, labels_file: Path, images_sha256: str | None, labels_sha256: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """An images file and its labels file, validated, as uint8 (n, 784) and (n,)."""
    images = read_images(images_file, images_sha256)
    labels = read_labels(labels_file, labels_sha256)
    if len(images) != len(labels):
        raise CorruptDataError(
            images_file,
            f"image/label count mismatch: {len(images)} images but {labels_file.name} "
            f"holds {len(labels)} labels",
        )
    return images, labels


# ---------------------------------------------------------------------------------------------
# Where the data lives

_SOURCE_ROOT = Path(__file__).resolve().parents[3]  # the checkout's root when run from src/


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
    return all(find_idx_file(folder, name) for name in FILES) or (folder / PICKLE_NAME).is_file()


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
    if origin != "default":
        return (
            f"missing {file_list(missing)} in the folder named by {origin}. Put the four MNIST IDX "
            f"files there (gzipped or not; their SHA-256 is checked) or the book's {PICKLE_NAME}, "
            f"or name no folder to let matnet download MNIST into {default_data_dir()}"
        )
    return missing_files_message(folder, missing)


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
    resolved_dtype = float_dtype(dtype)
    folder, origin = _named_folder(data_dir, FILES)
    missing = [name for name in FILES if find_idx_file(folder, name) is None]
    if len(missing) == len(FILES) and (folder / PICKLE_NAME).is_file():
        return load_mnist_pickle(folder / PICKLE_NAME, dtype=resolved_dtype)
    _download_missing(folder, origin, missing, download)
    return _load_idx_folder(folder, SHA256, resolved_dtype, verify)


def load_mnist_test(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    dtype: DTypeLike = np.float64,
    download: bool = True,
    verify: bool = True,
) -> LabeledImages:
    """Only MNIST's test set (the 10,000 t10k images): what evaluating a network needs.

    Found, downloaded and verified as by :func:`load_mnist`, but only the two test files
    are read, so a missing or broken training file does not stand in the way (a folder
    holding only the book's ``mnist.pkl.gz`` gives that file's test part). Images (n, 784)
    ``dtype`` in [0, 1], labels (n,) int64, read-only; equal to ``load_mnist(...).test``.
    """
    resolved_dtype = float_dtype(dtype)
    folder, origin = _named_folder(data_dir, TEST_FILES)
    present = [name for name in FILES if find_idx_file(folder, name) is not None]
    if not present and (folder / PICKLE_NAME).is_file():
        return load_mnist_pickle(folder / PICKLE_NAME, dtype=resolved_dtype).test
    _download_missing(folder, origin, [name for name in TEST_FILES if name not in present], download)
    return _load_idx_test(folder, SHA256, resolved_dtype, verify)


def _named_folder(data_dir, names) -> tuple[Path, str]:
    """(folder, how it was found) by ``_locate``; a folder the user named must exist."""
    folder, origin = _locate(data_dir)
    if origin != "default" and not folder.is_dir():
        raise MissingDataError(
            folder, f"no such folder (named by {origin}); it should hold {file_list(names)}"
        )
    return folder, origin


def _download_missing(folder: Path, origin: str, missing: list[str], download: bool) -> None:
    """Download the ``missing`` files into the default folder; anywhere else, or with
    ``download=False``, say what is missing."""
    if not missing:
        return
    if origin != "default" or not download:
        raise MissingDataError(folder, _missing_message(folder, missing, origin))
    download_mnist(folder)


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
    resolved_dtype = float_dtype(dtype)
    env = os.environ.get("MATNET_FASHION_DATA", "")
    if data_dir is not None:
        folder, origin = Path(data_dir), "data_dir"
    elif env:
        folder, origin = Path(env), "MATNET_FASHION_DATA"
    else:
        folder, origin = FASHION_SYSTEM_DIR, "default"
    folder = folder.expanduser().resolve()
    missing = [name for name in FILES if find_idx_file(folder, name) is None]
    if missing:
        raise MissingDataError(
            folder,
            f"missing Fashion-MNIST files {file_list(missing)} (folder from {origin}). "
            f"Install them with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu, into "
            f"{FASHION_SYSTEM_DIR}) or set MATNET_FASHION_DATA to a folder holding them",
        )
    return _load_idx_folder(folder, FASHION_SHA256, resolved_dtype, verify)
