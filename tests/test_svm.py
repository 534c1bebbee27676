"""The book's SVM baseline (matnet.experiments.svm, `matnet baseline svm`), on the real MNIST.

Small training sizes keep it to seconds; the full 50,000-image runs are in the README, made
by the command they name. The settings are checked against scikit-learn's own formulas for
gamma, written out here, so a mix-up of "book" and "today" cannot pass.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from matnet import cli
from matnet.errors import UsageError
from matnet.experiments import svm

# scikit-learn is imported by the tests that use it (a second of every worker's collection).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                reason="scikit-learn is not installed")

N = 400


@pytest.fixture(scope="module")
def small(mnist):
    """The real training and test sets, the test set cut to 2,000 images (prediction dominates)."""
    from matnet.datasets import LabeledImages

    test = LabeledImages(mnist.test.images[:2000], mnist.test.labels[:2000])
    return mnist.training, test


def _count(gamma: float, training, test) -> int:
    from sklearn.svm import SVC

    model = SVC(gamma=gamma).fit(training.images[:N], training.labels[:N])
    return int(np.count_nonzero(model.predict(test.images) == test.labels))


def test_the_books_setting_is_gamma_one_over_the_pixels(small):
    training, test = small
    result = svm.svm_baseline(training, test, "book", train_size=N)
    assert (result.setting, result.total, result.train_size) == ("book", 2000, N)
    assert result.correct == _count(1 / 784, training, test)
    assert result.seconds > 0


def test_todays_setting_is_gamma_scale(small):
    training, test = small
    result = svm.svm_baseline(training, test, "today", train_size=N)
    assert result.correct == _count(1 / (784 * training.images[:N].var()), training, test)


def test_todays_default_beats_the_books_on_the_same_images(small):
    """Why the book's 9,435 is not what `SVC()` gives today: the two defaults differ."""
    training, test = small
    book = svm.svm_baseline(training, test, "book", train_size=N)
    today = svm.svm_baseline(training, test, "today", train_size=N)
    assert today.correct > book.correct


@pytest.mark.parametrize("bad", [0, -1, 50_001, 2.5, True, "10"])
def test_a_training_size_outside_the_data_is_refused(small, bad):
    training, test = small
    with pytest.raises(UsageError, match="train_size must be a whole number from 1 to 50,000"):
        svm.svm_baseline(training, test, "book", train_size=bad)


def test_an_unknown_setting_is_refused(small):
    with pytest.raises(UsageError, match=r"setting must be one of \['book', 'today'\], got 'tuned'"):
        svm.svm_baseline(*small, "tuned", train_size=N)


def test_one_digit_is_refused_before_scikit_learn_sees_it(small):
    training, test = small
    with pytest.raises(UsageError, match="one digit only"):
        svm.svm_baseline(training, test, "book", train_size=1)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matnet", "baseline", "svm", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})}, check=False)


def test_the_command_prints_both_settings_with_counts_and_times(mnist, monkeypatch, capsys):
    """`matnet baseline svm` (in this process: the two SVMs are what takes the time) prints the
    count and the time of each setting's run on the whole test set, as svm_baseline made it."""
    real, made = svm.svm_baseline, []

    def recorded(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(svm, "svm_baseline", recorded)
    assert cli.main(["baseline", "svm", "--train-size", "300"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('SVM baseline, SVC(gamma="auto"), the book\'s setting')
    assert lines[1].startswith('SVM baseline, SVC(), scikit-learn\'s default today (gamma="scale")')
    assert [(r.setting, r.total, r.train_size) for r in made] == [("book", 10000, 300), ("today", 10000, 300)]
    for line, result in zip(lines, made, strict=True):
        assert line.endswith(f": {result.correct} of 10000 values correct (trained on 300 images; "
                             f"{result.seconds:.1f} s)")


def test_without_scikit_learn_the_command_says_so_in_one_line(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class NoSklearn:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sklearn' or name.startswith('sklearn.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoSklearn())\n")
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)
    result = _cli("--train-size", "300", env={"PYTHONPATH": path})
    assert result.returncode == 1
    assert result.stdout == "" and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("matnet baseline: the SVM baseline needs scikit-learn, which cannot be imported")
    assert line.endswith("pip install 'matnet[svm]'")


def test_the_training_size_must_be_positive_on_the_command_line():
    result = _cli("--train-size", "0")
    assert result.returncode == 2 and "--train-size" in result.stderr and "Traceback" not in result.stderr
