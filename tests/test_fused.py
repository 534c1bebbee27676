"""The fused epoch against the per-example loop: dtypes, depths, ragged batches, divergence."""

from __future__ import annotations

import numpy as np
import pytest

from matnet.core import engine, loop
from matnet.core.fused import FusedTrainer, padded_width, sparse_rows
from matnet.core.kernels import get_kernels
from tests.helpers import synthetic


def initial(sizes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((b, 1)).astype(dtype) for b in sizes[1:]]
    return weights, biases


def copies(params):
    return [a.copy() for a in params[0]], [b.copy() for b in params[1]]


def max_gap(a, b) -> float:
    return max(float(np.abs(u - v).max()) for u, v in zip(a[0] + a[1], b[0] + b[1]))


@pytest.mark.parametrize(
    "sizes", [[784, 30, 10], [784, 10], [784, 30, 20, 10], [784, 100, 100, 10], [4, 3, 2], [5, 1, 3]]
)
@pytest.mark.parametrize("batch_size", [1, 7, 10, 64])
def test_fused_epoch_matches_the_loop(sizes, batch_size):
    x, y = synthetic(sizes, 300, seed=batch_size, sparsity=0.8)
    order = np.random.default_rng(1).permutation(300)
    params = initial(sizes)
    oracle = copies(params)
    loop.train_epoch(*oracle, x, y, order, batch_size, 0.5)
    fused = copies(params)
    applied = FusedTrainer(sizes, np.float64).train_epoch(*fused, x, y, order, batch_size, 0.5)
    assert applied == -(-300 // batch_size)
    assert max_gap(oracle, fused) <= 1e-12
    assert all(w.shape == (b, a) for w, a, b in zip(fused[0], sizes[:-1], sizes[1:]))


def test_fused_epoch_matches_the_engine_on_mnist(mnist_slice):
    x, y, _, _ = mnist_slice
    sizes = [784, 30, 10]
    order = np.random.default_rng(2).permutation(x.shape[0])
    params = initial(sizes, seed=2)
    fused, matrix = copies(params), copies(params)
    FusedTrainer(sizes, np.float64).train_epoch(*fused, x, y, order, 10, 3.0)
    engine.train_epoch(*matrix, x, y, order, 10, 3.0, engine.Workspace(sizes, 10), get_kernels("numpy"))
    assert max_gap(fused, matrix) <= 1e-9


@pytest.mark.parametrize("batch_size", [1, 10])
def test_float32_fused_tracks_float64(mnist_slice, batch_size):
    x, y, _, _ = mnist_slice
    sizes = [784, 30, 10]
    order = np.random.default_rng(3).permutation(x.shape[0])
    params64 = initial(sizes, seed=3)
    params32 = [w.astype(np.float32) for w in params64[0]], [b.astype(np.float32) for b in params64[1]]
    FusedTrainer(sizes, np.float64).train_epoch(*params64, x, y, order[:200], batch_size, 0.5)
    trainer = FusedTrainer(sizes, np.float32)
    trainer.train_epoch(*params32, x.astype(np.float32), y.astype(np.float32), order[:200], batch_size, 0.5)
    assert all(a.dtype == np.float32 for a in params32[0] + params32[1])
    widened = [w.astype(np.float64) for w in params32[0]], [b.astype(np.float64) for b in params32[1]]
    assert max_gap(params64, widened) < 1e-4


def test_slices_of_an_epoch_compose():
    """Running an epoch in batch-aligned slices (progress reporting) changes nothing."""
    sizes = [20, 6, 3]
    x, y = synthetic(sizes, 95, sparsity=0.5)
    order = np.random.default_rng(4).permutation(95)
    whole, sliced = copies(initial(sizes)), copies(initial(sizes))
    trainer = FusedTrainer(sizes, np.float64)
    trainer.train_epoch(*whole, x, y, order, 10, 2.0)
    for start in range(0, 95, 30):
        trainer.train_epoch(*sliced, x, y, order[start : start + 30], 10, 2.0)
    assert max_gap(whole, sliced) == 0.0


def test_non_finite_batch_is_not_applied():
    """A batch whose deltas are not finite (here: a NaN pixel, which the Network facade
    would have refused up front) is not applied; the weights are those of the batch before."""
    sizes = [6, 4, 2]
    x, y = synthetic(sizes, 40)
    x[25, 3] = np.nan  # in the third batch of 10
    order = np.arange(40)
    params = initial(sizes)
    replay = copies(params)
    applied = FusedTrainer(sizes, np.float64).train_epoch(*params, x, y, order, 10, 1.0)
    assert applied == 2
    assert all(np.isfinite(a).all() for a in params[0] + params[1])
    FusedTrainer(sizes, np.float64).train_epoch(*replay, x, y, order[:20], 10, 1.0)
    assert max_gap(params, replay) == 0.0


def test_sparse_rows_round_trip():
    x, _ = synthetic([50, 2], 30, sparsity=0.7)
    indptr, indices, values = sparse_rows(x)
    dense = np.zeros_like(x)
    for i in range(x.shape[0]):
        dense[i, indices[indptr[i] : indptr[i + 1]]] = values[indptr[i] : indptr[i + 1]]
    np.testing.assert_array_equal(dense, x)
    assert indptr[-1] == np.count_nonzero(x)


def test_padding_rounds_to_whole_vectors():
    assert padded_width(30, np.float64) == 32
    assert padded_width(30, np.float32) == 32
    assert padded_width(100, np.float32) == 104
    assert padded_width(8, np.float64) == 8
