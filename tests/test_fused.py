"""The fused path at MNIST's sizes: against the per-example loop and the matrix engine on real
images, float32 against float64, the CSR form and its cache, the register-block padding."""

from __future__ import annotations

import numpy as np
import pytest

from matnet.core import engine, fused, loop, sparse
from matnet.core.fused import FusedEngine
from matnet.core.fused_layers import padded
from matnet.core.kernels import get_kernels
from matnet.core.sparse import sparse_rows
from matnet.data.frozen import freeze, is_frozen
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
    ("sizes", "batch_size"),
    [(sizes, m) for sizes in ([784, 30, 10], [784, 10], [784, 100, 100, 10]) for m in (1, 10, 64)]
    + [([784, 30, 10], 150)],  # 150: in sub-batches of SUB_BATCH (compiled apart: one shape)
)
def test_fused_epoch_matches_the_loop(sizes, batch_size):
    x, y = synthetic(sizes, 300, seed=batch_size, sparsity=0.8)
    order = np.random.default_rng(1).permutation(300)
    params = initial(sizes)
    oracle, fused = copies(params), copies(params)
    loop.train_epoch(*oracle, x, y, order, order, batch_size, 0.5)
    applied = FusedEngine(sizes, np.float64).train_epoch(*fused, sparse_rows(x, np.float64), y, order, order,
                                                          batch_size, 0.5)
    assert applied == -(-300 // batch_size)
    assert max_gap(oracle, fused) <= 1e-12


def test_a_batch_in_sub_batches_is_the_batch_at_once(monkeypatch):
    """A large batch trained in sub-batches continues every sum in the same order: the same
    bits as the whole batch at once."""
    sizes = [784, 30, 10]
    x, y = synthetic(sizes, 300, seed=5, sparsity=0.8)
    order = np.random.default_rng(5).permutation(300)
    params = initial(sizes, seed=5)
    whole, parts = copies(params), copies(params)
    monkeypatch.setattr(fused, "WHOLE_BATCH", 1000)
    FusedEngine(sizes, np.float64).train_epoch(*whole, sparse_rows(x, np.float64), y, order, order, 150, 3.0)
    monkeypatch.setattr(fused, "WHOLE_BATCH", 16)
    monkeypatch.setattr(fused, "SUB_BATCH", 16)
    FusedEngine(sizes, np.float64).train_epoch(*parts, sparse_rows(x, np.float64), y, order, order, 150, 3.0)
    for a, b in zip(whole[0] + whole[1], parts[0] + parts[1]):
        np.testing.assert_array_equal(a, b)


def test_a_non_finite_batch_in_sub_batches_is_not_applied_and_leaves_no_gradient(monkeypatch):
    """The second batch of 150 (in sub-batches of 16) has a NaN target: it is not applied, and
    the engine's first-layer gradient and row flags are clean for the next call."""
    sizes = [784, 30, 10]
    x, y = synthetic(sizes, 300, seed=6, sparsity=0.8)
    y[200, 3] = np.nan
    order = np.arange(300)
    monkeypatch.setattr(fused, "WHOLE_BATCH", 16)
    monkeypatch.setattr(fused, "SUB_BATCH", 16)
    engine_ = FusedEngine(sizes, np.float64)
    params = copies(initial(sizes, seed=6))
    assert engine_.train_epoch(*params, sparse_rows(x, np.float64), y, order, order, 150, 3.0) == 1
    assert not engine_.gwts[0].any() and not engine_.hit.any()


def test_fused_epoch_matches_the_engine_on_mnist(mnist_slice):
    x, y, _, _ = mnist_slice
    sizes = [784, 30, 10]
    order = np.random.default_rng(2).permutation(x.shape[0])
    params = initial(sizes, seed=2)
    fused, matrix = copies(params), copies(params)
    FusedEngine(sizes, np.float64).train_epoch(*fused, sparse_rows(x, np.float64), y, order, order, 10, 3.0)
    ws = engine.Workspace(sizes, 10)
    engine.train_epoch(*matrix, x, y, order, order, 10, 3.0, ws, get_kernels("numpy"))
    assert max_gap(fused, matrix) <= 1e-9


@pytest.mark.parametrize("batch_size", [1, 10])
def test_float32_fused_tracks_float64(mnist_slice, batch_size):
    x, y, _, _ = mnist_slice
    sizes = [784, 30, 10]
    order = np.random.default_rng(3).permutation(x.shape[0])[:200]
    params64 = initial(sizes, seed=3)
    params32 = [w.astype(np.float32) for w in params64[0]], [b.astype(np.float32) for b in params64[1]]
    FusedEngine(sizes, np.float64).train_epoch(*params64, sparse_rows(x, np.float64), y, order, order,
                                               batch_size, 0.5)
    FusedEngine(sizes, np.float32).train_epoch(*params32, sparse_rows(x, np.float32), y.astype(np.float32),
                                               order, order, batch_size, 0.5)
    assert all(a.dtype == np.float32 for a in params32[0] + params32[1])
    widened = [w.astype(np.float64) for w in params32[0]], [b.astype(np.float64) for b in params32[1]]
    assert max_gap(params64, widened) < 1e-4


def test_evaluation_counts_what_the_loop_counts(mnist):
    sizes = [784, 30, 10]
    weights, biases = initial(sizes, seed=4)
    test = mnist.test
    engine_ = FusedEngine(sizes, np.float64)
    correct, bad = engine_.count_correct(weights, biases, sparse_rows(test.images, np.float64),
                                         np.arange(10_000), test.labels)
    pairs = [(test.images[i].reshape(-1, 1), test.labels[i]) for i in range(10_000)]
    assert (correct, bad) == (loop.evaluate(weights, biases, pairs), 0)


def test_sparse_rows_refuse_bad_values_naming_where():
    x = np.zeros((4, 5))
    x[2, 3] = np.inf
    with pytest.raises(ValueError, match=r"NaN or inf \(first: inf at index \(2, 3\)\)"):
        sparse_rows(x, np.float64, "inputs")
    x[2, 3] = 1e300
    sparse_rows(x, np.float64)  # fine in float64
    with pytest.raises(ValueError, match=r"beyond .* float32 .* index \(2, 3\)"):
        sparse_rows(x, np.float32)


def test_sparse_rows_are_kept_only_for_arrays_nothing_can_change():
    """Frozen arrays (the loader's) keep their CSR form; any other array is converted again
    on every call, so an edit in place is always seen — through a writable array, a read-only
    view of one, or a read-only array made writable, edited and frozen again."""
    sparse.forget()
    x, _ = synthetic([8, 2], 6, sparsity=0.5)
    writable = sparse_rows(x, np.float64)
    x[0, :] = 7.0
    again = sparse_rows(x, np.float64)
    assert again is not writable and again.values[:8].tolist() == [7.0] * 8
    view = x.view()
    view.flags.writeable = False
    assert sparse_rows(view, np.float64) is not sparse_rows(view, np.float64)
    refrozen = x.copy()
    refrozen.flags.writeable = False
    before = sparse_rows(refrozen, np.float64)
    refrozen.flags.writeable = True
    refrozen[0, :] = 3.0
    refrozen.flags.writeable = False
    after = sparse_rows(refrozen, np.float64)
    assert after is not before and after.values[:8].tolist() == [3.0] * 8
    frozen = freeze(x.copy())
    with pytest.raises(ValueError, match="WRITEABLE"):
        frozen.flags.writeable = True
    assert sparse_rows(frozen, np.float64) is sparse_rows(frozen, np.float64)
    assert sparse_rows(frozen, np.float32) is not sparse_rows(frozen, np.float64)


def test_the_loaders_arrays_are_frozen(mnist):
    from matnet import mnist_loader

    (x, labels), _, _ = mnist_loader.load_data()
    assert is_frozen(x) and is_frozen(labels) and is_frozen(x[:100])
    with pytest.raises(ValueError, match="WRITEABLE"):
        x.flags.writeable = True
    part = x[:100]  # a slice of them: frozen too
    assert sparse_rows(part, np.float64) is sparse_rows(part, np.float64)


def test_padding_rounds_to_whole_register_blocks():
    assert padded(30) == 32
    assert padded(32) == 32
    assert padded(100) == 128
    assert padded(1) == 32
