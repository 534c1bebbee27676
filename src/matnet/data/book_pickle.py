"""The book's ``mnist.pkl.gz``, read without letting a pickle run code or claim memory it does not hold.

Three rules keep a hostile pickle harmless:

- only the few NumPy globals that rebuild arrays can be named (anything else is an
  :class:`UnsafePickleError`, and nothing of it is imported or called);
- every array carries its data: ``_reconstruct`` may only make the empty placeholder NumPy
  pickles start from, which then gets its shape and bytes from its BUILD step (checked
  against each other by NumPy), and ``numpy.ndarray`` itself cannot be called, so no array
  of uninitialised memory can be asked for;
- sizes are bounded by what the file holds: the opcodes are first walked without building
  anything, so every length the pickle announces must be matched by bytes actually present
  before a byte is allocated for it, decompression stops at the pickle's STOP opcode, and the
  objects built may take at most twice the pickle's length in all (a protocol-2 pickle holds
  each array's bytes once, as text that becomes bytes and then the array), so a pickle
  cannot multiply one stored string into many arrays.
"""

from __future__ import annotations

import importlib
import io
import math
import os
import pickle
import pickletools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from matnet.errors import CorruptDataError, DataError, MissingDataError, UnsafePickleError
from matnet.frozen import freeze

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


_multiarray = _numpy_module("numpy.core.multiarray")
_numeric = _numpy_module("numpy.core.numeric")


class _NdarrayName:
    """What the pickle gets for ``numpy.ndarray``: a name to hand to ``_reconstruct``, which
    cannot be called (``ndarray(shape)`` would be an array of uninitialised memory)."""

    def __repr__(self) -> str:
        return "numpy.ndarray"

    def __call__(self, *args: object) -> None:
        raise pickle.UnpicklingError(
            "numpy.ndarray(...) is called: that would be an array of uninitialised memory, "
            "not data the file holds"
        )


_NDARRAY = _NdarrayName()


class _Budget:
    """Bytes the objects built by the pickle may still take; CorruptDataError past that."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.left = limit

    def charge(self, nbytes: int, what: str) -> None:
        self.left -= nbytes
        if self.left < 0:
            raise CorruptDataError(
                self.path,
                f"the pickle builds more data than it holds ({what} of {nbytes} bytes exceeds "
                "twice the pickle's length in all)",
            )


class _RebuiltArray(np.ndarray):
    """An array made empty by ``_reconstruct``: its shape and bytes come from its BUILD step,
    once, charged to the load's budget (a subclass per load carries it)."""

    budget: _Budget
    filled = False

    def __setstate__(self, state: Any) -> None:
        if self.filled:
            raise pickle.UnpicklingError("an array's state is set twice")
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError(f"malformed array state {type(state).__name__}")
        shape, dtype = state[-4], state[-3]
        if not isinstance(dtype, np.dtype) or not isinstance(shape, tuple):
            raise pickle.UnpicklingError("malformed array state: expected a shape and a dtype")
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"malformed array shape {shape!r}")
        self.budget.charge(math.prod(shape) * dtype.itemsize, f"an array {shape} of {dtype}")
        super().__setstate__(state)  # NumPy checks the bytes against the shape and dtype
        self.filled = True


class _SealedArray(np.ndarray):
    """An array made by ``_frombuffer``: complete already, so a BUILD step is refused."""

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError("an array rebuilt from a buffer takes no further state")


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays and nothing else, each from its own bytes."""

    def __init__(self, file: io.BytesIO, path: Path, budget: _Budget) -> None:
        super().__init__(file, encoding="latin1")  # the book's file is a Python 2 pickle
        self.path = path
        # The globals are methods of another object: bound to the unpickler, they would sit in
        # its memo and tie it (and every string it read) into a reference cycle.
        self.builders = _Builders(budget)

    def find_class(self, module: str, name: str) -> Any:
        found = self.builders.allowed_global(module, name)
        if found is None:
            raise UnsafePickleError(self.path, f"{module}.{name}")
        return found


class _Builders:
    """The globals a pickle may name, each building only what its arguments hold."""

    def __init__(self, budget: _Budget) -> None:
        self.budget = budget
        self.array_type = type("_RebuiltArray", (_RebuiltArray,), {"budget": budget})

    def allowed_global(self, module: str, name: str) -> Callable[..., Any] | object | None:
        """The few globals needed to rebuild ndarrays from pickles of NumPy 1.x/2.x and Python
        2/3, or None. Legacy ``numpy.core`` names map to ``numpy._core`` on NumPy >= 2."""
        if module == "numpy" and name == "ndarray":
            return _NDARRAY
        if module == "numpy" and name == "dtype":
            return np.dtype
        if module == "_codecs" and name == "encode":
            return self.latin1_encode
        if module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return {"_reconstruct": self.reconstruct, "scalar": self.scalar}.get(name)
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return self.frombuffer
        return None

    def reconstruct(self, subtype: object, shape: object, dtype: object) -> np.ndarray:
        """The empty placeholder NumPy's pickles start from; only ``(ndarray, (0,), ...)``."""
        if subtype is not _NDARRAY or shape != (0,):
            raise pickle.UnpicklingError(
                f"_reconstruct({subtype!r}, {shape!r}) is not how NumPy pickles an array: "
                "only an empty ndarray that gets its data from a BUILD step is accepted"
            )
        return _multiarray._reconstruct(self.array_type, (0,), dtype)

    def frombuffer(self, buffer: object, dtype: object, shape: object, order: object, *rest: object):
        """A protocol-5 array: a view of bytes the pickle holds (NumPy checks the sizes)."""
        if not isinstance(buffer, (bytes, bytearray)):
            raise pickle.UnpicklingError(f"_frombuffer needs bytes, got {type(buffer).__name__}")
        return _numeric._frombuffer(buffer, dtype, shape, order, *rest).view(_SealedArray)

    def scalar(self, dtype: object, data: object = None) -> Any:
        if not isinstance(dtype, np.dtype):
            raise pickle.UnpicklingError(f"scalar needs a dtype, got {type(dtype).__name__}")
        self.budget.charge(dtype.itemsize, f"a scalar of {dtype}")
        return _multiarray.scalar(dtype) if data is None else _multiarray.scalar(dtype, data)

    def latin1_encode(self, text: object, encoding: object = "latin1") -> bytes:
        """The only use of ``_codecs.encode`` in a protocol-2 array pickle: str -> bytes."""
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
        self.budget.charge(len(text), "a byte string")
        return text.encode("latin1")


# ------------------------------------------------------------------- walking the opcodes
_OPCODES = {op.code.encode("latin1")[0]: op for op in pickletools.opcodes}
_COUNTED = {  # argument kinds whose length comes first: (bytes of the length, signed)
    pickletools.TAKEN_FROM_ARGUMENT1: (1, False),
    pickletools.TAKEN_FROM_ARGUMENT4: (4, True),
    pickletools.TAKEN_FROM_ARGUMENT4U: (4, False),
    pickletools.TAKEN_FROM_ARGUMENT8U: (8, False),
}
_TWO_LINES = ("GLOBAL", "INST")  # "module\nname\n"
_READ_AHEAD = 1 << 16
_TRAILING_SHOWN = 1 << 20


def _pickle_bytes(stream: ByteStream) -> bytes:
    """The pickle's bytes up to its STOP opcode, read without building anything: each length
    an opcode announces must be followed by that many bytes actually in the file, and nothing
    may follow STOP. Memory: the pickle's bytes, whatever the file announces."""
    file = stream.file
    buf = bytearray()

    def need(end: int) -> None:
        while len(buf) < end:
            piece = stream.read(max(end - len(buf), _READ_AHEAD))
            if not piece:
                raise CorruptDataError(
                    file,
                    f"not a valid pickle: truncated (an opcode needs {end} bytes, the file holds {len(buf)})",
                )
            buf.extend(piece)

    def line_end(start: int) -> int:
        while (found := buf.find(b"\n", start)) < 0:
            start = len(buf)
            need(len(buf) + 1)
        return found

    pos = 0
    while True:
        need(pos + 1)
        op = _OPCODES.get(buf[pos])
        if op is None:
            raise CorruptDataError(file, f"not a valid pickle: unknown opcode {buf[pos]:#04x} at byte {pos}")
        pos += 1
        if op.name == "STOP":
            break
        if op.arg is None:
            continue
        n = op.arg.n
        if n >= 0:
            pos += n
        elif n == pickletools.UP_TO_NEWLINE:
            for _ in range(2 if op.name in _TWO_LINES else 1):
                pos = line_end(pos) + 1
        else:
            width, signed = _COUNTED[n]
            need(pos + width)
            length = int.from_bytes(buf[pos : pos + width], "little", signed=signed)
            if length < 0:
                raise CorruptDataError(file, f"not a valid pickle: negative length at byte {pos}")
            pos += width + length
        need(pos)
    trailing = len(buf) - pos + stream.count_rest(_TRAILING_SHOWN)
    if trailing:
        count = f"{trailing}" if trailing <= _TRAILING_SHOWN else f"more than {_TRAILING_SHOWN}"
        raise CorruptDataError(file, f"{count} trailing bytes after the pickle's STOP opcode")
    return bytes(buf)


def load_mnist_pickle(path: str | os.PathLike[str], *, dtype: DTypeLike = np.float64) -> Split:
    """The book's ``mnist.pkl.gz`` as a :class:`Split` (images (n, 784) ``dtype``, labels int64).

    The file is a (gzipped) pickle of three ``(images, labels)`` pairs. It is read with an
    unpickler that only rebuilds NumPy arrays, each from bytes the file holds (see the module
    docstring), so a tampered file can neither run code (:class:`UnsafePickleError`) nor make
    matnet allocate more than it holds (:class:`CorruptDataError`). Shapes, dtypes and value
    ranges are validated.
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
        raw = _pickle_bytes(stream)
    budget = _Budget(file, 2 * len(raw) + (1 << 20))
    try:
        content = _ArrayUnpickler(io.BytesIO(raw), file, budget).load()
    except (DataError, MemoryError):
        raise
    except Exception as error:  # a corrupt pickle can raise almost anything
        raise CorruptDataError(file, f"not a valid pickle: {type(error).__name__}: {error}") from None
    del raw
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
    return freeze(result)


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
        for kind, array in (("images", images), ("labels", labels)):
            if isinstance(array, _RebuiltArray) and not array.filled:
                raise CorruptDataError(file, f"{part_name} {kind}: an array without data (no BUILD step)")
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
