"""A first run says at once that it compiles, and for about how long; later runs say nothing.

``jit.compile_for`` leaves a marker per (kernel, source file, argument types, CPU) in the cache
folder, and
``jit.is_cached`` reads it: that is how ``prepare`` knows, before compiling, whether numba's disk
cache will spare it the compile.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from matnet.core.kernels import jit
from matnet.model import compiling_notice

compiled_only = pytest.mark.skipif(numba.config.DISABLE_JIT or jit.CACHE_DIR is None,
                                   reason="markers are left by compiled code with a disk cache")


def _scaled_sum(x, factor):  # a small kernel of this test's own: compiled in a fraction of a second
    total = 0.0
    for v in x:
        total += v * factor
    return total


@compiled_only
def test_a_kernel_compiled_once_is_known_to_be_cached_by_a_fresh_dispatcher():
    """The marker survives the process: a new dispatcher of the same function (as a new process
    would make) is known to find its compiled code, for the types it was compiled for only."""
    kernel = jit.blocked_njit(_scaled_sum)
    x = np.arange(5.0)
    fresh_types = (x.astype(np.float32), np.float32(2.0))  # a signature no run has compiled yet
    marker = jit._marker(kernel, tuple(numba.typeof(a) for a in fresh_types))
    if marker.exists():
        marker.unlink()
    assert not jit.is_cached(kernel, *fresh_types)
    jit.compile_for(kernel, *fresh_types)
    assert jit.is_cached(kernel, *fresh_types)
    again = jit.blocked_njit(_scaled_sum)
    assert jit.is_cached(again, *fresh_types)
    assert not jit.is_cached(again, x.astype(np.int16), np.int16(2))


@compiled_only
def test_the_same_kernel_in_another_checkout_is_not_taken_for_cached(tmp_path):
    """numba files a cached kernel under its source file's path: a second checkout of the same
    source (the same cache folder) compiles its own, so its first run must say so."""
    source = "def twice(x):\n    return 2 * x\n"
    kernels = []
    for checkout in ("one", "two"):
        path = tmp_path / checkout / "kernel_module.py"
        path.parent.mkdir()
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"kernel_module_{checkout}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        kernels.append(jit.blocked_njit(module.twice))
    jit.compile_for(kernels[0], 1.5)
    assert jit.is_cached(kernels[0], 1.5) and not jit.is_cached(kernels[1], 1.5)


def test_the_notice_says_how_long_when_a_first_compile_was_timed_here():
    assert compiling_notice(19.4) == ("matnet: compiling the numba code for this network, first run only "
                                      "(about 19 s the last time on this machine) ...")
    assert "first run only (later runs load it)" in compiling_notice(None)


def test_first_compile_seconds_are_kept_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr(jit, "_cache_root", lambda: tmp_path)
    assert jit.first_compile_seconds("epoch+count_correct") is None
    jit.record_first_compile("epoch+count_correct", 12.345)
    jit.record_first_compile("epoch_in_sub_batches+count_correct", 3.0)
    assert jit.first_compile_seconds("epoch+count_correct") == 12.35
    (tmp_path / jit._SECONDS_FILE).write_text("not json")
    assert jit.first_compile_seconds("epoch+count_correct") is None  # a damaged file is no record
    jit.record_first_compile("epoch+count_correct", 2.0)  # and is replaced
    assert json.loads((tmp_path / jit._SECONDS_FILE).read_text()) == {"epoch+count_correct": 2.0}


@pytest.mark.slow
@compiled_only
def test_a_cold_matnet_train_says_at_once_that_it_compiles(tmp_path, mnist):
    """On an empty cache (a NUMBA_CACHE_DIR of its own), the notice is stderr's first line,
    before the compile ends, with the last timed first compile; the next run says nothing."""
    root = tmp_path / "matnet"
    root.mkdir()
    (root / jit._SECONDS_FILE).write_text(json.dumps({"epoch+count_correct": 7.0}))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "matnet", "train", "--epochs", "1", "--seed", "1"]
    cold = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert cold.returncode == 0, cold.stderr
    lines = cold.stderr.splitlines()
    assert lines[0] == compiling_notice(7.0)
    assert any(line.startswith("(numba compile or cache load:") for line in lines[1:])
    timed = json.loads((root / jit._SECONDS_FILE).read_text())["epoch+count_correct"]
    assert timed != 7.0 and timed > 0
    warm = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert warm.returncode == 0 and "compiling" not in warm.stderr
    assert warm.stdout.split("(")[0] == cold.stdout.split("(")[0]  # the same epoch: "Epoch 0: N / 10000"


@pytest.mark.slow
@compiled_only
def test_the_child_compiles_what_it_is_asked_into_the_parents_cache(tmp_path):
    """``matnet.core.compile_child``, as ``compile_beside`` starts it: the named kernels land in
    the cache folder the parent reads (their markers), and nothing else is compiled."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "matnet.core.compile_child", "float64", "12,5,3", "10",
                           "count_correct", "helpers"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    markers = [p.name.split("-")[0] for p in tmp_path.glob("matnet/numba-*/compiled/*")]
    assert markers == ["count_correct"]
