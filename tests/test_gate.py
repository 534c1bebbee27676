"""The CI gate (benchmarks/gate.py): its verdicts, its configuration, and that it fails when
matnet is made slower and passes when it is not.

The verdicts are pure functions of the ratios measured and are tested on given numbers. The
measuring is tested for real, on the book's calls: ``--inject-slowdown F`` makes this tree's
side F times slower (it spins after each timed call), and the gate must then fail. The
thresholds there are far from what is measured (3x slowed against a floor at 1x), so noise
cannot decide these tests.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

from matnet.bench import calls as drop_in
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

needs_data = pytest.mark.skipif(not os.environ.get("MATNET_DATA"), reason="MATNET_DATA is not set")


# --------------------------------------------------------------------------- verdicts


def test_a_clear_slowdown_fails_the_comparison():
    outcome = gate.judge_slowdown("epoch", [1.48, 1.52, 1.50, 1.55, 1.47, 1.51, 1.49], 1.25, 1.10, 0.15, 0.10)
    assert not outcome.passed
    assert outcome.value == pytest.approx(1.50)
    assert outcome.line().startswith("FAIL compare epoch: this tree / baseline = 1.50x")


def test_noise_around_one_passes_the_comparison():
    ratios = [0.92, 1.08, 1.01, 0.97, 1.12, 0.95, 1.03]
    assert gate.judge_slowdown("epoch", ratios, 1.25, 1.10, 0.1, 0.1).passed


def test_a_median_slowdown_with_a_wide_interval_is_not_failed_on_one_outlier():
    """Half the rounds slowed by a neighbour: the low end of the interval stays near 1."""
    ratios = [1.0, 1.02, 0.98, 1.3, 1.4, 1.35, 1.3]
    outcome = gate.judge_slowdown("evaluate", ratios, 1.25, 1.10, 0.1, 0.1)
    assert outcome.value >= 1.25 and outcome.passed


def test_bootstrap_low_end_is_below_the_median_and_above_the_minimum():
    ratios = [1.0, 1.1, 1.2, 1.3, 1.4]
    low = gate.bootstrap_low(ratios)
    assert min(ratios) <= low <= 1.2


def test_a_failing_floor_is_measured_again_and_the_best_attempt_is_judged():
    attempts = iter([([9.0, 9.5, 8.8], 1.0, 9.0), ([12.5, 13.0, 12.8], 1.0, 12.8)])
    outcome = gate.judge_floor("floor", "evaluate", lambda: next(attempts), 12.0, 1, lambda f, s: "x")
    assert outcome.passed and outcome.value == pytest.approx(12.8)
    assert "2 attempts: 9.00x, 12.80x" in outcome.detail


def test_a_floor_that_stays_low_fails_after_its_retries():
    calls = []

    def measure():
        calls.append(1)
        return [5.0, 5.1, 4.9], 1.0, 5.0

    outcome = gate.judge_floor("floor", "epoch", measure, 18.0, 2, lambda f, s: "x")
    assert not outcome.passed and len(calls) == 3
    assert outcome.line().startswith("FAIL floor epoch: 5.00x < 18.00x")


# --------------------------------------------------------------------------- configuration


def test_committed_config_is_sound():
    config = gate.load_config(GATE_TOML)
    assert config["settings"]["rounds"] >= 5 and config["settings"]["retries"] >= 1
    names = [e["name"] for e in config["floor"] + config["ratio"]]
    assert len(set(names)) == len(names)
    for entry in config["floor"]:
        drop_in.find(entry["call"])
        assert entry["min_speedup"] > 1.0, entry["name"]  # never slower than the book
    for entry in config["ratio"]:
        paths = set(wl.paths_for(wl.find(entry["workload"])))
        assert entry["min_ratio"] > 1.0 and {entry["fast"], entry["slow"]} <= paths
    comparison = config["compare"]
    assert set(comparison["calls"]) == set(gate.WORKER_CALLS)
    assert comparison["max_slowdown"] <= 1.5
    assert 1.0 < comparison["clearly_slower"] < comparison["max_slowdown"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[floor]]\nname = "x"\ncall = "epoch"\nmin_speedup = 2\nspeed = 1\n', "unknown keys ['speed']"),
        ('[[floor]]\nname = "x"\ncall = "nothing"\nmin_speedup = 2\n', "unknown call 'nothing'"),
        ('[compare]\ncalls = ["sgd"]\nmax_slowdown = 1.2\nclearly_slower = 1.1\n', "cannot make: ['sgd']"),
        ("[flor]\n", "unknown tables ['flor']"),
        ("[settings\n", "gate.toml"),
    ],
)
def test_bad_config_exits_2_and_names_the_problem(tmp_path, capsys, text, message):
    config = tmp_path / "gate.toml"
    config.write_text(text)
    assert gate.main(["--config", str(config)]) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------- measuring for real


def _floor_config(tmp_path, minimum: float) -> Path:
    config = tmp_path / "gate.toml"
    config.write_text(f'[settings]\nrounds = 5\nretries = 0\n\n[[floor]]\nname = "ff"\ncall = "feedforward"\n'
                      f"min_speedup = {minimum}\n")
    return config


@needs_data
def test_a_slowed_matnet_fails_its_floor(tmp_path, capsys):
    """matnet's feedforward(x) is ~1.5x the book's; made 3x slower it is ~0.5x: below 1."""
    assert gate.main(["--config", str(_floor_config(tmp_path, 1.0)), "--inject-slowdown", "3"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"BLAS: \S+ [\d.]+ \(.*, \d+ threads?\)", out)
    assert re.search(r"FAIL floor ff: [\d.]+x < 1\.00x \(`net\.feedforward\(x\)`: matnet [\d.]+ .s, "
                     r"the book", out)
    assert "gate: 0/1 checks passed" in out


@needs_data
def test_the_real_matnet_passes_a_floor_it_clears(tmp_path, capsys):
    assert gate.main(["--config", str(_floor_config(tmp_path, 0.5))]) == 0
    assert "PASS floor ff" in capsys.readouterr().out


@needs_data
@pytest.mark.slow
def test_a_slowed_tree_fails_the_comparison_with_itself_and_the_same_tree_passes():
    """A/A: two workers importing this very tree, one of them made 2x slower; the same tree
    against itself passes. Whole MNIST loads four times. (2x, not the 1.5x the gate is tuned
    for: on a CI machine with a heavy neighbour single rounds vary by 2x, and this test must
    not fail on noise; ``gate.py --inject-slowdown 1.5`` shows the 1.5x case by hand.)"""
    src = ROOT / "src"
    slowed = gate.compare(["feedforward", "epoch"], src, src, 9, 1.25, 1.10, slowdown=2.0, say=lambda _: None)
    assert [o.passed for o in slowed] == [False, False], [o.line() for o in slowed]
    [same] = gate.compare(["feedforward"], src, src, 9, 1.25, 1.10, say=lambda _: None)
    assert same.passed, same.line()
