"""Pictures a book reader looks at: learning curves, every run of the chapter-1 table, and the
test digits a network gets wrong (or right).

The functions that draw return a Figure (``learning_curve``, ``runs_figure``,
``monitored_figure``, ``mistakes_figure``, ``gallery_figure``, ``digits_grid``); those that pick
test digits to draw return their indices and say so (``select_mistakes``, ``select_correct``).

Each function returns a ``matplotlib.figure.Figure`` built without pyplot — so drawing never
switches the caller's backend — that a notebook shows as a picture (no ``%matplotlib`` magic
needed) and ``save(fig, path)`` writes. matplotlib is the optional ``plot`` extra
(``pip install 'matnet[plot]'``); without it every function raises ``PlotUnavailableError``,
one line saying so.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from matnet.errors import BackendUnavailableError

SIDE = 28  # MNIST images are 28 × 28 pixels
# The most digits one grid draws. Each digit is an axes, and matplotlib's cost grows with them:
# 400 take 24 s and 0.25 GB to draw and write, 1,000 took 57 s and 0.7 GB (2026-12-05).
MAX_DIGITS = 400


class PlotUnavailableError(BackendUnavailableError):
    """matplotlib cannot be imported."""


def require_matplotlib():
    """The ``Figure`` class matnet draws on (matplotlib's, shown as a picture in a notebook:
    :mod:`matnet.notebook_figure`); PlotUnavailableError (one line) without matplotlib."""
    try:
        import matplotlib  # noqa: F401  (first: a cached matplotlib.figure must not hide its absence)

        from matnet.notebook_figure import Figure
    except ImportError as exc:
        raise PlotUnavailableError(f"drawing needs matplotlib, which cannot be imported ({exc}); "
                                   "pip install 'matnet[plot]'") from None
    return Figure


def _figure(width: float, height: float):
    return require_matplotlib()(figsize=(width, height), layout="constrained")


class PictureFormatError(ValueError):
    """A picture's file name asks for a format matplotlib cannot write."""


def picture_format(path: str | os.PathLike[str]) -> str:
    """The format ``save`` writes ``path`` in: its suffix (``.png``, ``.svg``, ``.pdf``, ...), png
    when it has none. PictureFormatError (one line, listing the formats) for a suffix matplotlib
    cannot write (``.txt``, ``.pnng``, or ``lr_0.5``'s ``.5``): checked before the work whose
    picture it is, not after. Needs matplotlib (``require_matplotlib``)."""
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    # pgf is text for LaTeX, and matplotlib needs a LaTeX installation to write it
    formats = sorted(set(FigureCanvasBase.get_supported_filetypes()) - {"pgf"})
    suffix = Path(path).suffix
    name = suffix.lstrip(".").lower() or "png"
    if name not in formats:
        raise PictureFormatError(f"{os.fspath(path)!r} ends in {suffix!r}, not a picture format matplotlib "
                                 f"can write; end it in one of {', '.join('.' + f for f in formats)}")
    return name


def save(fig, path: str | os.PathLike[str], dpi: int | None = None) -> None:
    """Write ``fig`` to ``path`` atomically, in the format its suffix names (``picture_format``),
    at ``dpi`` (default: the resolution the figure shows with in a notebook)."""
    from matnet.io import atomic_write_bytes
    from matnet.notebook_figure import DPI

    buffer = io.BytesIO()
    fig.savefig(buffer, format=picture_format(path), dpi=dpi or DPI)
    atomic_write_bytes(Path(path), buffer.getvalue())


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _percent(correct: int | None, n_test: int | None) -> float:
    return float("nan") if correct is None or not n_test else 100.0 * correct / n_test


def _field(report: object, name: str):
    """``report``'s ``name``: a mapping's item or an object's attribute (None when absent)."""
    return report.get(name) if isinstance(report, Mapping) else getattr(report, name, None)


def _accuracy_point(report: object) -> tuple[int, float]:
    """(epoch, test accuracy in %) of one epoch's report (see ``learning_curve``)."""
    epoch = _field(report, "epoch")
    if epoch is None:
        raise TypeError("learning_curve takes one report per epoch: the EpochReports of SGD(on_epoch=...) "
                        f"or mappings with 'epoch', 'correct' and 'n_test'; got {type(report).__name__}")
    if _field(report, "n_test") is None and _field(report, "n_evaluation") is not None:  # network2's Epoch
        return int(epoch), _percent(_field(report, "evaluation_accuracy"), _field(report, "n_evaluation"))
    return int(epoch), _percent(_field(report, "correct"), _field(report, "n_test"))


def learning_curve(epochs: Sequence, *, costs: Sequence[float] | None = None, title: str = ""):
    """Test accuracy (%) after each epoch; with ``costs``, the training cost per epoch on a
    second axis. ``epochs`` holds one report per epoch, as they come: the ``EpochReport``s that
    ``SGD(on_epoch=history.append)`` hands over (of network2's ``Epoch``s, the evaluation
    accuracy), or mappings with ``epoch``, ``correct`` and ``n_test`` (what ``matnet train
    --json`` writes as ``per_epoch``)."""
    points = [_accuracy_point(e) for e in epochs]
    fig = _figure(6.4, 4.0)
    ax = fig.subplots()
    x = [epoch for epoch, _ in points]
    ax.plot(x, [accuracy for _, accuracy in points], marker="o", markersize=3, color="C0",
            label="test accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.grid(alpha=0.3)
    if costs is not None:
        if len(costs) != len(x):
            raise ValueError(f"costs has {len(costs)} values for {len(x)} epochs")
        cost_axis = ax.twinx()
        cost_axis.plot(x, list(costs), color="C3", marker="s", markersize=3, label="training cost")
        cost_axis.set_ylabel("training cost C", color="C3")
    ax.set_title(title or "learning curve")
    return fig


def runs_figure(rows: Sequence[tuple[str, Sequence[Sequence[float]], float | None]], *, title: str = ""):
    """Every run of every row on shared axes: ``rows`` holds (label, the runs' accuracies per
    epoch as fractions, the book's figure as a fraction or None). A row's runs share a colour;
    the book's figure is a dashed line of that colour."""
    fig = _figure(7.5, 4.8)
    ax = fig.subplots()
    for i, (label, runs, book) in enumerate(rows):
        color = f"C{i % 10}"
        for j, accuracies in enumerate(runs):
            ax.plot(range(len(accuracies)), [100 * a for a in accuracies], color=color, alpha=0.8,
                    linewidth=1.2, label=label if j == 0 else None)
        if book is not None:
            ax.axhline(100 * book, color=color, linestyle="--", linewidth=1, alpha=0.7)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize="small", title="one line per seed; dashed: the book",
              title_fontsize="small")
    ax.set_title(title or "the book's chapter-1 experiments, every run")
    return fig


def monitored_figure(panels: Sequence[tuple[str, Sequence[Mapping[str, Sequence[float]]], float | None]], *,
                     title: str = ""):
    """Chapter 3's curves, one panel per session: ``panels`` holds (title, the runs — each a
    mapping of monitored figures per epoch: ``accuracies`` (the evaluation accuracy, as
    fractions) and any of ``training_accuracy`` (fractions), ``training_cost``,
    ``evaluation_cost`` — and the book's figure as a fraction or None). Accuracies on the left
    axis, costs on the right: the training cost falling while the evaluation accuracy stops
    rising is overfitting made visible."""
    columns = min(3, max(1, len(panels)))
    rows = -(-len(panels) // columns)
    fig = _figure(5.2 * columns, 3.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    curves = (("accuracies", "evaluation accuracy", "C0", False),
              ("training_accuracy", "training accuracy", "C2", False),
              ("training_cost", "training cost", "C3", True),
              ("evaluation_cost", "evaluation cost", "C1", True))
    for ax, (name, runs, book) in zip(axes, panels):
        cost_axis = None
        for key, label, color, is_cost in curves:
            for j, run in enumerate(runs):
                if key not in run:
                    continue
                if is_cost and cost_axis is None:
                    cost_axis = ax.twinx()
                    cost_axis.set_ylabel("cost", color="C3")
                target = cost_axis if is_cost else ax
                values = run[key] if is_cost else [100 * v for v in run[key]]
                target.plot(range(len(values)), values, color=color, alpha=0.8, linewidth=1.1,
                            label=label if j == 0 else None)
        if book is not None:
            ax.axhline(100 * book, color="C0", linestyle="--", linewidth=1, alpha=0.7, label="the book")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        if cost_axis is not None:
            more = cost_axis.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        ax.legend(handles, labels, loc="center right", fontsize="x-small")
        ax.set_title(name, fontsize="medium")
    fig.suptitle(title or "the book's chapter-3 sessions")
    return fig


def classified(net, test_data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``test_data`` as ``net`` sees it: (images (n, 784), labels (n,), outputs (n, 10)).
    ``test_data`` is what ``net.evaluate`` takes: the loader's list of (x, label) pairs, or
    arrays (X (n, 784), labels (n,))."""
    from matnet.core.inputs import labelled_examples

    examples = labelled_examples(test_data, net.sizes)
    images = examples.inputs[examples.input_index(np.arange(examples.n))]
    outputs = np.ascontiguousarray(net.feedforward(images.T).T)
    return images, examples.label_array(), outputs


def select_mistakes(labels: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Indices of the misclassified examples, most confident mistake first. ``outputs`` is
    (n, 10); the confidence is the winning output's activation (ties keep test-set order)."""
    predicted = outputs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    return wrong[np.argsort(-outputs[wrong, predicted[wrong]], kind="stable")]


def select_correct(labels: np.ndarray, outputs: np.ndarray, per_class: int = 8) -> np.ndarray:
    """Indices of the first ``per_class`` correctly classified examples of each digit, digit by
    digit; ``outputs`` is (n, 10)."""
    right = outputs.argmax(axis=1) == labels
    return np.concatenate([np.flatnonzero(right & (labels == digit))[:per_class]
                           for digit in range(outputs.shape[1])])


def mistakes_figure(net, test_data, *, digits: int = 50, source: str = ""):
    """The test digits ``net`` gets wrong, the ``digits`` most confident mistakes first, each
    titled "true → predicted (output)"; ``test_data`` as ``net.evaluate`` takes it, ``source``
    (e.g. the network's file name) begins the title."""
    images, labels, outputs = classified(net, test_data)
    wrong = select_mistakes(labels, outputs)
    shown = wrong[:digits]
    title = f"the {len(shown)} most confident of {len(wrong)} mistakes (true → predicted (output))"
    return digits_grid(images, labels, outputs, shown, title=f"{source}: {title}" if source else title)


def gallery_figure(net, test_data, *, per_class: int = 8, source: str = ""):
    """The first ``per_class`` test digits of each class that ``net`` classifies correctly, a row
    per digit; ``test_data`` and ``source`` as in ``mistakes_figure``."""
    images, labels, outputs = classified(net, test_data)
    shown = select_correct(labels, outputs, per_class)
    title = "correctly classified test digits (true = predicted (output))"
    return digits_grid(images, labels, outputs, shown, columns=per_class,
                       title=f"{source}: {title}" if source else title)


def digits_grid(images: np.ndarray, labels: np.ndarray, outputs: np.ndarray, indices: Sequence[int], *,
                columns: int = 10, title: str = ""):
    """The test images ``indices`` (rows of ``images``, (n, 784)) in that order, each titled
    "true → predicted (confidence)"; ``outputs`` (n, 10) are the network's activations. At
    most ``MAX_DIGITS`` of them (ValueError beyond: each is an axes, slow and heavy to draw)."""
    indices = list(indices)
    if len(indices) > MAX_DIGITS:
        raise ValueError(f"a grid draws at most {MAX_DIGITS} digits, asked for {len(indices)}")
    rows = max(1, -(-len(indices) // columns))
    fig = _figure(1.1 * columns, 1.25 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, indices):
        predicted = int(outputs[i].argmax())
        ax.imshow(images[i].reshape(SIDE, SIDE), cmap="gray_r", vmin=0.0, vmax=1.0)
        mark = "→" if predicted != labels[i] else "="
        ax.set_title(f"{int(labels[i])} {mark} {predicted} ({outputs[i, predicted]:.2f})", fontsize=8)
    fig.suptitle(title)
    return fig
