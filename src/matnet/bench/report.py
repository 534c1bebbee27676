"""``matnet bench``: the book's calls, then every path of every workload, against the book's code.

How it measures: everything is timed in interleaved rounds (A B C, C B A, …) in this one
process, after a warm-up (numba compile, first allocations); seconds are medians over rounds,
and a speedup is the median of the per-round ratios to the book's own ``network.py``
(``matnet.bench.book_network``) in the *same* round. Two sections:

- **the book's calls** (``matnet.bench.calls``): ``net.SGD(training_data, 30, 10, 3.0,
  test_data=test_data)`` and the rest, whole calls on the loader's lists, matnet against the
  book — the headline, with the speedup each call is asked to reach;
- **workloads** (``matnet.bench.workloads``): epochs from arrays at m = 1 … 1000, single steps
  and evaluations, for every path (book, the loop oracle, the NumPy engine, the numba
  kernels, the fused path, and torch/JAX where installed).

The book and the loop (and, at mini-batch 1, the engine paths and torch, which are as slow)
run a part of a long workload, scaled; the tables mark those cells. numba compile time is
measured apart, in fresh processes (see :func:`compile_seconds`). The matmul peak is a large
``np.dot`` in the same dtype, at the BLAS thread count in effect and at one thread; fractions
use the better one.

BLAS threads are whatever the environment gives; the header says how many. On a 2-core
machine whose other core is busy, multi-threaded OpenBLAS can be many times slower on the
engine's small products (and its spinning worker threads slow whatever runs next), so compare
with ``OPENBLAS_NUM_THREADS=1 matnet bench``. matnet's own paths limit BLAS to one thread
themselves (``matnet.core.threads``); the book's code and the peers get whatever is in effect.

Calls, workloads, states and runners come from ``matnet.bench.calls`` and
``matnet.bench.workloads``, as in the benchmark suite and the CI gate, so all three measure
the same things.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from matnet.bench import calls as drop_in
from matnet.bench import waits as user_waits
from matnet.bench import workloads as wl

FULL_ROUNDS = 5
QUICK_ROUNDS = 3
STEP_ROUND_FACTOR = 40  # a step is ~100 µs: many more rounds for the same total time
FULL_LOOP_EXAMPLES = 10_000
QUICK_LOOP_EXAMPLES = 2_000
TORCH_MAX_EXAMPLES = 2_000  # eager torch costs ~1 ms a step and far more with contended threads
QUICK_WORKLOADS = (
    "epoch-784-30-10-m10-f64",
    "epoch-784-30-10-m10-f32",
    "epoch-784-100-10-m10-f64",
    "step-784-30-10-m10-f64",
    "evaluate-784-30-10-f64",
)
SECTION_TITLES = {
    "epoch": "Epochs (50,000 training images) from arrays: time per epoch, speedup over the book",
    "step": "One mini-batch step: time per step, speedup over the book",
    "evaluate": "Evaluation of the 10,000 test images: time per pass, speedup over the book",
}
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # reported, never changed


# ------------------------------------------------------------------------------- environment


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS libraries (name, version, architecture i.e.
    the kernel OpenBLAS chose, num_threads); without threadpoolctl, NumPy's build info."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info = {"source": "numpy build info (threadpoolctl not installed: no runtime kernel or threads)"}
        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            info.update(internal_api=blas.get("name"), version=blas.get("version"))
        except Exception as exc:  # show_config's layout varies across NumPy versions
            info["error"] = f"{type(exc).__name__}: {exc}"
        return [info]
    return [dict(lib) for lib in threadpool_info() if lib.get("user_api") == "blas"]


def blas_summary(libs: Sequence[dict] | None = None) -> str:
    """One line: which BLAS, which kernel, how many threads."""
    libs = blas_info() if libs is None else libs
    if not libs:
        return "BLAS: none detected"
    parts = []
    for lib in libs:
        threads = lib.get("num_threads") and _threads(lib["num_threads"])
        detail = ", ".join(str(x) for x in (lib.get("architecture"), threads) if x)
        name = f"{lib.get('internal_api', '?')} {lib.get('version') or ''}".strip()
        note = "" if "num_threads" in lib else " (threadpoolctl not installed: kernel and threads unknown)"
        parts.append(f"{name} ({detail}){note}" if detail else name + note)
    return "BLAS: " + "; ".join(parts)


def _threads(n: int | None) -> str:
    return f"{n or '?'} thread{'' if n == 1 else 's'}"


def blas_threads(libs: Sequence[dict] | None = None) -> int | None:
    """The BLAS thread count in effect (None when it cannot be known)."""
    libs = blas_info() if libs is None else libs
    counts = [lib["num_threads"] for lib in libs if "num_threads" in lib]
    return max(counts) if counts else None


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return str(importlib.import_module(module).__version__)
    except Exception as exc:  # a broken optional install must not stop the report
        return f"import failed: {type(exc).__name__}"


def environment() -> dict:
    """Everything that explains the numbers: machine, BLAS, threads, versions, date."""
    import numba

    import matnet

    libs = blas_info()
    env = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "matnet": matnet.__version__,
        "blas": libs,
        "blas_threads": blas_threads(libs),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "env": {k: os.environ[k] for k in _THREAD_VARS + _OPENBLAS_VARS if k in os.environ},
        "peers": {name: _version(name) for name in wl.PEER_PATHS},
    }
    if env["peers"]["torch"] and not env["peers"]["torch"].startswith("import failed"):
        import torch

        env["torch_threads"] = torch.get_num_threads()
    return env


# ------------------------------------------------------------------------------- peak, compile


def matmul_peak(dtype: str, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of the best of ``repeats`` (n, n) @ (n, n) ``np.dot`` calls in ``dtype``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    np.dot(a, b, out=out)  # first call: thread start-up, page faults
    best = min(_timed(lambda: np.dot(a, b, out=out)) for _ in range(repeats))
    return 2.0 * n**3 / best / 1e9


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def peaks(n: int, repeats: int) -> dict:
    """Matmul peak GFLOP/s per dtype at the BLAS threads in effect, and with one thread when
    threadpoolctl can limit them."""
    result: dict = {"matrix": n, "threads": blas_threads()}
    for dtype in wl.DTYPES:
        result[dtype] = matmul_peak(dtype, n, repeats)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return result
    with threadpool_limits(limits=1, user_api="blas"):
        result["one_thread"] = {dtype: matmul_peak(dtype, n, repeats) for dtype in wl.DTYPES}
    return result


def best_peak(peak: dict, dtype: str) -> float:
    """The peak the fractions use: the better of the run's thread count and one thread (on a
    shared machine a busy neighbour core can make the multi-threaded figure the lower one)."""
    return max(peak[dtype], peak.get("one_thread", {}).get(dtype, 0.0))


_COMPILE_SCRIPT = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
from matnet.core.kernels import get_kernels
from matnet.core.maths import QUADRATIC
from matnet.network import Network
t1 = time.perf_counter()
fused = Network([784, 30, 10], seed=0).prepare(10)  # the epoch at m = 10 and the evaluation
rng = np.random.default_rng(0)
k = get_kernels("numba")
a = rng.random((10, 30)); g = rng.standard_normal((10, 30)); o = np.empty_like(a)
y = np.eye(30)[rng.integers(0, 30, 10)]
def kernels():
    s = time.perf_counter()
    k.sigmoid(g, o); k.sigmoid_prime(a, o); k.output_delta(QUADRATIC, a, y, o); k.hidden_delta(g, a, o)
    return time.perf_counter() - s
kfirst, ksecond = kernels(), kernels()
print(json.dumps({"import": t1 - t0, "fused": fused, "kernels": kfirst - ksecond}))
"""


def compile_seconds(timeout: float = 600.0) -> dict:
    """numba compile time of the fused epoch and evaluation (``Network.prepare(10)``) and of the
    numba kernels (their first call minus their second), float64, in a fresh process:
    ``cold`` with an empty cache, then
    ``cached`` loading what the cold run wrote (numba's on-disk cache, ``cache=True``; both
    use a temporary NUMBA_CACHE_DIR so the project's own cache is neither used nor touched).
    """
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="matnet-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "cached"):
            try:
                done = subprocess.run(
                    [sys.executable, "-c", _COMPILE_SCRIPT],
                    env=env, capture_output=True, text=True, timeout=timeout, check=True,
                )
                result[label] = json.loads(done.stdout.strip().splitlines()[-1])
            except (subprocess.SubprocessError, ValueError, IndexError) as exc:
                detail = getattr(exc, "stderr", "") or ""
                result[label] = {"error": f"{type(exc).__name__}: {str(detail).strip()[-300:]}"}
    return result


# ------------------------------------------------------------------------------- measuring


def examples_for(w: wl.Workload, path: str, loop_examples: int) -> int | None:
    """How many examples of an epoch ``path`` runs (None: all). The book, the loop and torch
    eager always run a prefix (torch at most TORCH_MAX_EXAMPLES), and at mini-batch 1 so do the
    engine paths, which are then as slow as the loop."""
    if w.kind != "epoch":
        return None
    if path in ("book", "loop"):
        return loop_examples
    if path == "torch":
        return min(loop_examples, TORCH_MAX_EXAMPLES)
    if w.batch_size == 1 and path in ("numpy", "numba-kernels"):
        return loop_examples
    return None


def measure_workload(
    w: wl.Workload,
    rounds: int,
    loop_examples: int,
    state_for: Callable[[wl.Workload], wl.State] = wl.setup,
    paths: Iterable[str] | None = None,
) -> dict:
    """Time every available path of ``w`` interleaved; a JSON-ready dict of the results."""
    state = state_for(w)
    runners: dict[str, wl.Runner] = {}
    skipped: dict[str, str] = {}
    for path in (p for p in wl.paths_for(w) if paths is None or p in paths):
        try:
            runners[path] = wl.make_runner(state, path, examples_for(w, path, loop_examples))
        except wl.PathUnavailableError as exc:
            skipped[path] = str(exc)
    if w.kind == "step":
        rounds *= STEP_ROUND_FACTOR
    samples = wl.time_interleaved(runners, rounds)
    nonzero = float(np.count_nonzero(state.x)) / state.x.shape[0]
    result: dict = {
        "name": w.name, "kind": w.kind, "unit": w.unit, "sizes": list(w.sizes),
        "batch_size": w.batch_size, "eta": w.eta, "dtype": w.dtype, "n_examples": w.n_examples,
        "flops": w.flops, "sparse_flops": wl.sparse_flops(w, nonzero), "nonzero_inputs": nonzero,
        "rounds": rounds, "paths": {}, "skipped": skipped,
    }
    for path, runner in runners.items():
        entry = {
            "seconds": statistics.median(samples[path]),
            "samples": samples[path],
            "examples": runner.examples,
            "scale": runner.scale,
            "note": runner.note,
        }
        if wl.BASELINE in samples:
            per_round = wl.ratios(samples[wl.BASELINE], samples[path])
            entry["speedup"] = statistics.median(per_round)
            entry["speedup_samples"] = per_round
        result["paths"][path] = entry
    fast = {p: e for p, e in result["paths"].items() if p not in ("book", "loop")}
    if fast:
        best = min(fast, key=lambda p: fast[p]["seconds"])
        result["fastest"] = best
        result["gflops"] = w.flops / fast[best]["seconds"] / 1e9
    if "fused" in result["paths"]:  # what the fused path really computes per second
        result["fused_sparse_gflops"] = result["sparse_flops"] / result["paths"]["fused"]["seconds"] / 1e9
    return result


def run(
    names: Sequence[str | wl.Workload],
    rounds: int,
    loop_examples: int,
    *,
    quick: bool = False,
    state_for: Callable[[wl.Workload], wl.State] = wl.setup,
    peak_size: int = 2048,
    measure_compile: bool = True,
    paths: Sequence[str] | None = None,
    calls: Sequence[str] = (),
    call_rounds: int | None = None,
    monitoring: bool = False,
    waits: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Measure the named calls (``matnet.bench.calls``), with ``monitoring`` what chapter 3's
    monitors cost, then the named workloads on ``paths`` (default: every path defined for
    each); everything the tables, the plot and the JSON need."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    report: dict = {
        "schema": 2, "quick": quick, "rounds": rounds, "loop_examples": loop_examples,
        "paths": None if paths is None else list(paths),
        "environment": environment(),
    }
    if measure_compile:
        say("numba compile time (two fresh processes) ...")
        report["compile_seconds"] = compile_seconds()
    say(f"matmul peak (np.dot {peak_size}x{peak_size}) ...")
    report["peak_gflops"] = peaks(peak_size, repeats=3 if quick else 5)
    report["calls"] = []
    if calls:
        say("the book's calls, matnet against the book ...")
        report["calls"] = drop_in.run(calls, call_rounds or rounds, progress=say)
    report["monitoring"] = []
    if monitoring:
        say("what chapter 3's monitoring costs ...")
        data = drop_in.load()
        report["monitoring"] = [drop_in.monitoring(data, call_rounds or rounds, sizes)
                                for sizes in ((784, 30, 10), (784, 100, 10))]
    report["waits"] = None
    if waits:
        say("what a user waits for: a cold and a warm matnet train, own arrays, float32 ...")
        report["waits"] = user_waits.measure(call_rounds or rounds)
    report["workloads"] = []
    for i, name in enumerate(names, 1):
        w = name if isinstance(name, wl.Workload) else wl.find(name)
        name = w.name
        t = time.perf_counter()
        result = measure_workload(w, rounds, loop_examples, state_for, paths)
        if "gflops" in result:
            result["fraction_of_peak"] = result["gflops"] / best_peak(report["peak_gflops"], w.dtype)
        report["workloads"].append(result)
        say(f"[{i}/{len(names)}] {name}: {time.perf_counter() - t:.1f} s")
    report["seconds_total"] = time.perf_counter() - started
    return report


# ------------------------------------------------------------------------------- rendering


def format_seconds(seconds: float) -> str:
    """3 significant digits in s, ms or µs."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _present_paths(results: Sequence[dict]) -> list[str]:
    present = {p for r in results for p in r["paths"]}
    return [p for p in wl.PATHS if p in present]


def markdown(report: dict) -> str:
    """The report as Markdown: a header on the machine, then one table per workload kind."""
    env = report["environment"]
    peak = report["peak_gflops"]
    lines = [
        f"## matnet bench{' --quick' if report.get('quick') else ''} — {env['date']}",
        "",
        f"{env['cpu_model']}, {env['logical_cpus']} logical CPUs; {blas_summary(env['blas'])}; "
        f"numpy {env['numpy']}, numba {env['numba']}, Python {env['python']}.",
    ]
    threads = peak.get("threads")
    peak_line = (
        f"Matmul peak (np.dot {peak['matrix']}², BLAS {_threads(threads)}): "
        f"{peak['float64']:.1f} GFLOP/s float64, {peak['float32']:.1f} float32"
    )
    if "one_thread" in peak:
        one = peak["one_thread"]
        peak_line += f" (one thread: {one['float64']:.1f} / {one['float32']:.1f})"
    lines.append(peak_line + "; \"of peak\" uses the better of the two.")
    lines.append(_compile_line(report.get("compile_seconds")))
    lines += calls_markdown(report.get("calls", []))
    lines += monitoring_markdown(report.get("monitoring", []))
    lines += user_waits.markdown(report.get("waits"))
    scaled = False
    for kind in wl.KINDS:
        results = [r for r in report["workloads"] if r["kind"] == kind]
        if not results:
            continue
        paths = _present_paths(results)
        lines += ["", f"### {SECTION_TITLES[kind]}", ""]
        header = ["workload", "GFLOP", *paths, "fastest", "GFLOP/s", "of peak", "fused real GFLOP/s"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in results:
            cells = [r["name"], f"{r['flops'] / 1e9:.3g}"]
            for p in paths:
                e = r["paths"].get(p)
                if e is None:
                    cells.append("—")
                    continue
                mark = "†" if e["scale"] > 1 else ""
                scaled |= bool(mark)
                speed = f" ({e['speedup']:.1f}x)" if "speedup" in e else ""
                cells.append(f"{format_seconds(e['seconds'])}{mark}{speed}")
            if "fastest" in r:
                cells += [r["fastest"], f"{r['gflops']:.3g}", f"{100 * r.get('fraction_of_peak', 0):.1f}%"]
            else:
                cells += ["—", "—", "—"]
            cells.append(f"{r['fused_sparse_gflops']:.3g}" if "fused_sparse_gflops" in r else "—")
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _footnote(report, scaled)]
    skipped = sorted({f"{p} ({why})" for r in report["workloads"] for p, why in r["skipped"].items()})
    if skipped:
        lines.append(f"Not run: {'; '.join(skipped)}.")
    return "\n".join(lines) + "\n"


def calls_markdown(results: Sequence[dict]) -> list[str]:
    """The headline: each of the book's calls, the book's time, matnet's, the speedup and the
    speedup asked for (chapter 1's against the book's network.py, chapter 3's against network2
    written the book's way); then what the loop oracle costs against the book."""
    if not results:
        return []
    chapter_3 = {c.name for c in drop_in.CHAPTER_3_CALLS}
    lines = []
    notes: list[str] = []
    for title, rows in (
        ("The book's calls, on the loader's lists, against the book's own network.py",
         [r for r in results if r["name"] not in chapter_3]),
        ("Chapter 3's sessions (network2), on the loader's lists, against network2 written the book's way",
         [r for r in results if r["name"] in chapter_3]),
    ):
        if rows:
            lines += ["", f"### {title}", "",
                      "| call, as a book reader writes it | the book | matnet | speedup | target |",
                      "|---|---:|---:|---:|---:|"]
            lines += _call_rows(rows, notes)
    loops = [f"{r['name']} {r['loop_over_book']:.2f}" for r in results if "loop_over_book" in r]
    lines += [""] + [note + "." for note in notes]
    if loops:
        lines.append("matnet's per-example oracle (matnet.core.loop) against the book, time ratio loop/book: "
                     + ", ".join(loops) + ".")
    rounds = sorted({r["rounds"] for r in results})
    lines.append(f"Whole calls, fixed costs included; medians of {'/'.join(map(str, rounds))} interleaved "
                 "rounds; speedup = median of the per-round ratios.")
    return lines


def _call_rows(results: Sequence[dict], notes: list[str]) -> list[str]:
    """One table row per call; the notes on scaled book times are appended to ``notes``."""
    lines = []
    for r in results:
        book, ours = r["paths"]["book"], r["paths"]["matnet"]
        mark = ""
        if book["scale"] != 1:
            mark = "†" * (1 + len(notes))
            notes.append(f"{mark} the book timed on {book['note'].replace(', scaled', '')}, scaled")
        met = "" if r["speedup"] >= r["target"] else " (not met)"
        lines.append(f"| `{r['code']}` | {format_seconds(book['seconds'])}{mark} | "
                     f"{format_seconds(ours['seconds'])} | {r['speedup']:.1f}x | ≥ {r['target']:g}x{met} |")
    return lines


def monitoring_markdown(results: Sequence[dict]) -> list[str]:
    """What chapter 3's monitors cost: a monitored epoch as a multiple of an unmonitored one."""
    if not results:
        return []
    lines = ["", "### What monitoring costs (chapter 3, one epoch of 50,000 images, λ = 5, validation data)",
             "", "| network | no monitor | the chapter's monitors | × | all four | × | target |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        seconds, ratios = r["seconds"], r["ratios"]
        chapter, every = "the chapter's", "all four"
        target = "≤ 1.5x" + ("" if ratios[chapter] <= 1.5 else " (not met)")
        lines.append(f"| {r['sizes']} ({', '.join(r['chapter'])}) | {format_seconds(seconds['none'])} "
                     f"| {format_seconds(seconds[chapter])} | {ratios[chapter]:.2f}x "
                     f"| {format_seconds(seconds[every])} | {ratios[every]:.2f}x | {target} |")
    return lines


def _compile_line(comp: dict | None) -> str:
    if not comp:
        return "numba compile time: not measured."

    def part(key: str) -> str:
        cold, cached = comp.get("cold", {}), comp.get("cached", {})
        if key not in cold or key not in cached:
            return "failed (" + str(cold.get("error") or cached.get("error")) + ")"
        return f"{cold[key]:.2f} s cold, {cached[key]:.2f} s from the on-disk cache"

    return (
        f"numba compile, first call in a fresh process, float64 (not in any timing below): "
        f"fused epoch {part('fused')}; kernels {part('kernels')}."
    )


def _footnote(report: dict, scaled: bool) -> str:
    text = (
        (f"Paths limited to {', '.join(report['paths'])} (for the peers: `matnet bench "
         f"--workload NAME`). " if report.get("paths") else "")
        + f"Medians of {report['rounds']} interleaved rounds after warm-up (steps: "
        f"{report['rounds'] * STEP_ROUND_FACTOR}); speedup = median of per-round ratios to the book "
        f"in the same round (the book is float64 only: a float32 row's 1x is the book's float64). "
        f"GFLOP/s and peak fraction are for the fastest of matnet's paths and the peers, in "
        f"dense-equivalent FLOPs; the last column is the fused path's real rate, counting only the "
        f"non-zero pixels it reads (see matnet.bench.workloads)."
    )
    if scaled:
        torch = any("torch" in r["paths"] for r in report["workloads"])
        text += (
            f" † timed on the first {report['loop_examples']:,} examples of the epoch"
            + (f" (torch: at most {TORCH_MAX_EXAMPLES:,})" if torch else "")
            + " and scaled to 50,000."
        )
    return text


def plot(report: dict, path: str | os.PathLike[str]) -> None:
    """A bar chart of speedups over the book, one group of bars per workload (matplotlib), written
    atomically; drawn on a pyplot-free Figure (``matnet.plots``), so the caller's backend stays."""
    from matnet import plots

    results = [r for r in report["workloads"] if any("speedup" in e for e in r["paths"].values())]
    paths = [p for p in _present_paths(results) if p not in ("book", "loop")]
    height = 0.8 / max(len(paths), 1)
    fig = plots.require_matplotlib()(figsize=(8.0, 1.5 + 0.12 * len(results) * max(len(paths), 1)))
    ax = fig.subplots()
    for i, p in enumerate(paths):  # one horizontal bar per path, grouped by workload
        ys = [j + (i - (len(paths) - 1) / 2) * height for j in range(len(results))]
        xs = [r["paths"].get(p, {}).get("speedup", 0.0) for r in results]
        ax.barh(ys, xs, height, label=p)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(results)), [r["name"] for r in results], fontsize=8)
    ax.set_ylim(len(results) - 0.5, -0.5)  # report order, top to bottom, no margins
    ax.set_xlabel("speedup over the book's network.py (1x)")
    env = report["environment"]
    ax.set_title(f"matnet: {env['cpu_model']}, {blas_summary(env['blas'])}", fontsize=8)
    ax.grid(axis="x", linewidth=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    plots.save(fig, path, dpi=120)


def write_json(report: dict, path: str | os.PathLike[str]) -> None:
    """The whole report as JSON, written atomically."""
    from matnet.io import atomic_write_bytes

    atomic_write_bytes(Path(path), (json.dumps(report, indent=2) + "\n").encode())
