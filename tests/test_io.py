"""matnet.io: save/load round trips, every kind of bad file refused, atomic writes, no pickle."""

from __future__ import annotations

import os
import random
import re
import select
import signal
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from matnet import io
from matnet.errors import ModelFileError
from matnet.network import Network
from tests.helpers import synthetic


def parameters(net) -> list[np.ndarray]:
    return [*net.weights, *net.biases]


def saved_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.fixture
def saved(tmp_path) -> tuple[Path, Network]:
    net = Network([5, 4, 3], seed=0)
    path = tmp_path / "net.npz"
    net.save(path)
    return path, net


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes", [[2, 1], [5, 4, 3], [784, 30, 10], [6, 5, 4, 3, 2]])
def test_round_trip_is_exact(tmp_path, sizes, dtype):
    net = Network(sizes, seed=1, dtype=dtype, backend="numpy")
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = Network.load(path, backend="numpy")
    assert loaded.sizes == sizes and loaded.num_layers == len(sizes)
    assert loaded.dtype == np.dtype(dtype) and loaded.backend == "numpy"
    for got, want in zip(parameters(loaded), parameters(net), strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert got is not want
    x = np.random.default_rng(0).random((sizes[0], 7))
    np.testing.assert_array_equal(loaded.feedforward(x), net.feedforward(x))


def test_file_layout(saved):
    path, net = saved
    arrays = saved_arrays(path)
    assert set(arrays) == {
        "format", "version", "sizes", "dtype", "weights_0", "weights_1", "biases_0", "biases_1"
    }
    assert str(arrays["format"]) == "matnet-network" and int(arrays["version"]) == 1
    assert arrays["sizes"].dtype == np.int64 and arrays["sizes"].tolist() == [5, 4, 3]
    assert str(arrays["dtype"]) == "float64"
    np.testing.assert_array_equal(arrays["weights_1"], net.weights[1])


def test_path_is_used_exactly_as_given(tmp_path):
    net = Network([3, 2], seed=0)
    net.save(tmp_path / "model")  # np.savez would have written model.npz
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    np.testing.assert_array_equal(Network.load(tmp_path / "model").weights[0], net.weights[0])
    net.save(str(tmp_path / "model.bin"))
    assert Network.load(str(tmp_path / "model.bin")).sizes == [3, 2]


def test_loading_draws_no_global_random_numbers_and_trains_like_the_original(tmp_path):
    x, y = synthetic([4, 3, 2], 30, seed=5)
    np.random.seed(2)
    original = Network([4, 3, 2], backend="numpy")  # book mode
    original.save(tmp_path / "net.npz")
    state = np.random.get_state()[1].copy(), random.getstate()
    loaded = Network.load(tmp_path / "net.npz", backend="numpy")
    assert (np.random.get_state()[1] == state[0]).all() and random.getstate() == state[1]
    for net in (original, loaded):  # book mode: the shuffles come from `random`
        random.seed(9)
        net.SGD((x, y), 2, 5, 1.0, verbose=False)
    for got, want in zip(parameters(loaded), parameters(original), strict=True):
        np.testing.assert_array_equal(got, want)


def test_loading_with_a_seed_shuffles_from_that_seed(tmp_path, saved):
    path, net = saved
    x, y = synthetic([5, 4, 3], 30, seed=6)
    loaded = Network.load(path, seed=3, backend="numpy")
    fresh = Network.from_parameters(net.weights, net.biases, rng=np.random.default_rng(3), backend="numpy")
    for n in (loaded, fresh):
        n.SGD((x, y), 2, 5, 1.0, verbose=False)
    for got, want in zip(parameters(loaded), parameters(fresh), strict=True):
        np.testing.assert_array_equal(got, want)


def test_load_converts_when_asked_for_another_dtype(saved):
    path, net = saved
    loaded = Network.load(path, dtype=np.float32)
    assert loaded.dtype == np.float32
    for got, want in zip(parameters(loaded), parameters(net), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want.astype(np.float32))


def test_saving_a_broken_network_is_refused_and_keeps_the_old_file(saved):
    path, _ = saved
    before = path.read_bytes()
    net = Network([5, 4, 3], seed=9)
    net.biases[1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"biases_1 contains NaN"):
        net.save(path)
    net = Network([5, 4, 3], seed=9)
    net.weights[0] = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"weights_0 has shape \(4, 4\), expected \(4, 5\)"):
        net.save(path)
    net = Network([5, 4, 3], seed=9, dtype=np.float32)
    net.weights[1] = np.full((3, 4), 1e39)  # finite in float64, inf once stored as float32
    with pytest.raises(ValueError, match=r"as float32: weights_1 contains NaN or inf"):
        net.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


# ---------------------------------------------------------------------- bad files refused
def rewrite(path: Path, **changes) -> None:
    """Re-save ``path`` with some arrays replaced (value) or removed (None)."""
    arrays = saved_arrays(path)
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    with open(path, "wb") as f:
        np.savez(f, **arrays)


TAMPERED = {
    "no format marker": ({"format": None}, "missing format"),
    "foreign format marker": ({"format": np.array("other-thing")}, "format marker"),
    "bytes format marker": ({"format": np.array(b"matnet-network")}, "format marker"),
    "unknown version": ({"version": np.array(2)}, "unknown file version 2"),
    "float version": ({"version": np.array(1.0)}, "version must be an integer"),
    "one layer": ({"sizes": np.array([5])}, "sizes must be"),
    "zero layer size": ({"sizes": np.array([5, 0, 3])}, "sizes must be"),
    "float sizes": ({"sizes": np.array([5.0, 4.0, 3.0])}, "sizes must be"),
    "sizes disagree with arrays": (
        {"sizes": np.array([5, 4, 4])},
        "weights_1 has shape (3, 4), expected (4, 4) for sizes [5, 4, 4]",
    ),
    "integer dtype": ({"dtype": np.array("int32")}, "dtype must be one of"),
    "array dtype differs": (
        {"weights_0": np.ones((4, 5), np.float32)},
        "weights_0 has dtype float32, expected float64",
    ),
    "transposed weights": ({"weights_0": np.ones((5, 4))}, "weights_0 has shape (5, 4), expected (4, 5)"),
    "flat biases": ({"biases_1": np.ones(3)}, "biases_1 has shape (3,), expected (3, 1)"),
    "NaN weight": ({"weights_1": np.full((3, 4), np.nan)}, "weights_1 contains NaN or inf"),
    "inf bias": ({"biases_0": np.full((4, 1), np.inf)}, "biases_0 contains NaN or inf"),
    "missing weights": ({"weights_1": None}, "missing arrays ['weights_1']"),
    "extra layer": ({"weights_2": np.ones((2, 3))}, "unexpected arrays ['weights_2']"),
    "string weights": ({"weights_0": np.full((4, 5), "1.0")}, "weights_0 has dtype <U3, expected float64"),
    "object weights": ({"weights_0": np.ones((4, 5)).astype(object)}, "cannot read array 'weights_0'"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_tampered_files_are_refused(saved, case):
    path, _ = saved
    changes, reason = TAMPERED[case]
    rewrite(path, **changes)
    with pytest.raises(ModelFileError) as info:
        Network.load(path)
    assert str(path) in str(info.value) and reason in str(info.value)


TRUNCATIONS = {
    "empty": lambda n: 0,
    "3 bytes": lambda n: 3,
    "30 bytes": lambda n: 30,
    "half": lambda n: n // 2,
    "all but the central directory": lambda n: n - 200,
    "all but the end record": lambda n: n - 22,
    "all but 1 byte": lambda n: n - 1,
}


@pytest.mark.parametrize("cut", list(TRUNCATIONS))
def test_truncated_files_are_refused(saved, cut):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: TRUNCATIONS[cut](len(data))])
    with pytest.raises(ModelFileError, match=str(path)):
        Network.load(path)


def test_corrupted_bytes_are_refused(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        member = z.getinfo("weights_0.npy")
    # Flip one bit inside the stored array data, past the member's .npy header (version 1:
    # 6 magic bytes, 2 version bytes, a 2-byte header length, the header).
    npy = data.index(b"\x93NUMPY", member.header_offset)
    header_length = int.from_bytes(data[npy + 8 : npy + 10], "little")
    data[npy + 10 + header_length + 17] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="weights_0"):
        Network.load(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a .npz file"),
        (b"hello, I am a text file\n", "not a .npz file"),
        (b"\x93NUMPY\x01\x00", "not a .npz file"),
        (b"PK\x03\x04" + b"\x00" * 40, "not a readable .npz file"),
        (b"\x80\x04\x95", "not a .npz file"),  # a pickle
    ],
)
def test_files_that_are_not_npz_are_refused(tmp_path, content, reason):
    path = tmp_path / "net.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=re.escape(reason)):
        Network.load(path)


def test_a_single_npy_array_is_refused(tmp_path):
    path = tmp_path / "net.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ModelFileError, match=r"not a \.npz file"):
        Network.load(path)


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        Network.load(tmp_path / "absent.npz")
    with pytest.raises(ModelFileError, match="not a regular file"):
        Network.load(tmp_path)


class MakesAFolder:
    """Unpickling this calls os.mkdir(path): the stand-in for arbitrary code in a pickle."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_pickled_objects_are_never_unpickled(saved, tmp_path):
    path, _ = saved
    marker = tmp_path / "pwned"
    rewrite(path, weights_0=np.array([MakesAFolder(marker)], dtype=object))
    with pytest.raises(ModelFileError, match=r"cannot read array 'weights_0'.*allow_pickle"):
        Network.load(path)
    assert not marker.exists()
    with pytest.raises(ModelFileError):
        io.read_network(path)
    assert not marker.exists()
    # The file really does carry code: numpy with allow_pickle=True would have run it.
    with np.load(path, allow_pickle=True) as npz:
        npz["weights_0"]
    assert marker.is_dir()


# ---------------------------------------------------------------------------- atomic writes
def test_atomic_write_bytes_creates_and_replaces(tmp_path):
    target = tmp_path / "out.json"
    io.atomic_write_bytes(target, b"first")
    io.atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_new_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    io.atomic_write_bytes(tmp_path / "out", b"x")
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "net.npz"
    target.write_bytes(b"old content")

    def write(f):
        f.write(b"half of the new content")
        raise error

    with pytest.raises(type(error)):
        io.atomic_write(target, write)
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]


def test_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        io.atomic_write_bytes(tmp_path / "absent" / "out", b"x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444], ids=oct)
def test_replacing_a_file_keeps_its_permission_bits(saved, mode):
    path, net = saved
    os.chmod(path, mode)
    net.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    io.atomic_write_bytes(path, b"x")
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_replacing_breaks_hard_links_as_documented(saved):
    path, net = saved
    link = path.with_name("link.npz")
    os.link(path, link)
    before = link.read_bytes()
    net.weights[0][0, 0] += 1.0
    net.save(path)
    assert link.read_bytes() == before  # the other name still holds the old network
    assert Network.load(path).weights[0][0, 0] == net.weights[0][0, 0]
    assert "hard links" in io.atomic_write.__doc__


def test_save_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    net = Network([3, 2], seed=0)
    missing = tmp_path / "absent" / "net.npz"
    with pytest.raises(FileNotFoundError) as caught:
        net.save(missing)
    assert str(missing) in str(caught.value) and ".tmp" not in str(caught.value)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        net.save(folder)
    assert str(folder) in str(caught.value) and ".tmp" not in str(caught.value)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="not a regular file"):
        io.atomic_write_bytes(fifo, b"x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder", "fifo"]


@pytest.mark.parametrize("length", [249, 255])
def test_a_name_as_long_as_the_file_system_allows_still_saves(tmp_path, length):
    net = Network([3, 2], seed=0)
    path = tmp_path / ("n" * (length - 4) + ".npz")
    net.save(path)
    assert Network.load(path).sizes == [3, 2]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_output_path_problems_are_found_before_writing(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_bytes(b"")
    assert io.output_path_problem(tmp_path / "new.npz") is None
    assert io.output_path_problem(tmp_path / "file") is None
    problems = {
        "": "the file name is empty",
        str(tmp_path / "absent" / "x.npz"): "does not exist",
        str(tmp_path / "file" / "x.npz"): "is not a folder",
        str(tmp_path / "folder"): "is a folder, not a file",
        str(tmp_path / ("n" * 256)): "longer than the 255 bytes",
    }
    for path, reason in problems.items():
        assert reason in io.output_path_problem(path), path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]


def test_file_and_folder_are_fsynced_around_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    io.atomic_write_npz(tmp_path / "arrays", {"a": np.arange(3)})
    assert events == ["fsync file", "replace", "fsync folder"]
    with np.load(tmp_path / "arrays") as npz:
        np.testing.assert_array_equal(npz["a"], np.arange(3))


SAVER = """
import os
import sys
from types import SimpleNamespace
import numpy as np
from matnet import io
target, complete, paused, point = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sizes = [784, 100, 10]
def constant(value):
    return SimpleNamespace(
        sizes=sizes, dtype=np.float64,
        weights=[np.full((o, i), value) for i, o in zip(sizes[:-1], sizes[1:])],
        biases=[np.full((o, 1), value) for o in sizes[1:]],
    )
io.save_network(constant(complete), target)  # a whole save: the file now holds `complete`
whole = os.path.getsize(target)
def pause():
    # Tell the parent, which kills this process now; never return (EOF: the parent is gone).
    print("writing", flush=True)
    sys.stdin.buffer.read()
    os._exit(3)
class Pausing:
    # The temporary file, paused once its first `after` bytes are written (flushed, on disk).
    def __init__(self, f, after):
        self._f, self._after = f, after
    def write(self, data):
        view, at = memoryview(data).cast("B"), self._f.tell()
        if at < self._after <= at + len(view):
            self._f.write(view[: self._after - at])
            self._f.flush()
            pause()
        return self._f.write(view)
    def __getattr__(self, name):
        return getattr(self._f, name)
after = {"start": 1, "middle": whole // 2, "end": whole + 1}[point]
real_atomic_write = io.atomic_write
def pausing_atomic_write(path, write):
    def paused_write(f):
        write(Pausing(f, after))
        f.flush()
        pause()  # "end": everything written, not yet fsynced nor renamed
    real_atomic_write(path, paused_write)
io.atomic_write = pausing_atomic_write  # what save_network's atomic_write_npz calls
io.save_network(constant(paused), target)
"""


def kill_while_saving(target: Path, complete: float, paused: float, point: str) -> int:
    """Run SAVER: it saves a network of ``complete`` whole, then starts saving one of ``paused``
    and stops at ``point`` of writing its temporary file ("start": after its first byte,
    "middle": half of it, "end": all of it, before the fsync and the rename) and says so; it is
    SIGKILLed right then. The size of the temporary file at the kill."""
    child = subprocess.Popen([sys.executable, "-c", SAVER, str(target), str(complete), str(paused), point],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120)
        assert ready, "the saving process never started writing"
        assert child.stdout.readline() == "writing\n", f"the saving process ended: {child.wait()}"
        [temporary] = target.parent.glob(f".{target.name}.*.tmp")
        size = temporary.stat().st_size
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return size


def test_killed_mid_save_the_file_still_holds_a_complete_network(tmp_path):
    """SIGKILL a process while it writes a network's file: at its first byte, halfway, and once
    all is written but not yet renamed. Each time the file holds the last complete save, whole,
    and only the temporary file of the killed save is left beside it."""
    target = tmp_path / "net.npz"
    sizes = [784, 100, 10]
    previous = Network(sizes, seed=0, backend="numpy")
    for arr in parameters(previous):
        arr[...] = 1.0
    previous.save(target)
    whole = target.stat().st_size
    for value, point in enumerate(["start", "middle", "end"], start=2):
        written = kill_while_saving(target, float(value), value + 0.5, point)
        assert {"start": 1, "middle": whole // 2, "end": whole}[point] == written
        saved = io.read_network(target)  # complete and valid, or this raises ModelFileError
        assert saved.sizes == sizes
        assert all((arr == value).all() for arr in [*saved.weights, *saved.biases]), "not the last whole save"
        [leftover] = tmp_path.glob(".net.npz.*.tmp")  # the killed save's, never renamed over the file
        leftover.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]
