"""examples/book_session.ipynb: the book's session in a notebook. The fast checks read it (a valid
notebook, stored without outputs, whose code is what its text claims); the slow one runs it in a
real Jupyter kernel (nbclient + ipykernel) and finds the book's printed lines and the pictures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).parents[1] / "examples" / "book_session.ipynb"
BOOK_LINE = re.compile(r"^Epoch \d+: \d+ / 10000$", re.MULTILINE)  # what the book's SGD prints per epoch


def read() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def test_the_notebook_is_valid_and_stored_without_outputs():
    notebook = read()
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source


def test_the_code_is_the_books_session_with_the_two_imports_swapped_as_the_text_says():
    notebook = read()
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    imports, load, session, curve, mistakes = code_cells(notebook)
    assert imports.splitlines() == [
        "import matnet.mnist_loader as mnist_loader  # was: import mnist_loader",
        "import matnet.network as network  # was: import network"]
    assert load == "training_data, validation_data, test_data = mnist_loader.load_data_wrapper()"
    epochs = int(re.search(r"^EPOCHS = (\d+)  # the book: 30$", session, re.MULTILINE)[1])
    assert f"**{epochs} epochs instead\nof the book's 30**" in text  # the one change, said
    assert "net = network.Network([784, 30, 10])" in session
    assert session.splitlines()[-1] == (
        "net.SGD(training_data, EPOCHS, 10, 3.0, test_data=test_data, on_epoch=history.append)")
    assert curve.splitlines()[-1] == "plots.learning_curve(history)"
    assert mistakes.startswith("plots.mistakes_figure(net, test_data")
    listed = (NOTEBOOK.parent / "README.md").read_text(encoding="utf-8")
    assert f"`{NOTEBOOK.name}`" in listed


@pytest.mark.slow
def test_the_notebook_runs_in_a_kernel_and_shows_the_books_lines_and_the_pictures(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    if not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set")
    notebook = read()
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = [cell.outputs for cell in cells]
    assert not [o for out in outputs for o in out if o.output_type == "error"]
    printed = "".join(o.text for o in outputs[2] if o.output_type == "stream" and o.name == "stdout")
    epochs = int(re.search(r"^EPOCHS = (\d+)", cells[2].source, re.MULTILINE)[1])
    assert BOOK_LINE.findall(printed) == printed.splitlines() and len(printed.splitlines()) == epochs
    assert int(printed.splitlines()[-1].split()[2]) > 9000  # the book's network learns: > 90%
    for picture in (outputs[3], outputs[4]):  # the learning curve, the mistakes: images, not text
        [result] = [o for o in picture if o.output_type == "execute_result"]
        assert result.data["image/png"]  # base64 of a PNG
        assert result.data["image/png"].startswith("iVBORw0KGgo")
