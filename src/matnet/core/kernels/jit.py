"""How matnet compiles: numba's disk cache where it can write one, and register-blocked kernels.

``cached_njit`` is ``numba.njit(cache=True)``, with every cache entry keyed on the source of
all of ``matnet.core`` (``SOURCES``): numba keys an entry on the function's own file and
bytecode only, so a kernel that inlines a helper from another module (every fused kernel
does) would otherwise be loaded, stale, after that helper changed. numba looks for a cache folder
($NUMBA_CACHE_DIR, the package's __pycache__, then the user's cache folder) when a
``cache=True`` function is *defined*, and raises RuntimeError at import time when none is
writable — e.g. a read-only install run by a user without a home folder. Such a user gets a
working matnet that compiles on every start, not an ImportError.

``blocked_njit`` is for the hot kernels, written as fixed-width blocks of ``BLOCK`` lanes held
in ``local_array`` scratch (``matnet.core.kernels.machine``): a block of 32 float64 is 8 AVX2
(or 4 AVX-512) registers, and an inner loop such as ``acc[c] += v * row[c]`` over a whole
block then runs with the accumulator in registers instead of going through memory on every
step (~1.6x on the first layer). Two things make that happen, both scoped to these kernels:

- LLVM's SLP vectorizer, which packs the unrolled block into vector instructions. numba turns
  it off by default (numba PR #8852, after miscompilations in unrelated integer code); it is
  switched on only while a ``blocked_njit`` kernel compiles, and the kernels are tested against
  the per-example oracle.
- ``fastmath={"contract"}``: ``a * b + c`` may be one fused multiply-add, rounded once, as
  BLAS's own kernels do. No reassociation, no assumptions about NaN or infinity.
- ``error_model="numpy"``: a division is a division, as in NumPy, without Python's check for a
  zero divisor, whose exception path would stop a loop from vectorizing.

This module imports numba: only compiled code imports it (see ``matnet.core.backends``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

from numba import config, njit
from numba.core.compiler_lock import global_compiler_lock

log = logging.getLogger(__name__)

BLOCK = 32  # lanes of a register block (see the module docstring)


def _sources_digest() -> str:
    """sha256 of every module's source in matnet.core, where all compiled code lives."""
    core = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(core.rglob("*.py")):
        digest.update(path.relative_to(core).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


SOURCES = _sources_digest()


def _key_on_sources(dispatcher) -> None:
    """Make ``dispatcher``'s cache entries also carry ``SOURCES``, so an entry compiled from
    other versions of the modules it inlines is never loaded (numba's own key: the
    signature, the CPU, the function's bytecode)."""
    cache = getattr(dispatcher, "_cache", None)
    index_key = getattr(cache, "_index_key", None)
    if index_key is None:  # no cache, or a numba without this hook: numba's own key
        return

    def keyed(sig, codegen):
        return index_key(sig, codegen), SOURCES

    cache._index_key = keyed


def cached_njit(fn=None, **options):
    """``numba.njit(cache=True, **options)``, keyed on ``SOURCES``; falling back to no cache
    when none can be written."""

    def decorate(function):
        try:
            dispatcher = njit(cache=True, **options)(function)
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            log.debug("numba cache unavailable for %s (%s); compiling without it", function.__name__, exc)
            return njit(**options)(function)
        _key_on_sources(dispatcher)
        return dispatcher

    return decorate if fn is None else decorate(fn)


def blocked_njit(fn=None, **options):
    """``cached_njit`` with FMA contraction, compiled with LLVM's SLP vectorizer on."""

    def decorate(function):
        dispatcher = cached_njit(fastmath={"contract"}, error_model="numpy", **options)(function)
        compile_ = getattr(dispatcher, "compile", None)
        if compile_ is None:  # NUMBA_DISABLE_JIT=1: a plain Python function
            return dispatcher

        @functools.wraps(compile_)
        def compile_vectorized(sig):
            with global_compiler_lock:  # config is global: no other compile sees the switch
                before = config.SLP_VECTORIZE
                config.SLP_VECTORIZE = 1
                try:
                    return compile_(sig)
                finally:
                    config.SLP_VECTORIZE = before

        # Every compile of this dispatcher goes through its ``compile`` method, whether it is
        # called from Python or typed from another compiled function.
        dispatcher.compile = compile_vectorized
        return dispatcher

    return decorate if fn is None else decorate(fn)
