"""The fused path's numba functions against their twins, on networks small enough to run as
plain Python: the CSR builder against NumPy, the compiled epoch against the book's
per-example loop (matnet.core.loop), which shares no code with it, and the compiled
evaluation, feedforward and backprop against the loop's.

This file runs twice: compiled, here, and interpreted, when test_numba_modes.py runs it again
under NUMBA_DISABLE_JIT=1 (together with test_kernels.py and test_shuffle.py, which do the
same for the kernel registry and the shuffle replay). The compiled run checks what numba
made of the source; the interpreted run checks the source itself, line by line, as Python.
Every branch of ``epoch`` is reached: depth 1 to 3, padded layers, wide layers of several
register blocks, ragged last batches, a batch of one, batches larger than the data, float32,
the flush of would-be subnormal activations, a non-finite batch, both costs of the maths
table, and L2 weight decay (chapter 3).
"""

from __future__ import annotations

import types

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matnet.core import fused, loop
from matnet.core.maths import CROSS_ENTROPY, QUADRATIC, UpdateRule
from matnet.core.sparse import SparseRows, sparse_rows
from tests.helpers import backend_with, parameters, synthetic

N = 30  # examples per epoch: enough for ragged batches, few enough for interpreted Python
ORDER = np.random.default_rng(1).permutation(N)


def initial(sizes, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((b, 1)) for b in sizes[1:]]
    return weights, biases


def copies(params, dtype=np.float64):
    return [w.astype(dtype) for w in params[0]], [b.astype(dtype) for b in params[1]]


def max_gap(a, b) -> float:
    return max(float(np.abs(u.astype(np.float64) - v).max()) for u, v in zip(a[0] + a[1], b[0] + b[1]))


def train(sizes, params, x, y, order, batch_size, eta, dtype=np.float64, check_finite=True, lmbda=0.0, n=1,
          cost=QUADRATIC):
    """One fused epoch over rows ``order`` of x, y, from ``params``, which it then holds (the
    lists' arrays replaced by the trained ones); returns the batches applied."""
    backend = backend_with("numba", sizes, params, dtype, cost)
    applied = backend.train(sparse_rows(x, dtype), y.astype(dtype), order, order, batch_size,
                            UpdateRule(eta, lmbda, n), check_finite)
    params[0][:], params[1][:] = parameters(backend)
    return applied


def test_compiled_unless_numba_is_told_otherwise():
    """Which of the two runs this is: plain functions under NUMBA_DISABLE_JIT=1 only."""
    assert isinstance(fused.epoch, types.FunctionType) == bool(numba.config.DISABLE_JIT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_rows_is_numpys_nonzero(dtype):
    x, _ = synthetic([11, 2], 9, seed=5, sparsity=0.6)
    x[3] = 0.0  # a blank image
    x[4] = 0.5  # no zero pixel at all
    rows = sparse_rows(x, dtype)
    r, c = np.nonzero(x)
    assert rows.indptr.tolist() == [0, *np.cumsum(np.count_nonzero(x, axis=1)).tolist()]
    assert rows.indices.tolist() == c.tolist()
    assert rows.values.dtype == dtype and np.array_equal(rows.values, x[r, c].astype(dtype))


def _assert_is_nonzero(rows: SparseRows, x: np.ndarray) -> None:
    r, c = np.nonzero(x)
    assert rows.indptr.tolist() == [0, *np.cumsum(np.count_nonzero(x, axis=1)).tolist()]
    assert np.array_equal(rows.indices, c)
    assert np.array_equal(rows.values, x[r, c])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), width=st.integers(1, 40), density=st.floats(0.0, 1.0), seed=st.integers(0, 99))
def test_sparse_rows_is_numpys_nonzero_for_any_width_and_density(n, width, density, seed):
    """Groups of eight columns, the tail past them, rows of zeros and rows without one."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((n, width)) < density, rng.random((n, width)) + 0.5, 0.0)
    _assert_is_nonzero(sparse_rows(x, np.float64), x)


def test_sparse_rows_of_a_matrix_split_across_threads_is_numpys_nonzero():
    """Large enough to be converted in row ranges on worker threads (_PARALLEL_VALUES)."""
    rng = np.random.default_rng(3)
    x = np.where(rng.random((1500, 785)) < 0.2, rng.random((1500, 785)), 0.0)
    x[700:720] = 0.0
    _assert_is_nonzero(sparse_rows(x, np.float64), x)


@pytest.mark.parametrize("sizes", [[9, 2], [4, 3, 2], [5, 1, 3], [12, 5, 3], [12, 6, 5, 3], [7, 40, 3]],
                         ids=["no hidden layer", "tiny", "one hidden neuron", "padded", "two hidden",
                              "two register blocks"])
@pytest.mark.parametrize("batch_size", [1, 4, 7, N, 100])
def test_epoch_is_the_loop(sizes, batch_size):
    x, y = synthetic(sizes, N, seed=batch_size, sparsity=0.7)
    start = initial(sizes)
    expected, got = copies(start), copies(start)
    loop.train_epoch(*expected, x, y, ORDER, ORDER, min(batch_size, N), 1.5)
    assert train(sizes, got, x, y, ORDER, batch_size, 1.5) == -(-N // min(batch_size, N))
    assert max_gap(got, expected) <= 1e-13
    assert max_gap(got, start) > 1e-3  # it did train


@pytest.mark.parametrize("sizes", [[12, 5, 3], [12, 6, 5, 3]], ids=["one hidden layer", "two hidden"])
@pytest.mark.parametrize("batch_size", [1, 4, N])
@pytest.mark.parametrize("cost", [QUADRATIC, CROSS_ENTROPY], ids=lambda c: c.name)
def test_chapter_3s_costs_and_weight_decay_are_the_loops(sizes, batch_size, cost):
    """The cross-entropy's output error and L2 weight decay (every weight decays, the rows of
    W¹ no pixel touched included; the biases do not), for a batch of one, of several, and
    the whole epoch as one batch."""
    x, y = synthetic(sizes, N, seed=8 + batch_size, sparsity=0.7)
    x[:, :3] = 0.0  # three inputs never seen: their rows of W¹ only decay
    start = initial(sizes, seed=8)
    expected, got = copies(start), copies(start)
    loop.train_epoch(*expected, x, y, ORDER, ORDER, batch_size, 1.5, 5.0, 200, cost=cost)
    train(sizes, got, x, y, ORDER, batch_size, 1.5, lmbda=5.0, n=200, cost=cost)
    assert max_gap(got, expected) <= 1e-13
    decay = (1 - 1.5 * 5.0 / 200) ** -(-N // batch_size)
    np.testing.assert_allclose(got[0][0][:, :3], start[0][0][:, :3] * decay, rtol=1e-13)


def test_inputs_and_targets_are_read_through_their_own_row_indices():
    """Example p is input row x_rows[p] and target row y_rows[p]: rows of the loader's stacked
    arrays, in the shuffled order, with targets that need not sit beside their inputs."""
    sizes = [10, 5, 3]
    x, y = synthetic(sizes, N, seed=6, sparsity=0.5)
    x_rows, y_rows = ORDER, (ORDER * 7) % N
    start = initial(sizes, seed=6)
    expected, got = copies(start), copies(start)
    loop.train_epoch(*expected, x, y, x_rows, y_rows, 4, 1.0)
    backend = backend_with("numba", sizes, got)
    backend.train(sparse_rows(x, np.float64), y, x_rows, y_rows, 4, UpdateRule(1.0), True)
    assert max_gap(parameters(backend), expected) <= 1e-13


def test_float32_epoch_stays_float32_and_close_to_the_float64_loop():
    sizes = [12, 5, 3]
    x, y = synthetic(sizes, N, seed=2, sparsity=0.7)
    start = initial(sizes, seed=2)
    expected, got = copies(start), copies(start, np.float32)
    loop.train_epoch(*expected, x, y, ORDER, ORDER, 4, 1.5)
    train(sizes, got, x, y, ORDER, 4, 1.5, dtype=np.float32)
    assert all(a.dtype == np.float32 for a in got[0] + got[1])
    assert max_gap(got, expected) < 1e-5


def test_saturated_neurons_are_flushed_to_zero_without_changing_the_result():
    """First-layer weights of ±1000 drive many weighted inputs below the flush bound (-236 in
    float64: a third of the exponent range), where the fused path returns an activation of
    exactly 0 instead of a tiny or subnormal number; the output layer's ordinary weights keep
    the network learning."""
    sizes = [12, 8, 3]
    x, y = synthetic(sizes, N, seed=3, sparsity=0.5)
    start = initial(sizes, seed=3)
    start[0][0] *= 1000.0
    hidden = start[0][0] @ x.T + start[1][0]
    assert (hidden < np.log(np.finfo(np.float64).tiny) / 3).mean() > 0.2  # the branch is taken
    order = np.arange(N)
    expected, got = copies(start), copies(start)
    with np.errstate(over="ignore"):  # the loop's exp overflows, as the book's does
        loop.train_epoch(*expected, x, y, order, order, 5, 1.0)
    train(sizes, got, x, y, order, 5, 1.0)
    assert max_gap(got, expected) <= 1e-12
    assert max_gap(got, start) > 1e-3  # it did train


@pytest.mark.parametrize("lmbda", [0.0, 0.5])
def test_slices_of_an_epoch_compose(lmbda):
    """An epoch run in slices (SGD with a progress callback) is the epoch at once: the same
    bits without weight decay; with it, the first layer's scale is folded into its weights at
    the end of each slice, which rounds in another order (see matnet.core.fused)."""
    sizes = [12, 6, 5, 3]
    x, y = synthetic(sizes, N, seed=4, sparsity=0.5)
    start = initial(sizes, seed=4)
    rows, rule = sparse_rows(x, np.float64), UpdateRule(2.0, lmbda, N)
    whole, sliced = backend_with("numba", sizes, start), backend_with("numba", sizes, start)
    assert whole.train(rows, y, ORDER, ORDER, 4, rule, True) == 8
    parts = [sliced.train(rows, y, ORDER[i : i + 12], ORDER[i : i + 12], 4, rule, True)
             for i in range(0, N, 12)]
    assert sum(parts) == 8
    assert max_gap(parameters(whole), parameters(sliced)) <= (0.0 if lmbda == 0 else 1e-15)


def test_a_non_finite_batch_stops_the_epoch_before_it_is_applied():
    """A NaN pixel (which sparse_rows refuses; here put into the CSR form by hand) makes its
    batch's deltas NaN: that batch is not applied, and the next epoch starts clean."""
    sizes = [6, 4, 2]
    x, y = synthetic(sizes, N)
    rows = sparse_rows(x, np.float64)
    values = rows.values.copy()
    values[rows.indptr[13]] = np.nan  # in the third batch of 5
    poisoned = SparseRows(rows.indptr, rows.indices, values, rows.n_columns)
    order = np.arange(N)
    start = initial(sizes)
    replay, rule = copies(start), UpdateRule(1.0)
    backend = backend_with("numba", sizes, start)
    assert backend.train(poisoned, y, order, order, 5, rule, True) == 2
    loop.train_epoch(*replay, x, y, order[:10], order[:10], 5, 1.0)
    assert max_gap(parameters(backend), replay) <= 1e-13
    expected = copies(start)  # the same backend, clean inputs: nothing left over
    for mine, start_value in zip(backend.weights + backend.biases, start[0] + start[1]):
        np.copyto(mine, start_value)
    backend.train(rows, y, order, order, 5, rule, True)
    loop.train_epoch(*expected, x, y, order, order, 5, 1.0)
    assert max_gap(parameters(backend), expected) <= 1e-13
    unchecked = backend_with("numba", sizes, start)
    assert unchecked.train(poisoned, y, order, order, 5, rule, False) == 6  # the book's: NaN spreads
    assert np.isnan(unchecked.weights[0]).any()


@pytest.mark.parametrize(
    ("sizes", "dtype"),
    [(sizes, np.float64) for sizes in ([12, 5, 3], [7, 40, 3], [9, 2])]
    + [(sizes, np.float32) for sizes in ([12, 5, 3], [7, 40, 3])],
)
def test_evaluation_feedforward_and_backprop_are_the_loops(sizes, dtype):
    """count_correct, outputs (CSR rows), outputs_of_columns (book layout) and gradient agree
    with the per-example loop, and the two forward layouts agree to the bit. float32 with one
    hidden layer, as the suite's other float32 networks: numba compiles every kernel apart for
    each dtype and depth (seconds each), and the code is the same for both dtypes."""
    x, y = synthetic(sizes, N, seed=7, sparsity=0.6)
    labels = np.argmax(y, axis=1)
    weights, biases = copies(initial(sizes, seed=7), dtype)
    xd = x.astype(dtype)
    backend = backend_with("numba", sizes, (weights, biases), dtype)
    rows = sparse_rows(x, dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    expected = np.stack([loop.feedforward(weights, biases, xi.reshape(-1, 1))[:, 0] for xi in xd])
    got, bad = backend.outputs(rows, np.arange(N))
    assert bad == 0 and np.abs(got - expected).max() <= tolerance
    columns, bad_input, bad = backend.feedforward(x.T[:, :5])  # one column at a time: x.T as given
    assert bad_input == -1 and bad == 0
    assert np.array_equal(columns.T, got[:5])  # the two layouts: the same numbers
    correct, bad = backend.count_correct(rows, np.arange(N), labels)
    assert (correct, bad) == (int(np.count_nonzero(np.argmax(got, axis=1) == labels)), 0)
    column, target = xd[3].reshape(-1, 1), y[3].astype(dtype).reshape(-1, 1)
    for cost in (QUADRATIC, CROSS_ENTROPY):
        backend = backend_with("numba", sizes, (weights, biases), dtype, cost)
        nabla_b, nabla_w = backend.gradient(column, target)
        want_b, want_w = loop.backprop(weights, biases, column, target, cost=cost)
        assert max_gap((nabla_w, nabla_b), (want_w, want_b)) <= tolerance


def test_prediction_reports_bad_inputs_and_non_finite_outputs():
    sizes = [6, 4, 2]
    weights, biases = initial(sizes)
    x = np.zeros((6, 3))
    x[2, 1] = 1e300  # beyond float32's range
    _, bad_input, _ = backend_with("numba", sizes, (weights, biases), np.float32).feedforward(x)
    assert divmod(bad_input, 3) == (2, 1)
    weights[0][1, 2] = np.nan
    x[2, 1] = 0.5
    out, bad_input, bad = backend_with("numba", sizes, (weights, biases), np.float32).feedforward(x)
    assert bad_input == -1 and bad == 2 * 1  # the column with the NaN weight's input
    assert np.isnan(out[:, 1]).all() and np.isfinite(out[:, [0, 2]]).all()
