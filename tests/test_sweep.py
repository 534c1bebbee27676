"""``matnet sweep`` in this process: the grid, its refusals, the JSON-lines file, ``--resume``,
the summary, and that every run is the book's session from its seed (issue 14).

The parallel paths — local processes, a Dask cluster, Ray, killed workers, an interrupted
sweep — are in ``test_sweep_parallel.py`` (slow: each starts processes and clusters).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import statistics
import threading

import numpy as np
import pytest

import matnet.cli
from matnet.errors import UsageError
from matnet.experiments import records, sweep
from matnet.experiments.runs import RunSpec, train
from matnet.network import BookRandom, Network

SMALL = ["--sizes", "784,10", "--eta", "3", "--epochs", "1"]  # about 0.2 s per run


def book_session(sizes, eta, seed, epochs, data, batch_size=10) -> list[float]:
    """The book's session after ``np.random.seed(seed); random.seed(seed)``: accuracy per epoch."""
    np.random.seed(seed)
    random.seed(seed)
    net = Network(list(sizes))
    accuracies: list[float] = []
    net.SGD(data.training, epochs, batch_size, eta, test_data=data.test, verbose=False,
            on_epoch=lambda r: accuracies.append(r.correct / r.n_test))
    return accuracies


def run_cli(argv, capsys) -> tuple[int, str, str]:
    try:
        status = matnet.cli.main(argv)
    except SystemExit as exit:  # the parser's refusals
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def no_mnist(tmp_path) -> list[str]:
    """--data-dir of an empty folder: had the data been looked for, the command would say so."""
    empty = tmp_path / "no-mnist-here"
    empty.mkdir(exist_ok=True)
    return ["--data-dir", str(empty)]


def cells(line: str) -> list[str]:
    assert line.startswith("| ") and line.endswith(" |"), line
    return [cell.strip() for cell in line[2:-2].split(" | ")]


# --- the grid and its refusals ---------------------------------------------------------------


def test_grid_is_every_combination_seeds_innermost_without_duplicates():
    specs = sweep.grid([(784, 30, 10), (784, 10)], [0.5, 3.0, 0.5], [2, 0], epochs=4, batch_sizes=[10, 100])
    assert len(specs) == 2 * 2 * 2 * 2
    assert [s.seed for s in specs[:4]] == [2, 0, 2, 0]
    assert specs[0] == RunSpec((784, 30, 10), 0.5, 2, 4, 10, "float64", "auto")
    assert specs[2].batch_size == 100 and specs[4].eta == 3.0 and specs[8].sizes == (784, 10)


@pytest.mark.parametrize("etas", [[3.0, 0.0], [-1.0], [float("nan")]])
def test_grid_refuses_a_learning_rate_that_is_not_positive(etas):
    with pytest.raises(UsageError, match="--eta must be positive"):
        sweep.grid([(784, 10)], etas, [0])


def test_grid_refuses_an_empty_dimension():
    with pytest.raises(UsageError, match="--seeds is empty"):
        sweep.grid([(784, 10)], [3.0], [])


@pytest.mark.parametrize("text, seeds",
                         [("0-9", list(range(10))), ("3", [3]), ("0,2,5-7,2", [0, 2, 5, 6, 7])])
def test_seeds_are_read_as_ranges_and_lists(text, seeds, tmp_path):
    args = matnet.cli.build_parser().parse_args(["sweep", "--seeds", text, "--out", str(tmp_path / "r")])
    assert args.seeds == seeds


@pytest.mark.parametrize("argv, message", [
    (["--eta", "0.5,0"], "expected a finite positive number, got '0'"),
    (["--eta", "3,-1"], "expected a finite positive number"),
    (["--seeds", "5-3"], "the seed range '5-3' is empty"),
    (["--seeds", ","], "no seeds"),
    (["--etaa", "3"], "unrecognized arguments: --etaa"),
    (["--jobs", "0"], "expected an int ≥ 1"),
    (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"], "not allowed with argument"),
    (["--sizes", "784,30,9"], "must start with 784"),
    (["--batch-size", "10,0"], "expected an int ≥ 1"),
])
def test_a_bad_grid_fails_before_anything_runs_or_is_written(argv, message, tmp_path, capsys):
    empty = tmp_path / "no-mnist-here"  # had the data been looked for, the error would name it
    empty.mkdir()
    out = tmp_path / "runs.jsonl"
    status, _, err = run_cli(["sweep", "--out", str(out), "--data-dir", str(empty), *argv], capsys)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) <= 2, err  # no traceback
    assert not out.exists()


@pytest.mark.parametrize("command, argv, runs", [
    ("sweep", ["--seeds", "0-4294967295"], "4,294,967,296"),
    ("sweep", ["--seeds", "0-99999", "--eta", "1,3"], "200,000"),
    ("reproduce", ["--seeds", "1000000000"], "5,000,000,000"),
    ("sweep", ["--seeds", "0-10", "--max-runs", "10"], "11"),
])
def test_a_grid_too_large_is_refused_before_it_is_built(command, argv, runs, tmp_path, capsys):
    """Item 6: four billion seeds are counted, not listed (a MemoryError after minutes before)."""
    out = tmp_path / "runs.jsonl"
    status, _, err = run_cli([command, *argv, "--out", str(out), *no_mnist(tmp_path)], capsys)
    assert status == 2
    limit = "10" if "--max-runs" in argv else "100,000"
    assert err == (f"matnet {command}: error: that is {runs} runs, more than --max-runs {limit}: "
                   "ask for fewer, or raise --max-runs\n")
    assert not out.exists()


def test_max_runs_can_be_raised_and_overlapping_seed_ranges_count_once(tmp_path):
    args = matnet.cli.build_parser().parse_args(["sweep", "--seeds", "5-9,0-6,3,8-12", "--max-runs", "13",
                                                 "--out", str(tmp_path / "r")])
    assert list(args.seeds) == [5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 10, 11, 12] and args.max_runs == 13
    assert [args.seeds[i] for i in (0, 5, -1)] == [5, 0, 12]
    assert len(sweep.grid([(784, 10)], [3.0], args.seeds, max_runs=13)) == 13


def test_resume_needs_the_file_to_resume(tmp_path, capsys):
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    argv = ["reproduce", "--epochs", "1", "--resume", "--data-dir", str(empty)]
    status, _, err = run_cli(argv, capsys)
    assert status == 2 and "--resume continues the runs of an --out file" in err


def test_an_existing_file_needs_resume(tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    record = {"parameters": RunSpec((784, 10), 3.0, 0, 1).parameters(), "accuracies": [0.5], "seconds": [0.1]}
    out.write_text(json.dumps(record) + "\n")
    status, _, err = run_cli(["sweep", *SMALL, "--out", str(out)], capsys)
    assert status == 2
    assert "already holds 1 run(s): add --resume" in err
    assert out.read_text() == json.dumps(record) + "\n"


# --- the JSON-lines file ----------------------------------------------------------------------


def record_of(seed: int, accuracies=(0.5,), **parameters) -> dict:
    """A finished run's record as a sweep of SMALL writes it (its figures made up)."""
    return {"parameters": {**RunSpec((784, 10), 3.0, seed, 1).parameters(), **parameters},
            "accuracies": list(accuracies), "seconds": [0.1], "run_seconds": 0.2}


def lines_of(*found: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in found)


def test_an_unfinished_last_line_is_dropped_and_cut_off_before_the_next_record(tmp_path):
    path = tmp_path / "runs.jsonl"
    whole = lines_of(record_of(0))
    path.write_text(whole + '{"parameters": {"se')  # the sweep was killed while writing
    found, intact = records.read(path)
    assert found == [record_of(0)] and intact == len(whole)
    with records.Appender(path, intact) as appender:
        appender.append(record_of(1))
    assert [r["parameters"]["seed"] for r in records.read(path)[0]] == [0, 1]


def test_a_damaged_line_inside_the_file_is_named(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(lines_of(record_of(0)) + "not json\n" + lines_of(record_of(1)))
    with pytest.raises(UsageError, match=r"runs.jsonl, line 2: not a JSON record"):
        records.read(path)
    path.write_text(lines_of(record_of(0)) + "[1, 2]\n")
    with pytest.raises(UsageError, match=r"line 2: a JSON value without the run's 'parameters'"):
        records.read(path)
    path.write_text(lines_of(record_of(0)) + "notes")  # a last line that is no record cut short
    with pytest.raises(UsageError, match=r"line 2: not a JSON record"):
        records.read(path)


# --- issue 21: the records of --out, nothing lost, nothing counted twice ---------------------


def test_a_second_writer_is_refused_while_another_holds_the_file(tmp_path, capsys):
    """Item 1: a second ``sweep --resume`` on a file another run is writing stops at once,
    naming it, and cuts nothing; the lock goes with the run that held it."""
    out = tmp_path / "runs.jsonl"
    held = lines_of(record_of(0)) + '{"parameters": {"se'  # the other writer, mid-line
    out.write_text(held)
    argv = ["sweep", *SMALL, "--seeds", "0-1", "--out", str(out), "--resume", *no_mnist(tmp_path)]
    with records.locked(out):
        status, _, err = run_cli(argv, capsys)
        assert (status, err) == (2, f"matnet sweep: error: another matnet run is writing {out} "
                                    f"(pid {os.getpid()})\n")
        assert out.read_text() == held
    assert not (tmp_path / "runs.jsonl.lock").exists()
    status, _, err = run_cli(argv, capsys)  # free now: it gets as far as the data
    assert status == 1 and "no-mnist-here" in err and not (tmp_path / "runs.jsonl.lock").exists()


@pytest.mark.parametrize("content", ["notes", "", "notes\n", lines_of(record_of(0))])
def test_an_existing_out_file_is_refused_without_resume_whatever_it_holds(content, tmp_path, capsys):
    """Item 2: ``printf notes > F`` then ``matnet sweep --out F``: F is kept, the sweep refused."""
    out = tmp_path / "runs.jsonl"
    out.write_text(content)
    status, _, err = run_cli(["sweep", *SMALL, "--out", str(out), *no_mnist(tmp_path)], capsys)
    assert status == 2, err
    holds = "already holds 1 run(s)" if content.startswith("{") else "already exists"
    assert err == f"matnet sweep: error: --out {out} {holds}: add --resume to finish that sweep, " \
                  "or choose another file\n"
    assert out.read_text() == content


FOREIGN = [
    ({**record_of(1), "parameters": {**record_of(1)["parameters"], "colour": "red"}},
     "'parameters' has unknown 'colour'"),
    ({**record_of(1), "parameters": {k: v for k, v in record_of(1)["parameters"].items() if k != "eta"}},
     "'parameters' lacks 'eta'"),
    (record_of(1, sizes=784), "'sizes' must be a list of at least two positive ints, not 784"),
    (record_of(1, eta="3"), "'eta' must be a positive number, not \"3\""),
    (record_of(1, accuracies=()), "'accuracies' must be a non-empty list of fractions in [0, 1], not []"),
    ({**record_of(1), "accuracies": "0.5"}, "'accuracies' must be a non-empty list"),
    ({**record_of(1), "accuracies": None}, "'accuracies' must be a non-empty list"),
    ({**record_of(1), "accuracies": [float("nan")]}, "'accuracies' must be a non-empty list"),
    ({k: v for k, v in record_of(1).items() if k != "accuracies"}, "not null"),  # item 5
    ({k: v for k, v in record_of(1).items() if k != "seconds"}, "'seconds' must be a non-empty list"),
]


@pytest.mark.parametrize("command", ["sweep", "reproduce"])
@pytest.mark.parametrize("foreign, message", FOREIGN)
def test_a_foreign_record_is_one_line_naming_it(foreign, message, command, tmp_path, capsys):
    """Items 3 and 5: a hand-edited record is refused in one line that names its line, by
    ``sweep --resume`` and ``reproduce --resume`` alike (not a traceback, not a run taken as done)."""
    out = tmp_path / "runs.jsonl"
    out.write_text(lines_of(record_of(0)) + json.dumps(foreign) + "\n")
    options = SMALL if command == "sweep" else ["--only", "no hidden layer", "--epochs", "1"]
    status, _, err = run_cli([command, *options, "--out", str(out), "--resume", *no_mnist(tmp_path)], capsys)
    assert status == 2
    assert err.startswith(f"matnet {command}: error: {out}, line 2: ") and message in err, err
    assert len(err.splitlines()) == 1


def test_a_run_recorded_twice_counts_once(tmp_path, capsys):
    """Item 4: the same run twice in the file (two sweeps' appends, a copy-paste) is one run of
    the summary and of what --resume skips."""
    out = tmp_path / "runs.jsonl"
    out.write_text(lines_of(record_of(0, [0.6]), record_of(1, [0.4]), record_of(0, [0.6])))
    status, stdout, err = run_cli(["sweep", *SMALL, "--seeds", "0-1", "--out", str(out), "--resume",
                                   *no_mnist(tmp_path)], capsys)
    assert status == 0, err
    assert "2 of 2 runs already in" in err
    row = cells(stdout.splitlines()[2])
    assert row[6:9] == ["2", "60.00%", "50.00%"]


def test_summary_states_the_figures_of_the_records():
    spec = RunSpec((4, 3, 2), 0.5, 0, 3)
    runs = [(0, [0.5, 0.7, 0.6], [1.0, 2.0, 9.0]), (1, [0.8, 0.2, 0.1], [3.0, 4.0, 5.0])]
    made = [{"parameters": {**spec.parameters(), "seed": seed}, "accuracies": acc, "seconds": sec}
            for seed, acc, sec in runs]
    other = {"parameters": {**spec.parameters(), "eta": 1.0}, "accuracies": [0.3], "seconds": [1.0]}
    header, _, first, second = sweep.summary([*made, other]).splitlines()
    assert cells(header)[7:10] == ["best", "mean of bests", "spread (min – max)"]
    assert cells(first) == ["[4, 3, 2]", "0.5", "10", "3", "float64", "auto", "2", "80.00%", "75.00%",
                            "70.00% – 80.00%", f"{statistics.stdev([0.7, 0.8]):.2%}", "35.00%", "3.500"]
    assert cells(second)[:2] == ["[4, 3, 2]", "1"] and cells(second)[6] == "1" and cells(second)[10] == "–"


# --- book mode in a random state of the run's own ---------------------------------------------


def test_book_random_draws_the_books_numbers_and_leaves_the_global_state_alone(mnist_slice):
    x, y, _, _ = mnist_slice
    data = list(zip(x[:200, :, None], y[:200, :, None]))
    np.random.seed(7)
    random.seed(7)
    book = Network([784, 20, 10])
    book.SGD(list(data), 2, 10, 3.0)
    np.random.seed(99)
    random.seed(99)
    globals_before = np.random.get_state()[1].copy(), random.getstate()
    own = Network([784, 20, 10], rng=BookRandom(7))
    own.SGD(list(data), 2, 10, 3.0)
    for a, b in zip(book.weights + book.biases, own.weights + own.biases):
        np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], globals_before[0])
    assert random.getstate() == globals_before[1]


def test_a_run_is_not_disturbed_by_another_thread_drawing_from_random(mnist):
    """A Dask worker's own threads use ``random`` while a run trains: the run must not see it."""
    spec = RunSpec((784, 10), 3.0, 3, 2)
    alone = train(spec)
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        disturbed = train(spec)
    finally:
        stop.set()
        thread.join()
    assert disturbed["accuracies"] == alone["accuracies"]


# --- the real command on MNIST, in this process ------------------------------------------------


@pytest.fixture(scope="module")
def first_sweep(mnist, tmp_path_factory):
    """``matnet sweep`` of [784, 10], η = 3, one epoch, seeds 0–1: its file, stdout and stderr."""
    out = tmp_path_factory.mktemp("sweep") / "runs.jsonl"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = matnet.cli.main(["sweep", *SMALL, "--seeds", "0-1", "--out", str(out)])
    assert status == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


def test_each_run_is_the_books_session_from_its_seed(first_sweep, mnist):
    found, _ = records.read(first_sweep[0])
    assert [r["parameters"]["seed"] for r in found] == [0, 1]
    for record in found:
        assert record["accuracies"] == book_session((784, 10), 3.0, record["parameters"]["seed"], 1, mnist)
        assert len(record["seconds"]) == 1 and record["run_seconds"] > 0
        assert record["versions"]["numpy"] == np.__version__ and record["worker"]["pid"] > 0


def test_the_table_is_computed_from_the_file(first_sweep):
    found, _ = records.read(first_sweep[0])
    _, _, row = first_sweep[1].splitlines()
    bests = [max(r["accuracies"]) for r in found]
    assert cells(row)[:7] == ["[784, 10]", "3", "10", "1", "float64", "auto", "2"]
    assert cells(row)[7:9] == [f"{max(bests):.2%}", f"{statistics.mean(bests):.2%}"]
    assert "seed 0: best" in first_sweep[2] and "2 run(s) in" in first_sweep[2]


def test_resume_runs_only_what_the_file_lacks(first_sweep, tmp_path, capsys, mnist):
    out = tmp_path / "runs.jsonl"
    before = first_sweep[0].read_bytes()
    out.write_bytes(before)
    status, stdout, err = run_cli(["sweep", *SMALL, "--seeds", "0-2", "--out", str(out), "--resume"], capsys)
    assert status == 0, err
    assert "2 of 3 runs already in" in err and "1 run(s) in" in err
    assert out.read_bytes().startswith(before)
    found, _ = records.read(out)
    assert [r["parameters"]["seed"] for r in found] == [0, 1, 2]
    assert found[2]["accuracies"] == book_session((784, 10), 3.0, 2, 1, mnist)
    status, again, err = run_cli(["sweep", *SMALL, "--seeds", "0-2", "--out", str(out), "--resume"], capsys)
    assert status == 0 and "3 of 3 runs already in" in err and "0 run(s) in" in err
    assert again == stdout and records.read(out)[0] == found


def test_a_run_that_fails_costs_only_itself(tmp_path, capsys, mnist):
    out = tmp_path / "runs.jsonl"
    too_big = "784,10000000,10"  # 63 GB of parameters: Network refuses it before allocating
    argv = ["sweep", "--sizes", too_big, "--sizes", "784,10", "--eta", "3", "--epochs", "1",
            "--out", str(out)]
    status, stdout, err = run_cli(argv, capsys)
    assert status == 1
    assert "matnet train --sizes 784,10000000,10 --eta 3 --seed 0" in err and "MemoryError" in err
    assert "--resume runs the missing ones" in err
    found, _ = records.read(out)
    assert [r["parameters"]["sizes"] for r in found] == [[784, 10]]
    assert "[784, 10]" in stdout and "10000000" not in stdout
