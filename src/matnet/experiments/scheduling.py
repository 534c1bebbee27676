"""Where a sweep's runs execute: joblib's backends, chosen by an :class:`Executor` (on the command
line, ``--jobs``, ``--scheduler`` or ``--ray``).

- ``--jobs N`` (default 1): joblib's loky processes on this machine, one run per process
  (``--jobs 1`` runs in this process);
- ``--scheduler tcp://host:8786``: the workers of a Dask distributed cluster (``matnet[dask]``),
  each run submitted with Dask's own ``client.submit`` (so that every run runs on a worker,
  however few: joblib's ``dask`` backend ran them all here when the cluster had one thread);
- ``--ray [ADDRESS]``: a Ray cluster (``matnet[ray]``), through ``ray.util.joblib``.

Results come back as runs finish (in waves of one run per CPU on Ray, whose joblib backend
returns no generator), and each goes to ``on_record`` at once. Joining a Dask cluster is bounded
by ``connect_timeout`` as a whole: a server that accepts and never answers is reported, not
waited on. A worker that dies takes
down the runs it was running — on loky, the runs in flight beside it too, as loky restarts its
pool — and those are scheduled again, each up to ``retries`` times; Dask reschedules such
a run itself. A run that raises is reported with its error and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from matnet.errors import UsageError
from matnet.experiments.runs import RunSpec, train


@dataclass(frozen=True)
class Executor:
    """Where runs go: ``jobs`` local processes, or a Dask scheduler's address, or Ray
    (``ray`` is its address, ``""`` for ``ray.init()``'s default: $RAY_ADDRESS or a new local Ray)."""

    jobs: int = 1
    scheduler: str | None = None
    ray: str | None = None
    connect_timeout: float = 10.0  # seconds to join the Dask scheduler, all of it

    def __post_init__(self) -> None:
        if self.scheduler is not None and not self.scheduler.strip():
            raise UsageError("--scheduler needs the scheduler's address, e.g. tcp://host:8786")

    @property
    def local(self) -> bool:
        return self.scheduler is None and self.ray is None

    def describe(self) -> str:
        if self.scheduler is not None:
            return f"Dask cluster at {self.scheduler}"
        if self.ray is not None:
            return f"Ray ({self.ray or 'ray.init() default'})"
        return "this process" if self.jobs == 1 else f"{self.jobs} local processes (joblib, loky)"


@dataclass(frozen=True)
class Failure:
    spec: RunSpec
    reason: str


def execute(
    specs: Iterable[RunSpec],
    executor: Executor,
    on_record: Callable[[dict], None],
    *,
    data_dir: str | None = None,
    retries: int = 2,
) -> list[Failure]:
    """Run every spec where ``executor`` says, calling ``on_record(record)`` in this process as
    each run finishes; returns the runs that did not finish (an error, or their worker died
    more than ``retries`` times). KeyboardInterrupt stops the runs in flight and propagates."""
    if executor.scheduler is not None:
        with _dask_client(executor.scheduler, executor.connect_timeout) as client:
            return _execute_on_dask(list(specs), client, on_record, data_dir)
    pending = list(specs)
    attempts: Counter[RunSpec] = Counter()
    failures: list[Failure] = []
    with _backend(executor) as (n_jobs, streams):
        lost_worker = _worker_lost_errors()
        while pending:
            batch, pending = pending, []
            started: list[RunSpec] = []  # handed to joblib: at most one wave beyond those finished
            finished: set[RunSpec] = set()

            def calls(batch: list[RunSpec] = batch, started: list[RunSpec] = started) -> Iterator:
                from joblib import delayed

                for spec in batch:
                    started.append(spec)
                    yield delayed(train)(spec, data_dir)

            try:
                with _quiet_cancellation(), contextlib.closing(_results(calls(), n_jobs, streams)) as results:
                    for record in results:
                        spec = RunSpec.from_parameters(record["parameters"])
                        finished.add(spec)
                        if "error" in record:
                            failures.append(Failure(spec, record["error"]))
                        else:
                            on_record(record)
            except lost_worker as error:
                in_flight = [spec for spec in started if spec not in finished]
                attempts.update(in_flight)
                again = [spec for spec in in_flight if attempts[spec] <= retries]
                failures += [Failure(spec, f"its worker died {attempts[spec]} times")
                             for spec in in_flight if attempts[spec] > retries]
                print(f"matnet: a worker died ({type(error).__name__}) with {len(in_flight)} run(s) "
                      f"in flight; {len(again)} of them scheduled again", file=sys.stderr)
                pending += again + batch[len(started):]
    return failures


def _execute_on_dask(specs: list[RunSpec], client, on_record: Callable[[dict], None],
                     data_dir: str | None) -> list[Failure]:
    """Every run submitted to the cluster's workers at once (the scheduler spreads them); a
    run whose worker died is run again by Dask itself, up to its ``allowed-failures``."""
    from distributed import as_completed

    futures = {client.submit(train, spec, data_dir, pure=False): spec for spec in specs}
    failures: list[Failure] = []
    try:
        for future, result in as_completed(futures, loop=client.loop, with_results=True, raise_errors=False):
            spec = futures[future]
            if isinstance(result, BaseException):  # KilledWorker: it died too often
                failures.append(Failure(spec, f"{type(result).__name__}: {result}"))
            elif "error" in result:
                failures.append(Failure(spec, result["error"]))
            else:
                on_record(result)
    finally:  # interrupted: the runs not finished stop taking the workers' time
        if unfinished := [future for future in futures if not future.done()]:
            client.cancel(unfinished)
    return failures


@contextlib.contextmanager
def _quiet_cancellation() -> Iterator[None]:
    """Without joblib's advice, when a sweep is stopped (Ctrl-C), that the runs it cancelled
    could have been fewer: the sweep says itself what it kept."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*tasks which were still being processed by the workers "
                                r"have been cancelled", category=UserWarning)
        yield


def _results(calls: Iterator, n_jobs: int, streams: bool) -> Iterator[dict]:
    from joblib import Parallel, effective_n_jobs

    if streams:
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1,
                            pre_dispatch="n_jobs")(calls)
        return
    width = effective_n_jobs(n_jobs)
    with Parallel(n_jobs=n_jobs, batch_size=1) as parallel:  # the same workers for every wave
        while wave := list(itertools.islice(calls, width)):
            yield from parallel(wave)


@contextlib.contextmanager
def _backend(executor: Executor) -> Iterator[tuple[int, bool]]:
    """joblib configured for ``executor``: yields its ``n_jobs`` and whether results stream."""
    from joblib import parallel_config

    if executor.ray is not None:
        ray = _start_ray(executor.ray)
        try:
            with parallel_config(backend="ray"):
                yield -1, False
        finally:
            ray.shutdown()
    elif executor.jobs == 1:
        yield 1, True
    else:  # one BLAS thread per process: runs on neighbouring cores do not fight
        with parallel_config(backend="loky", inner_max_num_threads=1):
            yield executor.jobs, True


def _dask_client(address: str, timeout: float):
    """A Client of the Dask scheduler at ``address`` once it has answered within ``timeout``
    seconds (:func:`_ask_scheduler`), or UsageError saying why not."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask's distributed scheduler: "
                         "pip install 'matnet[dask]'") from None
    if (problem := _address_problem(address)) is not None:
        raise UsageError(f"--scheduler {address}: not the address of a Dask scheduler ({problem})")
    try:
        with ThreadPoolExecutor(1) as thread:  # a loop of its own, also where one runs (Jupyter)
            # Dask's connect gives up on a refused port at ``timeout`` itself, and says so
            answer = thread.submit(asyncio.run, asyncio.wait_for(_ask_scheduler(address, timeout),
                                                                  timeout + 1)).result()
    except TimeoutError:  # asyncio's: the server took the connection and said nothing
        raise UsageError(f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s "
                         "(--connect-timeout S waits longer)") from None
    except OSError as error:  # refused, unreachable, unknown host
        raise UsageError(f"--scheduler {address}: cannot connect ({error})") from None
    except Exception as error:  # a frame length of exabytes (MemoryError), bytes of no message (ValueError)
        raise UsageError(f"--scheduler {address}: the server there is not a Dask scheduler "
                         f"(it answers in another protocol: {type(error).__name__})") from None
    if answer != "Scheduler":
        raise UsageError(f"--scheduler {address}: that is a Dask {answer}, not its scheduler")
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except OSError as error:  # gone since it answered
        raise UsageError(f"--scheduler {address}: cannot connect ({error})") from None


def _address_problem(address: str) -> str | None:
    """Why ``address`` is not one Dask can connect to (a scheme, a host and a port), or None."""
    from distributed.comm import get_address_host_port, parse_address

    try:
        parse_address(address)
        get_address_host_port(address)
    except ValueError as error:
        return str(error)
    return None


async def _ask_scheduler(address: str, timeout: float) -> str:
    """The ``type`` a Dask server at ``address`` says it is ("Scheduler", "Worker", …): Dask's
    handshake and its ``identity`` request, on a connection of our own, so that whatever the
    server does wrong fails here, within the caller's time limit, and not inside a Client."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        answer = await comm.read()
    finally:
        comm.abort()
    return answer.get("type", "server of an unknown kind") if isinstance(answer, dict) else "server"


def _start_ray(address: str):
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'matnet[ray]'") from None
    try:
        ray.init(address=address or None, log_to_driver=False, include_dashboard=False)
    except (ConnectionError, ValueError, RuntimeError) as error:
        raise UsageError(f"--ray {address}: cannot start or join Ray ({error})") from None
    register_ray()
    logging.getLogger("ray.util.multiprocessing.pool").setLevel(logging.ERROR)  # joblib's context=
    return ray


def _worker_lost_errors() -> tuple[type[BaseException], ...]:
    """The exceptions by which each backend says a worker process died under a run."""
    from concurrent.futures.process import BrokenProcessPool

    from joblib.externals.loky.process_executor import BrokenProcessPool as LokyBrokenPool

    errors: list[type[BaseException]] = [BrokenProcessPool, LokyBrokenPool]
    if "ray" in sys.modules:
        from ray.exceptions import RayActorError, WorkerCrashedError

        errors += [RayActorError, WorkerCrashedError]
    return tuple(errors)
