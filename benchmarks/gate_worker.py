"""One side of the gate's A/B comparison: times the book's calls with whichever matnet it imports.

The gate (benchmarks/gate.py) starts two of these, one importing the baseline revision's
matnet and one this tree's (each through its own PYTHONPATH), and asks them in turn to make
one call and report its seconds, so the two versions are timed interleaved on the same
machine at the same time. Only the public API is used (``matnet.mnist_loader``,
``matnet.network.Network``, and for ``chapter3-epoch`` ``matnet.network2.Network``, which a
revision before chapter 3 lacks: its worker says so and the gate skips that call).

Protocol: argv holds the call names; the worker loads MNIST (MATNET_DATA), builds and warms
up each call, prints ``missing`` and the calls its matnet cannot make (if any), then ``ready``
and the path of the matnet it imported, then for each line
read from stdin — a call name — times ``SAMPLES`` samples of ``repeat`` calls each and prints
the seconds per call of the fastest sample. EOF ends it. The fastest of a few short samples,
not one long one: on a shared VM a pause of the whole machine (tens of milliseconds, now and
then) lands in one sample and would otherwise decide the round; it only ever adds time.

``MATNET_GATE_SLOWDOWN=f`` (for the gate's own tests) spins after every timed call for (f − 1)
times its duration: this side then measures exactly f times slower.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
import time

import numpy as np

SIZES = [784, 30, 10]
SAMPLES = 3  # per request; the fastest is reported
NAMES = ("epoch", "arrays", "arrays-own", "evaluate", "feedforward", "update_mini_batch", "backprop",
         "chapter3-epoch")


def _calls(training, validation, test, x, labels):
    """name -> (calls per sample, zero-argument call), on networks drawn from seed 0 (chapter
    3's only where this matnet has network2)."""
    from matnet.network import Network

    def network():
        np.random.seed(0)
        random.seed(0)
        return Network(SIZES)

    nets = {name: network() for name in ("epoch", "arrays", "arrays-own", "evaluate", "feedforward", "step",
                                         "backprop")}
    own_x, own_labels = np.array(x), np.array(labels)  # a user's own arrays: writable copies
    column, (bx, by) = test[0][0], training[0]
    batch = training[:10]

    def quiet(fn):
        def run():
            with contextlib.redirect_stdout(io.StringIO()):
                return fn()
        return run

    calls = {
        "epoch": (1, quiet(lambda: nets["epoch"].SGD(training, 1, 10, 3.0, test_data=test))),
        "arrays": (1, quiet(lambda: nets["arrays"].SGD((x, labels), 1, 10, 3.0))),
        "arrays-own": (1, quiet(lambda: nets["arrays-own"].SGD((own_x, own_labels), 1, 10, 3.0))),
        "evaluate": (5, lambda: nets["evaluate"].evaluate(test)),
        "feedforward": (2000, lambda: nets["feedforward"].feedforward(column)),
        "update_mini_batch": (100, lambda: nets["step"].update_mini_batch(batch, 3.0)),
        "backprop": (500, lambda: nets["backprop"].backprop(bx, by)),
    }
    try:
        from matnet import network2
    except ImportError:
        return calls
    np.random.seed(0)
    random.seed(0)
    net2 = network2.Network([784, 100, 10])
    calls["chapter3-epoch"] = (1, quiet(lambda: net2.SGD(training, 1, 10, 0.5, lmbda=5.0,
                                                         evaluation_data=validation,
                                                         monitor_evaluation_accuracy=True)))
    return calls


def main(names: list[str]) -> int:
    from matnet import mnist_loader

    training, validation, test = mnist_loader.load_data_wrapper()
    (x, labels), _, _ = mnist_loader.load_data()
    calls = _calls(training, validation, test, x, labels)
    assert set(calls) <= set(NAMES)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        print(f"unknown calls {unknown}; known: {sorted(NAMES)}", file=sys.stderr)
        return 2
    missing = [n for n in names if n not in calls]
    if missing:
        print(f"missing {','.join(missing)}", flush=True)
    names = [n for n in names if n in calls]
    slowdown = float(os.environ.get("MATNET_GATE_SLOWDOWN", "1"))
    for name in names:  # warm-up: numba compiles or loads its cache, every cache fills
        repeat, call = calls[name]
        for _ in range(2):
            call()
    import matnet

    print(f"ready {matnet.__file__}", flush=True)  # the gate checks which matnet this is
    for line in sys.stdin:
        repeat, call = calls[line.strip()]
        print(f"{min(_sample(call, repeat, slowdown) for _ in range(SAMPLES))!r}", flush=True)
    return 0


def _sample(call, repeat: int, slowdown: float) -> float:
    """Seconds per call over ``repeat`` calls, spun out to ``slowdown`` times that."""
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    elapsed = time.perf_counter() - started
    if slowdown > 1:
        end = time.perf_counter() + (slowdown - 1) * elapsed
        while time.perf_counter() < end:
            pass
        elapsed = time.perf_counter() - started
    return elapsed / repeat


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
