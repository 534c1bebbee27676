"""The book's calls, as a reader writes them, timed against the book's own code.

Each :class:`Call` is one line of the book's session, or of a notebook beside it, on the
loader's lists: ``net.SGD(training_data, 30, 10, 3.0, test_data=test_data)``,
``net.evaluate(test_data)``, ``net.feedforward(x)``… Three paths make the same call on
networks drawn from the same seed:

``book``    ``matnet.bench.book_network``, chapter 1's code (for chapter 3's calls,
            ``matnet.bench.book_network2``, network2 written the book's way): the 1x;
``loop``    ``matnet.core.loop.LoopNetwork``, matnet's oracle, which must cost what the book
            costs (loop/book is reported for the calls that train and evaluate);
``matnet``  ``matnet.network.Network`` (``matnet.network2.Network``), backend "auto", as a
            reader gets it.

Whole calls are timed, every fixed cost included: finding the loader's arrays, converting
inputs, compiling nothing (``prepare`` runs in the warm-up). Where the book would take
minutes — the 30-epoch session, an epoch at mini-batch 1 — it runs a part (one epoch of the
session; the first 10,000 examples of the epoch) and its time is scaled, and the report says
so. The calls with arrays give matnet ``(X, y)`` and the book its list, as each would be used.
"""

from __future__ import annotations

import contextlib
import io
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matnet.bench import workloads as wl
from matnet.bench.busy import busy_neighbour

SIZES = (784, 30, 10)
ETA = 3.0
SEED = 0
PATHS = ("book", "loop", "matnet")


@dataclass(frozen=True)
class Call:
    """One call of the book's API, with what the book does for comparison."""

    name: str
    code: str  # the line as the reader writes it
    target: float  # the speedup over the book asked for (issue #9)
    kind: str  # "train", "evaluate", "feedforward", "step" or "backprop"
    epochs: int = 1
    batch_size: int = 10
    arrays: bool = False  # matnet is given (X, y); the book its list
    own: bool = False  # (X, y) are the user's own writable copies, not the loader's frozen arrays
    test: bool = True  # the book's test_data argument (train calls)
    dtype: str = "float64"  # matnet's; the book is always float64
    busy: bool = False  # measured with another process spinning on a core
    book_epochs: int | None = None  # the book runs this many of the epochs (time scaled)
    book_examples: int | None = None  # the book runs this prefix of the training list (scaled)
    repeat: int = 1  # calls per timing sample, for calls of microseconds
    loop: bool = False  # also time matnet's oracle, for loop/book
    # Chapter 3's sessions (network2): what the call passes beyond chapter 1's.
    chapter: int = 1
    sizes: tuple[int, ...] = SIZES
    eta: float = ETA
    lmbda: float = 0.0
    training_size: int | None = None  # the first n training pairs (None: all)
    evaluation: str = "test"  # chapter 3's evaluation_data: "test" or "validation"
    monitor: tuple[str, ...] = ()  # chapter 3's monitor_… flags that are set
    large_weights: bool = False  # net.large_weight_initializer() first


CALLS: tuple[Call, ...] = (
    Call("session", "net.SGD(training_data, 30, 10, 3.0, test_data=test_data)", 30, "train",
         epochs=30, book_epochs=1),
    Call("session-busy", "the same, another process spinning on the other core", 20, "train",
         epochs=30, book_epochs=1, busy=True),
    Call("epoch", "net.SGD(training_data, 1, 10, 3.0, test_data=test_data)", 20, "train", loop=True),
    Call("arrays", "net.SGD((X, y), 1, 10, 3.0)", 30, "train", arrays=True, test=False, loop=True),
    Call("arrays-own", "the same with the user's own arrays (np.array copies, writable)", 25, "train",
         arrays=True, own=True, test=False),
    Call("arrays-f32", "net.SGD((X, y), 1, 10, 3.0), dtype=np.float32", 40, "train", arrays=True,
         test=False, dtype="float32"),
    Call("arrays-m1", "net.SGD((X, y), 1, 1, 3.0)", 15, "train", arrays=True, test=False, batch_size=1,
         book_examples=10_000),
    Call("arrays-m100", "net.SGD((X, y), 1, 100, 3.0)", 30, "train", arrays=True, test=False,
         batch_size=100),
    Call("evaluate", "net.evaluate(test_data)", 20, "evaluate", loop=True),
    Call("feedforward", "net.feedforward(x)", 1.5, "feedforward", repeat=400),
    Call("update_mini_batch", "net.update_mini_batch(training_data[:10], 3.0)", 1.0, "step", repeat=20),
    Call("backprop", "net.backprop(x, y)", 1.0, "backprop", repeat=100),
)
CHAPTER_3_CALLS: tuple[Call, ...] = (
    Call("ch3-overfitting", "net.SGD(training_data[:1000], 400, 10, 0.5, evaluation_data=test_data, "
         "monitor_evaluation_accuracy=True, monitor_training_cost=True)", 30, "train", epochs=400,
         book_epochs=8, chapter=3, eta=0.5, training_size=1000,
         monitor=("evaluation_accuracy", "training_cost"), large_weights=True),
    Call("ch3-100-hidden", "Network([784, 100, 10]).SGD(training_data, 30, 10, 0.5, lmbda=5.0, "
         "evaluation_data=validation_data, monitor_evaluation_accuracy=True)", 30, "train", epochs=30,
         book_epochs=1, chapter=3, sizes=(784, 100, 10), eta=0.5, lmbda=5.0, evaluation="validation",
         monitor=("evaluation_accuracy",), large_weights=True),
    Call("ch3-100-hidden-f32", "the same with dtype=np.float32", 30, "train", epochs=30, book_epochs=1,
         chapter=3, sizes=(784, 100, 10), eta=0.5, lmbda=5.0, evaluation="validation",
         monitor=("evaluation_accuracy",), large_weights=True, dtype="float32"),
    Call("ch3-epoch", "the same in float64, one epoch per call", 30, "train", chapter=3, sizes=(784, 100, 10),
         eta=0.5, lmbda=5.0, evaluation="validation", monitor=("evaluation_accuracy",), large_weights=True),
)
CALLS = CALLS + CHAPTER_3_CALLS
QUICK_CALLS = ("session", "epoch", "arrays", "evaluate", "feedforward", "ch3-overfitting")
MONITORS = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")


def find(name: str) -> Call:
    for call in CALLS:
        if call.name == name:
            return call
    raise KeyError(f"unknown call {name!r}; known: {', '.join(c.name for c in CALLS)}")


@dataclass
class Data:
    """The loader's lists and arrays, loaded once: what the book's session starts with."""

    training: list
    validation: list
    test: list
    x: np.ndarray  # (50,000, 784), the loader's read-only training images
    labels: np.ndarray  # (50,000,) int64


def load(data_dir: str | None = None) -> Data:
    from matnet import mnist_loader

    training, validation, test = mnist_loader.load_data_wrapper(data_dir)
    (x, labels), _, _ = mnist_loader.load_data(data_dir)
    return Data(training, validation, test, x, labels)


def _network(path: str, call: Call):
    """A fresh network for ``path``, drawn from SEED (book mode: the same numbers for all)."""
    np.random.seed(SEED)
    random.seed(SEED)
    if call.chapter == 3:
        return _network2(path, call)
    if path == "book":
        from matnet.bench import book_network

        return book_network.Network(list(SIZES))
    if path == "loop":
        from matnet.core.loop import LoopNetwork

        return LoopNetwork(list(SIZES))
    from matnet.network import Network

    return Network(list(SIZES), dtype=np.dtype(call.dtype))


def _network2(path: str, call: Call):
    """Chapter 3's network for ``path`` (the book's network2, or matnet's), initialized as the
    call's session does."""
    if path == "book":
        from matnet.bench import book_network2 as module

        net = module.Network(list(call.sizes), cost=module.CrossEntropyCost)
    else:
        from matnet import network2 as module

        net = module.Network(list(call.sizes), cost=module.CrossEntropyCost, dtype=np.dtype(call.dtype))
    if call.large_weights:
        net.large_weight_initializer()
    return net


def _silently(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with its printed epoch lines swallowed (the same cost for every path)."""

    def run() -> object:
        with contextlib.redirect_stdout(io.StringIO()):
            return fn()

    return run


def make_runner(call: Call, path: str, data: Data) -> wl.Runner:
    """A Runner making ``call`` once per run with ``path``'s network (book, loop or matnet)."""
    net = _network(path, call)
    scale = 1.0
    note = ""
    if call.kind == "train":
        epochs, training = call.epochs, data.training
        if path != "matnet" and call.book_epochs:
            epochs = call.book_epochs
            scale = call.epochs / epochs
            note = f"{epochs} of {call.epochs} epochs, scaled"
        if path != "matnet" and call.book_examples:
            training = data.training[: call.book_examples]
            scale = len(data.training) / len(training)
            note = f"{len(training):,} of {len(data.training):,} examples, scaled"
        test = data.test if call.test else None
        if call.chapter == 3:
            training = training[: call.training_size]
            evaluation = data.validation if call.evaluation == "validation" else data.test
            if path == "book":  # the book's code shuffles a plain list; matnet reads the loader's
                training, evaluation = list(training), list(evaluation)
            monitors = {f"monitor_{name}": name in call.monitor for name in MONITORS}

            def run() -> object:
                return net.SGD(training, epochs, call.batch_size, call.eta, lmbda=call.lmbda,
                               evaluation_data=evaluation, **monitors)
        elif path == "matnet" and call.arrays:
            arrays = (np.array(data.x), np.array(data.labels)) if call.own else (data.x, data.labels)

            def run() -> object:
                return net.SGD(arrays, epochs, call.batch_size, ETA)
        else:

            def run() -> object:
                return net.SGD(training, epochs, call.batch_size, ETA, test_data=test)

        run = _silently(run)
        warm_training = data.training[:200] if path != "matnet" or not call.arrays else (
            data.x[:200], data.labels[:200])

        def warmup() -> object:  # matnet compiles here; everyone's caches warm up
            if path == "matnet":
                net.prepare(call.batch_size, outputs=call.chapter == 3)
            with contextlib.redirect_stdout(io.StringIO()):
                return net.SGD(warm_training, 1, call.batch_size, call.eta)

    elif call.kind == "evaluate":
        def run() -> object:
            return net.evaluate(data.test)

        warmup = run
    elif call.kind == "feedforward":
        x = data.test[0][0]

        def run() -> object:
            return net.feedforward(x)

        warmup = run
    elif call.kind == "step":
        batch = data.training[:10]

        def run() -> object:
            return net.update_mini_batch(batch, ETA)

        warmup = run
    elif call.kind == "backprop":
        x, y = data.training[0]

        def run() -> object:
            return net.backprop(x, y)

        warmup = run
    else:
        raise ValueError(f"unknown kind {call.kind!r}")
    return wl.Runner(path, call.name, run, warmup=warmup, examples=1, scale=scale, repeat=call.repeat,
                     note=note, keep=[net])


def paths_for(call: Call) -> tuple[str, ...]:
    return PATHS if call.loop else ("book", "matnet")


def measure(call: Call, data: Data, rounds: int) -> dict:
    """Time ``call`` on its paths, interleaved; seconds per call (scaled where the book runs a
    part), and matnet's and the loop's speedups over the book (median of per-round ratios)."""
    runners = {path: make_runner(call, path, data) for path in paths_for(call)}
    with busy_neighbour() if call.busy else contextlib.nullcontext():
        samples = wl.time_interleaved(runners, rounds)
    result = {
        "name": call.name, "code": call.code, "target": call.target, "rounds": rounds, "busy": call.busy,
        "paths": {
            path: {"seconds": statistics.median(s), "samples": s, "scale": runners[path].scale,
                   "note": runners[path].note}
            for path, s in samples.items()
        },
    }
    speedups = wl.ratios(samples["book"], samples["matnet"])
    result["speedup"] = statistics.median(speedups)
    result["speedup_samples"] = speedups
    if "loop" in samples:
        result["loop_over_book"] = statistics.median(wl.ratios(samples["loop"], samples["book"]))
    return result


def monitoring(data: Data, rounds: int, sizes: Sequence[int] = (784, 100, 10)) -> dict:
    """What monitoring costs: one epoch of chapter 3's full-set session (λ = 5, η = 0.5) with
    the monitors the chapter sets (the evaluation accuracy on the validation data; for 30
    hidden neurons the training accuracy too), with all four, and with none, interleaved;
    each monitored epoch's time as a multiple of the unmonitored one (median of per-round
    ratios). The book computes its evaluation accuracy twice per epoch; matnet computes what
    it prints from one pass over each data set."""
    from matnet import network2

    chapter = ("evaluation_accuracy",) if sizes[1] >= 100 else ("evaluation_accuracy", "training_accuracy")
    variants = {"none": (), "the chapter's": chapter, "all four": MONITORS}
    runners = {}
    for name, monitor in variants.items():
        net = network2.Network(list(sizes), seed=SEED)
        flags = {f"monitor_{m}": m in monitor for m in MONITORS}

        def run(net=net, flags=flags) -> object:
            return net.SGD(data.training, 1, 10, 0.5, lmbda=5.0, evaluation_data=data.validation,
                           verbose=False, **flags)

        net.prepare(10, outputs=True)
        runners[name] = wl.Runner(name, "monitoring", run, keep=[net])
    samples = wl.time_interleaved(runners, rounds)
    result = {"sizes": list(sizes), "chapter": list(chapter), "seconds": {k: statistics.median(v)
                                                                          for k, v in samples.items()}}
    result["ratios"] = {name: statistics.median(wl.ratios(samples[name], samples["none"]))
                        for name in variants if name != "none"}
    return result


def run(names: Sequence[str], rounds: int, data: Data | None = None,
        progress: Callable[[str], None] | None = None) -> list[dict]:
    """Measure the named calls; one dict each (see ``measure``)."""
    data = data or load()
    results = []
    for name in names:
        result = measure(find(name), data, rounds)
        if progress:
            progress(f"{name}: matnet {result['speedup']:.1f}x the book")
        results.append(result)
    return results
