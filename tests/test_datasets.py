"""matnet.datasets on the real MNIST files and on real broken copies of them in tmp_path."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from matnet.data import datasets
from matnet.datasets import FILES, SHA256, load_fashion_mnist, load_mnist, locate_mnist, read_idx
from matnet.errors import ChecksumError, CorruptDataError, DataError, MissingDataError
from tests._http_server import closed_port_url, link_copy, mnist_dir_or_skip, real_copy

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILES


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    return mnist_dir_or_skip()


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path) -> datasets.Split:
    return load_mnist(mnist_dir)


def raw(mnist_dir: Path, name: str) -> bytes:
    """The decompressed bytes of one real MNIST file."""
    return gzip.decompress((mnist_dir / f"{name}.gz").read_bytes())


def with_replaced(tmp_path: Path, mnist_dir: Path, name: str, content: bytes | None) -> Path:
    """A folder of links to the real files, with ``name`` replaced by ``content`` (raw bytes)
    or removed (None)."""
    folder = link_copy(mnist_dir, tmp_path / "mnist")
    (folder / f"{name}.gz").unlink()
    if content is not None:
        (folder / name).write_bytes(content)
    return folder


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MATNET_DATA, matnet 'installed' outside a checkout, user cache in tmp_path, and the
    only mirror a closed port: nothing can reach the real checkout, home or network."""
    monkeypatch.delenv("MATNET_DATA", raising=False)
    monkeypatch.setattr(datasets, "_SOURCE_ROOT", tmp_path / "site-packages")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MATNET_MNIST_MIRRORS", closed_port_url())
    return tmp_path


# --- the real data ------------------------------------------------------------------------


def test_split_shapes_and_dtypes(mnist: datasets.Split) -> None:
    for part, n in zip(mnist, (50_000, 10_000, 10_000), strict=True):
        assert part.images.shape == (n, 784)
        assert part.images.dtype == np.float64
        assert part.labels.shape == (n,)
        assert part.labels.dtype == np.int64


def test_arrays_are_contiguous_and_read_only(mnist: datasets.Split) -> None:
    for part in mnist:
        for array in part:
            assert array.flags.c_contiguous
            assert not array.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 0


def same_as_bytes_over_255(images: np.ndarray, pixels: np.ndarray) -> bool:
    """images == pixels / 255 (in float64), compared in slices to keep temporaries small."""
    return images.shape == pixels.shape and all(
        np.array_equal(images[i : i + 5000], pixels[i : i + 5000] / 255.0)
        for i in range(0, len(images), 5000)
    )


def test_training_and_validation_are_the_training_file_split_at_50000(
    mnist: datasets.Split, mnist_dir: Path
) -> None:
    pixels = read_idx(mnist_dir / TRAIN_IMAGES).reshape(60_000, 784)
    labels = read_idx(mnist_dir / TRAIN_LABELS)
    assert mnist.training.images.min() == 0.0
    assert mnist.training.images.max() == 1.0
    assert same_as_bytes_over_255(mnist.training.images, pixels[:50_000])
    assert same_as_bytes_over_255(mnist.validation.images, pixels[50_000:])
    assert np.array_equal(mnist.training.labels, labels[:50_000])
    assert np.array_equal(mnist.validation.labels, labels[50_000:])


def test_first_ten_training_labels(mnist: datasets.Split) -> None:
    assert mnist.training.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_test_set_is_t10k(mnist: datasets.Split, mnist_dir: Path) -> None:
    pixels = read_idx(mnist_dir / TEST_IMAGES)
    assert pixels.shape == (10_000, 28, 28)
    assert same_as_bytes_over_255(mnist.test.images, pixels.reshape(10_000, 784))
    np.testing.assert_array_equal(mnist.test.labels, read_idx(mnist_dir / TEST_LABELS))


def test_float32_option(mnist: datasets.Split, mnist_dir: Path) -> None:
    split32 = load_mnist(mnist_dir, dtype=np.float32)
    for part32, part64 in zip(split32, mnist, strict=True):
        assert part32.images.dtype == np.float32
        assert part32.images.shape == part64.images.shape
        assert part32.images.flags.c_contiguous and not part32.images.flags.writeable
        assert np.array_equal(part32.labels, part64.labels)
    pixels = read_idx(mnist_dir / TEST_IMAGES).reshape(10_000, 784)
    assert np.array_equal(split32.test.images, pixels / np.float32(255))
    assert np.array_equal(split32.test.images, mnist.test.images.astype(np.float32))


@pytest.mark.parametrize("dtype", [int, np.int64, "float16", np.complex128, "no such dtype"])
def test_unsupported_dtype_is_a_type_error(mnist_dir: Path, dtype: object) -> None:
    with pytest.raises(TypeError, match="float64 or float32"):
        load_mnist(mnist_dir, dtype=dtype)


def test_repeated_loads_come_from_the_cache(
    mnist: datasets.Split, mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second load of the same files reads, decompresses and verifies nothing: it returns
    the very arrays of the first. (A real copy elsewhere is read, which shows that the count
    sees every read; once verified, it shares the first load's arrays.)"""
    reads: list[str] = []

    def counting(read: Callable[[Path, str | None], np.ndarray]) -> Callable[[Path, str | None], np.ndarray]:
        def counted(file: Path, sha256: str | None) -> np.ndarray:
            reads.append(file.name)
            return read(file, sha256)

        return counted

    monkeypatch.setattr(datasets, "read_images", counting(datasets.read_images))
    monkeypatch.setattr(datasets, "read_labels", counting(datasets.read_labels))
    assert load_mnist(mnist_dir) is mnist
    assert reads == []
    copy = load_mnist(real_copy(mnist_dir, tmp_path / "copy"))
    assert sorted(reads) == sorted(f"{name}.gz" for name in FILES)
    assert copy.training.images is mnist.training.images


def test_verified_copies_share_one_set_of_arrays(
    mnist: datasets.Split, mnist_dir: Path, tmp_path: Path
) -> None:
    copy = load_mnist(link_copy(mnist_dir, tmp_path / "copy"))
    assert copy.training.images is mnist.training.images


def test_cache_never_serves_a_replaced_file(mnist_dir: Path, tmp_path: Path) -> None:
    folder = link_copy(mnist_dir, tmp_path / "mnist")
    load_mnist(folder)
    labels = bytearray(raw(mnist_dir, TEST_LABELS))
    labels[8] = (labels[8] + 1) % 10
    (folder / f"{TEST_LABELS}.gz").unlink()
    (folder / TEST_LABELS).write_bytes(labels)
    with pytest.raises(ChecksumError):
        load_mnist(folder)


def test_checksums_match_the_shared_sums_file(mnist_dir: Path) -> None:
    sums_file = mnist_dir / "SHA256SUMS.raw"
    if not sums_file.is_file():
        pytest.skip(f"{sums_file} is absent")
    published = dict(reversed(line.split()) for line in sums_file.read_text().splitlines())
    assert published == SHA256


def test_read_idx_finds_the_gzipped_file_and_verifies(mnist_dir: Path) -> None:
    labels = read_idx(mnist_dir / TRAIN_LABELS, sha256=SHA256[TRAIN_LABELS])
    assert labels.shape == (60_000,) and labels.dtype == np.uint8
    assert not labels.flags.writeable
    with pytest.raises(ChecksumError):
        read_idx(mnist_dir / f"{TRAIN_LABELS}.gz", sha256=SHA256[TEST_LABELS])


def test_raw_files_load_like_gzipped_ones(mnist: datasets.Split, mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TEST_IMAGES, raw(mnist_dir, TEST_IMAGES))
    np.testing.assert_array_equal(load_mnist(folder).test.images, mnist.test.images)


def test_gzip_is_detected_by_content_not_name(mnist_dir: Path, tmp_path: Path) -> None:
    gz_without_suffix = tmp_path / "labels"
    gz_without_suffix.write_bytes((mnist_dir / f"{TEST_LABELS}.gz").read_bytes())
    raw_with_suffix = tmp_path / "labels-raw.gz"
    raw_with_suffix.write_bytes(raw(mnist_dir, TEST_LABELS))
    np.testing.assert_array_equal(read_idx(gz_without_suffix), read_idx(raw_with_suffix))


# --- every data error, provoked with a real broken file -------------------------------------


def test_missing_file_is_named(mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TEST_LABELS, None)
    with pytest.raises(MissingDataError) as caught:
        load_mnist(folder)
    message = str(caught.value)
    assert TEST_LABELS in message and str(folder) in message
    assert TRAIN_IMAGES not in message
    with pytest.raises(MissingDataError, match=TEST_LABELS):
        read_idx(folder / TEST_LABELS)


def test_truncated_file(mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TEST_IMAGES, raw(mnist_dir, TEST_IMAGES)[:-100])
    with pytest.raises(CorruptDataError, match="truncated") as caught:
        load_mnist(folder)
    assert caught.value.path == folder / TEST_IMAGES


def test_empty_file(mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TEST_LABELS, b"")
    with pytest.raises(CorruptDataError, match="truncated"):
        load_mnist(folder)


def test_trailing_bytes(mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TEST_LABELS, raw(mnist_dir, TEST_LABELS) + b"\0")
    with pytest.raises(CorruptDataError, match="1 trailing bytes"):
        load_mnist(folder)


def test_bad_magic(mnist_dir: Path, tmp_path: Path) -> None:
    content = b"\x00\x00\x08\x04" + raw(mnist_dir, TEST_IMAGES)[4:]
    folder = with_replaced(tmp_path, mnist_dir, TEST_IMAGES, content)
    with pytest.raises(CorruptDataError, match="bad magic number 2052"):
        load_mnist(folder)


def test_labels_file_where_images_belong(mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TEST_IMAGES, raw(mnist_dir, TEST_LABELS))
    with pytest.raises(CorruptDataError, match="expected an images file"):
        load_mnist(folder)


def test_wrong_image_dimensions(mnist_dir: Path, tmp_path: Path) -> None:
    content = bytearray(raw(mnist_dir, TEST_IMAGES))
    content[8:16] = (56).to_bytes(4, "big") + (14).to_bytes(4, "big")  # same bytes, 56x14
    folder = with_replaced(tmp_path, mnist_dir, TEST_IMAGES, bytes(content))
    with pytest.raises(CorruptDataError, match="56x14 pixels, expected 28x28"):
        load_mnist(folder)


@pytest.mark.parametrize("verify", [True, False])
def test_label_out_of_range(mnist_dir: Path, tmp_path: Path, verify: bool) -> None:
    content = bytearray(raw(mnist_dir, TEST_LABELS))
    content[8 + 123] = 10
    folder = with_replaced(tmp_path, mnist_dir, TEST_LABELS, bytes(content))
    with pytest.raises(CorruptDataError, match=r"in \[0, 10\): found 10 at index 123"):
        load_mnist(folder, verify=verify)


def test_image_label_count_mismatch(mnist_dir: Path, tmp_path: Path) -> None:
    content = bytearray(raw(mnist_dir, TEST_LABELS)[:-1])
    content[4:8] = (9_999).to_bytes(4, "big")
    folder = with_replaced(tmp_path, mnist_dir, TEST_LABELS, bytes(content))
    with pytest.raises(CorruptDataError, match=r"10000 images but \S+ holds 9999 labels"):
        load_mnist(folder, verify=False)
    with pytest.raises(ChecksumError):  # with verification the changed file fails earlier
        load_mnist(folder)


def test_too_few_training_images_for_the_split(mnist_dir: Path, tmp_path: Path) -> None:
    folder = link_copy(mnist_dir, tmp_path / "mnist")
    for name, header, item in ((TRAIN_IMAGES, 16, 784), (TRAIN_LABELS, 8, 1)):
        content = bytearray(raw(mnist_dir, name)[: header + 100 * item])
        content[4:8] = (100).to_bytes(4, "big")
        (folder / f"{name}.gz").unlink()
        (folder / name).write_bytes(content)
    with pytest.raises(CorruptDataError, match="needs more than 50000 training images"):
        load_mnist(folder, verify=False)


def test_corrupt_gzip(mnist_dir: Path, tmp_path: Path) -> None:
    folder = link_copy(mnist_dir, tmp_path / "mnist")
    content = bytearray((mnist_dir / f"{TEST_LABELS}.gz").read_bytes())
    content[len(content) // 2] ^= 0xFF
    (folder / f"{TEST_LABELS}.gz").unlink()
    (folder / f"{TEST_LABELS}.gz").write_bytes(content)
    with pytest.raises(CorruptDataError, match="corrupt gzip data"):
        load_mnist(folder)


def test_truncated_gzip(mnist_dir: Path, tmp_path: Path) -> None:
    folder = link_copy(mnist_dir, tmp_path / "mnist")
    content = (mnist_dir / f"{TEST_LABELS}.gz").read_bytes()
    (folder / f"{TEST_LABELS}.gz").unlink()
    (folder / f"{TEST_LABELS}.gz").write_bytes(content[: len(content) // 2])
    with pytest.raises(CorruptDataError, match="corrupt gzip data: the stream is truncated"):
        load_mnist(folder)


def test_checksum_mismatch_shows_both_digests(mnist_dir: Path, tmp_path: Path) -> None:
    content = bytearray(raw(mnist_dir, TEST_IMAGES))
    content[16 + 5000] ^= 0x01  # one pixel, format untouched
    folder = link_copy(mnist_dir, tmp_path / "mnist")
    (folder / f"{TEST_IMAGES}.gz").unlink()
    (folder / f"{TEST_IMAGES}.gz").write_bytes(gzip.compress(bytes(content), compresslevel=1))
    with pytest.raises(ChecksumError) as caught:
        load_mnist(folder)
    error = caught.value
    assert error.expected == SHA256[TEST_IMAGES]
    assert error.expected in str(error) and error.actual in str(error)
    assert error.actual != error.expected and len(error.actual) == 64
    assert read_idx(folder / TEST_IMAGES).shape == (10_000, 28, 28)  # the format is fine


# --- the test set alone -------------------------------------------------------------------------


def test_load_mnist_test_equals_the_splits_test_part(
    mnist: datasets.Split, mnist_dir: Path, tmp_path: Path
) -> None:
    for dtype in (np.float64, np.float32):
        test = datasets.load_mnist_test(link_copy(mnist_dir, tmp_path / dtype.__name__), dtype=dtype)
        assert test.images.dtype == dtype and test.images.shape == (10_000, 784)
        assert not test.images.flags.writeable and not test.labels.flags.writeable
        np.testing.assert_array_equal(test.images, mnist.test.images.astype(dtype))
        np.testing.assert_array_equal(test.labels, mnist.test.labels)


def test_load_mnist_test_never_reads_the_training_files(mnist_dir: Path, tmp_path: Path) -> None:
    folder = with_replaced(tmp_path, mnist_dir, TRAIN_IMAGES, b"not an IDX file at all")
    (folder / f"{TRAIN_LABELS}.gz").unlink()
    with pytest.raises(DataError):
        load_mnist(folder)
    test = datasets.load_mnist_test(folder)
    assert test.labels[:3].tolist() == [7, 2, 1]
    broken = with_replaced(tmp_path / "broken", mnist_dir, TEST_LABELS, raw(mnist_dir, TEST_LABELS)[:-1])
    with pytest.raises(CorruptDataError, match="truncated"):
        datasets.load_mnist_test(broken)
    missing = with_replaced(tmp_path / "missing", mnist_dir, TEST_IMAGES, None)
    with pytest.raises(MissingDataError, match=TEST_IMAGES) as caught:
        datasets.load_mnist_test(missing)
    assert TRAIN_IMAGES not in str(caught.value)


# --- where the data is looked for -------------------------------------------------------------


def test_argument_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_dir: Path) -> None:
    monkeypatch.setenv("MATNET_DATA", str(tmp_path / "from-env"))
    assert locate_mnist(mnist_dir) == mnist_dir
    assert locate_mnist() == tmp_path / "from-env"
    assert load_mnist(mnist_dir).test.images.shape == (10_000, 784)


def test_environment_beats_checkout(isolated: Path, monkeypatch: pytest.MonkeyPatch, mnist_dir: Path) -> None:
    checkout = isolated / "checkout"
    (checkout / "data").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\n")
    link_copy(mnist_dir, checkout / "data" / "mnist")
    monkeypatch.setattr(datasets, "_SOURCE_ROOT", checkout)
    monkeypatch.setenv("MATNET_DATA", str(mnist_dir))
    assert locate_mnist() == mnist_dir
    monkeypatch.delenv("MATNET_DATA")
    assert locate_mnist() == checkout / "data" / "mnist" == datasets.default_data_dir()
    assert load_mnist().test.labels.shape == (10_000,)


def test_default_folders_without_a_checkout(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert datasets.default_data_dir() == isolated / "cache" / "matnet" / "mnist"
    assert locate_mnist() == isolated / "cache" / "matnet" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(isolated / "home"))
    assert datasets.default_data_dir() == isolated / "home" / ".cache" / "matnet" / "mnist"


def test_a_complete_user_cache_is_used_from_an_empty_checkout(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, mnist_dir: Path
) -> None:
    checkout = isolated / "checkout"
    (checkout / "data").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\n")
    monkeypatch.setattr(datasets, "_SOURCE_ROOT", checkout)
    assert locate_mnist() == checkout / "data" / "mnist"
    link_copy(mnist_dir, isolated / "cache" / "matnet" / "mnist")
    assert locate_mnist() == isolated / "cache" / "matnet" / "mnist"


def test_running_from_this_checkout_uses_its_data_folder() -> None:
    root = Path(__file__).resolve().parents[1]
    if Path(datasets.__file__).resolve() != root / "src" / "matnet" / "data" / "datasets.py":
        pytest.skip("matnet is not imported from this checkout")
    assert datasets.default_data_dir() == root / "data" / "mnist"


def test_missing_explicit_folder(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="no such folder") as caught:
        load_mnist(tmp_path / "nowhere")
    assert caught.value.path == tmp_path / "nowhere"


def test_empty_explicit_folder_lists_every_missing_file_and_does_not_download(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = isolated / "empty"
    empty.mkdir()
    monkeypatch.setenv("MATNET_DATA", str(empty))
    with pytest.raises(MissingDataError) as caught:
        load_mnist()
    message = str(caught.value)
    assert all(name in message for name in FILES)
    assert "MATNET_DATA" in message and "mnist.pkl.gz" in message
    assert list(empty.iterdir()) == []


def test_default_folder_without_download(isolated: Path) -> None:
    with pytest.raises(MissingDataError) as caught:
        load_mnist(download=False)
    message = str(caught.value)
    assert "set MATNET_DATA" in message.replace("Set", "set")
    assert str(isolated / "cache" / "matnet" / "mnist") in message
    assert all(name in message for name in FILES)


# --- Fashion-MNIST ----------------------------------------------------------------------------


def test_fashion_mnist_from_debian() -> None:
    try:
        fashion = load_fashion_mnist()
    except MissingDataError as error:
        pytest.skip(f"Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): {error}")
    assert [part.images.shape for part in fashion] == [(50_000, 784), (10_000, 784), (10_000, 784)]
    assert fashion.training.labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert not fashion.training.images.flags.writeable
    with pytest.raises(ChecksumError):  # Fashion-MNIST is not MNIST
        load_mnist(datasets.FASHION_SYSTEM_DIR)


def test_fashion_mnist_is_verified_against_its_own_checksums(
    monkeypatch: pytest.MonkeyPatch, mnist_dir: Path
) -> None:
    monkeypatch.setenv("MATNET_FASHION_DATA", str(mnist_dir))
    with pytest.raises(ChecksumError, match=datasets.FASHION_SHA256[TRAIN_IMAGES]):
        load_fashion_mnist()


def test_fashion_mnist_missing_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match=r"dataset-fashion-mnist.*MATNET_FASHION_DATA"):
        load_fashion_mnist(tmp_path)


def test_data_errors_are_matnet_errors() -> None:
    for error in (MissingDataError, CorruptDataError, ChecksumError):
        assert issubclass(error, DataError)
