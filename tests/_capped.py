"""The work a load does, counted, and loads in a child process under a real address-space cap.

``measured()`` counts what the loads in its block do: the content bytes matnet's data files
hand out (``matnet.data.stream.ByteStream``: a file's bytes, inflated when it is gzip), the
bytes read from network files (``matnet.io``), and the peak of the memory allocated
(``tracemalloc``, which sees NumPy's arrays too). These are the work itself, so a bound on them
holds on a busy machine as on an idle one, and fails when a refusal inflates, reads or
allocates what a hostile file announces.

``run_capped(cases, headroom)`` starts this file as one Python process, which imports matnet,
measures its address space, caps it at that plus ``headroom`` bytes, then runs each
``(loader, path)`` case and reports, per case, the exception raised (or None), its message,
the chain of exception types behind it, and its work as ``measured`` counts it. Under the cap
any attempt to allocate more than ``headroom`` fails with MemoryError, whatever the loader does
with it afterwards, so a test that finds no MemoryError in the chain has shown that the load
stayed within ``headroom``.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from matnet import io
from matnet.data import book_pickle, idx
from matnet.data.stream import ByteStream

MiB = 1 << 20


@dataclass
class Work:
    """What the loads of a ``measured`` block did."""

    content: int = 0  # bytes handed out by data-file streams: the file's, inflated when gzip
    read: int = 0  # bytes read from network files (matnet.io.read_network)
    peak: int = 0  # the most memory allocated at once, beyond what was allocated before


class _CountingReader:
    """A binary file whose reads add to ``work.read``; everything else is the file's."""

    def __init__(self, file, work: Work) -> None:
        self._file, self._work = file, work

    def read(self, *args):
        data = self._file.read(*args)
        self._work.read += len(data)
        return data

    def readinto(self, buffer):
        count = self._file.readinto(buffer)
        self._work.read += count or 0
        return count

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    def __getattr__(self, name):
        return getattr(self._file, name)


@contextlib.contextmanager
def measured() -> Iterator[Work]:
    """Count the work of the loads in the block (see the module docstring)."""
    work = Work()
    close = ByteStream.close

    def counted_close(stream: ByteStream) -> None:
        work.content += stream.consumed
        close(stream)

    def counted_open(file, mode="r", *args, **kwargs):
        return _CountingReader(open(file, mode, *args, **kwargs), work)

    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    ByteStream.close = counted_close
    io.open = counted_open  # read_network's open(path, "rb"), found in matnet.io before builtins
    try:
        yield work
    finally:
        del io.open
        ByteStream.close = close
        work.peak = tracemalloc.get_traced_memory()[1] - before
        if not tracing:
            tracemalloc.stop()


LOADERS = {
    "idx": lambda arg: idx.read_idx(arg),
    "images": lambda arg: idx.read_images(Path(arg), None),
    "pickle": lambda arg: book_pickle.load_mnist_pickle(arg),
    "npz": lambda arg: io.read_network(arg),
    "allocate": lambda arg: np.ones(int(arg), np.uint8),  # the control: the cap bites
}


def run_capped(cases: list[tuple[str, str]], headroom: int) -> list[dict]:
    """Run ``cases`` (loader name, argument) in one child capped at its size + ``headroom``."""
    child = subprocess.run(
        [sys.executable, __file__, json.dumps(cases), str(headroom)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout)


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _main(cases: list[tuple[str, str]], headroom: int) -> list[dict]:
    import resource

    limit = _address_space() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    results = []
    for loader, arg in cases:
        outcome = {"error": None, "message": "", "chain": []}
        with measured() as work:
            try:
                LOADERS[loader](arg)
            except BaseException as exc:
                chain, link = [], exc
                while link is not None and len(chain) < 10:
                    chain.append(type(link).__name__)
                    link = link.__cause__ or link.__context__
                outcome = {"error": type(exc).__name__, "message": str(exc), "chain": chain}
        results.append({**outcome, **asdict(work)})
    return results


if __name__ == "__main__":
    print(json.dumps(_main(json.loads(sys.argv[1]), int(sys.argv[2]))))
