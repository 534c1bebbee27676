"""matnet.bench.calls: the book's calls, made by the book's code, the loop oracle and matnet.

On a slice of the real loader's lists: every runner makes its call for real, the book and
matnet end in the same place from the same seeds (so the benchmark compares like with like),
and a measurement reports times, speedups and loop/book.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from matnet.bench import book_network, calls
from matnet.core.loop import LoopNetwork
from matnet.network import Network


@pytest.fixture(scope="module")
def data(mnist):
    from matnet import mnist_loader

    training, validation, test = mnist_loader.load_data_wrapper()
    return calls.Data(training[:300], validation[:100], test[:100], mnist.training.images[:300],
                      mnist.training.labels[:300])


def parameters(net) -> list[np.ndarray]:
    return [np.asarray(a, np.float64) for a in [*net.weights, *net.biases]]


def gap(a, b) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(parameters(a), parameters(b), strict=True))


def run_from_seed(runner):
    random.seed(calls.SEED)  # the shuffles: the same for each path
    return runner.run()


def fresh(data: calls.Data) -> calls.Data:
    """The same data with lists of their own: the book shuffles its list in place."""
    return calls.Data(list(data.training), list(data.validation), list(data.test), data.x, data.labels)


@pytest.mark.parametrize("name", ["epoch", "arrays", "arrays-m100", "update_mini_batch"])
def test_the_book_and_matnet_make_the_same_call(data, name):
    call = calls.find(name)
    book, ours = (calls.make_runner(call, path, fresh(data)) for path in ("book", "matnet"))
    run_from_seed(book)
    run_from_seed(ours)
    nets = [r.keep[0] for r in (book, ours)]
    assert isinstance(nets[0], book_network.Network) and isinstance(nets[1], Network)
    assert gap(*nets) < 1e-9
    assert gap(nets[1], calls._network("matnet", call)) > 1e-3  # it did train


def test_every_call_runs_on_each_of_its_paths(data):
    for call in calls.CALLS:
        if call.busy:
            continue
        for path in calls.paths_for(call):
            runner = calls.make_runner(call, path, data)
            runner.warmup()
            result = runner.run()
            if call.kind == "evaluate":
                assert 0 <= result <= 100
            if call.kind == "backprop":
                assert [w.shape for w in result[1]] == [(30, 784), (10, 30)]
    loop = calls.make_runner(calls.find("epoch"), "loop", data)
    assert isinstance(loop.keep[0], LoopNetwork)


def test_the_book_runs_a_part_of_the_longest_calls_and_is_scaled(data):
    session = calls.make_runner(calls.find("session"), "book", data)
    assert session.scale == 30 and "1 of 30 epochs" in session.note
    assert calls.make_runner(calls.find("session"), "matnet", data).scale == 1
    m1 = calls.make_runner(calls.find("arrays-m1"), "book", data)
    assert m1.scale == 1.0  # the slice here is shorter than the part the book runs of the full set


def test_a_measurement_reports_speedup_and_loop_over_book(data):
    result = calls.measure(calls.find("evaluate"), data, rounds=2)
    assert set(result["paths"]) == {"book", "loop", "matnet"}
    assert result["speedup"] == pytest.approx(float(np.median(result["speedup_samples"])))
    # Measured, not judged: ratios of times belong to the gate and the report, not a unit test.
    assert result["speedup"] > 0 and result["loop_over_book"] > 0
    samples = result["paths"]
    per_round = [loop / book for loop, book in zip(samples["loop"]["samples"], samples["book"]["samples"])]
    assert result["loop_over_book"] == pytest.approx(float(np.median(per_round)))
    assert result["target"] == 20 and result["code"] == "net.evaluate(test_data)"


def test_names_are_unique_and_the_quick_ones_exist():
    names = [c.name for c in calls.CALLS]
    assert len(names) == len(set(names))
    assert all(calls.find(n) for n in calls.QUICK_CALLS)
    with pytest.raises(KeyError, match="known"):
        calls.find("sessions")
