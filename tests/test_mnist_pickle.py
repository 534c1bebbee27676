"""The book's mnist.pkl.gz: loaded faithfully, and never allowed to run code."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from matnet import datasets, mnist_loader
from matnet.datasets import load_mnist, load_mnist_pickle
from matnet.errors import CorruptDataError, MissingDataError, UnsafePickleError
from tests._http_server import mnist_dir_or_skip


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    return mnist_dir_or_skip()


#: Images of each part in the book_pickle fixture (the real file holds 50,000, 10,000 and
#: 10,000: test_the_whole_book_pickle_matches_the_idx_files, in the slow step, makes that one).
PART = 2_000


def write_book_pickle(folder: Path, mnist_dir: Path, n: int | None) -> Path:
    """``folder``, holding only ``mnist.pkl.gz`` in the book's layout, made from the real IDX
    files: a gzipped protocol-2 pickle of three (float32 images (n, 784), int64 labels) pairs,
    the first ``n`` of each part (None: all)."""
    split = load_mnist(mnist_dir, dtype=np.float32)
    content = tuple((part.images[:n], part.labels[:n]) for part in split)
    with gzip.open(folder / "mnist.pkl.gz", "wb", compresslevel=1) as file:
        pickle.dump(content, file, protocol=2)
    return folder


@pytest.fixture(scope="module")
def book_pickle(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the book's ``mnist.pkl.gz``, with PART images of each part (6 MB
    of float32 pixels per part: the file is read and inflated in many pieces)."""
    return write_book_pickle(tmp_path_factory.mktemp("book"), mnist_dir, PART)


def write_pickle(path: Path, content: object, protocol: int = 2) -> Path:
    path.write_bytes(gzip.compress(pickle.dumps(content, protocol=protocol)))
    return path


def small_parts(n: int = 3) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    images = np.linspace(0, 1, n * 784, dtype=np.float32).reshape(n, 784)
    labels = np.arange(n, dtype=np.int64) % 10
    return ((images, labels),) * 3


def assert_matches_the_idx_files(folder: Path, mnist_dir: Path, n: int | None) -> None:
    from_pickle = load_mnist_pickle(folder / "mnist.pkl.gz", dtype=np.float32)
    from_idx = load_mnist(mnist_dir, dtype=np.float32)
    for part, expected in zip(from_pickle, from_idx, strict=True):
        assert part.images.dtype == np.float32 and part.labels.dtype == np.int64
        assert part.images.flags.c_contiguous and not part.images.flags.writeable
        assert not part.labels.flags.writeable
        assert np.array_equal(part.images, expected.images[:n])
        assert np.array_equal(part.labels, expected.labels[:n])


def test_book_pickle_matches_the_idx_files(book_pickle: Path, mnist_dir: Path) -> None:
    assert_matches_the_idx_files(book_pickle, mnist_dir, PART)


@pytest.mark.slow
def test_the_whole_book_pickle_matches_the_idx_files(mnist_dir: Path, tmp_path: Path) -> None:
    """The test above on a pickle of all of MNIST, as large as the book's (7 s: the slow step)."""
    assert_matches_the_idx_files(write_book_pickle(tmp_path, mnist_dir, None), mnist_dir, None)
    (images, labels), _, _ = mnist_loader.load_data(tmp_path, dtype=np.float32)
    assert images.shape == (50_000, 784) and labels[:3].tolist() == [5, 0, 4]


def test_folder_with_only_the_pickle_is_loaded_from_it(book_pickle: Path, mnist_dir: Path) -> None:
    split = load_mnist(book_pickle, dtype=np.float32)
    assert split is load_mnist_pickle(book_pickle / "mnist.pkl.gz", dtype=np.float32)
    reference = load_mnist(mnist_dir)  # float64: equal up to float32 rounding
    assert np.allclose(split.test.images, reference.test.images[:PART], rtol=2**-24, atol=0)
    assert np.array_equal(split.training.labels, reference.training.labels[:PART])
    (images, labels), _, _ = mnist_loader.load_data(book_pickle, dtype=np.float32)
    assert images.shape == (PART, 784) and labels[:3].tolist() == [5, 0, 4]


def test_python2_pickle_with_legacy_numpy_names(tmp_path: Path) -> None:
    """The real book file is a Python 2 pickle: ``numpy.core.multiarray._reconstruct`` and
    array bytes stored as Python 2 ``str`` (BINSTRING), which needs encoding='latin1'."""

    def py2_array(array: np.ndarray, code: bytes) -> bytes:
        raw = array.tobytes()
        return (
            b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01("
            + b"".join(b"J" + struct.pack("<i", n) for n in array.shape)
            + b"tcnumpy\ndtype\nU\x02"
            + code
            + b"K\x00K\x01\x87R(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T"
            + struct.pack("<I", len(raw))
            + raw
            + b"tb"
        )

    (images, labels), _, _ = small_parts()
    pair = py2_array(images, b"f4") + py2_array(labels, b"i8") + b"\x86"
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(b"\x80\x02" + pair * 3 + b"\x87."))
    split = load_mnist_pickle(path)
    assert np.array_equal(split.validation.images, images)
    assert split.test.labels.tolist() == [0, 1, 2]


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickles_of_any_protocol_load(tmp_path: Path, protocol: int) -> None:
    path = write_pickle(tmp_path / "small.pkl.gz", small_parts(), protocol)
    split = load_mnist_pickle(path, dtype=np.float32)
    assert np.array_equal(split.training.images, small_parts()[0][0])


def test_uncompressed_pickle_loads(tmp_path: Path) -> None:
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps(small_parts(), protocol=2))
    assert load_mnist_pickle(path).training.labels.tolist() == [0, 1, 2]


class _RunsACommand:
    """Unpickling this with the standard unpickler runs ``command`` through os.system."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def test_malicious_pickle_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    images, labels = small_parts()[0]
    payload = ((images, labels), (images, _RunsACommand(f"touch {marker}")), (images, labels))
    path = write_pickle(tmp_path / "mnist.pkl.gz", payload)
    with pytest.raises(UnsafePickleError, match=r"'(posix|os|nt)\.system'") as caught:
        load_mnist_pickle(path)
    assert caught.value.path == path
    assert not marker.exists()
    # Control: the payload is live, the standard unpickler does run it.
    pickle.loads(gzip.decompress(path.read_bytes()))
    assert marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.",
        b"\x80\x02cnumpy\nload\nX\x01\x00\x00\x00x\x85R.",
        b"\x80\x02cnumpy.testing\nassert_\nK\x01\x85R.",
    ],
    ids=["builtins.eval", "numpy.load", "numpy.testing.assert_"],
)
def test_other_globals_are_refused(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(payload)
    with pytest.raises(UnsafePickleError, match="refused"):
        load_mnist_pickle(path)


def test_codecs_encode_is_limited_to_latin1(tmp_path: Path) -> None:
    path = tmp_path / "codec.pkl"
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlib\x86R.")
    with pytest.raises(CorruptDataError, match="zlib"):
        load_mnist_pickle(path)


def test_truncated_pickle(tmp_path: Path) -> None:
    whole = pickle.dumps(small_parts(), protocol=2)
    path = tmp_path / "cut.pkl.gz"
    path.write_bytes(gzip.compress(whole[: len(whole) // 2]))
    with pytest.raises(CorruptDataError, match="not a valid pickle"):
        load_mnist_pickle(path)


def test_truncated_gzip_pickle(tmp_path: Path) -> None:
    whole = gzip.compress(pickle.dumps(small_parts(), protocol=2))
    path = tmp_path / "cut.pkl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDataError, match="gzip"):
        load_mnist_pickle(path)


def bad_variants() -> dict[str, tuple[object, str]]:
    (images, labels), _, _ = small_parts()
    return {
        "two parts": (small_parts()[:2], "3-tuple"),
        "not a pair": (((images,), (images, labels), (images, labels)), "pair"),
        "list": (((images.tolist(), labels),) * 3, "NumPy arrays"),
        "wrong width": (((images[:, :700], labels),) * 3, r"\(n, 784\)"),
        "object dtype": (((images.astype(object), labels),) * 3, "float"),
        "float labels": (((images, labels.astype(float)),) * 3, "integer"),
        "count": (((images, labels[:2]),) * 3, "count mismatch"),
        "pixel > 1": (((images * 2, labels),) * 3, r"in \[0, 1\]"),
        "NaN": (((images * np.float32("nan"), labels),) * 3, r"in \[0, 1\]"),
        "label 10": (((images, labels + 10),) * 3, r"in \[0, 10\)"),
    }


@pytest.mark.parametrize("variant", list(bad_variants()))
def test_malformed_content(tmp_path: Path, variant: str) -> None:
    content, message = bad_variants()[variant]
    path = write_pickle(tmp_path / "bad.pkl.gz", content)
    with pytest.raises(CorruptDataError, match=message):
        load_mnist_pickle(path)


def test_missing_pickle(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError):
        load_mnist_pickle(tmp_path / "mnist.pkl.gz")


def test_the_test_set_alone_comes_from_a_lone_pickle(tmp_path: Path) -> None:
    folder = tmp_path / "book"
    folder.mkdir()
    write_pickle(folder / "mnist.pkl.gz", small_parts())
    test = datasets.load_mnist_test(folder, dtype=np.float32)
    assert np.array_equal(test.images, small_parts()[2][0]) and test.labels.tolist() == [0, 1, 2]


def test_pickle_is_not_used_when_idx_files_are_present(tmp_path: Path, mnist_dir: Path) -> None:
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").symlink_to(mnist_dir / "train-images-idx3-ubyte.gz")
    write_pickle(folder / "mnist.pkl.gz", small_parts())
    with pytest.raises(MissingDataError, match="train-labels-idx1-ubyte"):
        load_mnist(folder)
    assert datasets.locate_mnist(folder) == folder
