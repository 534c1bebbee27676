"""The book's SVM baseline (chapter 1, its ``mnist_svm.py``): scikit-learn's ``SVC`` on raw pixels.

The book reports 9,435 / 10,000 for "scikit-learn's default settings". The default has changed
since: scikit-learn 0.22 made ``gamma="scale"`` (1 / (n_features · Var(X))) the default instead
of ``gamma="auto"`` (1 / n_features), so today's ``SVC()`` is a different, better classifier.
Both settings are here, named: ``"book"`` is ``SVC(gamma="auto")``, ``"today"`` is ``SVC()``.
scikit-learn is an optional extra (``pip install 'matnet[svm]'``), imported only when this runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from matnet.datasets import LabeledImages
from matnet.errors import BackendUnavailableError, UsageError

SETTINGS = {"book": {"gamma": "auto"}, "today": {}}
DESCRIPTIONS = {
    "book": 'SVC(gamma="auto"), the book\'s setting (scikit-learn\'s default when the book was written)',
    "today": 'SVC(), scikit-learn\'s default today (gamma="scale")',
}


@dataclass(frozen=True)
class SvmResult:
    """How one SVC setting did: ``correct`` of ``total`` test images, after training on the
    first ``train_size`` training images; ``seconds`` for training and predicting."""

    setting: str
    correct: int
    total: int
    train_size: int
    seconds: float


def svm_baseline(training: LabeledImages, test: LabeledImages, setting: str = "book",
                 train_size: int | None = None) -> SvmResult:
    """Train ``SVC`` (``SETTINGS[setting]``) on the first ``train_size`` training images (all by
    default, as the book does: 50,000), predict every test image, count the right ones."""
    if setting not in SETTINGS:
        raise UsageError(f"setting must be one of {sorted(SETTINGS)}, got {setting!r}")
    available = training.labels.size
    n = available if train_size is None else train_size
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= available:
        raise UsageError(f"train_size must be a whole number from 1 to {available:,}, got {train_size!r}")
    if np.unique(training.labels[:n]).size < 2:
        raise UsageError(f"the first {n} training images hold one digit only; an SVM needs two or more")
    svc = svc_class()(**SETTINGS[setting])
    started = time.perf_counter()
    svc.fit(training.images[:n], training.labels[:n])
    predictions = svc.predict(test.images)
    seconds = time.perf_counter() - started
    correct = int(np.count_nonzero(predictions == test.labels))
    return SvmResult(setting, correct, int(test.labels.size), int(n), seconds)


def svc_class():
    """scikit-learn's ``SVC``; ``BackendUnavailableError`` (one line, naming the extra) without it."""
    try:
        from sklearn.svm import SVC
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the SVM baseline needs scikit-learn, which cannot be imported ({exc}); "
            "pip install 'matnet[svm]'"
        ) from None
    return SVC
