"""``matnet`` on the command line: real data, real files, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from matnet import cli
from matnet.network import Network


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matnet.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def data_dir():
    if not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set")
    return os.environ["MATNET_DATA"]


def test_train_prints_the_books_lines_and_writes_json(data_dir, tmp_path, capsys):
    out = tmp_path / "run.json"
    saved = tmp_path / "net.npz"
    args = ["train", "--sizes", "784,20,10", "--epochs", "2", "--seed", "1"]
    code = cli.main([*args, "--json", str(out), "--save", str(saved)])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 1"]
    assert all(line.endswith(" s)") and " / 10000  (" in line for line in lines)
    report = json.loads(out.read_text())
    assert report["sizes"] == [784, 20, 10] and len(report["per_epoch"]) == 2
    assert report["per_epoch"][1]["n_test"] == 10000
    assert 0.8 < report["best_accuracy"] <= 1.0
    assert all(e["seconds"] > 0 for e in report["per_epoch"])
    assert Network.load(saved).sizes == [784, 20, 10]


def test_same_seed_same_result(data_dir, tmp_path):
    reports = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        assert cli.main(["train", "--epochs", "1", "--seed", "7", "--json", str(path)]) == 0
        reports.append(json.loads(path.read_text())["per_epoch"][0]["correct"])
    assert reports[0] == reports[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--eta", "-1"], "--eta"),
        (["train", "--sizes", "784,x,10"], "--sizes"),
        (["train", "--batch-size", "0"], "--batch-size"),
        (["train", "--epochs", "-2"], "--epochs"),
        (["train", "--backend", "gpu"], "--backend"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_missing_data_is_one_line_and_exit_1(tmp_path):
    result = run_cli("train", "--epochs", "1", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0] and "train-images-idx3-ubyte" in lines[0]


def test_baselines_match_the_book(data_dir):
    result = run_cli("baseline", "darkness")
    assert result.returncode == 0
    assert result.stdout.strip() == "Baseline classifier using darkness: 2225 of 10000 values correct."
    guess = run_cli("baseline", "random")
    correct = int(guess.stdout.split(": ")[1].split(" of ")[0])
    assert 850 <= correct <= 1150


def test_evaluate_prints_accuracy_and_confusion_matrix(data_dir, tmp_path, capsys):
    net = Network([784, 10], seed=0)
    net.SGD(_slice(), 1, 10, 3.0, verbose=False)
    path = tmp_path / "n.npz"
    net.save(path)
    assert cli.main(["evaluate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    correct = int(lines[0].split(" / ")[0])
    rows = [list(map(int, line.split()[1:])) for line in lines[3:13]]
    assert np.trace(np.array(rows)) == correct
    assert np.array(rows).sum() == 10000


def test_evaluate_refuses_a_missing_file(tmp_path):
    result = run_cli("evaluate", str(tmp_path / "none.npz"))
    assert result.returncode == 1
    assert "none.npz" in result.stderr and "Traceback" not in result.stderr


def _slice():
    from matnet import datasets

    training = datasets.load_mnist().training
    return training.images[:2000], training.labels[:2000]
