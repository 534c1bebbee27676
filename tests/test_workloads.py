"""matnet.bench.workloads: the catalogue, the FLOP formula, the states and the runners.

Runners are exercised on small synthetic problems (a few hundred examples), so these tests
are fast; the real workloads are timed by benchmarks/, `matnet bench` and the gate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matnet.bench import workloads as wl

SIZES = (784, 30, 10)


def synthetic(n: int, sizes=SIZES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like rows: ~80% zeros, the rest in (0, 1]; labels 0..n_L-1."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]))
    x[x < 0.8] = 0.0
    return x, rng.integers(0, sizes[-1], n)


def small(kind: str, n: int, m: int | None = 10, dtype: str = "float64", sizes=SIZES) -> wl.Workload:
    return dataclasses.replace(wl.workload(kind, sizes, m, dtype), n_examples=n)


def test_book_epoch_is_5_05_gflop_and_matches_the_formula():
    w = wl.BOOK
    assert (w.sizes, w.batch_size, w.eta, w.dtype, w.kind, w.n_examples) == (
        (784, 30, 10), 10, 3.0, "float64", "epoch", 50_000)
    dense = 784 * 30 + 30 * 10
    per_example = (
        2 * dense + 40 + 4 * 40  # forward: products, biases, sigmoids
        + 4 * 10  # BP1
        + 2 * 30 * 10 + 3 * 30  # BP2 into the hidden layer
        + 40  # BP3
        + 2 * dense  # BP4
    )
    update = 2 * (dense + 40)
    assert w.flops == 50_000 * per_example + 5_000 * update
    assert round(w.flops / 1e9, 2) == 5.05
    products = 50_000 * (6 * dense - 2 * 784 * 30) + 5_000 * 2 * dense
    assert products / w.flops > 0.98


def test_flops_of_other_kinds():
    ev = wl.find("evaluate-784-30-10-f64")
    assert ev.flops == 10_000 * wl.forward_flops(SIZES)
    step = wl.find("step-784-30-10-m10-f64")
    assert step.flops == wl.flops(wl.BOOK, 10)
    per_example = wl.forward_flops(SIZES) + wl.backward_flops(SIZES)
    assert wl.flops(wl.BOOK, 15) == 15 * per_example + 2 * wl.update_flops(SIZES)  # 2 batches
    # a deeper net back-propagates through every hidden layer
    bp2 = (2 * 3 * 2 + 3 * 3) + (2 * 2 * 1 + 3 * 2)
    assert wl.backward_flops((4, 3, 2, 1)) == 4 * 1 + bp2 + (3 + 2 + 1) + 2 * (12 + 6 + 2)


def test_catalogue_holds_the_guides_workloads():
    names = [w.name for w in wl.WORKLOADS]
    assert len(names) == len(set(names))
    epochs = {(w.sizes, w.batch_size, w.dtype) for w in wl.WORKLOADS if w.kind == "epoch"}
    for dtype in wl.DTYPES:
        for m in (1, 10, 100, 1000):
            assert ((784, 30, 10), m, dtype) in epochs
        for sizes in wl.BOOK_SIZES:
            assert (sizes, 10, dtype) in epochs
            assert wl.workload("evaluate", sizes, None, dtype) in wl.WORKLOADS
            assert wl.workload("step", sizes, 10, dtype) in wl.WORKLOADS
    assert all(w.eta == 3.0 for w in wl.WORKLOADS)
    assert wl.find("epoch-784-30-10-m10-f64") == wl.BOOK
    with pytest.raises(KeyError, match="unknown workload"):
        wl.find("epoch-1-2-3")
    with pytest.raises(ValueError, match="kind"):
        wl.workload("train", SIZES)


def test_setup_is_deterministic_and_read_only():
    w = small("epoch", 200)
    a, b = wl.setup(w, synthetic(300)), wl.setup(w, synthetic(300))
    assert a.order.shape == (200,) and len(set(a.order.tolist())) == 200
    np.testing.assert_array_equal(a.order, b.order)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)
        assert not x.flags.writeable
    assert [wt.shape for wt in a.weights] == [(30, 784), (10, 30)]
    assert [bs.shape for bs in a.biases] == [(30, 1), (10, 1)]
    np.testing.assert_array_equal(a.y.argmax(axis=1), a.labels)
    f32 = wl.setup(small("epoch", 200, dtype="float32"), synthetic(300))
    assert f32.x.dtype == f32.weights[0].dtype == np.float32
    np.testing.assert_array_equal(f32.weights[0], a.weights[0].astype(np.float32))


def test_setup_rejects_too_little_data():
    with pytest.raises(ValueError, match="needs 200 examples"):
        wl.setup(small("epoch", 200), synthetic(100))


@pytest.mark.parametrize("dtype", wl.DTYPES)
def test_training_paths_agree_and_every_run_starts_afresh(dtype):
    state = wl.setup(small("epoch", 120, dtype=dtype), synthetic(150))
    finals = {}
    for path in ("book", "loop", "numpy", "numba-kernels", "fused"):
        runner = wl.make_runner(state, path)
        runner.prepare()
        runner()
        weights, biases = runner.parameters()
        first = [p.copy() for p in weights + biases]
        runner()  # must start again from the initial parameters
        weights, biases = runner.parameters()
        second = weights + biases
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(first[0], state.weights[0])  # it did train
        finals[path] = first
    tol = 1e-9 if dtype == "float64" else 1e-3
    for path in ("book", "numpy", "numba-kernels", "fused"):
        for a, b in zip(finals["loop"], finals[path]):
            np.testing.assert_allclose(b, a, rtol=0, atol=tol, err_msg=path)
    assert state.weights[0].flags.writeable is False


def test_prefix_runs_whole_mini_batches_and_scales():
    state = wl.setup(small("epoch", 200), synthetic(200))
    runner = wl.make_runner(state, "loop", examples=25)
    assert (runner.examples, runner.scale) == (20, 10.0)
    assert "20 of 200 examples" in runner.note
    full = wl.make_runner(state, "fused")
    assert (full.examples, full.scale, full.note) == (200, 1.0, "")


def test_step_runners_take_one_mini_batch():
    state = wl.setup(wl.find("step-784-30-10-m10-f64"), synthetic(100))
    assert state.order.shape == (10,)
    for path in ("book", "loop", "numpy", "numba-kernels", "fused"):
        runner = wl.make_runner(state, path)
        runner.prepare()
        runner()
        assert runner.examples == 10


def test_evaluation_paths_count_the_same():
    state = wl.setup(small("evaluate", 300, None), synthetic(400))
    assert state.x.shape == (300, 784)
    counts = {p: wl.make_runner(state, p)() for p in ("book", "loop", "numpy", "numba-kernels", "fused")}
    assert len(set(counts.values())) == 1 and 0 <= counts["loop"] <= 300
    assert wl.make_runner(state, "numpy", examples=50).scale == 6.0


@pytest.mark.parametrize("peer", wl.PEER_PATHS)
def test_peers_do_the_same_math(peer):
    """torch / jax (when installed) follow the loop's trajectory: same cost, same η."""
    pytest.importorskip(peer)
    state = wl.setup(small("epoch", 60), synthetic(60))
    expected = wl.make_runner(state, "loop")
    expected()
    runner = wl.make_runner(state, peer)
    runner.prepare()
    runner()
    (ew, eb), (pw, pb) = expected.parameters(), runner.parameters()
    for a, b in zip(ew + eb, pw + pb):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)
    evaluation = wl.setup(small("evaluate", 50, None), synthetic(50))
    assert wl.make_runner(evaluation, peer)() == wl.make_runner(evaluation, "loop")()


@pytest.mark.parametrize("peer", wl.PEER_PATHS)
def test_missing_peers_are_unavailable(peer):
    import importlib.util

    if importlib.util.find_spec(peer) is not None:
        pytest.skip(f"{peer} is installed")
    state = wl.setup(small("epoch", 20), synthetic(20))
    with pytest.raises(wl.PathUnavailableError, match="not installed"):
        wl.make_runner(state, peer)


@pytest.mark.parametrize("case", [c for c in wl.KERNEL_CASES if c.rows == 10], ids=lambda c: c.name)
def test_kernel_registries_agree(case):
    outs = []
    for registry in wl.KERNEL_PATHS:
        runner = wl.kernel_runner(case, registry)
        outs.append(np.array(runner()))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5)
    assert wl.find_kernel(case.name) == case


def test_time_interleaved_alternates_and_excludes_reset():
    calls = []

    def runner(name):
        return wl.Runner(name, "w", run=lambda: calls.append(name), reset=lambda: calls.append("reset"),
                         warmup=lambda: calls.append("warm"), scale=2.0)

    samples = wl.time_interleaved({"a": runner("a"), "b": runner("b")}, rounds=3)
    assert [c for c in calls if c not in ("reset", "warm")] == ["a", "b", "b", "a", "a", "b"]
    assert calls[:4] == ["warm", "reset", "warm", "reset"]
    assert all(len(v) == 3 and min(v) > 0 for v in samples.values())
    assert wl.ratios([4.0, 6.0], [2.0, 2.0]) == [2.0, 3.0]


def test_calibrate_sets_repeat():
    case = wl.find_kernel("kernel-output_delta-10x10-f64")
    runner = wl.kernel_runner(case, "numpy")
    repeat = wl.calibrate(runner, target=0.002)
    assert repeat == runner.repeat > 10


def test_sparse_flops_count_only_the_non_zero_inputs_of_the_first_layer():
    w = wl.find("epoch-784-30-10-m10-f64")
    assert wl.sparse_flops(w, 784) == wl.flops(w)
    saved = wl.flops(w) - wl.sparse_flops(w, 150)
    assert saved == 50_000 * 2 * (784 - 150) * 30 * 2  # forward and BP4, per example
    e = wl.find("evaluate-784-30-10-f64")
    assert wl.flops(e) - wl.sparse_flops(e, 150) == 10_000 * 2 * (784 - 150) * 30
