"""Downloading MNIST from public mirrors: streamed to a temporary file, verified, then renamed.

A partial or corrupt download never stays behind: each file is checked (Content-Length, gzip
integrity, decompressed size and SHA-256) before it takes its final name.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import logging
import os
import socket
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

from matnet.errors import DownloadError

from .idx import FILES, RAW_SIZES, SHA256, find_idx_file, missing_files_message

__all__ = ["MIRRORS", "download_mnist"]

# The logger keeps the name it had when the download lived in matnet.datasets.
log = logging.getLogger("matnet.datasets")

#: Public MNIST mirrors, tried in order (the ones torchvision uses).
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_CHUNK = 1 << 16


class _FetchError(Exception):
    """One mirror failed for one file; the message says why."""


def _mirror_list(mirrors: Sequence[str] | str | None) -> list[str]:
    if mirrors is None:
        env = os.environ.get("MATNET_MNIST_MIRRORS", "")
        mirrors = [m.strip() for m in env.split(",") if m.strip()] if env.strip() else MIRRORS
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    result = list(mirrors)
    if not result:
        raise ValueError("no MNIST mirrors given")
    for mirror in result:
        if not mirror.lower().startswith(("http://", "https://")):
            raise ValueError(f"mirror {mirror!r} is not an http:// or https:// URL")
    return result


def download_mnist(
    dest: str | os.PathLike[str],
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download the MNIST files missing from ``dest`` (gzipped) and return ``dest``.

    Each file is tried on each mirror in order (``mirrors``, else the comma-separated
    ``$MATNET_MNIST_MIRRORS``, else :data:`MIRRORS`). It is streamed to a temporary file in
    ``dest``, checked (Content-Length, gzip integrity, decompressed size and SHA-256), and only
    then renamed into place, so a partial or corrupt download never stays behind. ``timeout``
    bounds each connect and each read, in seconds. Raises :class:`DownloadError` listing every
    mirror's failure when a file cannot be had from any mirror; the folders this call created
    are removed again when they are still empty.
    """
    folder = Path(dest).expanduser()
    urls = _mirror_list(mirrors)
    missing = [name for name in FILES if find_idx_file(folder, name) is None]
    if not missing:
        return folder
    created = _missing_folders(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _remove_empty(created)
        raise DownloadError(
            folder,
            f"cannot create the folder: {error.strerror or error}. {missing_files_message(folder, missing)}",
        ) from error
    try:
        _download_missing(folder, missing, urls, timeout)
    except BaseException:  # a failure or an interrupt leaves no empty folder of ours behind
        _remove_empty(created)
        raise
    return folder


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) as long as they are empty: what a download created,
    unless it holds a file that did arrive."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _download_missing(folder: Path, missing: list[str], urls: list[str], timeout: float) -> None:
    """Each of the ``missing`` files from the first mirror that has it, or DownloadError."""
    for position, name in enumerate(missing):
        failures: list[tuple[str, str]] = []
        for mirror in urls:
            url = f"{mirror.rstrip('/')}/{name}.gz"
            log.info("downloading %s into %s", url, folder)
            try:
                _fetch(url, folder / f"{name}.gz", SHA256[name], RAW_SIZES[name], timeout)
                break
            except _FetchError as error:
                log.info("%s failed: %s", url, error)
                failures.append((url, str(error)))
        else:
            attempts = "".join(f"\n  {url}: {reason}" for url, reason in failures)
            raise DownloadError(
                folder,
                f"could not download {name}.gz from any mirror:{attempts}\n"
                f"{missing_files_message(folder, missing[position:])}",
                tuple(failures),
            )


def _fetch(url: str, target: Path, sha256: str, raw_size: int, timeout: float) -> None:
    """Stream ``url`` (a gzip file) to ``target`` atomically, or raise _FetchError."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            _stream_verified(url, out, sha256, raw_size, timeout)
        os.replace(temporary, target)
    except _FetchError:
        raise
    except TimeoutError:
        raise _FetchError(f"timed out after {timeout:g} s") from None
    except http.client.IncompleteRead as error:
        raise _FetchError(f"truncated: the connection closed after {len(error.partial)} more bytes") from None
    except urllib.error.HTTPError as error:
        error.close()
        raise _FetchError(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise _FetchError(_describe_network_error(error.reason, timeout)) from None
    except (OSError, http.client.HTTPException) as error:
        raise _FetchError(_describe_network_error(error, timeout)) from None
    finally:
        Path(temporary).unlink(missing_ok=True)  # gone already after a successful replace


def _describe_network_error(reason: object, timeout: float) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (nothing is listening there)"
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name ({reason.strerror}); are you offline?"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _stream_verified(url: str, out: io.BufferedWriter, sha256: str, raw_size: int, timeout: float) -> None:
    """Copy the response body to ``out`` while gunzipping and hashing it on the fly."""
    request = urllib.request.Request(url, headers={"User-Agent": "matnet-datasets/1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        header = response.headers.get("Content-Length", "")
        length = int(header) if header.isdigit() else None
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing, CRC checked
        digest = hashlib.sha256()
        received = inflated = 0
        while chunk := response.read(_CHUNK):
            received += len(chunk)
            out.write(chunk)
            try:
                piece = inflater.decompress(chunk)
            except zlib.error as error:
                raise _FetchError(f"corrupt gzip data: {error}") from None
            inflated += len(piece)
            if inflated > raw_size:
                raise _FetchError(f"decompresses to more than the expected {raw_size} bytes")
            digest.update(piece)
            if inflater.unused_data:
                raise _FetchError("unexpected bytes after the end of the gzip stream")
    if length is not None and received != length:
        raise _FetchError(f"truncated: received {received} of {length} bytes (Content-Length)")
    if not inflater.eof:
        raise _FetchError(f"truncated: the gzip stream ends early (after {received} bytes)")
    actual = digest.hexdigest()
    if actual != sha256:
        raise _FetchError(f"checksum mismatch: expected sha256 {sha256}, found sha256 {actual}")
