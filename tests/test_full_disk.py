"""Writes that fail part-way — a full disk, a file-size limit — for real: the commands run in a
child process whose file-size limit (RLIMIT_FSIZE) makes every write past it fail with EFBIG
("File too large"), as a full disk makes them fail with ENOSPC. Python ignores SIGXFSZ, so the
write raises instead of killing the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")  # POSIX only


def run_limited(args: list[str], limit: int, tmp: os.PathLike[str]) -> subprocess.CompletedProcess:
    """``python -m matnet *args`` in a child that can write files of at most ``limit`` bytes and
    whose temporary folder is ``tmp``."""

    def limit_file_sizes() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-W", "ignore", "-m", "matnet", *args], capture_output=True,
                           text=True, timeout=120, preexec_fn=limit_file_sizes,
                           env={**os.environ, "TMPDIR": str(tmp)}, check=False)


@pytest.fixture
def data_dir():
    if not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set")
    return os.environ["MATNET_DATA"]


def test_a_save_whose_rescue_fails_too_leaves_no_empty_file(data_dir, tmp_path):
    """Issue 21, item 20: an empty /tmp/matnet-unsaved-*.npz was left behind."""
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    saved = out / "n.npz"  # [784, 30, 10]: 191 kB, over the 64 kB limit, here and in tmp
    train = ["train", "--epochs", "1", "--seed", "0", "--backend", "numpy", "--save", str(saved)]
    result = run_limited(train, 64 * 1024, tmp)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"cannot save the network: [Errno 27] File too large: '{saved}'" in result.stderr
    assert f"nor could it be saved to {tmp} (File too large)" in result.stderr
    assert list(tmp.iterdir()) == [] and list(out.iterdir()) == []


def test_a_failed_append_to_out_names_the_file(data_dir, tmp_path):
    """Issue 21, item 20: `matnet sweep: [Errno 27] File too large`, and no word of which file."""
    records = tmp_path / "s.jsonl"
    result = run_limited(["sweep", "--sizes", "784,10", "--epochs", "1", "--backend", "numpy",
                          "--out", str(records)], 64, tmp_path)  # room for the lock's pid, not a record
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"matnet sweep: [Errno 27] File too large: '{records}'"
