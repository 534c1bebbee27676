"""matnet.mnist_loader: the book's formats, built as views of one stacked array each."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from matnet import datasets, mnist_loader
from tests._http_server import link_copy, mnist_dir_or_skip


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    return mnist_dir_or_skip()


@pytest.fixture(scope="module")
def split(mnist_dir: Path) -> datasets.Split:
    return datasets.load_mnist(mnist_dir)


@pytest.fixture(scope="module")
def wrapped(split: datasets.Split) -> tuple[list, list, list]:
    return mnist_loader.load_data_wrapper()


def test_load_data_format(split: datasets.Split) -> None:
    data = mnist_loader.load_data()
    assert isinstance(data, tuple) and len(data) == 3
    for (images, labels), part, n in zip(data, split, (50_000, 10_000, 10_000), strict=True):
        assert images.shape == (n, 784) and labels.shape == (n,)
        assert images is part.images and labels is part.labels


def test_wrapper_returns_lists_of_tuples(wrapped: tuple[list, list, list]) -> None:
    training, validation, test = wrapped
    for data, n in zip(wrapped, (50_000, 10_000, 10_000), strict=True):
        assert isinstance(data, list) and len(data) == n  # a PairList: a list that knows its rows
        assert type(data[0]) is tuple and len(data[0]) == 2
    x, y = training[0]
    assert x.shape == (784, 1) and x.dtype == np.float64
    assert y.shape == (10, 1) and y.dtype == np.float64
    for x, label in (validation[0], test[-1]):
        assert x.shape == (784, 1)
        assert isinstance(label, (int, np.integer)) and 0 <= label < 10


def test_wrapper_content_matches_the_split(wrapped: tuple[list, list, list], split: datasets.Split) -> None:
    training, validation, test = wrapped
    ys = np.stack([y for _, y in training])
    assert np.array_equal(ys.sum(axis=1), np.ones((50_000, 1)))
    assert np.array_equal(ys.argmax(axis=1)[:, 0], split.training.labels)
    assert training[0][1][:, 0].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]  # the digit 5
    assert np.array_equal(training[123][0][:, 0], split.training.images[123])
    assert [label for _, label in validation] == split.validation.labels.tolist()
    assert [label for _, label in test] == split.test.labels.tolist()
    assert np.array_equal(test[9_999][0][:, 0], split.test.images[9_999])


def test_tuples_are_read_only_views_of_stacked_arrays(
    wrapped: tuple[list, list, list], split: datasets.Split
) -> None:
    training, validation, test = wrapped
    x_first, y_first = training[0]
    x_last, y_last = training[-1]
    assert x_first.base is not None and x_first.base is x_last.base
    assert np.shares_memory(x_first, split.training.images)
    assert np.shares_memory(validation[0][0], split.validation.images)
    assert np.shares_memory(test[0][0], split.test.images)
    assert y_first.base is not None and y_first.base is y_last.base
    assert y_first.base.shape[:2] == (50_000, 10)
    for array in (x_first, y_first, validation[0][0], test[0][0]):
        assert not array.flags.writeable


def test_wrapper_copies_no_pixels(split: datasets.Split) -> None:
    tracemalloc.start()
    try:
        mnist_loader.load_data_wrapper()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 70,000 view objects and one (50000, 10, 1) one-hot array; copies would be ~440 MB.
    assert peak < 40 * 2**20


def test_wrapper_reads_the_given_folder_in_float32(mnist_dir: Path, tmp_path: Path) -> None:
    training, _, test = mnist_loader.load_data_wrapper(
        link_copy(mnist_dir, tmp_path / "copy"), dtype=np.float32
    )
    assert training[0][0].dtype == np.float32 and training[0][1].dtype == np.float32
    assert len(test) == 10_000


def test_vectorized_result() -> None:
    e = mnist_loader.vectorized_result(3)
    assert e.shape == (10, 1) and e.dtype == np.float64
    assert e[:, 0].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    e[0] = 7.0  # a fresh, writable array each time, as in the book
    assert mnist_loader.vectorized_result(3)[0, 0] == 0.0
    assert mnist_loader.vectorized_result(np.int64(9))[9, 0] == 1.0


@pytest.mark.parametrize("j", [-1, 10])
def test_vectorized_result_rejects_non_digits(j: int) -> None:
    with pytest.raises(ValueError, match="digit"):
        mnist_loader.vectorized_result(j)


@pytest.mark.parametrize("j", [True, False, np.True_, 3.5, 3.0, np.float64(2), "3", None])
def test_vectorized_result_refuses_what_is_not_an_int(j: object) -> None:
    with pytest.raises(TypeError, match=r"j must be an int digit in \[0, 10\), got"):
        mnist_loader.vectorized_result(j)
