"""Odd but legal calls, made as a user makes them, on every backend (issue 10, part 3).

- the caller's arrays edited in place between two ``SGD`` calls (directly, or through the
  writable base of a read-only view): the second call trains on the new values, and no
  call keeps a reference to the caller's arrays once it returns;
- a float32 network given weights beyond float32's range: one clear error, nothing changed;
- finite weights so extreme that the weighted inputs overflow: outputs that are not finite
  are refused with an error, never returned or counted; outputs that are finite are exact;
- sizes without an order (a set), ``test_data=[]``, a mini-batch far larger than the data,
  a negative seed, an int where a Generator belongs.
"""

from __future__ import annotations

import random
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

from matnet.network import Network
from tests.helpers import book_pairs, synthetic

BACKENDS = ["numba", "numpy", "loop"]
SIZES = [6, 5, 3]


def parameters(net: Network) -> list[np.ndarray]:
    return [*net.weights, *net.biases]


def same_parameters(a: Network, b: Network) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(parameters(a), parameters(b), strict=True))


def trained(backend: str, *datasets) -> Network:
    """A seeded network after one epoch of SGD on each dataset in turn."""
    net = Network(SIZES, seed=3, backend=backend)
    for data in datasets:
        net.SGD(data, 1, 10, 1.0, verbose=False)
    return net


# --------------------------------------------------------- the caller's arrays, edited in place
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", ["writable", "read-only view of a writable array"])
def test_sgd_trains_on_inputs_edited_in_place_between_calls(backend, form):
    old, y = synthetic(SIZES, 40, seed=0, sparsity=0.5)
    new, _ = synthetic(SIZES, 40, seed=1, sparsity=0.5)
    base = old.copy()
    x = base
    if form != "writable":
        x = base.view()
        x.flags.writeable = False
    net = Network(SIZES, seed=3, backend=backend)
    net.SGD((x, y), 1, 10, 1.0, verbose=False)
    base[:] = new  # the caller's edit (through the base, for the read-only view)
    net.SGD((x, y), 1, 10, 1.0, verbose=False)
    assert same_parameters(net, trained(backend, (old.copy(), y.copy()), (new.copy(), y.copy())))
    assert not same_parameters(net, trained(backend, (old.copy(), y), (old.copy(), y)))  # not stale


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_trains_on_targets_edited_in_place_between_calls(backend):
    x, y = synthetic(SIZES, 40, seed=0)
    old = y.copy()
    net = Network(SIZES, seed=3, backend=backend)
    net.SGD((x, y), 1, 10, 1.0, verbose=False)
    y[:] = y[:, ::-1]  # every example's desired output changed
    net.SGD((x, y), 1, 10, 1.0, verbose=False)
    assert same_parameters(net, trained(backend, (x.copy(), old), (x.copy(), old[:, ::-1].copy())))


@pytest.mark.parametrize("backend", BACKENDS)
def test_evaluate_sees_inputs_edited_in_place(backend):
    old, y = synthetic(SIZES, 60, seed=0, sparsity=0.5)
    new, _ = synthetic(SIZES, 60, seed=5, sparsity=0.5)
    labels = np.argmax(y, axis=1)
    net = Network(SIZES, seed=3, backend=backend)
    expected = net.evaluate((old.copy(), labels)), net.evaluate((new.copy(), labels))
    assert expected[0] != expected[1]  # the edit changes the answer
    base = old.copy()
    view = base.view()
    view.flags.writeable = False
    for x in (base, view):
        base[:] = old
        assert net.evaluate((x, labels)) == expected[0]
        base[:] = new
        assert net.evaluate((x, labels)) == expected[1]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", ["writable", "read-only", "read-only view", "list of pairs"])
def test_no_call_keeps_a_reference_to_the_callers_arrays(backend, form):
    x, y = synthetic(SIZES, 30, seed=0, sparsity=0.5)
    labels = np.argmax(y, axis=1)
    owners = [x, y, labels]
    if form == "read-only":
        x.flags.writeable = False
    elif form == "read-only view":
        x = x.view()
        x.flags.writeable = False
        owners.append(x)
    refs = [weakref.ref(a) for a in owners]
    if form == "list of pairs":
        training, test = book_pairs(x, y), [(xi.reshape(-1, 1), int(li)) for xi, li in zip(x, labels)]
        refs += [weakref.ref(column) for column, _ in training + test]
    else:
        training, test = (x, y), (x, labels)
    net = Network(SIZES, seed=0, backend=backend)
    net.SGD(training, 2, 10, 1.0, test_data=test, verbose=False)
    net.evaluate(test)
    net.feedforward(x.T)
    net.backprop(x[0].reshape(-1, 1), y[0].reshape(-1, 1))
    del x, y, labels, owners, training, test
    assert [r() for r in refs] == [None] * len(refs)  # freed by reference counting alone
    net.SGD(synthetic(SIZES, 30, seed=1), 1, 10, 1.0, verbose=False)  # and the network still works


# -------------------------------------------------------- float32 weights beyond float32's range
CALLS = {
    "SGD": lambda net, x, labels: net.SGD((x, labels), 1, 5, 1.0, verbose=False),
    "update_mini_batch": lambda net, x, labels: net.update_mini_batch(
        [(xi.reshape(-1, 1), int(li)) for xi, li in zip(x, labels)], 1.0),
    "evaluate": lambda net, x, labels: net.evaluate((x, labels)),
    "feedforward": lambda net, x, labels: net.feedforward(x.T),
    "backprop": lambda net, x, labels: net.backprop(x[0].reshape(-1, 1), int(labels[0])),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("call", list(CALLS))
def test_float32_network_refuses_weights_beyond_its_range(backend, call):
    """The user sets float64 weights: those within float32's range are fine (converted),
    1e300 is not. One error naming the array and the range, not a warning followed by an
    error blaming η; and every parameter left exactly as the user set it."""
    net = Network([4, 3, 2], dtype=np.float32, seed=0, backend=backend)
    net.weights[0] = net.weights[0].astype(np.float64) / 3  # float64, within range: converted
    net.weights[1] = np.full((2, 3), 1e300)
    before = [(a.dtype, a.copy()) for a in parameters(net)]
    x, labels = synthetic([4, 3, 2], 10)[0], np.arange(10) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as info:
            CALLS[call](net, x, labels)
    assert str(info.value) == "weights[1] has values beyond ±3.4e+38, the range of float32"
    assert [(a.dtype, a.tolist()) for a in parameters(net)] == [(d, a.tolist()) for d, a in before]


def test_from_parameters_refuses_weights_beyond_float32():
    huge = [np.full((3, 4), 1e300), np.ones((2, 3))]
    with pytest.raises(ValueError) as info:
        Network.from_parameters(huge, [np.zeros((3, 1)), np.zeros((2, 1))], dtype=np.float32)
    assert str(info.value) == "weights[0] has values beyond ±3.4e+38, the range of float32"


# -------------------------------------------- weighted inputs that overflow: refused, never used
X_HUGE = np.random.default_rng(0).choice([-1e10, 1e10], size=(100, 4))
LABELS_HUGE = np.random.default_rng(1).integers(0, 2, 100)


def overflowing(backend: str, check_finite: bool = True) -> Network:
    """Finite weights of ±1e300 that meet inputs of ±1e10: every product overflows. Whether a
    sum of them is ±inf (σ then exactly 0 or 1) or inf − inf = NaN depends on the order of
    the sums and on fused multiply-adds, which differ between backends and BLAS kernels."""
    net = Network([4, 3, 2], backend=backend, seed=0, check_finite=check_finite)
    net.weights[0][...] = np.array([[1.0, -1.0, 1.0, -1.0]] * 3) * 1e300
    return net


OVERFLOW = (r"not finite although every weight and bias is \(the largest is 1e\+300\): "
            r"the weighted inputs overflow float64")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("columns", [1, 20, 100])  # 100: beyond the fused path's few-columns kernel
def test_non_finite_outputs_are_refused_and_finite_ones_returned(backend, columns):
    """Each call does what its own unchecked outputs (check_finite=False) say: an error
    counting them when any is not finite, else exactly those outputs (all in [0, 1])."""
    x = X_HUGE[:columns]
    silent = overflowing(backend, check_finite=False).feedforward(x.T)
    bad = ~np.isfinite(silent)
    net = overflowing(backend)
    if bad.any():
        values = np.count_nonzero(bad)
        with pytest.raises(ValueError, match=rf"^feedforward: {values} output value\(s\) are {OVERFLOW}"):
            net.feedforward(x.T)
        with pytest.raises(ValueError, match=rf"^evaluate: {np.count_nonzero(bad.any(axis=0))} example\(s\) "
                                             rf"have outputs that are {OVERFLOW}"):
            net.evaluate((x, LABELS_HUGE[:columns]))
    else:
        assert ((silent >= 0) & (silent <= 1)).all()
        np.testing.assert_array_equal(net.feedforward(x.T), silent)
        assert net.evaluate((x, LABELS_HUGE[:columns])) == int(
            np.count_nonzero(np.argmax(silent, axis=0) == LABELS_HUGE[:columns]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_unchecked_evaluate_never_counts_a_non_finite_output_correct(backend):
    net = overflowing(backend, check_finite=False)
    out = net.feedforward(X_HUGE.T)
    finite = np.isfinite(out).all(axis=0)
    expected = np.count_nonzero(finite & (np.argmax(out, axis=0) == LABELS_HUGE))
    assert net.evaluate((X_HUGE, LABELS_HUGE)) == expected


# ----------------------------------------------------------------------- arguments users mistype
@pytest.mark.parametrize("sizes", [{784, 30, 10}, frozenset({4, 3, 2}), {784: 1, 30: 1, 10: 1}])
def test_sizes_without_an_order_are_refused(sizes):
    with pytest.raises(TypeError, match=r"^sizes must be an ordered sequence like \[784, 30, 10\], got a"):
        Network(sizes)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": -1}, ValueError, "seed must be ≥ 0, got -1"),
        ({"seed": 1.5}, TypeError, "seed must be an int ≥ 0, got 1.5 (float)"),
        ({"seed": True}, TypeError, "seed must be an int ≥ 0, got True (bool)"),
        ({"rng": 42}, TypeError,
         "rng must be a numpy.random.Generator or a matnet BookRandom, got 42 (int) (pass seed= for an int)"),
        ({"seed": 1, "rng": np.random.default_rng(1)}, ValueError, "give seed or rng, not both"),
    ],
)
def test_bad_seed_or_rng_is_one_clear_line(kwargs, error, message):
    with pytest.raises(error) as info:
        Network(SIZES, **kwargs)
    assert type(info.value) is error and str(info.value) == message


def test_a_random_state_is_not_taken_for_a_generator():
    expected = r"^rng must be a numpy\.random\.Generator or a matnet BookRandom, got .*\(RandomState\)$"
    with pytest.raises(TypeError, match=expected):
        Network(SIZES, rng=np.random.RandomState(0))


# ------------------------------------------------------------------------- the book's leniencies
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("empty", [[], ()])
def test_empty_test_data_is_no_test_data(backend, empty, capsys):
    """The book's ``if test_data:``: an empty list trains without evaluating."""
    x, y = synthetic(SIZES, 20)
    reports = []
    net = Network(SIZES, seed=0, backend=backend)
    net.SGD((x, y), 2, 5, 1.0, test_data=empty, on_epoch=reports.append)
    assert capsys.readouterr().out == "Epoch 0 complete\nEpoch 1 complete\n"
    assert [(r.epoch, r.correct, r.n_test) for r in reports] == [(0, None, 0), (1, None, 0)]
    assert same_parameters(net, trained_like(backend, (x, y), epochs=2, batch=5))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("empty", [[], ()])
def test_evaluating_no_test_data_counts_none(backend, empty):
    """The book's evaluate sums over the list: of an empty one, 0."""
    assert Network(SIZES, seed=0, backend=backend).evaluate(empty) == 0


def trained_like(backend: str, data, epochs: int, batch: int) -> Network:
    net = Network(SIZES, seed=0, backend=backend)
    net.SGD(data, epochs, batch, 1.0, verbose=False)
    return net


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_mini_batch_beyond_the_data_is_all_of_it(backend):
    """SGD(data_of_20, 1, 10**8, eta) is one mini-batch of 20: the same as a batch of 20, in
    memory proportional to the data (not to 10**8)."""
    x, y = synthetic(SIZES, 20, seed=4)
    net = Network(SIZES, seed=0, backend=backend)
    net.prepare(20)  # compiling is not what is measured
    tracemalloc.start()
    try:
        net.SGD((x, y), 1, 10**8, 2.0, verbose=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak:,} bytes for 20 examples"
    assert same_parameters(net, _sgd(backend, (x, y), batch=20))
    assert not same_parameters(net, _sgd(backend, (x, y), batch=10))  # the batch size matters


def _sgd(backend: str, data, batch: int) -> Network:
    net = Network(SIZES, seed=0, backend=backend)
    net.SGD(data, 1, batch, 2.0, verbose=False)
    return net


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_mini_batch_beyond_a_book_list_is_all_of_it(backend):
    """The same in book mode, on the book's list of pairs, shuffled by ``random``."""
    x, y = synthetic(SIZES, 20, seed=4)
    nets = []
    for batch in (10**8, 20):
        np.random.seed(0)
        random.seed(0)
        nets.append(Network(SIZES, backend=backend))
        nets[-1].SGD(book_pairs(x, y), 2, batch, 2.0, verbose=False)
    assert same_parameters(*nets)
