"""Hostile files, built for real: each is refused without doing the work it announces, naming
the file and the problem, having allocated no more than the honest data it claims (checked under
a real RLIMIT_AS cap).

The work is counted, not timed (``tests._capped.measured``): the bytes a refusal inflates or
reads and the memory it allocates, which a busy machine does not change."""

from __future__ import annotations

import gzip
import io as io_module
import pickle
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from matnet import io
from matnet.data import book_pickle, idx
from matnet.errors import CorruptDataError, ModelFileError
from tests._capped import MiB, measured, run_capped

HEADROOM = 64 * MiB  # what a capped child may allocate beyond its imports
# The work a refusal may do (tests._capped.measured), far below what the files announce
# (1 GiB inflated, arrays of 188 MB to 3 GB): what a refusal of a pickle allocates (its bytes
# and the stream's 1 MiB pieces: 5 MB for the 1 MB one), and for a network file the bytes it
# reads (its zip directory and .npy headers: 3 kB at most here) and allocates.
PICKLE_PEAK = 16 * MiB
NETWORK_READ = 64 * 1024
NETWORK_PEAK = MiB


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


IDX_BOMB_READ = 16 + 100 * 784 + MiB + 1  # header, the data it announces, the trailing bytes counted


def test_gzip_bomb_stops_at_the_size_the_header_announces(idx_bomb: Path) -> None:
    assert idx_bomb.stat().st_size < 1.1 * MiB  # 1 GiB inflated, for a MB on disk
    bomb_message = r"more than 1048576 trailing bytes after the 100x28x28"
    with measured() as work, pytest.raises(CorruptDataError, match=bomb_message) as caught:
        idx.read_images(idx_bomb, None)
    assert caught.value.path == idx_bomb
    # Inflated: the announced images and 1 MiB (+ 1 byte) of what follows them, not the GiB.
    assert work.content == IDX_BOMB_READ
    assert work.peak < 8 * MiB  # 1 MiB pieces at a time


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
    # The bomb inflates what its header announces and 1 MiB more; the others stop at their header.
    assert [result["content"] for result in hostile] == [IDX_BOMB_READ, 16, 16, 8]
    assert control["error"] is None, control
    assert control["content"] == 16 + 784_000
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
    with measured() as work, pytest.raises(CorruptDataError, match=reason) as caught:
        book_pickle.load_mnist_pickle(path)
    assert caught.value.path == path
    assert work.content == len(content)  # the pickle's bytes, read once, nothing else
    assert work.peak < PICKLE_PEAK  # what they announce is 2 GB or more


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
    bomb_message = r"more than 1048576 trailing bytes after the pickle's STOP"
    with measured() as work, pytest.raises(CorruptDataError, match=bomb_message):
        book_pickle.load_mnist_pickle(path)
    # Inflated: the pickle (read in pieces of 64 kB) and 1 MiB (+ 1 byte) after its STOP, not
    # the GiB behind it.
    assert len(small_pickle()) < work.content <= len(small_pickle()) + 64 * 1024 + MiB + 1
    assert work.peak < 8 * MiB


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
    for result, (content, _) in zip(hostile, HOSTILE_PICKLES.values(), strict=True):
        assert result["error"] == "CorruptDataError", result
        assert "MemoryError" not in result["chain"], result
        assert result["content"] == len(content) and result["peak"] < PICKLE_PEAK, result
    assert control["error"] is None, control


# ------------------------------------------------------------------------ network files
def constant_network(sizes: list[int], dtype: type = np.float64) -> SimpleNamespace:
    """What save_network reads, without drawing random numbers for a big network."""
    return SimpleNamespace(
        sizes=sizes,
        dtype=np.dtype(dtype),
        weights=[np.full((o, i), 0.5, dtype) for i, o in zip(sizes[:-1], sizes[1:])],
        biases=[np.full((o, 1), 0.5, dtype) for o in sizes[1:]],
    )


def npy_bytes(shape: tuple[int, ...], data: bytes, descr: str = "<f8") -> bytes:
    """A .npy file whose header declares ``shape`` of ``descr``, followed by ``data``."""
    header = io_module.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    return header.getvalue() + data


def npz_with(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    """A zip of .npy members with the metadata of a [784, 30000, 10] float64 network."""
    meta = {"format": np.array("matnet-network"), "version": np.array(1), "dtype": np.array("float64"),
            "sizes": np.array([784, 30000, 10])}
    with zipfile.ZipFile(path, "w", compression) as archive:
        for key, value in meta.items():
            buffer = io_module.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
        for name, content in members.items():
            archive.writestr(f"{name}.npy", content)
    return path


def compressed_network(path: Path) -> Path:
    """A deflated .npz of [784, 30000, 10] float64 zeros: 190 MB of parameters in 200 kB."""
    sizes = [784, 30000, 10]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in {"format": np.array("matnet-network"), "version": np.array(1),
                           "dtype": np.array("float64"), "sizes": np.array(sizes)}.items():
            buffer = io_module.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            for name, shape in ((f"weights_{i}", (n_out, n_in)), (f"biases_{i}", (n_out, 1))):
                with archive.open(f"{name}.npy", "w") as member:
                    member.write(npy_bytes(shape, b""))
                    for _ in range(shape[0] * shape[1] * 8 // MiB):
                        member.write(bytes(MiB))
                    member.write(bytes(shape[0] * shape[1] * 8 % MiB))
    return path


def lying_central_directory(path: Path) -> Path:
    """A real saved network whose zip directory says weights_0 holds 2 GB."""
    io.save_network(constant_network([5, 4, 3]), path)
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the central directory's first entry
    while data[entry + 46 : entry + 46 + 13] != b"weights_0.npy":
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 20 : entry + 28] = struct.pack("<II", 2**31, 2**31)  # compressed, uncompressed
    path.write_bytes(bytes(data))
    return path


HOSTILE_NETWORKS = {
    "compressed members": (compressed_network, r"array '\w+' is compressed \(deflate\); matnet writes"),
    "header larger than its member": (
        lambda path: npz_with(path, {"weights_0": npy_bytes((30000, 784), bytes(16))}),
        r"array 'weights_0': its header declares \(30000, 784\) of float64 = 188160000 bytes, "
        r"the member holds 16",
    ),
    "sizes larger than the arrays": (
        lambda path: npz_with(path, {
            "weights_0": npy_bytes((4, 5), bytes(160)), "biases_0": npy_bytes((4, 1), bytes(32)),
            "weights_1": npy_bytes((3, 4), bytes(96)), "biases_1": npy_bytes((3, 1), bytes(24)),
        }),
        r"weights_0 has shape \(4, 5\), expected \(30000, 784\)",
    ),
    "directory claims more than the file": (
        lying_central_directory,
        r"members claim \d+ bytes in all, more than the file's \d+",
    ),
}


def test_an_array_stored_twice_is_refused(tmp_path: Path) -> None:
    path = npz_with(tmp_path / "net.npz", {})
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("sizes.npy", npy_bytes((2,), bytes(16), "<i8"))
    with pytest.raises(ModelFileError, match="array 'sizes' appears twice"):
        io.read_network(path)


def test_a_network_of_100000_layers_is_refused_in_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "layers.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in {"format": np.array("matnet-network"), "version": np.array(1),
                           "dtype": np.array("float64"), "sizes": np.ones(10**5, np.int64)}.items():
            buffer = io_module.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
    with pytest.raises(ModelFileError, match=r"missing arrays \['biases_0', .*\(199998 in all\)") as caught:
        io.read_network(path)
    assert len(str(caught.value)) < 500


@pytest.mark.parametrize("case", list(HOSTILE_NETWORKS))
def test_hostile_network_files_are_refused(tmp_path: Path, case: str) -> None:
    make, reason = HOSTILE_NETWORKS[case]
    path = make(tmp_path / "net.npz")
    with measured() as work, pytest.raises(ModelFileError, match=reason) as caught:
        io.read_network(path)
    assert str(path) in str(caught.value)
    # Refused from the zip directory and the .npy headers: no member's data read (the compressed
    # one holds 200 kB), nothing announced allocated (each announces 188 MB or more).
    assert work.read < NETWORK_READ and work.peak < NETWORK_PEAK


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reading_a_network_peaks_at_the_parameters_it_returns(tmp_path: Path, dtype: type) -> None:
    path = tmp_path / "net.npz"
    io.save_network(constant_network([784, 3000, 10], dtype), path)
    tracemalloc.start()
    try:
        saved = io.read_network(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    returned = sum(a.nbytes for a in [*saved.weights, *saved.biases])
    assert returned == (784 * 3000 + 3000 * 10 + 3000 + 10) * np.dtype(dtype).itemsize
    assert peak <= 1.2 * returned, f"peak {peak / returned:.2f}x the parameters"


def test_hostile_network_files_under_a_memory_cap(tmp_path: Path) -> None:
    made = [make(tmp_path / f"hostile-{i}.npz") for i, (make, _) in enumerate(HOSTILE_NETWORKS.values())]
    cases = [("npz", str(path)) for path in made]
    honest = tmp_path / "honest.npz"
    io.save_network(constant_network([5, 4, 3]), honest)
    results = run_capped([*cases, ("npz", str(honest))], HEADROOM)
    *hostile, control = results
    for result in hostile:
        assert result["error"] == "ModelFileError", result
        assert "MemoryError" not in result["chain"], result
        assert result["read"] < NETWORK_READ and result["peak"] < NETWORK_PEAK, result
    assert control["error"] is None, control


def test_an_honest_network_loads_within_its_size_and_a_fifth_under_a_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.npz"
    network = constant_network([784, 8000, 10])
    io.save_network(network, path)
    params = sum(a.nbytes for a in [*network.weights, *network.biases])
    del network
    loaded, copied = run_capped([("npz", str(path)), ("allocate", str(2 * params))], int(1.2 * params))
    assert loaded["error"] is None, loaded
    assert copied["error"] == "MemoryError", copied  # a second copy would not have fitted
