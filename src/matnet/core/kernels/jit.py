"""How matnet compiles: numba's disk cache in a folder of its own, and register-blocked kernels.

**The cache.** ``cached_njit`` is ``numba.njit(cache=True)`` with the cache in a folder named
by a hash of the source of all of ``matnet.core`` (``CACHE_DIR``). numba keys a cached kernel
on its own file and bytecode only, and every fused kernel inlines helpers from other modules:
in a shared folder, a kernel would be loaded stale after a helper changed. A new source is a
new folder, so nothing compiled from other sources is ever found. numba reads where to cache
from its public configuration (``numba.config.CACHE_DIR``, which ``NUMBA_CACHE_DIR`` sets)
when a function is decorated; matnet sets it for its own decorations only, to
``numba-<hash>`` in ``$NUMBA_CACHE_DIR/matnet`` if that is set, else in the user's cache
folder (``~/.cache/matnet``), and keeps the four most recent such folders. Where none can be
written (a read-only home, say), matnet compiles on every start instead of failing to import.
A damaged cache file (cut short by a full disk or a kill, emptied, overwritten) makes numba's
load fail with whatever unpickling it raises: :func:`recompiles` (in ``compile_for``, and
around the kernels called straight from Python) then clears the folder, says so in one line
on stderr, and compiles afresh, once.

**Blocked kernels.** ``blocked_njit`` is for the hot kernels, written as fixed-width blocks of
``BLOCK`` lanes held in ``local_array`` scratch (``matnet.core.kernels.machine``): a block of
32 float64 is 8 AVX2 (or 4 AVX-512) registers, and an inner loop such as
``acc[c] += v * row[c]`` over a whole block then runs with the accumulator in registers instead
of going through memory on every step. Three things make that happen:

- LLVM's SLP vectorizer packs the unrolled block into vector instructions (without it the
  fused epoch is 2.5–4x slower, measured). numba turns it off by default (numba PR #8852, after
  miscompilations in unrelated integer code), and has no per-function switch. So the backend
  compiles each blocked kernel itself, before its first call, through :func:`compile_for`,
  which switches numba's public ``SLP_VECTORIZE`` setting on for that compile only (under
  numba's compiler lock, so no other compile sees it); the kernels are tested against the
  per-example oracle.
- ``fastmath={"contract"}``: ``a * b + c`` may be one fused multiply-add, rounded once, as
  BLAS's own kernels do. No reassociation, no assumptions about NaN or infinity.
- ``error_model="numpy"``: a division is a division, as in NumPy, without Python's check for a
  zero divisor, whose exception path would stop a loop from vectorizing.

This module imports numba: only compiled code imports it (see ``matnet.core.backend``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import llvmlite.binding
import numba
from numba import njit

try:  # serializes numba's compiles; without it, another thread could compile with SLP on too
    from numba.core.compiler_lock import global_compiler_lock as _compiling
except ImportError:  # pragma: no cover - a numba that moved it
    _compiling = contextlib.nullcontext()

log = logging.getLogger(__name__)

T = TypeVar("T")
BLOCK = 32  # lanes of a register block (see the module docstring)
KEEP = 4  # cache folders of other matnet sources kept beside this one's


def _sources_digest() -> str:
    """sha256 of every module's source in matnet.core, where all compiled code lives."""
    core = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(core.rglob("*.py")):
        digest.update(path.relative_to(core).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_root() -> Path:
    """``$NUMBA_CACHE_DIR/matnet`` when that is set, else the user's ``~/.cache/matnet``."""
    if numba.config.CACHE_DIR:
        return Path(numba.config.CACHE_DIR) / "matnet"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "matnet"


def _writable_cache_dir() -> Path | None:
    """This source's cache folder, made if needed and tested for writing; None if it cannot be."""
    folder = _cache_root() / f"numba-{_sources_digest()[:16]}"
    try:
        new = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        log.debug("numba cache folder %s cannot be written (%s); compiling without a cache", folder, exc)
        return None
    if new:
        _forget_old(folder)
    return folder


def _forget_old(folder: Path) -> None:
    """Remove the cache folders of other matnet sources beside ``folder``, but the KEEP newest."""
    try:
        others = sorted((p for p in folder.parent.glob("numba-*") if p != folder and p.is_dir()),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in others[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


CACHE_DIR = _writable_cache_dir()


@contextlib.contextmanager
def _caching_in(folder: Path) -> Iterator[None]:
    before = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(folder)
    try:
        yield
    finally:
        numba.config.CACHE_DIR = before


def cached_njit(fn=None, **options):
    """``numba.njit(cache=True, **options)`` caching in ``CACHE_DIR``; without a cache when
    there is none."""

    def decorate(function):
        if CACHE_DIR is None:
            return njit(**options)(function)
        try:
            with _caching_in(CACHE_DIR):
                return njit(cache=True, **options)(function)
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            log.debug("numba cache unavailable for %s (%s); compiling without it", function.__name__, exc)
            return njit(**options)(function)

    return decorate if fn is None else decorate(fn)


def blocked_njit(fn=None, **options):
    """``cached_njit`` with FMA contraction and NumPy's division; compile the kernels called
    from Python with :func:`compile_for`, which turns LLVM's SLP vectorizer on."""
    return cached_njit(fn, fastmath={"contract"}, error_model="numpy", **options)


def _from_the_cache(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it was raised from or while handling, was raised in
    numba's cache module: reading a cache file, not compiling or running a kernel."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if any(frame.f_globals.get("__name__") == "numba.core.caching"
               for frame, _ in traceback.walk_tb(exc.__traceback__)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _clear_damaged_cache(exc: BaseException) -> None:
    """Empty ``CACHE_DIR`` after ``exc`` came out of a damaged file in it; say so in one line."""
    reason = (str(exc).splitlines() or [""])[0]
    print(f"matnet: a file in numba's cache {CACHE_DIR} is damaged ({type(exc).__name__}: {reason}); "
          "cleared the folder, compiling afresh", file=sys.stderr, flush=True)
    shutil.rmtree(CACHE_DIR, ignore_errors=True)
    with contextlib.suppress(OSError):  # numba makes the folders it saves to, in any case
        CACHE_DIR.mkdir(parents=True, exist_ok=True)


def recompiles(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` (Python that calls or compiles kernels), which, if a kernel compiled inside
    it finds a damaged file in numba's cache, clears the cache (one line on stderr) and runs
    once more, compiling afresh. A failed load happens before a kernel runs: the call is simply
    made again."""

    @functools.wraps(function)
    def call(*args, **kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            if CACHE_DIR is None or not _from_the_cache(exc):
                raise
            _clear_damaged_cache(exc)
        return function(*args, **kwargs)

    return call


def compile_for(kernel, *args) -> None:
    """Compile ``kernel`` (a ``blocked_njit`` dispatcher) for the types of ``args``, with the
    SLP vectorizer on, unless it has been (or its disk cache has it); the kernels it inlines
    are compiled into it. A no-op when the JIT is disabled (``kernel`` is a Python function).
    Leaves the marker that :func:`is_cached` looks for."""
    if not hasattr(kernel, "compile"):
        return
    signature = tuple(numba.typeof(a) for a in args)
    with _compiling:
        before = numba.config.SLP_VECTORIZE
        numba.config.SLP_VECTORIZE = 1
        try:
            recompiles(kernel.compile)(signature)
        finally:
            numba.config.SLP_VECTORIZE = before
    marker = _marker(kernel, signature)
    if marker is not None and not marker.exists():
        with contextlib.suppress(OSError):
            marker.parent.mkdir(exist_ok=True)
            marker.touch()


# ---------------------------------------------------------------- what a first run will compile
# numba has no public way to ask whether its disk cache holds a kernel for given types before
# loading it, and loading is the compile when it does not. So ``compile_for`` leaves a marker
# of its own in CACHE_DIR for each (kernel, source file, argument types, CPU) it compiled or
# loaded: no marker, no cached kernel (a new install, a new matnet source or checkout, another
# CPU), and the caller can say at once that compiling starts. The seconds a first compile
# took are kept beside the cache folders (they outlive a new source's folder), to say how long
# the next one will take.


def _marker(kernel, signature: tuple) -> Path | None:
    if CACHE_DIR is None:
        return None
    cpu = numba.config.CPU_NAME or llvmlite.binding.get_host_cpu_name()
    # numba files a cached kernel under its source file's path too: another checkout of the
    # same source shares this folder but not numba's entries
    where = kernel.py_func.__code__.co_filename
    key = hashlib.sha256(f"{kernel.py_func.__qualname__}|{where}|{signature}|{cpu}".encode()).hexdigest()[:20]
    return CACHE_DIR / "compiled" / f"{kernel.py_func.__name__}-{key}"


def is_cached(kernel, *args) -> bool:
    """Whether ``compile_for(kernel, *args)`` will find the kernel compiled: in this process,
    in numba's disk cache (by the marker ``compile_for`` left), or because the JIT is off."""
    if not hasattr(kernel, "compile"):
        return True
    signature = tuple(numba.typeof(a) for a in args)
    if signature in kernel.signatures:
        return True
    marker = _marker(kernel, signature)
    return marker is not None and marker.exists()


_SECONDS_FILE = "first-compile-seconds.json"


def first_compile_seconds(kind: str) -> float | None:
    """The seconds the last first compile of ``kind`` took on this machine, if one was timed."""
    try:
        recorded = json.loads((_cache_root() / _SECONDS_FILE).read_text())
        seconds = recorded[kind]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds > 0 else None


def record_first_compile(kind: str, seconds: float) -> None:
    """Keep ``seconds`` as the time a first compile of ``kind`` takes here (atomically; a
    cache that cannot be written keeps nothing)."""
    path = _cache_root() / _SECONDS_FILE
    try:
        recorded = json.loads(path.read_text())
        if not isinstance(recorded, dict):
            recorded = {}
    except (OSError, ValueError):
        recorded = {}
    recorded[kind] = round(seconds, 2)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as file:
            json.dump(recorded, file)
        os.replace(file.name, path)
    except OSError as exc:
        log.debug("first compile time not kept in %s (%s)", path, exc)
        with contextlib.suppress(OSError, NameError):
            os.unlink(file.name)
