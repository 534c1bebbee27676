"""What a sweep costs beyond its runs: local joblib processes against a Dask LocalCluster.

    python benchmarks/sweep_overhead.py [--runs 40] [--workers 2]

Runs ``matnet sweep`` of short runs ([784, 10], one epoch each, ~0.15 s) as a user would, a
fresh command each time: with ``--jobs W``, and with ``--scheduler`` on a LocalCluster of W
single-threaded worker processes started here. Each path sweeps ``runs`` and then 4 × ``runs``
seeds, and the wall times of the two give a straight line: a fixed cost per sweep (starting
Python, the worker processes or the client, reading MNIST) and a cost per run (the run itself
on 1/W of the workers, plus scheduling it and moving its record). The difference of the
per-run costs is what the Dask path adds to each run. The Dask path first sweeps ``runs``
seeds once more on workers that have not read MNIST or loaded numba's code yet (its "cold
workers" row); the line is drawn through the sweeps after it. MNIST comes from MATNET_DATA.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sweep(out: Path, runs: int, where: list[str]) -> tuple[float, list[dict]]:
    command = [sys.executable, "-m", "matnet", "sweep", "--sizes", "784,10", "--epochs", "1",
               "--seeds", f"0-{runs - 1}", "--out", str(out), *where]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return wall, [json.loads(line) for line in out.read_text().splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import LocalCluster

    small, large, w = args.runs, 4 * args.runs, args.workers
    paths: dict[str, list[tuple[int, float, list[dict]]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        def measure(name: str, runs: int, where: list[str]) -> None:
            out = Path(folder) / f"{len(list(Path(folder).iterdir()))}.jsonl"
            paths.setdefault(name, []).append((runs, *sweep(out, runs, where)))

        for runs in (small, large):
            measure(f"--jobs {w} (joblib, loky)", runs, ["--jobs", str(w)])
        with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=50) as cluster:
            where = ["--scheduler", cluster.scheduler_address]
            measure("--scheduler, LocalCluster, cold workers", small, where)
            for runs in (small, large):
                measure("--scheduler, LocalCluster", runs, where)
    print(f"sweeps of [784, 10], one epoch per run, on {w} workers")
    print("| path | runs | wall (s) | mean run_seconds (s) | per run (ms, wall) | fixed per sweep (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    slopes = {}
    for name, sweeps in paths.items():
        line = "| "
        if len(sweeps) == 2:
            (n1, wall1, _), (n2, wall2, _) = sweeps
            slopes[name] = (wall2 - wall1) / (n2 - n1)
            line = f"{slopes[name] * 1e3:.0f} | {wall1 - n1 * slopes[name]:.2f}"
        for runs, wall, found in sweeps:
            inside = sum(record["run_seconds"] for record in found) / len(found)
            print(f"| {name} | {runs} | {wall:.2f} | {inside:.3f} | {line} |")
    local, dask = slopes.values()
    print(f"the Dask path adds {(dask - local) * 1e3:.0f} ms of wall time per run to local joblib's "
          f"({(dask - local) * w * 1e3:.0f} ms of a worker's time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
