"""Bad inputs are refused before any weight changes, with errors naming what was wrong."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matnet.network import Network

SIZES = [4, 3, 2]
N_IN, N_OUT = SIZES[0], SIZES[-1]


def column(value=0.5, n=N_IN):
    return np.full((n, 1), value)


def one_hot(label, n=N_OUT):
    y = np.zeros((n, 1))
    y[label] = 1.0
    return y


def pairs(n=6):
    """The book's training format: (x (4, 1), one-hot y (2, 1))."""
    rng = np.random.default_rng(0)
    return [(rng.random((N_IN, 1)), one_hot(i % N_OUT)) for i in range(n)]


def labelled(n=6):
    """The book's test format: (x (4, 1), int label)."""
    rng = np.random.default_rng(1)
    return [(rng.random((N_IN, 1)), i % N_OUT) for i in range(n)]


def arrays(n=6):
    rng = np.random.default_rng(2)
    return rng.random((n, N_IN)), np.arange(n) % N_OUT


def with_x(data, i, x):
    data = list(data)
    data[i] = (x, data[i][1])
    return data


def with_y(data, i, y):
    data = list(data)
    data[i] = (data[i][0], y)
    return data


def nan_at(x, index, value=np.nan):
    x = np.array(x, dtype=float)
    x[index] = value
    return x


def sgd(data, epochs=1, mini_batch_size=2, eta=1.0, test_data=None):
    return lambda net: net.SGD(data, epochs, mini_batch_size, eta, test_data=test_data, verbose=False)


def sgd_float32(data):
    return lambda net: Network(SIZES, dtype=np.float32, seed=0, backend=net.backend).SGD(
        data, 1, 2, 1.0, verbose=False)


def evaluate(data):
    return lambda net: net.evaluate(data)


def feedforward(a):
    return lambda net: net.feedforward(a)


def update(data, eta=1.0):
    return lambda net: net.update_mini_batch(data, eta)


def backprop(x, y):
    return lambda net: net.backprop(x, y)


X, LABELS = arrays()

# Each row: the call, the exception type, and text its message must contain: the argument's
# name and the bad value or shape, with what was expected where there is one thing to expect.
CASES = {
    # ------------------------------------------------------------------------------ SGD
    "SGD x shape": (sgd(with_x(pairs(), 3, column(n=5))), ValueError,
                    ["training_data inputs[3]", "(5, 1)", "(4, 1)"]),
    "SGD X columns": (sgd((np.ones((6, 5)), LABELS)), ValueError,
                      ["training_data inputs", "(6, 5)", "(n, 4)"]),
    "SGD X transposed": (sgd((X.T, LABELS)), ValueError, ["training_data inputs", "(4, 6)", "(n, 4)"]),
    "SGD y shape": (sgd(with_y(pairs(), 2, one_hot(0, 3))), ValueError,
                    ["training_data[2]", "(3, 1)", "(2, 1)"]),
    "SGD Y width": (sgd((X, np.ones((6, 3)))), ValueError, ["training_data outputs", "(n, 2)", "(6, 3)"]),
    "SGD label too big": (sgd((X, np.array([0, 1, 2, 0, 1, 0]))), ValueError,
                          ["training_data outputs", "label 2", "[0, 2)"]),
    "SGD label negative": (sgd(with_y(labelled(), 4, -1)), ValueError,
                           ["training_data outputs", "label -1", "[0, 2)"]),
    "SGD label fractional": (sgd((X, np.array([0, 1, 0.5, 0, 1, 0]))), ValueError,
                             ["training_data outputs", "whole-number", "0.5"]),
    "SGD label huge float": (sgd((X, np.array([0, 1, 1e300, 0, 1, 0]))), ValueError,
                             ["training_data outputs", "label 1e+300", "[0, 2)"]),
    "SGD label beyond int64": (sgd((X, np.array([0, 1, 2**63 + 5, 0, 1, 0], np.uint64))), ValueError,
                               ["training_data outputs", f"label {2**63 + 5}"]),
    "SGD string inputs": (sgd((X.astype(str), LABELS)), TypeError, ["training_data inputs", "dtype <U"]),
    "SGD object inputs": (sgd((X.astype(object), LABELS)), TypeError,
                          ["training_data inputs", "dtype object"]),
    "SGD complex input": (sgd(with_x(pairs(), 1, column().astype(complex))), TypeError,
                          ["training_data inputs", "complex128"]),
    "SGD string labels": (sgd((X, np.array(list("010101")))), TypeError, ["training_data outputs", "<U1"]),
    "SGD NaN input": (sgd((nan_at(X, (2, 3)), LABELS)), ValueError,
                      ["training_data inputs", "nan", "(2, 3)"]),
    "SGD inf input": (sgd(with_x(pairs(), 5, nan_at(column(), (1, 0), np.inf))), ValueError,
                      ["training_data inputs", "inf", "(5, 1)"]),
    "SGD NaN target": (sgd(with_y(pairs(), 0, nan_at(one_hot(1), (0, 0)))), ValueError,
                       ["training_data outputs", "nan", "(0, 0)"]),
    "SGD float32 overflow": (sgd_float32((np.full((6, 4), 1e39), LABELS)), ValueError,
                             ["training_data inputs", "3.4e+38", "float32"]),
    "SGD empty list": (sgd([]), ValueError, ["training_data is empty"]),
    "SGD empty arrays": (sgd((X[:0], LABELS[:0])), ValueError, ["training_data inputs is empty"]),
    "SGD empty zip": (sgd(zip([], [])), ValueError, ["training_data is empty"]),
    "SGD counts differ": (sgd((X, LABELS[:5])), ValueError, ["training_data", "6 inputs", "5 outputs"]),
    "SGD ragged input": (sgd(with_x(pairs(), 0, [[1.0], [2.0], [3.0], [4.0, 5.0]])), ValueError,
                         ["training_data inputs[0]", "rectangular", "[[1.0], [2.0]"]),
    "SGD mixed outputs": (sgd(with_y(pairs(), 3, 1)), ValueError,
                          ["training_data[3]", "output shape ()", "(2, 1)"]),
    "SGD not pairs": (sgd([1, 2, 3]), TypeError, ["training_data[0]", "(x, y) pair", "int"]),
    "SGD datetime mixed in": (sgd(with_x(pairs(), 2, np.zeros((4, 1), "M8[s]"))), TypeError,
                              ["training_data inputs[2]", "datetime64"]),
    "SGD None data": (sgd(None), TypeError, ["training_data", "None"]),
    "SGD single array": (sgd(X), TypeError, ["training_data", "single array"]),
    "SGD batch 0": (sgd(pairs(), mini_batch_size=0), ValueError, ["mini_batch_size", "≥ 1", "0"]),
    "SGD batch -3": (sgd(pairs(), mini_batch_size=-3), ValueError, ["mini_batch_size", "≥ 1", "-3"]),
    "SGD batch float": (sgd(pairs(), mini_batch_size=2.5), TypeError, ["mini_batch_size", "int", "2.5"]),
    "SGD batch bool": (sgd(pairs(), mini_batch_size=True), TypeError, ["mini_batch_size", "True"]),
    "SGD epochs -1": (sgd(pairs(), epochs=-1), ValueError, ["epochs", "≥ 0", "-1"]),
    "SGD epochs float": (sgd(pairs(), epochs=1.0), TypeError, ["epochs", "int", "1.0"]),
    "SGD eta 0": (sgd(pairs(), eta=0), ValueError, ["eta", "finite positive", "got 0"]),
    "SGD eta negative": (sgd(pairs(), eta=-3.0), ValueError, ["eta", "finite positive", "-3.0"]),
    "SGD eta NaN": (sgd(pairs(), eta=math.nan), ValueError, ["eta", "finite positive", "nan"]),
    "SGD eta inf": (sgd(pairs(), eta=math.inf), ValueError, ["eta", "finite positive", "inf"]),
    "SGD eta string": (sgd(pairs(), eta="3.0"), TypeError, ["eta", "real number", "'3.0'"]),
    "SGD eta None": (sgd(pairs(), eta=None), TypeError, ["eta", "None"]),
    "SGD bad test label": (sgd(pairs(), test_data=with_y(labelled(), 1, 7)), ValueError,
                           ["test_data labels", "label 7", "[0, 2)"]),
    "SGD bad test shape": (sgd(pairs(), test_data=(np.ones((3, 2)), LABELS[:3])), ValueError,
                           ["test_data inputs", "(3, 2)", "(n, 4)"]),
    # ------------------------------------------------------------------------- evaluate
    "evaluate x shape": (evaluate(with_x(labelled(), 0, column(n=3))), ValueError,
                         ["test_data inputs[0]", "(3, 1)", "(4, 1)"]),
    "evaluate label": (evaluate(with_y(labelled(), 2, 2)), ValueError,
                       ["test_data labels", "label 2", "[0, 2)"]),
    "evaluate one-hot width": (evaluate((X, np.ones((6, 5)))), ValueError,
                               ["test_data labels", "(6, 5)", "(n, 2)"]),
    "evaluate NaN": (evaluate((nan_at(X, (0, 0)), LABELS)), ValueError,
                     ["test_data inputs", "nan", "(0, 0)"]),
    "evaluate dtype": (evaluate(with_x(labelled(), 0, column().astype(str))), TypeError,
                       ["test_data inputs", "<U"]),
    "evaluate None": (evaluate(None), TypeError, ["test_data", "None"]),
    # ---------------------------------------------------------------------- feedforward
    "feedforward rows": (feedforward(np.ones((3, 1))), ValueError, ["a must be", "(4, 1)", "(3, 1)"]),
    "feedforward vector": (feedforward(np.ones(5)), ValueError, ["a must be", "(4,)", "(5,)"]),
    "feedforward 3-D": (feedforward(np.ones((4, 1, 1))), ValueError, ["a must be", "(4, 1, 1)"]),
    "feedforward scalar": (feedforward(1.0), ValueError, ["a must be", "got shape ()"]),
    "feedforward NaN": (feedforward(nan_at(column(), (2, 0))), ValueError, ["a contains NaN", "nan"]),
    "feedforward inf": (feedforward(nan_at(np.ones(4), 1, -np.inf)), ValueError, ["a contains NaN", "-inf"]),
    "feedforward strings": (feedforward(np.full((4, 1), "x")), TypeError, ["a must hold", "<U1"]),
    "feedforward ragged": (feedforward([[1.0], [2.0], [3.0], [4.0, 5.0]]), ValueError,
                           ["a must be a rectangular array", "[[1.0], [2.0]"]),
    # ---------------------------------------------------------------- update_mini_batch
    "update eta": (update(pairs(), -1.0), ValueError, ["eta", "-1.0"]),
    "update empty": (update([]), ValueError, ["mini_batch is empty"]),
    "update x shape": (update(with_x(pairs(), 0, column(n=6))), ValueError,
                       ["mini_batch inputs[0]", "(6, 1)", "(4, 1)"]),
    "update NaN": (update(with_y(pairs(), 1, nan_at(one_hot(0), (1, 0)))), ValueError,
                   ["mini_batch outputs", "nan", "(1, 1)"]),
    # ------------------------------------------------------------------------- backprop
    "backprop x shape": (backprop(column(n=3), one_hot(0)), ValueError,
                         ["(x, y) inputs", "(3, 1)", "(4, 1)"]),
    "backprop y shape": (backprop(column(), one_hot(0, 4)), ValueError,
                         ["(x, y) outputs", "(n, 2)", "(1, 4)"]),
    "backprop label": (backprop(column(), 5), ValueError, ["(x, y) outputs", "label 5", "[0, 2)"]),
    "backprop NaN": (backprop(nan_at(column(), (0, 0)), one_hot(1)), ValueError, ["(x, y) inputs", "nan"]),
    "backprop dtype": (backprop(column().astype(object), one_hot(1)), TypeError, ["(x, y) inputs", "object"]),
}


@pytest.mark.parametrize("backend", ["numpy", "numba", "loop"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_any_change(case, backend):
    call, error, fragments = CASES[case]
    net = Network(SIZES, seed=0, backend=backend)
    before = [a.copy() for a in [*net.weights, *net.biases]]
    with pytest.raises(error) as info:
        call(net)
    assert type(info.value) is error, f"got {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    for got, want in zip([*net.weights, *net.biases], before, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("sizes", "error", "fragments"),
    [
        ([3], ValueError, ["sizes", "at least 2", "[3]"]),
        ([], ValueError, ["sizes", "[]"]),
        ([3, 0], ValueError, ["sizes[1]", "positive", "0"]),
        ([3, -2, 1], ValueError, ["sizes[1]", "-2"]),
        ([3, 2.0], TypeError, ["sizes[1]", "int", "2.0"]),
        ([3, True], TypeError, ["sizes[1]", "True"]),
        ([3, "2"], TypeError, ["sizes[1]", "'2'"]),
        ("32", TypeError, ["sizes", "'32'"]),
        (None, TypeError, ["sizes", "None"]),
        (5, TypeError, ["sizes", "5"]),
    ],
)
def test_bad_sizes_are_refused(sizes, error, fragments):
    with pytest.raises(error) as info:
        Network(sizes)
    assert type(info.value) is error
    for fragment in fragments:
        assert fragment in str(info.value)


def test_valid_sizes_of_any_integer_type_are_accepted():
    net = Network(np.array([3, 2], dtype=np.int32), seed=0)
    assert net.sizes == [3, 2] and all(type(n) is int for n in net.sizes)
    assert Network(iter([2, 2, 1]), seed=0).sizes == [2, 2, 1]


def test_an_error_leaves_the_callers_list_in_its_order():
    data = pairs()
    order = [id(x) for x, _ in data]
    net = Network(SIZES, seed=0)
    with pytest.raises(ValueError, match="test_data"):
        net.SGD(data, 1, 2, 1.0, test_data=[(column(), 9)])
    assert [id(x) for x, _ in data] == order


# ------------------------------------------------------------------------- property tests
ARGUMENT_NAMES = {
    "x_shape": "training_data", "y_shape": "training_data", "label_range": "training_data",
    "x_dtype": "training_data", "x_nonfinite": "training_data", "y_nonfinite": "training_data",
    "empty": "training_data", "batch": "mini_batch_size", "epochs": "epochs", "eta": "eta",
    "test_label": "test_data",
}
FORMATS = ["pairs", "pairs-labels", "pairs-flat", "zip", "arrays-labels", "arrays-onehot"]


@st.composite
def training_calls(draw):
    """A network, and SGD arguments with zero or more known defects (and which ones)."""
    backend = draw(st.sampled_from(["numpy", "numba"]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    # No float32 compiled network without a hidden layer: numba would compile the fused
    # kernels for that dtype and depth for this test alone (seconds each), and validation
    # does not depend on either.
    shapes = [[4, 3, 2]] if (backend, dtype) == ("numba", np.float32) else [[3, 2], [4, 3, 2]]
    sizes = draw(st.sampled_from(shapes))
    n_in, n_out = sizes[0], sizes[-1]
    defects = set()
    if draw(st.integers(0, 2)):  # two in three calls carry one or two defects
        defects = draw(st.sets(st.sampled_from(sorted(ARGUMENT_NAMES)), min_size=1, max_size=2))
    label_formats = [f for f in FORMATS if f in ("pairs-labels", "arrays-labels")]
    fmt = draw(st.sampled_from(label_formats if "label_range" in defects else FORMATS))
    n = 0 if "empty" in defects else draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, (n, n_in)).astype(draw(st.sampled_from([np.float64, np.float32, np.int64])))
    labels = rng.integers(0, n_out, n)
    onehot = fmt in ("pairs", "pairs-flat", "zip", "arrays-onehot")
    y = np.eye(n_out)[labels] if onehot else labels.astype(draw(st.sampled_from([np.int64, np.float64])))
    if n and "x_shape" in defects:
        if fmt.startswith("arrays"):
            x = np.ones((n, n_in + draw(st.sampled_from([-1, 1]))))
        else:  # the shape of one example differs
            x = list(x)
            x[draw(st.integers(0, n - 1))] = np.ones(draw(st.sampled_from([n_in + 1, n_in - 1, 2 * n_in])))
    if n and "y_shape" in defects:
        y = np.ones((n, n_out + 1)) if onehot or draw(st.booleans()) else np.ones((n, n_out, 2))
        onehot = True
    if n and "label_range" in defects:
        if onehot:  # y_shape made the outputs one-hot targets
            defects.discard("label_range")
        else:
            y = np.array(y)
            y[draw(st.integers(0, n - 1))] = draw(st.sampled_from([-1, n_out, n_out + 7]))
    if n and "x_dtype" in defects:
        kind = draw(st.sampled_from([str, complex, object]))
        x = [np.asarray(row).astype(kind) for row in x] if isinstance(x, list) else x.astype(kind)
    if n and "x_nonfinite" in defects:
        if isinstance(x, list) or np.asarray(x).dtype.kind not in "fiu" or np.shape(x)[1:] != (n_in,):
            defects.discard("x_nonfinite")
        else:
            x = np.asarray(x, dtype=np.float64)
            x[draw(st.integers(0, n - 1)), draw(st.integers(0, n_in - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf]))
    if n and "y_nonfinite" in defects:
        y = np.array(y, dtype=np.float64)
        y[draw(st.integers(0, n - 1))] = np.nan
    if n == 0:
        x, y = np.ones((0, n_in)), np.zeros(0, np.int64)
    data = _format(fmt, x, y)

    epochs = draw(st.sampled_from([-1, 2.0, None])) if "epochs" in defects else draw(st.integers(0, 2))
    batch = draw(st.sampled_from([0, -2, 1.5, True, "2"])) if "batch" in defects else draw(st.integers(1, 5))
    eta = (draw(st.sampled_from([0, -1.0, math.nan, math.inf, "3", None, True])) if "eta" in defects
           else draw(st.floats(0.05, 5.0)))
    test_data = None
    if draw(st.booleans()) or "test_label" in defects:
        test_x = rng.uniform(0, 1, (3, n_in))
        test_labels = np.array([0, n_out, 1]) if "test_label" in defects else np.array([0, n_out - 1, 1])
        test_data = [(xi.reshape(-1, 1), int(li)) for xi, li in zip(test_x, test_labels)]
    net = Network(sizes, backend=backend, dtype=dtype, seed=seed % 1000)
    return net, (data, epochs, batch, eta, test_data), defects


def _format(fmt, x, y):
    """The data in one of FORMATS: the book's pairs (columns, or flat vectors), a zip of
    them, or a tuple of arrays (X, Y)."""
    if fmt.startswith("arrays"):  # x_shape defects keep x an array in these formats
        return np.asarray(x), np.asarray(y)
    xs = [np.asarray(xi).reshape(-1, 1) if fmt != "pairs-flat" else np.asarray(xi) for xi in x]
    ys = [np.asarray(yi).reshape(-1, 1) if np.ndim(yi) == 1 else yi for yi in y]
    if fmt == "zip":
        return zip(xs, ys)
    return list(zip(xs, ys))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(training_calls())
def test_sgd_either_trains_or_refuses_with_a_named_error(call):
    net, (data, epochs, batch, eta, test_data), defects = call
    before = [a.copy() for a in [*net.weights, *net.biases]]
    try:
        net.SGD(data, epochs, batch, eta, test_data=test_data, verbose=False)
    except (ValueError, TypeError) as exc:
        assert defects, f"valid input refused: {exc}"
        names = {ARGUMENT_NAMES[d] for d in defects}
        assert any(re.search(rf"\b{name}\b", str(exc)) for name in names), (defects, str(exc))
        for got, want in zip([*net.weights, *net.biases], before, strict=True):
            np.testing.assert_array_equal(got, want)
        return
    assert not defects, f"accepted input with defects {defects}"
    after = [*net.weights, *net.biases]
    assert all(np.isfinite(a).all() and a.dtype == net.dtype for a in after)
    changed = any(not np.array_equal(a, b) for a, b in zip(after, before))
    assert changed == (epochs > 0)


@settings(max_examples=100, deadline=None)
@given(
    shape=st.sampled_from([(4, 1), (4, 3), (4,), (3, 1), (5,), (4, 0), (1, 4), (4, 1, 1), ()]),
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.str_]),
    poison=st.sampled_from([None, np.nan, np.inf]),
    backend=st.sampled_from(["numpy", "numba"]),
)
def test_feedforward_either_answers_or_refuses_with_a_named_error(shape, dtype, poison, backend):
    net = Network(SIZES, seed=0, backend=backend)
    a = np.ones(shape, dtype=dtype)
    poisoned = poison is not None and a.size > 0 and a.dtype.kind == "f"
    if poisoned:
        a.flat[0] = poison
    valid = shape in ((4, 1), (4, 3), (4,), (4, 0)) and np.dtype(dtype).kind in "biuf" and not poisoned
    try:
        out = net.feedforward(a)
    except (ValueError, TypeError) as exc:
        assert not valid, f"valid input refused: {exc}"
        assert str(exc).startswith("a ")
        return
    assert valid, f"accepted {shape} {np.dtype(dtype)} with {poison}"
    assert out.shape == (2, *shape[1:]) and np.isfinite(out).all()


def test_feedforward_of_no_columns_is_no_outputs():
    """As np.dot does in the book's feedforward: (n_0, 0) in, (n_L, 0) out."""
    for backend in ("numpy", "numba", "loop"):
        assert Network(SIZES, seed=0, backend=backend).feedforward(np.ones((4, 0))).shape == (2, 0)
