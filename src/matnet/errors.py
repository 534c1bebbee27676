"""matnet's exception types: one family per kind of problem, each with an actionable message."""

from __future__ import annotations


class MatnetError(Exception):
    """Base class of every exception matnet raises on purpose."""


class DataError(MatnetError):
    """A dataset file is missing, unreadable, corrupt or fails its checksum.

    ``path`` names the file (or folder) concerned, ``reason`` says what is wrong with it.
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class DivergenceError(MatnetError, FloatingPointError):
    """Training produced non-finite weights or activations (e.g. a too-large learning rate)."""


class TrainingDataChangedError(MatnetError, RuntimeError):
    """A callback added, removed or replaced pairs of the list ``SGD`` was training on: SGD
    stops at once, before its end-of-call shuffle of the list could lose or misplace any."""


class ModelFileError(MatnetError, ValueError):
    """A saved-network file is missing, truncated, tampered with or of an unknown format."""


class BackendUnavailableError(MatnetError, ImportError):
    """The backend asked for cannot run here (``backend="numba"`` without a working numba)."""


class UsageError(MatnetError, ValueError):
    """A command-line request that cannot work as given (layer sizes that do not fit the data,
    an output path that cannot be written): the command stops before doing any work."""


class MissingDataError(DataError):
    """A dataset file or folder does not exist where matnet looked for it."""


class CorruptDataError(DataError):
    """A dataset file exists but is malformed: bad gzip, truncated, bad header, bad values."""


class ChecksumError(CorruptDataError):
    """A well-formed dataset file whose decompressed bytes have the wrong SHA-256.

    ``expected`` and ``actual`` hold the two hex digests.
    """

    def __init__(self, path: object, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(path, f"checksum mismatch: expected sha256 {expected}, found sha256 {actual}")


class UnsafePickleError(CorruptDataError):
    """A pickle asked for a global outside the small allow-list needed to rebuild arrays.

    ``name`` is the refused ``module.qualname``; nothing of it was imported or called.
    """

    def __init__(self, path: object, name: str) -> None:
        self.name = name
        super().__init__(
            path,
            f"refused to load the pickle: it asks for the global {name!r}, which is not one of "
            "the NumPy array constructors a dataset pickle needs (the file may be malicious)",
        )


class DownloadError(DataError):
    """Every mirror failed for a dataset file; nothing partial was left behind.

    ``failures`` lists ``(url, reason)`` for each attempt.
    """

    def __init__(self, path: object, reason: str, failures: tuple[tuple[str, str], ...] = ()) -> None:
        self.failures = failures
        super().__init__(path, reason)


class MatnetWarning(UserWarning):
    """Base class of every warning matnet issues: the command line shows each as one line."""


class NumbaUnavailableWarning(MatnetWarning, RuntimeWarning):
    """numba cannot be imported, so ``backend="auto"`` computes on the NumPy engine, slower."""


class InterpretedNumbaWarning(MatnetWarning, RuntimeWarning):
    """``backend="numba"`` with the JIT switched off (NUMBA_DISABLE_JIT=1): the compiled path
    runs as interpreted Python, minutes per epoch where it takes a tenth of a second."""
