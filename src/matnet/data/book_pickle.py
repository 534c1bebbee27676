"""The book's ``mnist.pkl.gz``, read without letting a pickle run code."""

from __future__ import annotations

import importlib
import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from matnet.errors import CorruptDataError, DataError, MissingDataError, UnsafePickleError

from .idx import N_CLASSES, N_PIXELS
from .split import LabeledImages, Split, cache_get, cache_put, file_key, float_dtype
from .stream import ByteStream

__all__ = ["PICKLE_NAME", "load_mnist_pickle"]

PICKLE_NAME = "mnist.pkl.gz"  # the book's file, used when a folder holds only it


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
    resolved_dtype = float_dtype(dtype)
    file = Path(path).expanduser()
    if not file.is_file():
        raise MissingDataError(file, "no such file")
    key = ("pickle", file_key([file]), resolved_dtype.str)
    cached = cache_get(key)
    if cached is not None:
        return cached
    with ByteStream(file) as stream:
        raw = b"".join(iter(lambda: stream.read(1 << 20), b""))
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
    return cache_put(key, key, split)


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
