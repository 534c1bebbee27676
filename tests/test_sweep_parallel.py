"""``matnet sweep`` beyond this process, for real: two local processes (joblib's loky), a Dask
``LocalCluster`` with two worker processes started here, Ray where it installs; a worker killed
with SIGKILL mid-sweep, and a sweep interrupted and resumed (issue 14).

Every sweep runs as its own ``python -m matnet`` process, as a user's would, and its numbers
are compared with the same runs made serially in this process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from matnet.experiments import records, sweep
from matnet.experiments.runs import RunSpec, train

pytestmark = pytest.mark.slow

SEEDS = range(6)
GRID = ["--sizes", "784,30,10", "--eta", "3", "--seeds", "0-5", "--epochs", "4"]  # ~0.7 s per run
SPECS = sweep.grid([(784, 30, 10)], [3.0], list(SEEDS), epochs=4)


@pytest.fixture(scope="module")
def serial(mnist) -> dict[tuple, list[float]]:
    """Each run's accuracies, made one after another in this process."""
    return {spec.key(): train(spec)["accuracies"] for spec in SPECS}


def start_sweep(out: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "matnet", "sweep", *GRID, "--out", str(out), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def wait_for_records(out: Path, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not (out.exists() and len(records.read(out)[0]) >= count):
        assert process.poll() is None, f"the sweep ended early: {finish(process)}"
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.05)


def loky_workers(parent: int) -> list[int]:
    """The pids of the loky worker processes of process ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == parent and b"LokyProcess" in command:
            found.append(int(entry.name))
    return found


def assert_every_run_once_with_the_serial_numbers(out: Path, serial: dict) -> list[dict]:
    found, _ = records.read(out)
    keys = Counter(RunSpec.from_parameters(r["parameters"]).key() for r in found)
    assert keys == Counter(serial.keys()), "each run exactly once"
    for record in found:
        assert record["accuracies"] == serial[RunSpec.from_parameters(record["parameters"]).key()]
    return found


# --- local processes (joblib, loky) --------------------------------------------------------------


def test_two_local_processes_make_the_serial_numbers_each_loading_mnist_once(tmp_path, serial):
    out = tmp_path / "runs.jsonl"
    status, stdout, stderr = finish(start_sweep(out, "--jobs", "2"))
    assert status == 0, stderr
    found = assert_every_run_once_with_the_serial_numbers(out, serial)
    pids = Counter(r["worker"]["pid"] for r in found)
    assert len(pids) == 2 and os.getpid() not in pids
    loads = Counter(r["worker"]["pid"] for r in found if r["worker"]["loaded_data"])
    assert loads == Counter(dict.fromkeys(pids, 1)), "each worker reads MNIST once"
    assert "6 run(s) in" in stderr and "2 local processes" in stderr
    assert stdout.splitlines()[2].startswith("| [784, 30, 10] | 3 | 10 | 4 | float64 | auto | 6 |")


def test_a_killed_worker_costs_nothing_but_its_run_which_is_scheduled_again(tmp_path, serial):
    out = tmp_path / "runs.jsonl"
    process = start_sweep(out, "--jobs", "2")
    wait_for_records(out, 1, process)
    os.kill(loky_workers(process.pid)[0], signal.SIGKILL)
    status, _, stderr = finish(process)
    assert status == 0, stderr
    assert "a worker died (TerminatedWorkerError)" in stderr
    assert_every_run_once_with_the_serial_numbers(out, serial)


def test_without_retries_the_killed_run_is_missing_and_resume_completes_it(tmp_path, serial):
    out = tmp_path / "runs.jsonl"
    process = start_sweep(out, "--jobs", "2", "--retries", "0")
    wait_for_records(out, 1, process)
    os.kill(loky_workers(process.pid)[0], signal.SIGKILL)
    status, _, stderr = finish(process)
    assert status == 1, stderr
    assert "did not finish: its worker died 1 times" in stderr
    assert "--resume runs the missing ones" in stderr
    found, _ = records.read(out)
    keys = Counter(RunSpec.from_parameters(r["parameters"]).key() for r in found)
    assert 1 <= len(keys) < len(SPECS) and set(keys.values()) == {1}
    status, _, stderr = finish(start_sweep(out, "--jobs", "2", "--resume"))
    assert status == 0, stderr
    assert f"{len(keys)} of 6 runs already in" in stderr
    assert_every_run_once_with_the_serial_numbers(out, serial)


def test_an_interrupted_sweep_loses_only_the_runs_in_flight_and_resumes(tmp_path, serial):
    out = tmp_path / "runs.jsonl"
    process = start_sweep(out, "--jobs", "2")
    wait_for_records(out, 1, process)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    status, _, stderr = finish(process)
    assert status == 130, stderr
    kept = len(records.read(out)[0])
    assert f"{kept} finished run(s) are in {out}; the same command with --resume runs the rest" in stderr
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr  # joblib's advice is not shown
    status, _, stderr = finish(start_sweep(out, "--jobs", "2", "--resume"))
    assert status == 0, stderr
    assert f"{kept} of 6 runs already in" in stderr
    assert_every_run_once_with_the_serial_numbers(out, serial)


# --- a Dask cluster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    """A LocalCluster of two single-threaded worker processes, and a client of it."""
    distributed = pytest.importorskip("distributed", reason="Dask's distributed: pip install 'matnet[dask]'")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        yield cluster, client


def test_the_same_sweep_on_a_dask_cluster_makes_the_serial_numbers(tmp_path, serial, dask_cluster):
    cluster, client = dask_cluster
    out = tmp_path / "runs.jsonl"
    status, _, stderr = finish(start_sweep(out, "--scheduler", cluster.scheduler_address))
    assert status == 0, stderr
    found = assert_every_run_once_with_the_serial_numbers(out, serial)
    workers = set(client.run(os.getpid).values())
    assert {r["worker"]["pid"] for r in found} == workers  # both workers ran, none of them here
    assert f"Dask cluster at {cluster.scheduler_address}" in stderr


def test_a_dask_worker_killed_mid_sweep_costs_nothing_but_its_run(tmp_path, serial, dask_cluster):
    cluster, client = dask_cluster
    out = tmp_path / "runs.jsonl"
    process = start_sweep(out, "--scheduler", cluster.scheduler_address)
    wait_for_records(out, 1, process)
    os.kill(next(iter(client.run(os.getpid).values())), signal.SIGKILL)  # its nanny restarts it
    status, _, stderr = finish(process)
    assert status == 0, stderr
    assert_every_run_once_with_the_serial_numbers(out, serial)


def test_an_unreachable_scheduler_is_one_line_before_anything_runs(tmp_path):
    pytest.importorskip("distributed", reason="Dask's distributed: pip install 'matnet[dask]'")
    out = tmp_path / "runs.jsonl"
    status, _, stderr = finish(start_sweep(out, "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "2"))
    assert status == 2
    assert stderr.startswith("matnet sweep: error: --scheduler tcp://127.0.0.1:9: cannot connect"), stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def one_worker():
    """The README's advice: a cluster of one worker process with one thread (--nthreads 1)."""
    distributed = pytest.importorskip("distributed", reason="Dask's distributed: pip install 'matnet[dask]'")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        yield cluster.scheduler_address, set(client.run(os.getpid).values())


SMALL = ["--sizes", "784,10", "--eta", "3", "--epochs", "1"]


def test_a_cluster_of_one_single_threaded_worker_runs_every_run_on_it(tmp_path, one_worker):
    """Issue 21, item 8: joblib's dask backend, seeing one slot, ran every run in the client."""
    address, workers = one_worker
    out = tmp_path / "runs.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "matnet", "sweep", *SMALL, "--seeds", "0-2",
                                "--out", str(out), "--scheduler", address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    status, _, stderr = finish(process)
    assert status == 0, stderr
    found, _ = records.read(out)
    assert len(found) == 3
    assert {r["worker"]["pid"] for r in found} == workers and process.pid not in workers
    assert "3 run(s) in" in stderr and f"on Dask cluster at {address}" in stderr


def test_workers_without_mnist_are_one_line_naming_them_and_the_true_count(tmp_path, one_worker):
    """Issue 23, item 7: the 5-line download error came once per run, never said it happened on
    a worker, and the closing line said the file had 'every other run' when it had none."""
    address, _ = one_worker
    out, empty = tmp_path / "runs.jsonl", tmp_path / "no-mnist-on-the-workers"
    empty.mkdir()
    status, _, stderr = finish(subprocess.Popen(
        [sys.executable, "-m", "matnet", "sweep", *SMALL, "--seeds", "0-7", "--out", str(out),
         "--scheduler", address, "--data-dir", str(empty)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    assert status == 1, stderr
    failed = [line for line in stderr.splitlines() if "did not finish" in line]
    assert len(failed) == 1, stderr
    assert "and 7 other run(s) did not finish: the worker on " + socket.gethostname() in failed[0]
    assert "cannot read MNIST" in failed[0] and "set MATNET_DATA in the workers' environment" in failed[0]
    assert f"the file {out} has 0 of the 8 runs" in stderr
    assert not out.exists()


# --- Ray -----------------------------------------------------------------------------------------


def test_the_same_sweep_on_ray_makes_the_serial_numbers(tmp_path, serial):
    pytest.importorskip("ray", reason="Ray is not installed here: pip install 'matnet[ray]'")
    out = tmp_path / "runs.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "matnet", "sweep", *GRID, "--out", str(out), "--ray"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "RAY_ADDRESS": ""})  # a new local Ray
    status, _, stderr = finish(process)
    assert status == 0, stderr
    assert_every_run_once_with_the_serial_numbers(out, serial)
