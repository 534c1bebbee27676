"""Load files in a child process under a real address-space cap (``RLIMIT_AS``).

``run_capped(cases, headroom)`` starts one Python process, imports matnet, measures its
address space, caps it at that plus ``headroom`` bytes, then runs each ``(loader, path)`` case
and reports, per case, the exception raised (or None), its message, the chain of exception
types behind it and the CPU seconds taken (process time, not wall-clock: a busy machine does
not change it, so a bound on it is a bound on the work). Under the cap any attempt to allocate
more than ``headroom`` fails with MemoryError, whatever the loader does with it afterwards, so
a test that finds no MemoryError in the chain has shown that the load stayed within ``headroom``.
"""

from __future__ import annotations

import json
import subprocess
import sys

MiB = 1 << 20

_RUNNER = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
from matnet import io
from matnet.data import book_pickle, idx

LOADERS = {
    "idx": lambda arg: idx.read_idx(arg),
    "images": lambda arg: idx.read_images(Path(arg), None),
    "pickle": lambda arg: book_pickle.load_mnist_pickle(arg),
    "npz": lambda arg: io.read_network(arg),
    "allocate": lambda arg: np.ones(int(arg), np.uint8),  # the control: the cap bites
}

def address_space():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")

cases, headroom = json.loads(sys.argv[1]), int(sys.argv[2])
limit = address_space() + headroom
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
results = []
for loader, arg in cases:
    started = time.process_time()
    outcome = {"error": None, "message": "", "chain": []}
    try:
        LOADERS[loader](arg)
    except BaseException as exc:
        chain, link = [], exc
        while link is not None and len(chain) < 10:
            chain.append(type(link).__name__)
            link = link.__cause__ or link.__context__
        outcome = {"error": type(exc).__name__, "message": str(exc), "chain": chain}
    outcome["seconds"] = time.process_time() - started
    results.append(outcome)
print(json.dumps(results))
"""


def run_capped(cases: list[tuple[str, str]], headroom: int) -> list[dict]:
    """Run ``cases`` (loader name, argument) in one child capped at its size + ``headroom``."""
    child = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(cases), str(headroom)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout)
