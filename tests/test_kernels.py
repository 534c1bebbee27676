"""Both kernel registries against one reference, so NumPy and numba cannot drift apart."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matnet.core.kernels import REGISTRY_NAMES, get_kernels
from matnet.core.maths import CROSS_ENTROPY, QUADRATIC

DTYPES = [np.float64, np.float32]


def reference_sigmoid(z: np.ndarray) -> np.ndarray:
    """expit-quality reference in exact-ish arithmetic: math.exp on Python floats, per element."""
    def one(v: float) -> float:
        if v >= 0:
            return 1.0 / (1.0 + math.exp(-v))
        e = math.exp(v)
        return e / (1.0 + e)

    return np.array([one(float(v)) for v in z.ravel()]).reshape(z.shape)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many representable numbers of a's dtype lie between a and b (both finite, ≥ 0)."""
    itype = np.int64 if a.dtype == np.float64 else np.int32
    return np.abs(a.view(itype).astype(np.int64) - b.astype(a.dtype).view(itype).astype(np.int64))


EDGE_INPUTS = [0.0, -0.0, 1e3, -1e3, 745.0, -745.0, 1e4, -1e4, 709.78, -709.78, 88.7, -88.7, 103.0,
               -103.0, 5e-324, -5e-324, 2.2e-308, -2.2e-308, 1e-300, 36.0, -36.0, 1.5, -1.5]


@pytest.mark.parametrize("name", REGISTRY_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_accurate_at_the_edges(name, dtype):
    z = np.array(EDGE_INPUTS, dtype=dtype)
    out = np.empty_like(z)
    get_kernels(name).sigmoid(z, out=out)
    assert np.isfinite(out).all()
    assert ((out >= 0) & (out <= 1)).all()
    assert ulp_distance(out, reference_sigmoid(z)).max() <= 4


@pytest.mark.parametrize("name", REGISTRY_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_accurate_on_random_values(name, dtype):
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 5, 4000), rng.uniform(-800, 800, 4000)]).astype(dtype).reshape(80, 100)
    out = np.empty_like(z)
    get_kernels(name).sigmoid(z, out=out)
    assert ulp_distance(out, reference_sigmoid(z)).max() <= 4


@pytest.mark.parametrize("name", REGISTRY_NAMES)
def test_sigmoid_runs_in_place(name):
    z = np.linspace(-800, 800, 60).reshape(6, 10)
    expected = reference_sigmoid(z)
    assert get_kernels(name).sigmoid(z, out=z) is z
    assert ulp_distance(z, expected).max() <= 4


@pytest.mark.parametrize("name", REGISTRY_NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_derivative_and_deltas_match_their_formulas(name, dtype):
    rng = np.random.default_rng(1)
    a = rng.random((10, 30)).astype(dtype)
    y = np.eye(30, dtype=dtype)[rng.integers(0, 30, 10)]
    g = rng.normal(size=(10, 30)).astype(dtype)
    k = get_kernels(name)
    tol = dict(rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)
    out = np.empty_like(a)
    assert k.sigmoid_prime(a, out=out) is out  # written in place, returned for chaining
    np.testing.assert_allclose(out, a * (1 - a), **tol)
    assert k.output_delta(QUADRATIC, a, y, out=out) is out
    np.testing.assert_allclose(out, (a - y) * a * (1 - a), **tol)
    assert k.output_delta(CROSS_ENTROPY, a, y, out=out) is out
    np.testing.assert_allclose(out, a - y, **tol)
    assert k.hidden_delta(g, a, out=out) is out
    np.testing.assert_allclose(out, g * a * (1 - a), **tol)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    z=arrays(np.float64, st.tuples(st.integers(1, 7), st.integers(1, 9)),
             elements=st.floats(allow_nan=False, allow_infinity=False)),
)
def test_registries_agree_on_any_finite_input(z):
    outs = []
    for name in REGISTRY_NAMES:
        out = np.empty_like(z)
        get_kernels(name).sigmoid(z, out=out)
        assert ((out >= 0) & (out <= 1)).all()
        outs.append(out)
    assert ulp_distance(outs[0], outs[1]).max() <= 4


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 8)), elements=st.floats(0, 1)),
    data=st.data(),
)
def test_registries_agree_on_deltas(a, data):
    y = data.draw(arrays(np.float64, a.shape, elements=st.floats(0, 1)))
    results = {}
    for name in REGISTRY_NAMES:
        k = get_kernels(name)
        results[name] = (
            k.sigmoid_prime(a, out=np.empty_like(a)),
            k.output_delta(QUADRATIC, a, y, out=np.empty_like(a)),
            k.output_delta(CROSS_ENTROPY, a, y, out=np.empty_like(a)),
            k.hidden_delta(y, a, out=np.empty_like(a)),
        )
    for left, right in zip(*results.values()):
        np.testing.assert_allclose(left, right, rtol=1e-13, atol=1e-300)


def test_unknown_registry_is_named():
    with pytest.raises(ValueError, match="unknown kernel registry 'cuda'"):
        get_kernels("cuda")


def test_numba_kernels_refuse_strided_arrays():
    z = np.zeros((4, 6))[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        get_kernels("numba").sigmoid(z, out=np.empty((4, 3)))
