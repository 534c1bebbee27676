"""The compiled path as a :class:`~matnet.core.backend.Backend`: its buffers, and the parameters in them.

Buffers (padded transposed weights, gradients, activations; see ``matnet.core.fused``) are
allocated once per network and reused across calls. The parameters live in them:
``weights[l]`` (n_{l+1}, n_l) and ``biases[l]`` (n_{l+1}, 1) are views of the padded buffers
in the book's shapes, so a call copies nothing, and an edit through a view is an edit of the
buffer.

Each kernel is compiled (or loaded from numba's disk cache) for this network's argument types
before its first call, with ``kernels.jit.compile_for`` (the SLP vectorizer on): the arguments
are made in one form only — index arrays and data read-only, buffers aligned — so a kernel
is never compiled a second time at call time, without it. ``prepare`` compiles what training
at a batch size and evaluation will run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from matnet.core import compile_beside
from matnet.core.fused import SUB_BATCH, WHOLE_BATCH, chunk_rows, epoch, epoch_in_sub_batches
from matnet.core.fused_column import gradient_of_column, outputs_of_columns
from matnet.core.fused_layers import padded
from matnet.core.fused_predict import count_correct, outputs_of_rows
from matnet.core.kernels.compiled import cost_code
from matnet.core.kernels.jit import BLOCK, compile_for, first_compile_seconds, is_cached, record_first_compile
from matnet.core.kernels.machine import aligned_zeros
from matnet.core.maths import UpdateRule
from matnet.core.shuffle import book_permutation
from matnet.core.sparse import SparseRows, sparse_rows
from matnet.core.spec import Gradient, Spec

PREDICT_CHUNK = 64  # examples whose activations evaluation holds at once
FEW_COLUMNS = 64  # feedforward of up to this many columns runs on the columns as given


def read_only(a: np.ndarray) -> np.ndarray:
    """``a``, or a read-only view of it: numba compiles a kernel apart for read-only and
    writable arrays, so the kernels always get read-only data and are compiled once."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def _indices(rows: np.ndarray) -> np.ndarray:
    """Row indices as the kernels take them: read-only, contiguous int64."""
    return read_only(np.ascontiguousarray(rows, np.int64))


class FusedBackend:
    """The fused compiled path for one network: training, evaluation, one column."""

    name = "numba"

    def __init__(self, spec: Spec):
        if not spec.sigmoids_only:
            raise ValueError("the compiled path computes sigmoid neurons only")
        self.spec = spec
        self.dtype = dtype = spec.dtype
        sizes = spec.sizes
        ins, outs = sizes[:-1], sizes[1:]
        blocks = [padded(n) // BLOCK for n in outs]
        self._sizes = np.array(sizes, np.int64)
        self._cost = cost_code(spec.cost)
        self._one = dtype.type(1)
        # The sigmoid's flush-to-zero bound: an activation below a third of the dtype's
        # exponent range (σ(z) < e^−29 in float32, e^−236 in float64) is 0, so that a product
        # of three activation-sized factors — a nearly-off output neuron's error (a − y)·σ′,
        # times σ′ of the layer before — stays a normal number. A subnormal operand or result
        # costs x86 a microcode assist of ~100 cycles: without this, a float32 epoch at m = 1
        # (whose weights grow until neurons saturate) took 2.5x its time with flushed
        # subnormals (the CPU's FTZ/DAZ flags), at the same accuracy. The value lost is below
        # the dtype's resolution of anything it is added to.
        self._flush = float(np.log(np.finfo(dtype).tiny) / 3)
        self._limit = float(np.finfo(dtype).max)
        zeros = self._zeros
        self.wts = tuple(zeros((n_in, nb, BLOCK)) for n_in, nb in zip(ins, blocks))
        # The book-layout copies BP2 reads (layers after the first), padded like the
        # activations they multiply; index 0 is a placeholder, as layer 1 needs none.
        self.wbs = (zeros((1, 1, BLOCK)), *(zeros((n, nb, BLOCK)) for n, nb in zip(outs[1:], blocks)))
        self.bs = tuple(zeros((nb, BLOCK)) for nb in blocks)
        self.weights = [self._wide(self.wts[layer])[:, :n].T for layer, n in enumerate(outs)]
        self.biases = [self.bs[layer].reshape(-1)[:n].reshape(n, 1) for layer, n in enumerate(outs)]
        self.gwts = tuple(zeros(w.shape) for w in self.wts)  # weight gradients, one batch
        self.gbs = tuple(zeros(b.shape) for b in self.bs)
        self.acts = tuple(zeros((1, *b.shape)) for b in self.bs)
        self.deltas = tuple(zeros((1, *b.shape)) for b in self.bs)
        self.hit = np.zeros(sizes[0], np.uint8)  # first-layer rows a batch touched
        self.cursor = np.zeros(1, np.int64)  # per example of a batch: where its sweep is
        self.chunk = chunk_rows(blocks[0] * BLOCK, dtype)
        self._predict_acts = tuple(zeros((PREDICT_CHUNK, *b.shape)) for b in self.bs)
        # One column's work space: its span [0, count] as a one-row CSR matrix, its non-zero
        # inputs' positions and values.
        self._span = np.zeros(2, np.int64)
        self._positions = np.zeros(sizes[0], np.int64)
        self._values = np.zeros(sizes[0], dtype)
        self._compiled: set[str] = set()

    def _zeros(self, shape) -> np.ndarray:
        return aligned_zeros(shape, self.dtype)

    @staticmethod
    def _wide(a: np.ndarray) -> np.ndarray:
        """A (rows, blocks, BLOCK) buffer seen as a 2-D (rows, padded width) matrix."""
        return a.reshape(a.shape[0], -1)

    def _run(self, name: str, kernel, *args):
        """``kernel(*args)``, compiled for these argument types first if this network has
        not run it yet."""
        if name not in self._compiled:
            compile_for(kernel, *args)
            self._compiled.add(name)
        return kernel(*args)

    # ------------------------------------------------------------------------ the contract
    def prepare(self, batch_size: int, *, outputs: bool = False,
                announce: Callable[[float | None], None] | None = None) -> float:
        """Compile what training at ``batch_size`` runs (the epoch kernel of its size class),
        evaluation, and (``outputs``) the outputs of many examples; the seconds it took. When
        something must be compiled rather than loaded from the disk cache, ``announce`` is
        called first, with the seconds the last such compile took here (None if never timed)."""
        compiled = self._compiled
        epoch = "epoch" if batch_size <= WHOLE_BATCH else "epoch_in_sub_batches"
        if epoch in compiled and "count_correct" in compiled and (not outputs or "outputs" in compiled):
            return 0.0  # the common case, in a fraction of a microsecond: update_mini_batch calls this
        started = time.perf_counter()
        calls = self._calls_to_compile(batch_size, outputs)
        kind = "+".join(name for name, _, _ in calls)
        uncached = [name for name, kernel, args in calls if not is_cached(kernel, *args)]
        cold = bool(uncached)
        if cold and announce is not None:
            announce(first_compile_seconds(kind))
        child = None
        if uncached and uncached[0] == epoch and len(uncached) > 1:  # the others beside the epoch
            child = compile_beside.start(self.spec, batch_size, [*uncached[1:], "helpers"])
        try:
            for name, kernel, args in calls:
                if name != epoch:
                    compile_beside.finish(child)  # then load what it compiled
                compile_for(kernel, *args)
                compiled.add(name)
        except BaseException:  # an interrupt or a failure: nothing to wait for
            compile_beside.stop(child)
            raise
        compile_beside.finish(child)
        self.inputs(np.zeros((1, self.spec.sizes[0]), self.dtype), "inputs")  # the CSR kernels
        seconds = time.perf_counter() - started
        if cold:
            record_first_compile(kind, seconds)
        return seconds

    def compile_only(self, batch_size: int, names: list[str]) -> None:
        """Compile the kernels ``names`` of ``prepare`` ("helpers": the CSR conversion's and the
        book's shuffle, which every training call runs), for a process compiling beside the one
        that will run them (``matnet.core.compile_beside``)."""
        for name, kernel, args in self._calls_to_compile(batch_size, "outputs" in names):
            if name in names:
                compile_for(kernel, *args)
                self._compiled.add(name)
        if "helpers" in names:
            self.inputs(np.zeros((1, self.spec.sizes[0]), self.dtype), "inputs")
            book_permutation(2, random.Random(0))

    def _calls_to_compile(self, batch_size: int, outputs: bool) -> list[tuple[str, Callable, tuple]]:
        """(name, kernel, arguments of this network's types) of each kernel ``prepare`` compiles
        that this network has not: on one example with no non-zero input."""
        tiny = SparseRows(np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0, self.dtype),
                          self.spec.sizes[0])
        targets = np.zeros((1, self.spec.sizes[-1]), self.dtype)
        none = np.zeros(0, np.int64)
        calls = [self._epoch_call(tiny, targets, none, none, batch_size, UpdateRule(1.0), True),
                 ("count_correct", count_correct, self._count_args(tiny, none, none))]
        if outputs:
            calls.append(("outputs", outputs_of_rows, self._outputs_args(tiny, none)[0]))
        return [call for call in calls if call[0] not in self._compiled]

    def inputs(self, matrix: np.ndarray, name: str) -> SparseRows:
        return sparse_rows(matrix, self.dtype, name)

    def train(self, inputs: SparseRows, targets, x_rows, y_rows, batch_size, rule: UpdateRule,
              check_finite: bool) -> int:
        """One epoch, or a batch-aligned slice of one (see the Protocol). A batch larger than the
        data is all of it; one of more than WHOLE_BATCH examples is trained in sub-batches."""
        batch_size = min(batch_size, max(1, x_rows.shape[0]))
        self._refresh_book_copies()
        name, kernel, args = self._epoch_call(inputs, targets, x_rows, y_rows, batch_size, rule, check_finite)
        return self._run(name, kernel, *args)

    def count_correct(self, inputs: SparseRows, rows, labels) -> tuple[int, int]:
        return self._run("count_correct", count_correct, *self._count_args(inputs, rows, labels))

    def outputs(self, inputs: SparseRows, rows) -> tuple[np.ndarray, int]:
        args, out = self._outputs_args(inputs, rows)
        bad = self._run("outputs", outputs_of_rows, *args)
        return out, bad

    def feedforward(self, columns: np.ndarray) -> tuple[np.ndarray, int, int]:
        """The columns' outputs one column at a time, on the columns as given (up to
        FEW_COLUMNS), or through their CSR form: the same numbers either way."""
        if columns.shape[1] > FEW_COLUMNS:
            try:
                rows = sparse_rows(columns.T, self.dtype)
            except ValueError:  # a bad input: let the column kernel find and report it
                pass
            else:
                out, bad = self.outputs(rows, np.arange(columns.shape[1]))
                return np.ascontiguousarray(out.T), -1, bad
        if columns.dtype != self.dtype or not columns.flags.c_contiguous:  # one compiled kernel per dtype
            with np.errstate(all="ignore"):  # a value beyond float32's range: inf, reported below
                columns = np.ascontiguousarray(columns, dtype=self.dtype)
        out = np.empty((self.spec.sizes[-1], columns.shape[1]), self.dtype)
        bad_input, bad = self._run(
            "outputs_of_columns", outputs_of_columns, self.wts, self.bs, self.acts, self._sizes,
            read_only(columns), out, self._span, self._positions, self._values, self._limit, self._one,
            self._flush)
        return out, bad_input, bad

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Gradient:
        grad_w = tuple(np.empty(w.shape, self.dtype) for w in self.weights)
        grad_b = tuple(np.empty(b.shape, self.dtype) for b in self.biases)
        self._run("gradient_of_column", gradient_of_column, self.wts, self.bs, self.acts, self._sizes,
                  read_only(x), read_only(y), grad_w, grad_b, self._span, self._positions, self._values,
                  self._cost, self._one, self._flush)
        return list(grad_b), list(grad_w)

    # ------------------------------------------------------------------------- internals
    def _refresh_book_copies(self) -> None:
        """BP2's book-layout copies of the later layers, from the weights as they are now
        (the user may have edited them through the views)."""
        for layer in range(1, len(self.wts)):
            self._wide(self.wbs[layer])[:, : self.spec.sizes[layer]] = self.weights[layer]

    def _steps(self, batch_size: int, eta: float) -> np.ndarray:
        """[0, η/1, η/2, …, η/batch_size] in this network's dtype: the book's step is
        eta / len(mini_batch), rounded to the arrays' dtype."""
        return np.array([0.0] + [eta / k for k in range(1, batch_size + 1)], dtype=self.dtype)

    def _epoch_call(self, inputs, targets, x_rows, y_rows, batch_size, rule, check_finite):
        """(name, kernel, arguments) of the epoch kernel for this batch size: batches of up to
        WHOLE_BATCH at once, larger ones in sub-batches of SUB_BATCH held examples."""
        whole = batch_size <= WHOLE_BATCH
        held = batch_size if whole else SUB_BATCH  # examples whose activations are held at once
        have = self.acts[0].shape[0]
        if have < held or (not whole and have != held):
            self.acts = tuple(self._zeros((held, *b.shape)) for b in self.bs)
            self.deltas = tuple(self._zeros(a.shape) for a in self.acts)
            self.cursor = np.zeros(held, np.int64)
        args = (self.wts, self.wbs, self.bs, self.gwts, self.gbs, self.acts, self.deltas, self._sizes,
                inputs.indptr, inputs.indices, inputs.values, read_only(targets), _indices(x_rows),
                _indices(y_rows), batch_size, self._steps(batch_size, rule.eta), self.dtype.type(rule.decay),
                self._cost, self.hit, self.cursor, self.chunk, bool(check_finite), self._one, self._flush)
        if whole:
            return "epoch", epoch, args
        return "epoch_in_sub_batches", epoch_in_sub_batches, args

    def _count_args(self, inputs, rows, labels) -> tuple:
        return (self.wts, self.bs, self._predict_acts, self._sizes, inputs.indptr, inputs.indices,
                inputs.values, _indices(rows), _indices(labels), self._one, self._flush)

    def _outputs_args(self, inputs, rows) -> tuple[tuple, np.ndarray]:
        rows = _indices(rows)
        out = np.empty((rows.shape[0], self.spec.sizes[-1]), self.dtype)
        return (self.wts, self.bs, self._predict_acts, self._sizes, inputs.indptr, inputs.indices,
                inputs.values, rows, out, self._one, self._flush), out
