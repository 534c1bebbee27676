"""matnet.bench.report: measuring tiny workloads, the Markdown table, JSON, plot and CLI errors."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

import numpy as np
import pytest

from matnet import cli
from matnet.bench import report
from matnet.bench import workloads as wl
from matnet.cli import bench as bench_command


def synthetic_state(w: wl.Workload) -> wl.State:
    rng = np.random.default_rng(0)
    x = rng.random((w.n_examples + 20, w.sizes[0]))
    x[x < 0.8] = 0.0
    return wl.setup(w, (x, rng.integers(0, w.sizes[-1], x.shape[0])))


TINY = [
    dataclasses.replace(wl.BOOK, n_examples=200),
    dataclasses.replace(wl.find("evaluate-784-30-10-f64"), n_examples=100),
    wl.find("step-784-30-10-m10-f32"),
]


@pytest.fixture(scope="module")
def tiny_report():
    messages: list[str] = []
    result = report.run(TINY, rounds=2, loop_examples=50, state_for=synthetic_state, peak_size=128,
                        measure_compile=False, paths=wl.CORE_PATHS, progress=messages.append)
    result["messages"] = messages
    return result


def test_run_measures_every_available_path_against_the_book(tiny_report):
    epoch, evaluate, step = tiny_report["workloads"]
    everything = {"book", "loop", "numpy", "numba-kernels", "fused"}
    assert set(epoch["paths"]) == set(evaluate["paths"]) == set(step["paths"]) == everything
    assert step["rounds"] == 2 * report.STEP_ROUND_FACTOR
    for slow in ("book", "loop"):
        entry = epoch["paths"][slow]
        assert (entry["examples"], entry["scale"]) == (50, 4.0) and len(entry["samples"]) == 2
    assert epoch["paths"]["fused"]["scale"] == 1.0
    for r in tiny_report["workloads"]:
        assert r["fastest"] not in ("book", "loop") and r["gflops"] > 0 and r["fraction_of_peak"] > 0
        assert r["paths"]["book"]["speedup"] == 1.0  # the 1x
        for e in r["paths"].values():
            assert e["speedup"] == pytest.approx(float(np.median(e["speedup_samples"])))
        assert 0 < r["sparse_flops"] < r["flops"]  # synthetic inputs are 80% zeros
        assert r["fused_sparse_gflops"] < r["flops"] / r["paths"]["fused"]["seconds"] / 1e9
    assert set(tiny_report["peak_gflops"]) >= {"float64", "float32", "matrix", "threads"}
    assert len(tiny_report["messages"]) == 4  # peak, then one line per workload


def test_markdown_table(tiny_report):
    text = report.markdown(tiny_report)
    header = "| workload | GFLOP | book | loop | numpy | numba-kernels | fused | fastest | GFLOP/s | of peak "
    assert text.count(header + "| fused real GFLOP/s |") == 3
    row = next(line for line in text.splitlines() if line.startswith("| epoch-784-30-10-m10-f64"))
    assert row.count("†") == 2 and row.count("x)") == 5 and "(1.0x)" in row
    assert "† timed on the first 50 examples" in text and "speedup over the book" in text
    assert "BLAS" in text and "Matmul peak" in text and "not measured" in text
    assert "Paths limited to book, loop, numpy, numba-kernels, fused" in text
    if tiny_report["workloads"][0]["skipped"]:
        assert "Not run:" in text


def test_json_round_trip(tiny_report, tmp_path):
    path = tmp_path / "bench.json"
    report.write_json(tiny_report, path)
    loaded = json.loads(path.read_text())
    env = loaded["environment"]
    for key in ("date", "cpu_model", "numpy", "numba", "blas", "blas_threads", "python"):
        assert key in env
    assert loaded["workloads"][0]["paths"]["fused"]["samples"]


def test_plot_writes_a_png(tiny_report, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "speedups.png"
    report.plot(tiny_report, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"quick": True, "json": None, "plot": None, "workload": None, "call": None,
                                 **kw})


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    assert cli.main(["bench", "--quick", "--plot", str(tmp_path / "x.png")]) == 2  # as every picture
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs matplotlib" in err and "Traceback" not in err


def test_unknown_workload_or_call_is_a_clear_error(capsys):
    assert bench_command.run(args(workload=["epoch-1-2"])) == 2
    assert "unknown workload epoch-1-2" in capsys.readouterr().err
    assert bench_command.run(args(call=["sessions"])) == 2
    err = capsys.readouterr().err
    assert "unknown call sessions" in err and "session, session-busy" in err


def test_calls_table_states_book_matnet_speedup_and_target():
    def result(name, code, target, book, ours, speedup, note="", loop=None):
        r = {"name": name, "code": code, "target": target, "rounds": 3, "speedup": speedup,
             "paths": {"book": {"seconds": book, "scale": 30.0 if note else 1.0, "note": note},
                       "matnet": {"seconds": ours, "scale": 1.0, "note": ""}}}
        if loop is not None:
            r["loop_over_book"] = loop
        return r

    lines = report.calls_markdown([
        result("session", "net.SGD(training_data, 30, 10, 3.0, test_data=test_data)", 30, 93.0, 3.0, 31.0,
               note="1 of 30 epochs, scaled"),
        result("evaluate", "net.evaluate(test_data)", 20, 0.12, 0.008, 15.0, loop=0.98),
    ])
    text = "\n".join(lines)
    session = "| `net.SGD(training_data, 30, 10, 3.0, test_data=test_data)` | 93 s† | 3 s | 31.0x | ≥ 30x |"
    assert session in text
    assert "| `net.evaluate(test_data)` | 120 ms | 8 ms | 15.0x | ≥ 20x (not met) |" in text
    assert "† the book timed on 1 of 30 epochs, scaled." in text
    assert "loop/book: evaluate 0.98" in text
    assert report.calls_markdown([]) == []


def test_environment_without_threadpoolctl(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    libs = report.blas_info()
    assert "threadpoolctl not installed" in libs[0]["source"]
    assert "threadpoolctl not installed" in report.blas_summary(libs)
    assert report.blas_threads(libs) is None
    env = report.environment()
    assert env["blas_threads"] is None and env["cpu_model"]


def test_blas_summary_names_kernel_and_threads():
    libs = [{"internal_api": "openblas", "version": "0.3.31", "architecture": "SkylakeX", "num_threads": 2}]
    assert report.blas_summary(libs) == "BLAS: openblas 0.3.31 (SkylakeX, 2 threads)"


def test_compile_seconds_runs_fresh_processes(monkeypatch):
    monkeypatch.setattr(report, "_COMPILE_SCRIPT",
                        "import json, os; print(json.dumps({'fused': 1.0, 'kernels': 0.5, "
                        "'dir': os.environ['NUMBA_CACHE_DIR']}))")
    result = report.compile_seconds()
    assert result["cold"]["fused"] == 1.0 and result["cold"]["dir"] == result["cached"]["dir"]
    line = report._compile_line(result)
    assert "fused epoch 1.00 s cold, 1.00 s from the on-disk cache" in line
    monkeypatch.setattr(report, "_COMPILE_SCRIPT", "raise SystemExit('boom')")
    assert "failed" in report._compile_line(report.compile_seconds())


def test_format_seconds():
    assert [report.format_seconds(t) for t in (2.345, 0.0123, 9.5e-5)] == ["2.35 s", "12.3 ms", "95 µs"]


def test_examples_for():
    m1 = wl.find("epoch-784-30-10-m1-f64")
    assert report.examples_for(wl.BOOK, "loop", 100) == 100
    assert report.examples_for(wl.BOOK, "book", 100) == 100
    assert report.examples_for(wl.BOOK, "numpy", 100) is None
    assert report.examples_for(m1, "numpy", 100) == 100
    assert report.examples_for(m1, "fused", 100) is None
    assert report.examples_for(wl.find("evaluate-784-30-10-f64"), "loop", 100) is None
