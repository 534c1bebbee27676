"""``matnet reproduce``: the README's results table says what its training runs measured.

The end-to-end tests run the real command on the real MNIST split with small settings (two
epochs, two seeds, the no-hidden-layer row), keep the runs it made on their way to the
table, check every figure of the table against them, and replay one seed as the book's
session, scored by ``evaluate`` after every epoch, to check the runs themselves.
"""

from __future__ import annotations

import io
import random
import statistics
import sys

import numpy as np
import pytest

import matnet.cli
from matnet.errors import UsageError
from matnet.experiments import records, reproduce
from matnet.experiments.reproduce import EXPERIMENTS, Experiment, Run
from matnet.network import Network

ROW = "no hidden layer"  # the cheapest row: [784, 10], η = 3
EPOCHS = 2

COLUMNS = ["network", "η", "dtype", "seeds", "best epoch, best seed", "mean of best epochs",
           f"mean after epoch {EPOCHS}", "per-seed best", "s / epoch", "book"]


def cells(line: str) -> list[str]:
    """The cells of one Markdown table row."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [cell.strip() for cell in line[2:-2].split(" | ")]


def percent(fraction: float) -> str:
    return f"{fraction:.2%}"


def book_session(experiment: Experiment, seed: int, epochs: int, data) -> list[float]:
    """The book's session for one seed, scored by ``evaluate`` on the test set after every
    epoch: the accuracies ``reproduce`` should have recorded."""
    np.random.seed(seed)
    random.seed(seed)
    net = Network(list(experiment.sizes))
    accuracies = []
    net.SGD(data.training, epochs, 10, experiment.eta, verbose=False,
            on_epoch=lambda _: accuracies.append(net.evaluate(data.test) / len(data.test.labels)))
    return accuracies


# --- the table, from runs made up by hand --------------------------------------------------


def test_table_states_each_figure_of_the_runs():
    experiment = Experiment("made up", (4, 3, 2), 0.5, 2, "book says")
    runs = [Run(0, [0.50, 0.70, 0.60], [1.0, 2.0, 9.0]), Run(1, [0.80, 0.20, 0.10], [3.0, 4.0, 5.0])]
    header, rule, row = reproduce.table([(experiment, runs)], 3, np.dtype(np.float32)).splitlines()
    assert cells(header)[6] == "mean after epoch 3"
    assert set(rule) == {"|", "-"}
    assert cells(row) == [
        "[4, 3, 2]", "0.5", "float32", "2",
        "80.00%",          # the best epoch of the best seed
        "75.00%",          # mean of 70% and 80%
        "35.00%",          # mean of the last epochs, 60% and 10%
        "70.00%, 80.00%",  # each seed's best epoch, in seed order
        "3.500",           # the median of all six epoch times
        "book says",
    ]


def test_table_has_one_row_per_experiment_in_order():
    rows = [(e, [Run(0, [0.1], [1.0])]) for e in EXPERIMENTS]
    lines = reproduce.table(rows, 1, np.dtype(np.float64)).splitlines()
    assert len(lines) == 2 + len(EXPERIMENTS)
    assert [cells(line)[9] for line in lines[2:]] == [e.book for e in EXPERIMENTS]


# --- the real command on MNIST -------------------------------------------------------------


@pytest.fixture(scope="module")
def command(mnist, tmp_path_factory) -> tuple[str, str, list[Run]]:
    """stdout and stderr of ``matnet reproduce --epochs 2 --seeds 2 --only 'no hidden layer'``,
    and the runs it made (kept, as they finished, in its ``--out`` file)."""
    runs_file = tmp_path_factory.mktemp("reproduce") / "runs.jsonl"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        status = matnet.cli.main(["reproduce", "--epochs", str(EPOCHS), "--seeds", "2", "--only", ROW,
                                  "--out", str(runs_file)])
    assert status == 0, err.getvalue()
    made = [Run(r["parameters"]["seed"], r["accuracies"], r["seconds"]) for r in records.read(runs_file)[0]]
    return out.getvalue(), err.getvalue(), made


@pytest.fixture(scope="module")
def replayed(mnist) -> list[float]:
    """The accuracy after each epoch of the book's session with seed 1 (the second run)."""
    experiment = next(e for e in EXPERIMENTS if e.name == ROW)
    return book_session(experiment, 1, EPOCHS, mnist)


def test_command_prints_one_row_for_the_chosen_experiment(command):
    header, rule, *rows = command[0].splitlines()
    assert cells(header) == COLUMNS
    assert set(rule) == {"|", "-"}
    assert len(rows) == 1
    row = cells(rows[0])
    assert row[:4] == ["[784, 10]", "3", "float64", "2"]
    assert row[9] == "exercise (no figure given)"


def test_the_runs_are_the_books_session(command, replayed):
    runs = command[2]
    assert [run.seed for run in runs] == [0, 1]
    assert runs[1].accuracies == replayed  # exactly: same seed, same arithmetic
    assert runs[0].accuracies != runs[1].accuracies
    assert all(len(run.seconds) == EPOCHS and min(run.seconds) > 0 for run in runs)
    # The runs learned: a network that did not would sit near 10%.
    assert min(max(run.accuracies) for run in runs) > 0.3


def test_the_figures_are_those_of_the_runs(command):
    row = cells(command[0].splitlines()[2])
    runs = command[2]
    bests = [max(run.accuracies) for run in runs]
    lasts = [run.accuracies[-1] for run in runs]
    assert row[4] == percent(max(bests))
    assert row[5] == percent(statistics.mean(bests))
    assert row[6] == percent(statistics.mean(lasts))
    assert row[7] == ", ".join(percent(b) for b in bests)
    assert row[8] == f"{statistics.median(s for run in runs for s in run.seconds):.3f}"


def test_each_seed_is_reported_as_it_finishes(command):
    assert command[1].splitlines() == [
        f"  {ROW}, seed {run.seed}: best {percent(max(run.accuracies))}, last {percent(run.accuracies[-1])}"
        for run in command[2]
    ]


@pytest.mark.parametrize("only", [["no such row"], ["30 hidden", "30 hiden"]])
def test_unknown_experiment_names_the_choices_before_loading_any_data(tmp_path, capsys, only):
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    argv = ["reproduce", "--epochs", "1", "--data-dir", str(empty)]
    for name in only:
        argv += ["--only", name]
    try:
        status = matnet.cli.main(argv)
    except SystemExit as exit:  # the parser's way of refusing a choice
        status = exit.code
    assert status == 2  # a missing-data error, had the data been looked for, exits 1
    err = capsys.readouterr().err
    assert only[-1] in err and all(e.name in err for e in EXPERIMENTS), err


def test_run_refuses_unknown_names_itself(tmp_path):
    """For callers that bypass the command line's parser: refused before any data is looked for."""
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    with pytest.raises(UsageError, match="--only '30 hiden' matched no experiment") as refused:
        reproduce.run(only=["30 hidden", "30 hiden"], data_dir=str(empty))
    assert all(e.name in str(refused.value) for e in EXPERIMENTS)


# --- chapter 3 -------------------------------------------------------------------------------


def test_chapter_3s_table_states_each_figure_of_the_runs():
    session = reproduce.Session("made up", (4, 3, 2), 0.5, 2, "book says", lmbda=5.0, weights="large",
                                training_size=1000, evaluation="validation", epochs=3)
    runs = [Run(0, [0.50, 0.70, 0.60], [1.0, 2.0, 9.0], {"training_cost": [3.0, 2.0, 1.5]}),
            Run(1, [0.80, 0.20, 0.10], [3.0, 4.0, 5.0], {"training_cost": [3.0, 2.0, 0.5]})]
    header, rule, row = reproduce.sessions_table([(session, runs)], np.dtype(np.float64)).splitlines()
    assert cells(header)[:3] == ["session", "network", "η"] and set(rule) == {"|", "-"}
    assert cells(row) == ["made up", "[4, 3, 2]", "0.5", "5", "large", "1,000", "validation", "3", "float64",
                          "2", "80.00%", "75.00%", "35.00%", "1.0000", "3.5000", "book says"]


def test_a_chapter_3_run_is_the_chapters_session(mnist, tmp_path):
    """``matnet reproduce --chapter 3`` on the regularized session, two epochs: its record holds
    what the chapter's code, run from the same seed, returns and prints."""
    import matnet.network2 as network2
    from matnet import mnist_loader

    out = tmp_path / "runs.jsonl"
    result = reproduce.run(chapter=3, only=["regularized, λ = 0.1"], seeds=1, epochs=2, out=str(out))
    (record,), _ = records.read(out)
    np.random.seed(0)
    random.seed(0)
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    training, _, test = mnist_loader.load_data_wrapper()
    e_cost, e_accuracy, t_cost, t_accuracy = net.SGD(
        training[:1000], 2, 10, 0.5, lmbda=0.1, evaluation_data=test, monitor_evaluation_cost=True,
        monitor_evaluation_accuracy=True, monitor_training_cost=True, monitor_training_accuracy=True,
        verbose=False)
    assert record["accuracies"] == [c / 10_000 for c in e_accuracy]
    assert record["training_accuracy"] == [c / 1000 for c in t_accuracy]
    assert (record["training_cost"], record["evaluation_cost"]) == (t_cost, e_cost)
    assert record["parameters"]["lmbda"] == 0.1 and record["parameters"]["training_size"] == 1000
    (_session, runs), = result.rows
    assert runs[0].monitored["training_cost"] == t_cost
    assert result.table().splitlines()[2].startswith("| regularized, λ = 0.1 | [784, 30, 10] | 0.5 | 0.1 |")


def test_chapter_1s_records_keep_their_parameters():
    """A chapter-1 run's record has the keys it always had: files written before chapter 3 resume."""
    spec = EXPERIMENTS[0].specs(30, 10, "auto", "float64")[0]
    assert set(spec.parameters()) == {"sizes", "eta", "seed", "epochs", "batch_size", "dtype", "backend"}
