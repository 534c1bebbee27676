"""A damaged file in numba's disk cache (issue 21, item 11) — cut short by a full disk or a kill,
emptied, overwritten — is cleared and compiled afresh, with one line naming the folder, instead
of an EOFError/UnpicklingError traceback on every start. For real: child processes compile into
a cache folder of their own (NUMBA_CACHE_DIR), the files are damaged, the children run again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")
if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
    pytest.skip("the JIT is disabled: nothing is compiled or cached", allow_module_level=True)

KERNEL = """
import numpy as np
from matnet.core.kernels import get_kernels
print(get_kernels("numba").sigmoid_prime(np.full(3, 0.5), np.empty(3)))
"""


def run(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(cache)}, check=False)


def cache_files(cache: Path, suffix: str) -> list[Path]:
    files = sorted(cache.glob(f"matnet/numba-*/*/*{suffix}"))
    assert files, f"no {suffix} file in {cache}"
    return files


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garbage(path: Path) -> None:
    path.write_bytes(b"garbage\n")


def cut_short(path: Path) -> None:  # as a full disk or a kill leaves it
    path.write_bytes(path.read_bytes()[:100])


def assert_recovered(result: subprocess.CompletedProcess, cache: Path, error: str) -> None:
    assert result.returncode == 0, result.stderr
    [folder] = (cache / "matnet").glob("numba-*")
    [line] = result.stderr.splitlines()
    assert line.startswith(f"matnet: a file in numba's cache {folder} is damaged ({error}: "), line
    assert line.endswith("cleared the folder, compiling afresh")


def test_a_damaged_cache_file_is_cleared_and_compiled_afresh(tmp_path):
    assert run(["-c", KERNEL], tmp_path).stderr == ""
    for path in cache_files(tmp_path, ".nbi"):  # the other damages: the slow test below
        garbage(path)
    result = run(["-c", KERNEL], tmp_path)
    assert_recovered(result, tmp_path, "ValueError")  # garbage fails in many ways, not just unpickling
    assert result.stdout == "[0.25 0.25 0.25]\n"
    again = run(["-c", KERNEL], tmp_path)
    assert again.stderr == "" and again.stdout == "[0.25 0.25 0.25]\n"  # the files were written anew


@pytest.mark.slow  # two cold compiles of the fused epoch: a minute on a busy machine
@pytest.mark.parametrize("damage", [empty, cut_short], ids=["empty-nbi", "truncated-nbc"])
def test_matnet_train_recovers_from_a_damaged_cache(tmp_path, damage):
    train = ["-m", "matnet", "train", "--sizes", "784,10,10", "--epochs", "1", "--seed", "0"]
    first = run(train, tmp_path)
    assert first.returncode == 0, first.stderr
    for path in cache_files(tmp_path, ".nbi" if damage is empty else ".nbc"):
        damage(path)
    result = run(train, tmp_path)
    error = "EOFError" if damage is empty else "UnpicklingError"
    assert result.returncode == 0
    notices = [line for line in result.stderr.splitlines() if "numba's cache" in line]
    assert len(notices) == 1, result.stderr
    assert_recovered(subprocess.CompletedProcess([], 0, "", notices[0] + "\n"), tmp_path, error)
    assert "Traceback" not in result.stderr
    assert epochs(result.stdout) == epochs(first.stdout) == ["Epoch 0: 8727 / 10000"]  # seeded


def epochs(stdout: str) -> list[str]:
    """The epoch lines without their timings."""
    return [line.split("  (")[0] for line in stdout.splitlines()]
