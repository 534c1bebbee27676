"""``njit`` with numba's on-disk cache where a writable cache folder exists, without it elsewhere.

numba looks for a cache folder ($NUMBA_CACHE_DIR, the package's __pycache__, then the user's
cache folder) when a ``cache=True`` function is *defined*, and raises RuntimeError at import
time when none is writable — e.g. a read-only install run by a user without a home folder.
Such a user should get a working matnet that compiles on every start, not an ImportError.
"""

from __future__ import annotations

import logging

from numba import njit

log = logging.getLogger(__name__)


def cached_njit(fn=None, **options):
    """``numba.njit(cache=True, **options)``, falling back to no cache when none can be written."""

    def decorate(function):
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            log.debug("numba cache unavailable for %s (%s); compiling without it", function.__name__, exc)
            return njit(**options)(function)

    return decorate if fn is None else decorate(fn)
