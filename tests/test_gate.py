"""The CI gate (benchmarks/gate.py) catches a slowed fast path and passes on real code.

The gate's core takes the runners it times, so these tests hand it a deliberately slowed
"fast" path — the loop swapped in for the fused trainer — on a tiny synthetic workload.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from matnet.bench import workloads as wl

ROOT = Path(__file__).resolve().parent.parent
GATE_TOML = ROOT / "benchmarks" / "gate.toml"


def _load_gate():
    spec = importlib.util.spec_from_file_location("matnet_gate", ROOT / "benchmarks" / "gate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gate = _load_gate()


def config_check(name: str):
    _, checks = gate.load_config(GATE_TOML)
    return next(c for c in checks if c.name == name)


@pytest.fixture(scope="module")
def tiny_state():
    """[784, 30, 10], 100 MNIST-like synthetic examples, m = 10."""
    rng = np.random.default_rng(0)
    x = rng.random((100, 784))
    x[x < 0.8] = 0.0
    w = dataclasses.replace(wl.BOOK, n_examples=100)
    return wl.setup(w, (x, rng.integers(0, 10, 100)))


def test_gate_fails_when_the_fast_path_is_slowed(tiny_state, capsys):
    check = config_check("fused-vs-loop-epoch")
    slowed = wl.make_runner(tiny_state, "loop")  # the injected regression: fused → loop

    def runners_for(c):
        return slowed, wl.make_runner(tiny_state, "loop"), "epoch"

    [outcome] = gate.run_gate([check], runners_for, rounds=3, retries=1)
    assert not outcome.passed
    assert len(outcome.attempts) == 2  # a failing check is measured again before failing
    line = capsys.readouterr().out.strip()
    m = outcome.best
    assert line.startswith("FAIL fused-vs-loop-epoch [epoch-784-30-10-m10-f64]")
    assert f"measured ratio {m.ratio:.2f}x < threshold {check.min_ratio:.2f}x" in line
    fast, slow = gate.format_seconds(m.fast_seconds), gate.format_seconds(m.slow_seconds)
    assert f"fused {fast} vs loop {slow} per epoch" in line
    assert m.ratio < 2 < check.min_ratio


def test_gate_fails_when_the_fast_path_does_extra_work(tiny_state):
    """A subtler regression: the fused path doing the loop's work on top of its own."""
    check = config_check("fused-vs-numpy-epoch")
    fused = wl.make_runner(tiny_state, "fused")
    loop = wl.make_runner(tiny_state, "loop")
    slowed = dataclasses.replace(fused, run=lambda: (fused.run(), loop.run()))

    def runners_for(c):
        return slowed, wl.make_runner(tiny_state, "numpy"), "epoch"

    [outcome] = gate.run_gate([check], runners_for, rounds=3, retries=0, say=lambda _: None)
    assert not outcome.passed and outcome.best.ratio < check.min_ratio
    assert "FAIL fused-vs-numpy-epoch" in outcome.line()


def test_gate_passes_on_real_code_for_a_cheap_check(capsys):
    check = config_check("numba-vs-numpy-output-delta")
    [outcome] = gate.run_gate([check], gate.MatnetRunners(kernel_sample_seconds=0.005), rounds=5, retries=2)
    assert outcome.passed, outcome.line()
    assert capsys.readouterr().out.startswith("PASS numba-vs-numpy-output-delta")


def test_main_exits_non_zero_and_names_the_failure(tmp_path, capsys):
    config = tmp_path / "gate.toml"
    config.write_text(
        "[settings]\nrounds = 3\nretries = 0\n\n[[check]]\nname = \"impossible\"\n"
        "workload = \"kernel-output_delta-10x10-f64\"\nfast = \"numba\"\nslow = \"numpy\"\n"
        "min_ratio = 1000.0\n"
    )
    assert gate.main(["--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"BLAS: .*\d+ threads?", out)
    assert re.search(r"FAIL impossible \[kernel-output_delta-10x10-f64\]: measured ratio [\d.]+x < "
                     r"threshold 1000.00x \(numba [\d.]+ .s vs numpy [\d.]+ .s per call\)", out)


def test_committed_config_is_sound():
    settings, checks = gate.load_config(GATE_TOML)
    assert settings["rounds"] >= 5 and settings["retries"] >= 1
    for c in checks:
        assert c.min_ratio > 1.0, c.name
        if c.workload.startswith("kernel-"):
            wl.find_kernel(c.workload)
            assert {c.fast, c.slow} <= set(wl.KERNEL_PATHS)
        else:
            w = wl.find(c.workload)
            assert {c.fast, c.slow} <= set(wl.paths_for(w))
    assert len({c.name for c in checks}) == len(checks)


def test_subset_parser_reads_gate_toml_as_tomllib_does():
    tomllib = pytest.importorskip("tomllib")
    text = GATE_TOML.read_text(encoding="utf-8")
    assert gate.parse_simple_toml(text) == tomllib.loads(text)


def test_bad_config_is_reported(tmp_path, capsys):
    config = tmp_path / "gate.toml"
    config.write_text(
        '[[check]]\nname = "x"\nworkload = "w"\nfast = "a"\nslow = "b"\nmin_ratio = 2\nspeed = 1\n'
    )
    assert gate.main(["--config", str(config)]) == 2
    assert "unknown keys ['speed']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unsupported TOML value"):
        gate.parse_simple_toml("x = [1, 2]\n")
