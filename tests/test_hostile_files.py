"""Hostile files, built for real: each is refused quickly, naming the file and the problem,
having allocated no more than the honest data it claims (checked under a real RLIMIT_AS cap)."""

from __future__ import annotations

import gzip
import pickle
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from matnet.data import book_pickle, idx
from matnet.errors import CorruptDataError
from tests._capped import MiB, run_capped

HEADROOM = 64 * MiB  # what a capped child may allocate beyond its imports


def gzip_bomb(content: bytes, zeros: int) -> bytes:
    """A valid gzip file of ``content`` followed by ``zeros`` zero bytes (a whole number of
    MiB), made of one deflate block repeated, so that each GiB of zeros costs about 1 MB."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    blocks = [head.compress(content) + head.flush(zlib.Z_FULL_FLUSH)]
    zero = zlib.compressobj(9, zlib.DEFLATED, -15)
    blocks += [zero.compress(bytes(MiB)) + zero.flush(zlib.Z_FULL_FLUSH)] * (zeros // MiB)
    blocks.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # the final, empty block
    crc = zlib.crc32(content)
    for _ in range(zeros // MiB):
        crc = zlib.crc32(bytes(MiB), crc)
    trailer = struct.pack("<II", crc, (len(content) + zeros) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + b"".join(blocks) + trailer


def idx_header(magic: int, *dims: int) -> bytes:
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)


def test_the_bomb_builder_makes_valid_gzip() -> None:
    bomb = gzip_bomb(b"matnet", 2 * MiB)
    assert gzip.decompress(bomb) == b"matnet" + bytes(2 * MiB)


# ------------------------------------------------------------------------------ IDX files
@pytest.fixture(scope="module")
def idx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid gzip whose valid header announces 100 images, then inflates 1 GiB beyond them."""
    path = tmp_path_factory.mktemp("bomb") / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_bomb(idx_header(idx.IMAGES_MAGIC, 100, 28, 28) + bytes(100 * 784), 1024 * MiB))
    return path


def test_gzip_bomb_stops_at_the_size_the_header_announces(idx_bomb: Path) -> None:
    assert idx_bomb.stat().st_size < 1.1 * MiB  # 1 GiB inflated, for a MB on disk
    started = time.perf_counter()
    bomb_message = r"more than 1048576 trailing bytes after the 100x28x28"
    with pytest.raises(CorruptDataError, match=bomb_message) as caught:
        idx.read_images(idx_bomb, None)
    assert time.perf_counter() - started < 2
    assert caught.value.path == idx_bomb


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_dimensions_whose_product_overflows_int64_are_corrupt_data(tmp_path: Path, compress: bool) -> None:
    big = 2**32 - 1
    content = idx_header(idx.IMAGES_MAGIC, big, big, big) + bytes(100)
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(CorruptDataError) as caught:
        idx.read_idx(path)
    message = str(caught.value)
    assert f"{big}x{big}x{big} = {big**3} data bytes" in message  # exact, never wrapped around
    assert "-" not in message.split(": ", 1)[1].replace("-byte", "").replace("-dimension", "")
    expected = "the file holds 100" if not compress else "more than a"
    assert expected in message


def test_a_header_promising_more_than_a_gzip_file_can_hold(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_header(idx.IMAGES_MAGIC, 60_000, 28, 28) + bytes(1000)))
    with pytest.raises(CorruptDataError, match=r"47040000 data bytes, more than a \d+-byte gzip file"):
        idx.read_idx(path)


def test_a_raw_header_promising_more_than_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_header(idx.LABELS_MAGIC, 10**9) + bytes(10))
    with pytest.raises(CorruptDataError, match=r"truncated: the header promises 1000000000 = 1000000000"):
        idx.read_idx(path)


def test_a_gzip_member_followed_by_junk_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_header(idx.LABELS_MAGIC, 3) + b"\x01\x02\x03") + b"junk")
    with pytest.raises(CorruptDataError, match="not gzip data follow"):
        idx.read_idx(path)


def test_concatenated_gzip_members_and_zero_padding_read_as_one_file(tmp_path: Path) -> None:
    content = idx_header(idx.LABELS_MAGIC, 5) + bytes([1, 2, 3, 4, 5])
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(content[:7]) + b"\0\0" + gzip.compress(content[7:]) + b"\0" * 5)
    assert idx.read_idx(path).tolist() == [1, 2, 3, 4, 5]


def test_hostile_idx_files_under_a_memory_cap(idx_bomb: Path, tmp_path: Path) -> None:
    big = 2**32 - 1
    overflow = tmp_path / "overflow.gz"
    overflow.write_bytes(gzip.compress(idx_header(idx.IMAGES_MAGIC, big, big, big)))
    promises = tmp_path / "promises.gz"
    promises.write_bytes(gzip.compress(idx_header(idx.IMAGES_MAGIC, 10_000_000, 28, 28) + bytes(10**6)))
    raw_promise = tmp_path / "raw-promise"
    raw_promise.write_bytes(idx_header(idx.LABELS_MAGIC, 2**31) + bytes(10))
    honest = tmp_path / "honest.gz"
    honest.write_bytes(gzip.compress(idx_header(idx.IMAGES_MAGIC, 1000, 28, 28) + bytes(784_000)))
    results = run_capped(
        [
            ("images", str(idx_bomb)),
            ("idx", str(overflow)),
            ("idx", str(promises)),
            ("idx", str(raw_promise)),
            ("images", str(honest)),  # control: an honest file loads under the same cap
            ("allocate", str(2 * HEADROOM)),  # control: the cap is real
        ],
        HEADROOM,
    )
    *hostile, control, cap = results
    for result in hostile:
        assert result["error"] == "CorruptDataError", result
        assert "MemoryError" not in result["chain"], result
        assert result["seconds"] < 2, result
    assert control["error"] is None, control
    assert cap["error"] == "MemoryError", cap


# ---------------------------------------------------------------------- the book's pickle
def op_global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def op_text(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


F4 = op_global("numpy", "dtype") + op_text("f4") + b"\x85R"  # np.dtype("f4")
EMPTY = op_global("numpy.core.multiarray", "_reconstruct") + op_global("numpy", "ndarray")
EMPTY += op_int(0) + b"\x85C\x01b\x87R"  # _reconstruct(ndarray, (0,), b"b"): NumPy's placeholder


def three_pairs_of(array: bytes) -> bytes:
    """A protocol-3 pickle of ((a, a), (a, a), (a, a)) for the array the opcodes build."""
    return b"\x80\x03" + array + b"q\x00h\x00\x86q\x01h\x01h\x01\x87."


HOSTILE_PICKLES = {
    # _reconstruct asked for 10^6 x 784 images directly: no BUILD step, no data, 3 GB.
    "shape without data": (
        three_pairs_of(
            op_global("numpy.core.multiarray", "_reconstruct") + op_global("numpy", "ndarray")
            + op_int(10**6) + op_int(784) + b"\x86C\x01f\x87R"
        ),
        r"only an empty ndarray that gets its data from a BUILD step",
    ),
    # numpy.ndarray((10^6, 784), "f4") called: uninitialised memory.
    "ndarray called": (
        three_pairs_of(op_global("numpy", "ndarray") + op_int(10**6) + op_int(784) + b"\x86" + F4 + b"\x86R"),
        r"numpy.ndarray\(...\) is called: that would be an array of uninitialised memory",
    ),
    # The placeholder alone, never given its data.
    "no BUILD step": (three_pairs_of(EMPTY), r"an array without data \(no BUILD step\)"),
    # A BUILD step announcing 10^6 x 784 floats and holding 3 bytes.
    "state larger than its data": (
        three_pairs_of(EMPTY + b"(K\x01" + op_int(10**6) + op_int(784) + b"\x86" + F4 + b"\x89C\x03abctb"),
        r"builds more data than it holds",
    ),
    # A byte string announcing 2^40 bytes in a file of 40.
    "length beyond the file": (b"\x80\x03\x8e" + struct.pack("<Q", 2**40) + b"x" * 10 + b".", r"truncated"),
    # One 1 MiB string stored once, encoded 2000 times through the memo: 2 GB from 1 MB.
    "one string, many copies": (
        b"\x80\x02" + op_global("_codecs", "encode") + b"q\x00" + op_text("a" * MiB) + b"q\x01("
        + (b"h\x00h\x01" + op_text("latin1") + b"\x86R") * 2000 + b"l.",
        r"builds more data than it holds",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_PICKLES))
def test_hostile_pickles_are_refused(tmp_path: Path, case: str) -> None:
    content, reason = HOSTILE_PICKLES[case]
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(content))
    started = time.perf_counter()
    with pytest.raises(CorruptDataError, match=reason) as caught:
        book_pickle.load_mnist_pickle(path)
    assert time.perf_counter() - started < 2
    assert caught.value.path == path


def test_an_arrays_state_is_set_once_and_buffers_take_none(tmp_path: Path) -> None:
    state = b"(K\x01" + op_int(1) + b"\x85" + F4 + b"\x89C\x04\x00\x00\x00\x00t"
    twice = tmp_path / "twice.pkl"
    twice.write_bytes(three_pairs_of(EMPTY + state + b"b" + state + b"b"))
    with pytest.raises(CorruptDataError, match="state is set twice"):
        book_pickle.load_mnist_pickle(twice)
    buffer = op_global("numpy.core.numeric", "_frombuffer") + b"(C\x04\x00\x00\x00\x00" + F4
    buffer += op_int(1) + b"\x85X\x01\x00\x00\x00CtR"  # _frombuffer(b"\0" * 4, f4, (1,), "C")
    rebuilt = tmp_path / "rebuilt.pkl"
    rebuilt.write_bytes(three_pairs_of(buffer + state + b"b"))
    with pytest.raises(CorruptDataError, match="takes no further state"):
        book_pickle.load_mnist_pickle(rebuilt)


def small_pickle() -> bytes:
    images = np.linspace(0, 1, 3 * 784, dtype=np.float32).reshape(3, 784)
    return pickle.dumps(((images, np.arange(3)),) * 3, protocol=2)


def test_a_gzip_bomb_after_the_pickles_end_is_not_inflated(tmp_path: Path) -> None:
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip_bomb(small_pickle(), 1024 * MiB))
    started = time.perf_counter()
    with pytest.raises(CorruptDataError, match=r"more than 1048576 trailing bytes after the pickle's STOP"):
        book_pickle.load_mnist_pickle(path)
    assert time.perf_counter() - started < 2


def test_hostile_pickles_under_a_memory_cap(tmp_path: Path) -> None:
    cases = []
    for i, (content, _) in enumerate(HOSTILE_PICKLES.values()):
        path = tmp_path / f"hostile-{i}.pkl.gz"
        path.write_bytes(gzip.compress(content))
        cases.append(("pickle", str(path)))
    honest = tmp_path / "honest.pkl.gz"
    honest.write_bytes(gzip.compress(small_pickle()))
    results = run_capped([*cases, ("pickle", str(honest))], HEADROOM)
    *hostile, control = results
    for result in hostile:
        assert result["error"] == "CorruptDataError", result
        assert "MemoryError" not in result["chain"], result
        assert result["seconds"] < 2, result
    assert control["error"] is None, control
