"""One BLAS thread inside matnet's own matrix products.

On a machine whose other cores are busy — shared machines, CI runners, a notebook beside a
browser — multi-threaded OpenBLAS on the small products of a mini-batch waits for threads
that cannot run: measured here, an engine epoch went from 0.21 s to 12 s with one other
process spinning. matnet's products are small enough that one thread is never much slower,
so its dense paths run them on one thread, and put the caller's setting back afterwards.

The switch costs ~3 µs (threadpoolctl's controller, found once per process); without
threadpoolctl nothing is limited. Other threads of the caller's program that use NumPy
during such a call see one BLAS thread too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_controllers: list | None = None


def _blas_controllers() -> list:
    global _controllers
    with _lock:
        if _controllers is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                _controllers = []
            else:
                _controllers = [lib for lib in ThreadpoolController().lib_controllers
                                if lib.user_api == "blas"]
        return _controllers


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with every BLAS library limited to one thread."""
    libraries = _blas_controllers()
    before = [lib.num_threads for lib in libraries]
    for lib, threads in zip(libraries, before):
        if threads != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in zip(libraries, before):
            if threads != 1:
                lib.set_num_threads(threads)
