"""Hostile files, built for real: each is refused quickly, naming the file and the problem,
having allocated no more than the honest data it claims (checked under a real RLIMIT_AS cap)."""

from __future__ import annotations

import gzip
import struct
import time
import zlib
from pathlib import Path

import pytest

from matnet.data import idx
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
