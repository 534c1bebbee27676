"""The fused path at MNIST's sizes: against the per-example loop and the matrix engine on real
images, float32 against float64, the CSR form and its cache, the register-block padding."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matnet.core import fused_backend, loop, sparse
from matnet.core.fused_layers import padded
from matnet.core.sparse import sparse_rows
from matnet.frozen import freeze, is_frozen
from tests.helpers import backend_with, parameters, synthetic, train


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
    oracle = copies(params)
    loop.train_epoch(*oracle, x, y, order, order, batch_size, 0.5)
    fused = backend_with("numba", sizes, params)
    assert train(fused, x, y, order, batch_size, 0.5) == -(-300 // batch_size)
    assert max_gap(oracle, parameters(fused)) <= 1e-12


@pytest.mark.parametrize("lmbda", [0.0, 5.0])
def test_a_batch_in_sub_batches_is_the_batch_at_once(monkeypatch, lmbda):
    """A large batch trained in sub-batches continues every sum in the same order: the same
    bits as the whole batch at once, with weight decay or without."""
    sizes = [784, 30, 10]
    x, y = synthetic(sizes, 300, seed=5, sparsity=0.8)
    order = np.random.default_rng(5).permutation(300)
    params = initial(sizes, seed=5)
    monkeypatch.setattr(fused_backend, "WHOLE_BATCH", 1000)
    whole = backend_with("numba", sizes, params)
    train(whole, x, y, order, 150, 3.0, lmbda, 300)
    monkeypatch.setattr(fused_backend, "WHOLE_BATCH", 16)
    monkeypatch.setattr(fused_backend, "SUB_BATCH", 16)
    parts = backend_with("numba", sizes, params)
    train(parts, x, y, order, 150, 3.0, lmbda, 300)
    for a, b in zip(whole.weights + whole.biases, parts.weights + parts.biases):
        np.testing.assert_array_equal(a, b)


def test_a_non_finite_batch_in_sub_batches_is_not_applied_and_leaves_no_gradient(monkeypatch):
    """The second batch of 150 (in sub-batches of 16) has a NaN target: it is not applied, and
    the engine's first-layer gradient and row flags are clean for the next call."""
    sizes = [784, 30, 10]
    x, y = synthetic(sizes, 300, seed=6, sparsity=0.8)
    y[200, 3] = np.nan
    order = np.arange(300)
    monkeypatch.setattr(fused_backend, "WHOLE_BATCH", 16)
    monkeypatch.setattr(fused_backend, "SUB_BATCH", 16)
    backend = backend_with("numba", sizes, initial(sizes, seed=6))
    assert train(backend, x, y, order, 150, 3.0) == 1
    assert not backend.gwts[0].any() and not backend.hit.any()


def test_fused_epoch_matches_the_engine_on_mnist(mnist_slice):
    x, y, _, _ = mnist_slice
    sizes = [784, 30, 10]
    order = np.random.default_rng(2).permutation(x.shape[0])
    params = initial(sizes, seed=2)
    fused, matrix = backend_with("numba", sizes, params), backend_with("numpy", sizes, params)
    train(fused, x, y, order, 10, 3.0)
    train(matrix, x, y, order, 10, 3.0)
    assert max_gap(parameters(fused), parameters(matrix)) <= 1e-9


@pytest.mark.parametrize("batch_size", [1, 10])
def test_float32_fused_tracks_float64(mnist_slice, batch_size):
    x, y, _, _ = mnist_slice
    sizes = [784, 30, 10]
    order = np.random.default_rng(3).permutation(x.shape[0])[:200]
    params = initial(sizes, seed=3)
    wide, narrow = backend_with("numba", sizes, params), backend_with("numba", sizes, params, np.float32)
    train(wide, x, y, order, batch_size, 0.5)
    train(narrow, x, y, order, batch_size, 0.5)
    assert all(a.dtype == np.float32 for a in narrow.weights + narrow.biases)
    widened = [w.astype(np.float64) for w in narrow.weights], [b.astype(np.float64) for b in narrow.biases]
    assert max_gap(parameters(wide), widened) < 1e-4


def test_evaluation_counts_what_the_loop_counts(mnist):
    sizes = [784, 30, 10]
    weights, biases = initial(sizes, seed=4)
    test = mnist.test
    backend = backend_with("numba", sizes, (weights, biases))
    correct, bad = backend.count_correct(sparse_rows(test.images, np.float64), np.arange(10_000), test.labels)
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


def _same_as_dense(rows, x):
    r, c = np.nonzero(x)
    return np.array_equal(rows.indices, c) and np.array_equal(rows.values, x[r, c])


def test_sparse_rows_see_every_edit_in_place():
    """Frozen arrays (the loader's) keep their CSR form by identity; any other array is found
    by its content, so unchanged arrays convert once and an edit in place is always seen —
    through a writable array, a read-only view of one, or a read-only array made writable,
    edited and frozen again."""
    sparse.forget()
    x, _ = synthetic([8, 2], 6, sparsity=0.5)
    first = sparse_rows(x, np.float64)
    assert (sparse_rows(x, np.float64) is first) == sparse._FINGERPRINTS  # compiled only
    x[0, :] = 7.0
    again = sparse_rows(x, np.float64)
    assert again is not first and again.values[:8].tolist() == [7.0] * 8
    x[1, 2], x[1, 3] = 0.25, 0.5
    swapped = x.copy()
    swapped[1, 2], swapped[1, 3] = 0.5, 0.25
    assert _same_as_dense(sparse_rows(x, np.float64), x)
    assert _same_as_dense(sparse_rows(swapped, np.float64), swapped)
    strided = x[:, ::2]  # not one block of memory: converted on every call
    assert _same_as_dense(sparse_rows(strided, np.float64), strided)
    x[5, 0] = 9.0
    assert _same_as_dense(sparse_rows(strided, np.float64), strided)
    as_float32 = x.astype(np.float32)  # two values to a word of the fingerprint
    sparse_rows(as_float32, np.float64)
    as_float32[1, 1] = 0.125
    assert _same_as_dense(sparse_rows(as_float32, np.float64), as_float32)
    view = x.view()
    view.flags.writeable = False
    sparse_rows(view, np.float64)
    x[2, 0] = 5.0  # through the array the view reads
    assert view[2, 0] == 5.0 and _same_as_dense(sparse_rows(view, np.float64), view)
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


@settings(max_examples=60, deadline=None)
@given(edits=st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 9), st.sampled_from([0.0, 1.0, -2.5, 1e-300])),
    min_size=1, max_size=6))
def test_sparse_rows_after_any_edits_are_the_edited_values(edits):
    x = np.zeros((6, 10))
    x[::2, ::3] = 1.0
    sparse_rows(x, np.float64)
    for row, col, value in edits:
        x[row, col] = value
    assert _same_as_dense(sparse_rows(x, np.float64), x)


@settings(max_examples=200, deadline=None)
@given(bits=st.integers(0, 2**64 - 1), other=st.integers(0, 2**64 - 1), where=st.integers(0, 23))
def test_one_changed_value_always_changes_the_fingerprint(bits, other, where):
    a = np.arange(24, dtype=np.uint64)
    a[where] = bits
    b = a.copy()
    b[where] = other
    with np.errstate(over="ignore"):  # interpreted (NUMBA_DISABLE_JIT=1), NumPy's integers warn on wrapping
        same = sparse._fingerprint(a, 0, 24) == sparse._fingerprint(b, 0, 24)
    assert same == (bits == other)


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


COMPILED = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="about compiled kernels: the JIT is disabled")


@COMPILED
def test_each_kernel_is_compiled_once_per_network_type(mnist):
    """The compiled path compiles each kernel itself, with LLVM's SLP vectorizer on, for the
    argument types its calls use; a call with other types would be compiled by numba at call
    time, without it (2.5–4x slower). Whatever the call — the loader's lists, arrays, slices,
    one column, many, a batch of one or of many — each kernel has one compiled version per
    kind of network (dtype and depth), in this process as in any."""
    import random

    from matnet import mnist_loader
    from matnet.core import fused, fused_column, fused_predict
    from matnet.network import Network

    training, _, test = mnist_loader.load_data_wrapper()
    (images, labels), _, _ = mnist_loader.load_data()
    for dtype in (np.float64, np.float32):
        np.random.seed(0)
        random.seed(0)
        net = Network([784, 30, 10], dtype=dtype)
        net.SGD(training[:300], 1, 10, 3.0, test_data=test[:100])
        net.SGD((images[:200].copy(), labels[:200]), 1, 1, 3.0)  # writable arrays, a batch of one
        net.SGD((images[:300], np.eye(10)[labels[:300]]), 1, 150, 3.0)  # sub-batches
        net.update_mini_batch(training[5:15], 3.0)
        net.evaluate((images[:100], labels[:100]))
        net.feedforward(test[0][0])
        net.feedforward(np.asfortranarray(images[:100].T))  # many columns, in another layout
        net.feedforward(images[0].copy())
        net.backprop(*training[0])
    kernels = (fused.epoch, fused.epoch_in_sub_batches, fused_predict.count_correct,
               fused_predict.outputs_of_rows, fused_column.outputs_of_columns,
               fused_column.gradient_of_column)
    for kernel in kernels:
        kinds = [str(signature[0]) for signature in kernel.signatures]  # the weights' tuple type
        assert len(kinds) == len(set(kinds)), (kernel.py_func.__name__, kernel.signatures)


@COMPILED
def test_prepare_compiles_what_every_batch_size_will_run(monkeypatch):
    """``prepare(m)`` compiles the epoch kernel of m's size class (a batch of more than
    WHOLE_BATCH trains in sub-batches, a kernel of its own) and the evaluation; after
    ``prepare(10)`` and ``prepare(1000)`` no call of SGD or evaluate compiles anything (an
    earlier key, min(m, 2), made ``prepare(1000)`` a no-op after ``prepare(10)``)."""
    from matnet.network import Network

    compiled = []
    real = fused_backend.compile_for
    monkeypatch.setattr(fused_backend, "compile_for", lambda kernel, *args: (compiled.append(kernel),
                                                                               real(kernel, *args)))
    x, y = synthetic([784, 30, 10], 400, sparsity=0.8)
    net = Network([784, 30, 10], seed=0)
    net.prepare(10)
    assert len(compiled) == 2  # the epoch and the evaluation
    net.prepare(1000)
    assert [k.py_func.__name__ for k in compiled[2:]] == ["epoch_in_sub_batches"]
    compiled.clear()
    net.SGD((x, y), 1, 1000, 3.0, test_data=(x[:50], y[:50]), verbose=False)
    net.SGD((x, y), 1, 10, 3.0, verbose=False)
    net.evaluate((x, y.argmax(axis=1)))
    assert compiled == []
    net.prepare(10, outputs=True)  # network2's monitored costs: the outputs of many examples too
    assert [k.py_func.__name__ for k in compiled] == ["outputs_of_rows"]
