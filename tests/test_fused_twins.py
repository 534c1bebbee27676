"""The fused epoch's numba functions against their twins, on networks small enough to run as
plain Python: the CSR builder against NumPy, the compiled epoch against the book's
per-example loop (matnet.core.loop), which shares no code with it.

This file runs twice: compiled, here, and interpreted, when test_numba_modes.py runs it again
under NUMBA_DISABLE_JIT=1 (together with test_kernels.py and test_shuffle.py, which do the
same for the kernel registry and the shuffle replay). The compiled run checks what numba
made of the source; the interpreted run checks the source itself, line by line, as Python.
Every branch of ``_epoch`` is reached: depth 1 to 3, padded first layers, ragged last
batches, float32, the flush of would-be subnormal activations, and a non-finite batch.
"""

from __future__ import annotations

import types

import numba
import numpy as np
import pytest

from matnet.core import fused, loop
from matnet.core.fused import FusedTrainer, sparse_rows
from tests.helpers import synthetic

N = 30  # examples per epoch: enough for ragged batches, few enough for interpreted Python


def initial(sizes, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((b, 1)) for b in sizes[1:]]
    return weights, biases


def copies(params, dtype=np.float64):
    return [w.astype(dtype) for w in params[0]], [b.astype(dtype) for b in params[1]]


def max_gap(a, b) -> float:
    return max(float(np.abs(u.astype(np.float64) - v).max()) for u, v in zip(a[0] + a[1], b[0] + b[1]))


def test_compiled_unless_numba_is_told_otherwise():
    """Which of the two runs this is: plain functions under NUMBA_DISABLE_JIT=1 only."""
    assert isinstance(fused._epoch, types.FunctionType) == bool(numba.config.DISABLE_JIT)
    assert isinstance(fused.sparse_rows, types.FunctionType) == bool(numba.config.DISABLE_JIT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_rows_is_numpys_nonzero(dtype):
    x, _ = synthetic([11, 2], 9, seed=5, sparsity=0.6)
    x = x.astype(dtype)
    x[3] = 0.0  # a blank image
    x[4] = 0.5  # no zero pixel at all
    indptr, indices, values = sparse_rows(x)
    rows, cols = np.nonzero(x)
    assert indptr.tolist() == [0, *np.cumsum(np.count_nonzero(x, axis=1)).tolist()]
    assert indices.dtype == np.int32 and indices.tolist() == cols.tolist()
    assert values.dtype == dtype and np.array_equal(values, x[rows, cols])


@pytest.mark.parametrize("sizes", [[9, 2], [4, 3, 2], [5, 1, 3], [12, 5, 3], [12, 6, 5, 3]],
                         ids=["no hidden layer", "tiny", "one hidden neuron", "padded", "two hidden"])
@pytest.mark.parametrize("batch_size", [1, 4, 7, N])
def test_epoch_is_the_loop(sizes, batch_size):
    x, y = synthetic(sizes, N, seed=batch_size, sparsity=0.7)
    order = np.random.default_rng(1).permutation(N)
    start = initial(sizes)
    expected, got = copies(start), copies(start)
    loop.train_epoch(*expected, x, y, order, batch_size, 1.5)
    applied = FusedTrainer(sizes, np.float64).train_epoch(*got, x, y, order, batch_size, 1.5)
    assert applied == -(-N // batch_size)
    assert max_gap(got, expected) <= 1e-13
    assert max_gap(got, start) > 1e-3  # it did train


def test_float32_epoch_stays_float32_and_close_to_the_float64_loop():
    sizes = [12, 5, 3]
    x, y = synthetic(sizes, N, seed=2, sparsity=0.7)
    order = np.arange(N)[::-1].copy()
    start = initial(sizes, seed=2)
    expected, got = copies(start), copies(start, np.float32)
    loop.train_epoch(*expected, x, y, order, 4, 1.5)
    FusedTrainer(sizes, np.float32).train_epoch(
        *got, x.astype(np.float32), y.astype(np.float32), order, 4, 1.5
    )
    assert all(a.dtype == np.float32 for a in got[0] + got[1])
    assert max_gap(got, expected) < 1e-5


def test_saturated_neurons_are_flushed_to_zero_without_changing_the_result():
    """First-layer weights of ±1000 drive many weighted inputs below the flush bound (-684 in
    float64), where the fused path returns an activation of exactly 0 instead of a subnormal
    number; the output layer's ordinary weights keep the network learning."""
    sizes = [12, 8, 3]
    x, y = synthetic(sizes, N, seed=3, sparsity=0.5)
    start = initial(sizes, seed=3)
    start[0][0] *= 1000.0
    hidden = start[0][0] @ x.T + start[1][0]
    assert (hidden < np.log(np.finfo(np.float64).tiny) + 24).mean() > 0.2  # the branch is taken
    order = np.arange(N)
    expected, got = copies(start), copies(start)
    loop.train_epoch(*expected, x, y, order, 5, 1.0)
    FusedTrainer(sizes, np.float64).train_epoch(*got, x, y, order, 5, 1.0)
    assert max_gap(got, expected) <= 1e-12
    assert max_gap(got, start) > 1e-3  # it did train


def test_slices_of_an_epoch_compose():
    sizes = [12, 6, 5, 3]
    x, y = synthetic(sizes, N, seed=4, sparsity=0.5)
    order = np.random.default_rng(4).permutation(N)
    start = initial(sizes, seed=4)
    whole, sliced = copies(start), copies(start)
    trainer = FusedTrainer(sizes, np.float64)
    assert trainer.train_epoch(*whole, x, y, order, 4, 2.0) == 8
    assert sum(trainer.train_epoch(*sliced, x, y, order[i : i + 12], 4, 2.0) for i in range(0, N, 12)) == 8
    assert max_gap(whole, sliced) == 0.0


def test_a_non_finite_batch_stops_the_epoch_before_it_is_applied():
    sizes = [6, 4, 2]
    x, y = synthetic(sizes, N)
    x[13, 2] = np.nan  # in the third batch of 5
    order = np.arange(N)
    start = initial(sizes)
    checked, replay = copies(start), copies(start)
    assert FusedTrainer(sizes, np.float64).train_epoch(*checked, x, y, order, 5, 1.0) == 2
    loop.train_epoch(*replay, x, y, order[:10], 5, 1.0)
    assert max_gap(checked, replay) <= 1e-13
    unchecked = copies(start)
    applied = FusedTrainer(sizes, np.float64).train_epoch(*unchecked, x, y, order, 5, 1.0, check_finite=False)
    assert applied == 6  # the book's behaviour: every batch applied, NaN spreads
    assert np.isnan(unchecked[0][0]).any()
