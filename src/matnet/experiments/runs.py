"""One run of a sweep: the book's session in book mode, from its seed, on the real MNIST split.

``train(spec)`` is what a worker executes: the numbers of
``np.random.seed(s); random.seed(s); Network(sizes).SGD(training_data, epochs, batch, η, test_data)``,
as ``matnet train --seed s`` computes them, so any run can be repeated alone to the same digits
(``RunSpec.command()`` prints that command). It returns the run's record for the JSON-lines file.
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
from dataclasses import asdict, dataclass
from importlib import metadata

import numpy as np

from matnet import datasets
from matnet.bench.report import blas_summary
from matnet.core.backend import make_backend
from matnet.core.maths import SIGMOID
from matnet.core.spec import Spec
from matnet.core.threads import one_blas_thread
from matnet.network import BookRandom, EpochReport, Network

_one_run_at_a_time = threading.Lock()
_loaded: set[tuple] = set()  # the datasets this process has read (load_mnist keeps them)


@dataclass(frozen=True)
class RunSpec:
    """The parameters that decide a run's numbers (and nothing else)."""

    sizes: tuple[int, ...]
    eta: float
    seed: int
    epochs: int = 30
    batch_size: int = 10
    dtype: str = "float64"
    backend: str = "auto"

    def parameters(self) -> dict:
        """As stored in the record: JSON types, so that a record read back gives the same key."""
        values = asdict(self)
        values["sizes"] = list(self.sizes)
        values["eta"] = float(self.eta)
        return values

    @classmethod
    def from_parameters(cls, values: dict) -> RunSpec:
        return cls(**{**values, "sizes": tuple(values["sizes"])})

    def key(self) -> tuple:
        """What identifies the run in a sweep's file (``--resume`` skips a run whose key is there)."""
        return tuple(sorted((name, tuple(v) if isinstance(v, list) else v)
                            for name, v in self.parameters().items()))

    def cell(self) -> tuple:
        """The key without the seed: runs of one cell of the grid differ only by it."""
        return tuple(item for item in self.key() if item[0] != "seed")

    def command(self) -> str:
        """The ``matnet train`` command that repeats this run alone, to the same digits."""
        return (f"matnet train --sizes {','.join(map(str, self.sizes))} --eta {self.eta:g} "
                f"--seed {self.seed} --epochs {self.epochs} --batch-size {self.batch_size} "
                f"--dtype {self.dtype} --backend {self.backend}")


def train(spec: RunSpec, data_dir: str | None = None) -> dict:
    """Run ``spec`` in this process and return its record: the parameters, per-epoch accuracy
    and seconds, where and with what it ran. A Python exception in the run is returned as the
    record's ``error`` (the sweep goes on without it), not raised."""
    started = time.perf_counter()
    try:
        with _one_run_at_a_time, one_blas_thread():
            data = datasets.load_mnist(data_dir, dtype=spec.dtype)
            loaded_here = (data_dir, spec.dtype) not in _loaded
            _loaded.add((data_dir, spec.dtype))
            net = Network(list(spec.sizes), backend=spec.backend, dtype=spec.dtype, rng=BookRandom(spec.seed))
            compile_seconds = net.prepare(spec.batch_size)
            accuracies: list[float] = []
            seconds: list[float] = []

            def record(report: EpochReport) -> None:
                accuracies.append(report.correct / report.n_test)
                seconds.append(report.seconds)

            net.SGD(data.training, spec.epochs, spec.batch_size, spec.eta, test_data=data.test,
                    verbose=False, on_epoch=record)
            ran_with = versions()  # inside: the BLAS threads the run had
    except Exception as error:  # reported with the run; the others go on
        return {"parameters": spec.parameters(), "worker": worker(),
                "error": "".join(traceback.format_exception_only(error)).strip()}
    return {
        "parameters": spec.parameters(),
        "accuracies": accuracies,
        "seconds": seconds,
        "compile_seconds": compile_seconds,
        "run_seconds": time.perf_counter() - started,
        "worker": {**worker(), "loaded_data": loaded_here},
        "versions": ran_with,
    }


def check(spec: RunSpec) -> None:
    """Raise now what every run of this backend would raise on this machine (``--backend numba``
    without a working numba: BackendUnavailableError), rather than once per run."""
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
