"""What a user waits for beyond the epochs themselves (issue 22's table), measured as met.

``first_train``  ``matnet train --epochs 1`` in fresh processes: on an empty numba cache,
                 the seconds until its first epoch line (compiling included); then warm, the
                 whole command's seconds minus the epoch's own (imports, data, cache load).
``own_arrays``   ``net.SGD((X, y), 1, 10, 3.0)`` with the user's own writable copy of the
                 loader's arrays against the loader's frozen arrays, interleaved, float64
                 and float32 (the user's X in the network's dtype).
``float32_by_m`` one epoch on the loader's arrays, float32 against float64, at m = 1, 10, 100.

Ratios are medians of per-round ratios of interleaved runs (``workloads.time_interleaved``).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from matnet.bench import workloads as wl

TRAIN = ("train", "--epochs", "1", "--seed", "0")
_EPOCH_LINE = re.compile(r"^Epoch 0: \d+ / \d+\s+\(([0-9.]+) s")
TARGETS = {"cold_seconds": 10.0, "warm_overhead_seconds": 1.0, "own_arrays": 1.2, "float32": 1.0}


def _train_once(env: dict[str, str], timeout: float) -> tuple[float, float, float]:
    """(seconds until the epoch line, the epoch's own seconds, the whole command's seconds)."""
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-m", "matnet", *TRAIN], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as child:
        try:
            line = child.stdout.readline()
            seen = time.perf_counter() - started
            _, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
    whole = time.perf_counter() - started
    match = _EPOCH_LINE.match(line)
    if child.returncode != 0 or match is None:
        raise RuntimeError(f"matnet train failed ({child.returncode}): {err.strip()[-300:]}")
    return seen, float(match.group(1)), whole


def first_train(warm_runs: int = 5, timeout: float = 900.0) -> dict:
    """The cold first run (an empty NUMBA_CACHE_DIR of its own) and ``warm_runs`` warm ones."""
    with tempfile.TemporaryDirectory(prefix="matnet-first-train-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold_seen, _, _ = _train_once(env, timeout)
        warm = [_train_once(env, timeout) for _ in range(warm_runs)]
    return {
        "command": "matnet " + " ".join(TRAIN),
        "cold_seconds": cold_seen,
        "warm_seconds": statistics.median(w[2] for w in warm),
        "warm_epoch_seconds": statistics.median(w[1] for w in warm),
        "warm_overhead_seconds": statistics.median(w[2] - w[1] for w in warm),
        "warm_runs": warm_runs,
    }


def _sgd_runner(name: str, net, x: np.ndarray, labels: np.ndarray, batch_size: int) -> wl.Runner:
    def run() -> object:
        return net.SGD((x, labels), 1, batch_size, 3.0, verbose=False)

    def warmup() -> object:
        net.prepare(batch_size)
        return run()

    return wl.Runner(name, "sgd", run, warmup=warmup, keep=[net, x])


def own_arrays(rounds: int, data_dir: str | None = None) -> list[dict]:
    """Per dtype: the seconds of one epoch on the loader's arrays and on the user's own copy,
    and their ratio (own / loader)."""
    from matnet import mnist_loader
    from matnet.network import Network

    results = []
    for dtype in ("float64", "float32"):
        (x, labels), _, _ = mnist_loader.load_data(data_dir, dtype=dtype)
        own_x, own_labels = np.array(x), np.array(labels)  # writable: converted as any user array is
        runners = {
            "loader": _sgd_runner("loader", Network([784, 30, 10], seed=0, dtype=dtype), x, labels, 10),
            "own": _sgd_runner("own", Network([784, 30, 10], seed=0, dtype=dtype), own_x, own_labels, 10),
        }
        samples = wl.time_interleaved(runners, rounds)
        results.append({"dtype": dtype, "seconds": {k: statistics.median(v) for k, v in samples.items()},
                        "ratio": statistics.median(wl.ratios(samples["own"], samples["loader"]))})
    return results


def float32_by_m(rounds: int, data_dir: str | None = None, batch_sizes=(1, 10, 100)) -> list[dict]:
    """Per mini-batch size: one epoch's seconds in float64 and float32 on the loader's arrays,
    and their ratio (float32 / float64)."""
    from matnet import mnist_loader
    from matnet.network import Network

    arrays = {dtype: mnist_loader.load_data(data_dir, dtype=dtype)[0] for dtype in ("float64", "float32")}
    results = []
    for m in batch_sizes:
        runners = {dtype: _sgd_runner(dtype, Network([784, 30, 10], seed=0, dtype=dtype), *arrays[dtype], m)
                   for dtype in arrays}
        samples = wl.time_interleaved(runners, rounds)
        results.append({"batch_size": m, "seconds": {k: statistics.median(v) for k, v in samples.items()},
                        "ratio": statistics.median(wl.ratios(samples["float32"], samples["float64"]))})
    return results


def measure(rounds: int, data_dir: str | None = None, warm_runs: int = 5) -> dict:
    """Everything the table needs."""
    return {"first_train": first_train(warm_runs), "own_arrays": own_arrays(rounds, data_dir),
            "float32_by_m": float32_by_m(rounds, data_dir)}


def markdown(result: dict | None) -> list[str]:
    """The table of what a user waits for, each row with its target."""
    if not result:
        return []

    def met(value: float, target: float) -> str:
        return f"≤ {target:g}" + ("" if value <= target else " (not met)")

    first = result["first_train"]
    lines = ["", "### What a user waits for beyond the epochs (issue 22)", "",
             "| what | measured | target |", "|---|---:|---:|",
             f"| first `{first['command']}` on an empty numba cache, until its epoch line "
             f"| {first['cold_seconds']:.1f} s | {met(first['cold_seconds'], TARGETS['cold_seconds'])} s |",
             f"| the same warm, beyond its {first['warm_epoch_seconds']:.3f} s epoch (median of "
             f"{first['warm_runs']}) | {first['warm_overhead_seconds']:.2f} s "
             f"| {met(first['warm_overhead_seconds'], TARGETS['warm_overhead_seconds'])} s |"]
    for r in result["own_arrays"]:
        s = r["seconds"]
        lines.append(f"| `net.SGD((X, y), 1, 10, 3.0)`, {r['dtype']}: the user's own arrays "
                     f"({s['own'] * 1e3:.0f} ms) / the loader's ({s['loader'] * 1e3:.0f} ms) "
                     f"| {r['ratio']:.2f}x | {met(r['ratio'], TARGETS['own_arrays'])}x |")
    for r in result["float32_by_m"]:
        s = r["seconds"]
        lines.append(f"| one epoch at m = {r['batch_size']}: float32 ({s['float32'] * 1e3:.0f} ms) "
                     f"/ float64 ({s['float64'] * 1e3:.0f} ms) | {r['ratio']:.2f}x "
                     f"| {met(r['ratio'], TARGETS['float32'])}x |")
    return lines
