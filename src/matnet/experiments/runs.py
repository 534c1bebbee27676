"""One run of a sweep: the book's session in book mode, from its seed, on the real MNIST split.

``train(spec)`` is what a worker executes: the numbers of
``np.random.seed(s); random.seed(s); Network(sizes).SGD(training_data, epochs, batch, η, test_data)``,
as ``matnet train --seed s`` computes them, so any run can be repeated alone to the same digits
(``RunSpec.command()`` prints that command). A spec with ``lmbda`` set is chapter 3's session
instead: ``network2.Network(sizes, cost=…)``, its initializer, and
``SGD(training_data[:n], epochs, batch, η, lmbda=λ, evaluation_data=…, monitor_…=True)`` on the
loader's lists, as the chapter types it. It returns the run's record for the JSON-lines file.
The random numbers come from ``BookRandom(s)``, the same streams in a state of the run's own:
a Dask worker's own threads draw from ``random`` while a run trains.

In a worker process, MNIST is read once (``load_mnist`` caches it) and numba's kernels are
compiled or loaded once; BLAS is limited to one thread, so runs on neighbouring cores do not
fight over them. Runs that share a process (a Dask worker with several threads) take turns:
they share its caches of the loader's arrays, and its BLAS setting.
"""

from __future__ import annotations

import os
import platform
import socket
import threading
import time
import traceback
from importlib import metadata

import numpy as np

from matnet import datasets, mnist_loader, network2
from matnet.bench.report import blas_summary
from matnet.core.backend import make_backend
from matnet.core.maths import SIGMOID
from matnet.core.spec import Spec
from matnet.core.threads import one_blas_thread
from matnet.errors import DataError
from matnet.experiments.runspec import COST_NAMES, MONITORS, RunSpec
from matnet.network import BookRandom, EpochReport, Network

_one_run_at_a_time = threading.Lock()
_loaded: set[tuple] = set()  # the datasets this process has read (load_mnist keeps them)


def train(spec: RunSpec, data_dir: str | None = None) -> dict:
    """Run ``spec`` in this process and return its record: the parameters, per-epoch accuracy
    and seconds, where and with what it ran. A Python exception in the run is returned as the
    record's ``error`` (the sweep goes on without it), not raised."""
    started = time.perf_counter()
    try:
        with _one_run_at_a_time, one_blas_thread():
            loaded_here = (data_dir, spec.dtype) not in _loaded
            figures = (_chapter_1 if spec.lmbda is None else _chapter_3)(spec, data_dir)
            _loaded.add((data_dir, spec.dtype))
            ran_with = versions()  # inside: the BLAS threads the run had
    except DataError as error:  # only on a cluster's worker: a local sweep reads the data first
        return {"parameters": spec.parameters(), "worker": worker(), "error": _no_data_here(error)}
    except Exception as error:  # reported with the run; the others go on
        return {"parameters": spec.parameters(), "worker": worker(),
                "error": "".join(traceback.format_exception_only(error)).strip()}
    return {
        "parameters": spec.parameters(),
        **figures,
        "run_seconds": time.perf_counter() - started,
        "worker": {**worker(), "loaded_data": loaded_here},
        "versions": ran_with,
    }


def _no_data_here(error: DataError) -> str:
    """One line for a worker that cannot read MNIST, the same for each of its runs (so they are
    reported together): where, what went wrong, and what to set there, not in the user's shell."""
    first = str(error).splitlines()[0].rstrip(":")
    return (f"the worker on {socket.gethostname()} cannot read MNIST ({first}); set MATNET_DATA in the "
            "workers' environment to a folder holding the four MNIST files, or pass --data-dir a folder "
            "they can read")


def _chapter_1(spec: RunSpec, data_dir: str | None) -> dict:
    """The book's chapter-1 session: test accuracy and seconds per epoch."""
    data = datasets.load_mnist(data_dir, dtype=spec.dtype)
    net = Network(list(spec.sizes), backend=spec.backend, dtype=spec.dtype, rng=BookRandom(spec.seed))
    compile_seconds = net.prepare(spec.batch_size)
    accuracies: list[float] = []
    seconds: list[float] = []

    def record(report: EpochReport) -> None:
        accuracies.append(report.correct / report.n_test)
        seconds.append(report.seconds)

    net.SGD(data.training, spec.epochs, spec.batch_size, spec.eta, test_data=data.test, verbose=False,
            on_epoch=record)
    return {"accuracies": accuracies, "seconds": seconds, "compile_seconds": compile_seconds}


COSTS = {name: getattr(network2, cls) for name, cls in COST_NAMES.items()}


def _chapter_3(spec: RunSpec, data_dir: str | None) -> dict:
    """Chapter 3's session on the loader's lists: the evaluation accuracy per epoch (as a
    fraction, the run's ``accuracies``), each other monitored figure per epoch, seconds."""
    training, validation, test = mnist_loader.load_data_wrapper(data_dir, dtype=spec.dtype)
    net = network2.Network(list(spec.sizes), cost=COSTS[spec.cost], backend=spec.backend, dtype=spec.dtype,
                           rng=BookRandom(spec.seed))
    if spec.weights == "large":
        net.large_weight_initializer()
    costs = "training_cost" in spec.monitor or "evaluation_cost" in spec.monitor
    compile_seconds = net.prepare(spec.batch_size, outputs=costs)
    seconds: list[float] = []
    evaluation = validation if spec.evaluation == "validation" else test
    monitored = net.SGD(training[: spec.training_size], spec.epochs, spec.batch_size, spec.eta,
                        lmbda=spec.lmbda, evaluation_data=evaluation, verbose=False,
                        on_epoch=lambda epoch: seconds.append(epoch.seconds),
                        **{f"monitor_{name}": name in spec.monitor for name in MONITORS})
    figures = dict(zip(MONITORS, monitored))
    n_training = min(spec.training_size, len(training))
    record = {"accuracies": [correct / len(evaluation) for correct in figures["evaluation_accuracy"]],
              "seconds": seconds, "compile_seconds": compile_seconds}
    for name in spec.monitor:
        if name == "training_accuracy":
            record[name] = [correct / n_training for correct in figures[name]]
        elif name != "evaluation_accuracy":
            record[name] = figures[name]
    return record


def check(spec: RunSpec) -> None:
    """Raise now what every run of this backend would raise on this machine (``--backend numba``
    without a working numba: BackendUnavailableError), rather than once per run; ValueError for
    a chapter-3 spec that names what network2 does not have."""
    if spec.lmbda is not None:
        problems = [f"monitor {name!r}" for name in spec.monitor if name not in MONITORS]
        for name, value, known in (("cost", spec.cost, COSTS),
                                   ("weights", spec.weights, ("default", "large")),
                                   ("evaluation", spec.evaluation, ("test", "validation"))):
            if value not in known:
                problems.append(f"{name} {value!r}")
        if "evaluation_accuracy" not in spec.monitor:
            problems.append("monitor without 'evaluation_accuracy' (the run's accuracies)")
        if problems:
            raise ValueError(f"a chapter-3 run cannot have {', '.join(problems)}")
    neurons = (SIGMOID,) * (len(spec.sizes) - 1)
    make_backend(spec.backend, Spec(tuple(spec.sizes), np.dtype(spec.dtype), neurons))


def worker() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def versions() -> dict:
    """What the numbers may depend on: the packages, the interpreter and the BLAS that ran
    (as the bench reports it: library, version, kernel, threads)."""
    found = {"python": platform.python_version(), "machine": platform.machine(),
             "blas": blas_summary().removeprefix("BLAS: ")}
    for package in ("matnet", "numpy", "numba"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found
