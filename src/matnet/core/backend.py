"""The one contract every way of computing a network implements, and how one is chosen.

A :class:`Backend` holds a network's parameters, in the book's layout, and computes with them:

``numba``  the fused compiled path (``matnet.core.fused``): a whole epoch, an evaluation, one
           column, each one compiled call on one core. Sigmoid neurons only.
``numpy``  the whole-batch engine (``matnet.core.engine``): chapter 2's matrix form, BLAS on
           one thread, with the NumPy (or, for ``kernels="numba"``, numba) elementwise kernels.
``loop``   the book's per-example algorithm (``matnet.core.loop``): the correctness oracle.
``auto``   ``numba`` where numba compiles; else ``numpy``, with one warning when numba cannot
           be imported (under NUMBA_DISABLE_JIT=1 the fused code would run as interpreted
           Python, far slower than NumPy, so ``auto`` picks ``numpy`` silently, and an explicit
           ``numba`` warns once per process). A network of other neurons than the sigmoid,
           which the compiled path does not have, or deeper than ``MAX_COMPILED_DEPTH``
           layers of weights, is computed by ``numpy`` under ``auto``.

Every backend reads its maths from ``matnet.core.maths`` through the :class:`Spec` it is
built for, and none inherits from another. A call goes: ``inputs`` turns an (N, n_0) matrix
into what the backend computes on (once per ``SGD`` or ``evaluate`` call: the CSR rows for
``numba``, the matrix in the network's dtype for the others); then ``train``,
``count_correct`` and ``outputs`` take rows of it by index. This module imports numba only
when the compiled backend is made.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from matnet.core.kernels import jit_enabled, numba_importable
from matnet.core.maths import UpdateRule
from matnet.core.spec import Gradient, Spec
from matnet.errors import BackendUnavailableError, InterpretedNumbaWarning, NumbaUnavailableWarning

BACKENDS = ("auto", "numba", "numpy", "loop")
# Layers of weights the compiled path takes. Its kernels hold a network's layers in tuples,
# and numba compiles each access to one as a branch per layer: compile time grows with depth
# (100 layers: minutes; 1,000: numba refuses). Past this, ``auto`` picks ``numpy``.
MAX_COMPILED_DEPTH = 16


class Backend(Protocol):
    """A network's parameters and the five ways it computes with them.

    ``weights[l]`` (n_{l+1}, n_l) and ``biases[l]`` (n_{l+1}, 1) are the arrays the backend
    computes on (for ``numba``, views of its padded buffers): the network keeps its user's
    lists holding them, and copies into them an array its user puts in their place.
    """

    name: str
    weights: list[np.ndarray]
    biases: list[np.ndarray]

    def prepare(self, batch_size: int, *, outputs: bool = False,
                announce: Callable[[float | None], None] | None = None) -> float:
        """Compile (or load from the disk cache) what training at this batch size and
        evaluation (and, with ``outputs``, the outputs of many examples) will run, so that no
        timed epoch pays for it; the seconds it took. Before compiling anything that the disk
        cache does not hold, call ``announce`` with the seconds such a compile last took here
        (None if unknown), so that the user hears at once why the wait."""

    def inputs(self, matrix: np.ndarray, name: str) -> Any:
        """The (N, n_0) ``matrix`` in the form this backend computes on, its values checked
        (ValueError naming the first NaN, infinity, or value beyond the network's dtype)."""

    def train(self, inputs: Any, targets: np.ndarray, x_rows: np.ndarray, y_rows: np.ndarray,
              batch_size: int, rule: UpdateRule, check_finite: bool) -> int:
        """Mini-batch SGD over examples p = 0, 1, …: input row x_rows[p] of ``inputs``, desired
        output row y_rows[p] of ``targets`` (M, n_L) in the network's dtype; batch j is examples
        j·m … (j+1)·m − 1. Returns the mini-batches applied: with ``check_finite``, it stops
        before applying the first one whose gradient is not finite."""

    def count_correct(self, inputs: Any, rows: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
        """(correct, not finite): of examples rows[p] with labels[p], how many have their largest
        output at the label, and how many have an output that is not finite."""

    def outputs(self, inputs: Any, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """(the output activations (len(rows), n_L), how many are not finite)."""

    def feedforward(self, columns: np.ndarray) -> tuple[np.ndarray, int, int]:
        """(outputs (n_L, k), flat index r·k + c of the first input that is not finite in the
        network's dtype or −1, how many outputs are not finite) for the columns of (n_0, k)."""

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Gradient:
        """(nabla_b, nabla_w) of one example's cost: x (n_0, 1), y (n_L, 1), finite, in the
        network's dtype."""


_warned = False


def numba_problem() -> str | None:
    """None when numba imports; else why not, in a few words: not installed, or installed but
    failing to import (e.g. a numba built for another NumPy)."""
    try:
        if not numba_importable():
            return "numba is not installed"
        import numba  # noqa: F401
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == "numba":
            return "numba is not installed"
        reason = str(exc).strip().splitlines()
        return f"numba cannot be imported ({reason[0] if reason else type(exc).__name__})"
    return None


def resolve(name: str, spec: Spec) -> str:
    """The backend ``name`` (one of BACKENDS) stands for with this spec: ``auto`` becomes
    ``numba`` or ``numpy`` (warning once per process when numba cannot be imported);
    ValueError for a name that is none of them or a compiled path that cannot serve ``spec``."""
    global _warned
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if not spec.sigmoids_only:
        if name == "numba":
            kinds = sorted({a.name for a in spec.neurons if a.name != "sigmoid"})
            raise ValueError(f"backend 'numba' computes sigmoid neurons only, not {', '.join(kinds)}: "
                             "use backend='numpy' or 'loop' (or 'auto', which picks 'numpy')")
        return "numpy" if name == "auto" else name
    depth = len(spec.sizes) - 1
    if depth > MAX_COMPILED_DEPTH:
        if name == "numba":
            raise ValueError(f"backend 'numba' compiles networks of up to {MAX_COMPILED_DEPTH} layers of "
                             f"weights, not {depth}: use backend='numpy' (or 'auto', which picks it)")
        return "numpy" if name == "auto" else name
    if name != "auto":
        return name
    problem = numba_problem()
    if problem is None:
        return "numba" if jit_enabled() else "numpy"
    if not _warned:
        warnings.warn(f"{problem}: matnet runs on its NumPy engine, several times slower "
                      "(pip install numba)", NumbaUnavailableWarning, stacklevel=4)
        _warned = True
    return "numpy"


_warned_interpreted = False


def _warn_if_interpreted() -> None:
    """Warn, once per process, that the compiled path will run interpreted (NUMBA_DISABLE_JIT=1)."""
    global _warned_interpreted
    if _warned_interpreted or jit_enabled():
        return
    _warned_interpreted = True
    warnings.warn("backend 'numba' runs as interpreted Python with NUMBA_DISABLE_JIT=1, minutes per "
                  "epoch: unset NUMBA_DISABLE_JIT, or pass backend='numpy' (or 'auto', which picks it)",
                  InterpretedNumbaWarning, stacklevel=4)


def make_backend(name: str, spec: Spec) -> Backend:
    """A fresh backend for ``name`` (one of BACKENDS) computing ``spec``, its parameters zero.
    ``numba`` without a working numba is a BackendUnavailableError (an ImportError) that says
    what to do."""
    name = resolve(name, spec)
    if name == "numba":
        problem = numba_problem()
        if problem is not None:
            raise BackendUnavailableError(f"backend 'numba' needs numba, but {problem}: pip install "
                                          "numba, or pass backend='numpy'")
        _warn_if_interpreted()
        from matnet.core.fused_backend import FusedBackend

        return FusedBackend(spec)
    if name == "numpy":
        from matnet.core.engine import EngineBackend

        return EngineBackend(spec)
    from matnet.core.loop import LoopBackend

    return LoopBackend(spec)
