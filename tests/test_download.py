"""download_mnist against a real HTTP server on 127.0.0.1 serving real (and broken) files."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from matnet.data import datasets
from matnet.datasets import FILES, download_mnist, load_mnist
from matnet.errors import DataError, DownloadError
from tests._http_server import (
    MirrorServer,
    closed_port_url,
    link_copy,
    mnist_dir_or_skip,
    real_copy,
)

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILES
GZ_NAMES = sorted(f"{name}.gz" for name in FILES)


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    return mnist_dir_or_skip()


@pytest.fixture(autouse=True)
def loopback_without_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never send the loopback requests to a proxy configured in the environment."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    """``serve(folder)`` starts a server for ``folder`` and returns its URL; all are shut down
    at teardown."""
    servers: list[MirrorServer] = []

    def start(folder: Path) -> str:
        servers.append(MirrorServer(folder))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MATNET_DATA, matnet 'installed' outside a checkout, the user cache in tmp_path."""
    monkeypatch.delenv("MATNET_DATA", raising=False)
    monkeypatch.setattr(datasets, "_SOURCE_ROOT", tmp_path / "site-packages")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MATNET_MNIST_MIRRORS", closed_port_url())
    return tmp_path / "cache" / "matnet" / "mnist"


def listing(folder: Path) -> list[str]:
    """Every entry of ``folder``, hidden temporary files included."""
    return sorted(entry.name for entry in folder.iterdir()) if folder.exists() else []


def assert_same_data(split: datasets.Split, reference: datasets.Split) -> None:
    for part, expected in zip(split, reference, strict=True):
        assert np.array_equal(part.labels, expected.labels)
        assert np.array_equal(part.images, expected.images)


def test_download_into_an_empty_folder_then_load(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    url = serve(link_copy(mnist_dir, tmp_path / "served"))
    dest = tmp_path / "new" / "mnist"
    assert download_mnist(dest, mirrors=[url], timeout=5) == dest
    assert listing(dest) == GZ_NAMES
    for name in FILES:
        assert (dest / f"{name}.gz").read_bytes() == (mnist_dir / f"{name}.gz").read_bytes()
    assert_same_data(load_mnist(dest), load_mnist(mnist_dir))


@pytest.mark.parametrize("from_checkout", [False, True])
def test_load_mnist_downloads_into_the_default_folder(
    mnist_dir: Path,
    tmp_path: Path,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Path], str],
    from_checkout: bool,
) -> None:
    url = serve(link_copy(mnist_dir, tmp_path / "served"))
    # Mirrors come from the environment, in order: the dead one first, then the good one.
    monkeypatch.setenv("MATNET_MNIST_MIRRORS", f"{closed_port_url()}, {url}")
    expected_dest = isolated
    if from_checkout:
        checkout = tmp_path / "checkout"
        (checkout / "data").mkdir(parents=True)
        (checkout / "pyproject.toml").write_text("[project]\n")
        monkeypatch.setattr(datasets, "_SOURCE_ROOT", checkout)
        expected_dest = checkout / "data" / "mnist"
    split = load_mnist()
    assert listing(expected_dest) == GZ_NAMES
    assert_same_data(split, load_mnist(mnist_dir))


def test_a_404_falls_through_to_the_next_mirror(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    url = serve(link_copy(mnist_dir, tmp_path / "served"))
    dest = tmp_path / "dest"
    download_mnist(dest, mirrors=[f"{url}no-such-folder/", url], timeout=5)
    assert listing(dest) == GZ_NAMES


def test_only_missing_files_are_downloaded(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    url = serve(real_copy(mnist_dir, tmp_path / "served", [TEST_IMAGES, TEST_LABELS]))
    dest = real_copy(mnist_dir, tmp_path / "dest", [TRAIN_IMAGES, TRAIN_LABELS])
    download_mnist(dest, mirrors=[url], timeout=5)
    assert listing(dest) == GZ_NAMES


def test_truncated_file_leaves_nothing_behind(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    served = link_copy(mnist_dir, tmp_path / "served")
    whole = (mnist_dir / f"{TRAIN_IMAGES}.gz").read_bytes()
    (served / f"{TRAIN_IMAGES}.gz").unlink()
    (served / f"{TRAIN_IMAGES}.gz").write_bytes(whole[: len(whole) // 2])
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match="truncated: the gzip stream ends early"):
        download_mnist(dest, mirrors=[serve(served)], timeout=5)
    assert listing(dest) == []


def test_short_body_against_content_length_leaves_nothing_behind(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    url = serve(link_copy(mnist_dir, tmp_path / "served"))
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match=r"truncated: received \d+ of 1000000 bytes"):
        download_mnist(dest, mirrors=[f"{url}lying/"], timeout=5)
    assert listing(dest) == []


def test_wrong_content_fails_its_checksum_and_leaves_nothing_behind(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    served = link_copy(mnist_dir, tmp_path / "served")
    (served / f"{TRAIN_LABELS}.gz").unlink()
    (served / f"{TRAIN_LABELS}.gz").symlink_to(mnist_dir / f"{TEST_LABELS}.gz")
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match="checksum mismatch") as caught:
        download_mnist(dest, mirrors=[serve(served)], timeout=5)
    assert listing(dest) == [f"{TRAIN_IMAGES}.gz"]  # verified before the bad one: kept
    assert datasets.SHA256[TRAIN_LABELS] in str(caught.value)


def test_oversized_content_is_cut_off(mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / f"{TRAIN_LABELS}.gz").symlink_to(mnist_dir / f"{TRAIN_IMAGES}.gz")
    dest = real_copy(mnist_dir, tmp_path / "dest", [TRAIN_IMAGES])
    with pytest.raises(DownloadError, match="decompresses to more than the expected 60008"):
        download_mnist(dest, mirrors=[serve(served)], timeout=5)
    assert listing(dest) == [f"{TRAIN_IMAGES}.gz"]


def test_corrupt_gzip_leaves_nothing_behind(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    served = link_copy(mnist_dir, tmp_path / "served")
    content = bytearray((mnist_dir / f"{TRAIN_IMAGES}.gz").read_bytes())
    content[1000] ^= 0xFF
    (served / f"{TRAIN_IMAGES}.gz").unlink()
    (served / f"{TRAIN_IMAGES}.gz").write_bytes(content)
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match=r"corrupt gzip data|checksum mismatch|more than"):
        download_mnist(dest, mirrors=[serve(served)], timeout=5)
    assert listing(dest) == []


def test_all_mirrors_failing_says_what_to_do(
    tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch, serve: Callable[[Path], str]
) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    url = serve(empty)
    monkeypatch.setenv("MATNET_MNIST_MIRRORS", f"{url}a/,{url}b/")
    with pytest.raises(DataError) as caught:
        load_mnist()
    error = caught.value
    assert isinstance(error, DownloadError)
    message = str(error)
    assert "MATNET_DATA" in message and str(isolated) in message
    assert all(name in message for name in FILES)
    assert [reason for _, reason in error.failures] == ["HTTP 404 File not found"] * 2
    assert [u for u, _ in error.failures] == [f"{url}{m}/{TRAIN_IMAGES}.gz" for m in "ab"]
    assert listing(isolated) == []


def test_nothing_listening_fails_at_once(isolated: Path) -> None:
    """A refused connection is reported as refused, once, and not waited out until the 30 s
    timeout (which would be reported as a timeout)."""
    with pytest.raises(DownloadError, match="connection refused") as caught:
        load_mnist()  # the isolated environment's only mirror is a closed port
    reasons = [reason for _, reason in caught.value.failures]
    assert reasons == ["connection refused (nothing is listening there)"]
    assert "MATNET_DATA" in str(caught.value)
    assert listing(isolated) == []


def test_a_failed_download_removes_the_folders_it_created(tmp_path: Path, isolated: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """From a checkout, the default folder is its data/mnist: a failed download leaves data/ as
    it found it, and a folder it had to make several levels deep is gone too."""
    checkout = tmp_path / "checkout"
    (checkout / "data").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")
    monkeypatch.setattr(datasets, "_SOURCE_ROOT", checkout)
    with pytest.raises(DownloadError, match="connection refused"):
        load_mnist()  # the isolated environment's only mirror is a closed port
    assert listing(checkout / "data") == []
    with pytest.raises(DownloadError, match="connection refused"):
        download_mnist(tmp_path / "new" / "deep" / "mnist", timeout=5)
    assert not (tmp_path / "new").exists()


def test_a_stalled_server_times_out(
    mnist_dir: Path, tmp_path: Path, serve: Callable[[Path], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's timeout reaches the socket: a server that sends its headers and then
    nothing for 30 s ends the download with a timeout, not with a body cut short at 30 s."""
    timeouts: list[float] = []

    def spy(request: object, *args: object, **kwargs: object) -> object:
        timeouts.append(kwargs["timeout"])
        return urlopen(request, *args, **kwargs)

    urlopen = urllib.request.urlopen
    monkeypatch.setattr(urllib.request, "urlopen", spy)
    url = serve(link_copy(mnist_dir, tmp_path / "served"))
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match=r"timed out after 0.3 s"):
        download_mnist(dest, mirrors=[f"{url}stall/"], timeout=0.3)
    assert timeouts == [0.3]
    assert listing(dest) == []


@pytest.mark.parametrize("mirror", ["ftp://example.org/mnist/", "file:///tmp/", "mnist/"])
def test_mirrors_must_be_http(tmp_path: Path, mirror: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        download_mnist(tmp_path, mirrors=[mirror])
