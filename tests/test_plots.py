"""The pictures (matnet.plots, `train --plot`, `evaluate --errors/--gallery`, `reproduce --plot`),
rendered for real from small real runs, and checked where eyes are not needed: the file is a
PNG of a sensible size, the plotted series are the run's numbers, and the errors grid holds
exactly the misclassified test images in the stated order (pixel blocks compared)."""

from __future__ import annotations

import dataclasses
import json
import struct
import sys

import numpy as np
import pytest

from matnet import cli, plots
from matnet.network import Network

pytest.importorskip("matplotlib")
pytest.importorskip("IPython")  # the notebook's display (ipykernel, in the dev extra)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def trained(mnist):
    """A [784, 30, 10] network after 3 epochs on 5,000 images, its epoch reports, and its test
    outputs (n, 10)."""
    net = Network([784, 30, 10], seed=0)
    reports = []
    net.SGD((mnist.training.images[:5000], mnist.training.labels[:5000]), 3, 10, 3.0,
            test_data=(mnist.test.images, mnist.test.labels), verbose=False, on_epoch=reports.append)
    return net, reports, np.ascontiguousarray(net.feedforward(mnist.test.images.T).T)


def test_the_learning_curve_plots_the_runs_accuracies_and_costs(trained, tmp_path):
    _, reports, _ = trained
    epochs = [dataclasses.asdict(r) for r in reports]
    costs = [0.3, 0.2, 0.1]
    fig = plots.learning_curve(epochs, costs=costs, title="t")
    accuracy_axis, cost_axis = fig.axes
    [accuracy] = accuracy_axis.get_lines()
    assert list(accuracy.get_xdata()) == [0, 1, 2]
    assert list(accuracy.get_ydata()) == [100 * r.correct / r.n_test for r in reports]
    assert list(cost_axis.get_lines()[0].get_ydata()) == costs
    plots.save(fig, tmp_path / "c.png")
    width, height = png_size(tmp_path / "c.png")
    assert 500 < width < 1200 and 300 < height < 800
    with pytest.raises(ValueError, match="costs has 2 values for 3 epochs"):
        plots.learning_curve(epochs, costs=[1, 2])


def test_the_learning_curve_takes_the_reports_as_on_epoch_hands_them_over(trained, mnist):
    """``SGD(on_epoch=history.append)``'s EpochReports as they come, and network2's Epochs."""
    from matnet import network2

    _, reports, _ = trained
    [accuracy] = plots.learning_curve(reports).axes[0].get_lines()
    assert list(accuracy.get_ydata()) == [100 * r.correct / r.n_test for r in reports]
    history = []
    network2.Network([784, 10], seed=0).SGD(
        (mnist.training.images[:500], mnist.training.labels[:500]), 2, 10, 0.5,
        evaluation_data=(mnist.test.images[:300], mnist.test.labels[:300]),
        monitor_evaluation_accuracy=True, on_epoch=history.append)
    [accuracy] = plots.learning_curve(history).axes[0].get_lines()
    assert list(accuracy.get_xdata()) == [0, 1]
    assert list(accuracy.get_ydata()) == [100 * e.evaluation_accuracy / 300 for e in history]
    with pytest.raises(TypeError, match=r"one report per epoch.*got int"):
        plots.learning_curve([1, 2])


def test_select_mistakes_is_every_misclassified_image_most_confident_first(trained, mnist):
    _, _, outputs = trained
    labels = mnist.test.labels
    order = plots.select_mistakes(labels, outputs)
    predicted = outputs.argmax(axis=1)
    assert sorted(order) == list(np.flatnonzero(predicted != labels))
    confidence = outputs[order, predicted[order]]
    assert (np.diff(confidence) <= 0).all() and len(order) > 100


def drawn_images(fig) -> list[np.ndarray]:
    return [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]


def test_the_errors_grid_shows_those_images_in_that_order(trained, mnist):
    _, _, outputs = trained
    shown = plots.select_mistakes(mnist.test.labels, outputs)[:23]
    fig = plots.digits_grid(mnist.test.images, mnist.test.labels, outputs, shown, columns=10)
    drawn = [ax for ax in fig.axes if ax.get_images()]
    assert len(drawn) == 23
    for ax, i in zip(drawn, shown):
        np.testing.assert_array_equal(ax.get_images()[0].get_array(), mnist.test.images[i].reshape(28, 28))
        predicted = int(outputs[i].argmax())
        assert ax.get_title() == f"{mnist.test.labels[i]} → {predicted} ({outputs[i, predicted]:.2f})"


def test_select_correct_is_correct_digits_class_by_class(trained, mnist):
    _, _, outputs = trained
    chosen = plots.select_correct(mnist.test.labels, outputs, per_class=4)
    assert [int(mnist.test.labels[i]) for i in chosen] == [d for d in range(10) for _ in range(4)]
    assert (outputs[chosen].argmax(axis=1) == mnist.test.labels[chosen]).all()


def test_the_mistakes_and_gallery_figures_draw_from_the_books_test_data(trained, mnist):
    """``mistakes_figure(net, test_data)`` with the loader's list of (x, label) pairs, as a reader
    has them: the selected digits, drawn in order, titled with the counts."""
    from matnet import mnist_loader

    net, _, outputs = trained
    _, _, test_data = mnist_loader.load_data_wrapper()
    wrong = plots.select_mistakes(mnist.test.labels, outputs)
    fig = plots.mistakes_figure(net, test_data, digits=12)
    assert [t.get_text() for t in fig.texts] == [
        f"the 12 most confident of {len(wrong)} mistakes (true → predicted (output))"]
    for image, i in zip(drawn_images(fig), wrong[:12], strict=True):
        np.testing.assert_array_equal(image, mnist.test.images[i].reshape(28, 28))
    right = plots.select_correct(mnist.test.labels, outputs, per_class=2)
    fig = plots.gallery_figure(net, test_data[:5000], per_class=2, source="n.npz")
    assert [t.get_text() for t in fig.texts] == [
        "n.npz: correctly classified test digits (true = predicted (output))"]
    for image, i in zip(drawn_images(fig), right, strict=True):
        np.testing.assert_array_equal(image, mnist.test.images[i].reshape(28, 28))


def test_every_run_of_every_row_is_a_line_and_the_books_figure_is_dashed():
    rows = [("a", [[0.5, 0.6], [0.4, 0.7]], 0.9), ("b", [[0.1, 0.2]], None)]
    [ax] = plots.runs_figure(rows).axes
    solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [list(line.get_ydata()) for line in solid] == [[50, 60], [40, 70], [10, 20]]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == [90, 90]


def test_every_figure_displays_as_a_picture_in_a_notebook_without_magic(trained, mnist):
    """What IPython's display formatter (the one a Jupyter kernel runs on a cell's value) makes of
    each drawing: a PNG, where a bare pyplot-free Figure gave only its text repr."""
    from IPython.core.formatters import DisplayFormatter

    _, reports, outputs = trained
    epochs = [dataclasses.asdict(r) for r in reports]
    monitored = [{"accuracies": [0.5, 0.6], "training_cost": [1.0, 0.5]}]
    figures = [plots.learning_curve(epochs), plots.runs_figure([("a", [[0.5, 0.6]], 0.9)]),
               plots.monitored_figure([("a", monitored, None)]),
               plots.digits_grid(mnist.test.images, mnist.test.labels, outputs, [0, 1])]
    for fig in figures:
        data, _ = DisplayFormatter().format(fig)
        assert data["image/png"].startswith(b"\x89PNG\r\n\x1a\n"), type(fig)
    assert struct.unpack(">II", data["image/png"][16:24]) == (int(fig.get_figwidth() * 110),
                                                              int(fig.get_figheight() * 110))


def test_train_plot_draws_what_the_json_says(mnist, tmp_path, capsys, monkeypatch):
    drawn = []

    def learning_curve(epochs, *, costs=None, title=""):
        fig = plots_learning_curve(epochs, costs=costs, title=title)
        drawn.append([list(line.get_ydata()) for ax in fig.axes for line in ax.get_lines()])
        return fig

    plots_learning_curve = plots.learning_curve
    monkeypatch.setattr(plots, "learning_curve", learning_curve)
    curve, summary = tmp_path / "curve.png", tmp_path / "run.json"
    assert cli.main(["train", "--epochs", "2", "--seed", "0", "--cost", "--plot", str(curve),
                     "--json", str(summary)]) == 0
    epochs = json.loads(summary.read_text())["per_epoch"]
    assert drawn == [[[100 * e["correct"] / e["n_test"] for e in epochs], [e["cost"] for e in epochs]]]
    assert [set(e) for e in epochs] == [{"epoch", "correct", "n_test", "seconds", "cost"}] * 2
    assert epochs[1]["cost"] < epochs[0]["cost"]
    out = capsys.readouterr().out
    assert f"training cost {epochs[0]['cost']:.5f})" in out
    assert png_size(curve)[0] > 500


def test_evaluate_draws_the_errors_and_the_gallery(trained, tmp_path, capsys):
    net, _, _ = trained
    net.save(tmp_path / "n.npz")
    errors, gallery = tmp_path / "errors.png", tmp_path / "gallery.png"
    assert cli.main(["evaluate", str(tmp_path / "n.npz"), "--errors", str(errors), "--digits", "12",
                     "--gallery", str(gallery)]) == 0
    assert "correct (" in capsys.readouterr().out
    assert png_size(errors)[0] > 800 and png_size(gallery)[0] > 600


def test_reproduce_plot_draws_the_runs(mnist, tmp_path):
    assert cli.main(["reproduce", "--epochs", "1", "--seeds", "1", "--only", "no hidden layer",
                     "--plot", str(tmp_path / "runs.png")]) == 0
    assert png_size(tmp_path / "runs.png")[0] > 600


@pytest.mark.parametrize("argv", [["train", "--epochs", "1", "--plot", "c.png"],
                                  ["evaluate", "n.npz", "--errors", "e.png"],
                                  ["reproduce", "--epochs", "1", "--plot", "r.png"]])
def test_without_matplotlib_a_picture_is_one_line_before_any_work(monkeypatch, capsys, tmp_path, argv, mnist):
    Network([784, 10], seed=0).save(tmp_path / "n.npz")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "needs matplotlib" in err and err.rstrip().endswith("pip install 'matnet[plot]'")
    assert not any(tmp_path.glob("*.png"))


@pytest.mark.parametrize(("argv", "name"), [
    *((["train", "--epochs", "1", "--plot"], n) for n in ("lr_0.5", "c.xyz", "c.pnng", "c.txt", "c.pgf")),
    (["evaluate", "n.npz", "--errors"], "e.txt"),
    (["evaluate", "n.npz", "--gallery"], "g.pnng"),
    (["reproduce", "--epochs", "1", "--plot"], "eta_3.0"),
    (["bench", "--quick", "--plot"], "b.xyz"),
])
def test_a_picture_format_matplotlib_cannot_write_is_one_line_before_any_work(monkeypatch, capsys, tmp_path,
                                                                              argv, name):
    """Issue 21, item 17: the whole run used to happen, then matplotlib's traceback lost the picture."""
    Network([784, 10], seed=0).save(tmp_path / "n.npz")
    monkeypatch.chdir(tmp_path)
    assert cli.main([*argv, name]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert f"{argv[-1]} '{name}' ends in" in err and "not a picture format" in err and ".png, " in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]


def test_picture_format_is_the_suffix_or_png():
    assert plots.picture_format("curve") == "png"
    assert plots.picture_format("a.b/curve.SVG") == "svg"
    assert plots.picture_format("curve.pdf") == "pdf"
    with pytest.raises(plots.PictureFormatError, match=r"'lr_0\.5' ends in '\.5'"):
        plots.picture_format("lr_0.5")


def test_evaluate_draws_at_most_max_digits_and_says_so(tmp_path, capsys):
    """Issue 21, item 18: --digits 100000 used to draw for minutes; now 1-400, in --help."""
    Network([784, 10], seed=0).save(tmp_path / "n.npz")
    with pytest.raises(SystemExit) as refused:
        cli.main(["evaluate", str(tmp_path / "n.npz"), "--errors", str(tmp_path / "e.png"),
                  "--digits", str(plots.MAX_DIGITS + 1)])
    assert refused.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert f"--digits: expected an int in [1, {plots.MAX_DIGITS}], got '{plots.MAX_DIGITS + 1}'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--help"])
    assert f"N from 1 to {plots.MAX_DIGITS}" in " ".join(capsys.readouterr().out.split())
    n = plots.MAX_DIGITS + 1
    with pytest.raises(ValueError, match=f"at most {plots.MAX_DIGITS} digits, asked for {n}"):
        plots.digits_grid(np.zeros((n, 784)), np.zeros(n, int), np.zeros((n, 10)), range(n))
