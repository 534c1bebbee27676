"""A real HTTP server on 127.0.0.1 for the download tests, plus shared data-test helpers.

``MirrorServer(directory)`` serves the files of ``directory`` from a background thread on a
free loopback port. Two extra behaviours let tests provoke what real mirrors do wrong:
paths under ``/lying/`` send the file's first 1000 bytes, announce 1,000,000 and hang up, paths
under ``/stall/`` send the headers and then nothing until the server is shut down.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def mnist_dir_or_skip() -> Path:
    """The real MNIST folder named by MATNET_DATA (CI always sets it), or skip the test."""
    folder = os.environ.get("MATNET_DATA", "")
    if not folder:
        pytest.skip("MATNET_DATA is not set: it must name the folder holding the MNIST files")
    path = Path(folder).resolve()
    if not path.is_dir():
        pytest.skip(f"MATNET_DATA={folder} is not a folder")
    return path


def link_copy(source: Path, dest: Path) -> Path:
    """``dest`` holding symlinks to the four files of ``source`` (cheap, read-only copy)."""
    dest.mkdir(parents=True, exist_ok=True)
    for file in sorted(source.iterdir()):
        if "-idx" in file.name:
            (dest / file.name).symlink_to(file)
    return dest


def real_copy(source: Path, dest: Path, names: list[str] | None = None) -> Path:
    """``dest`` holding real copies of (some of) the gzipped IDX files of ``source``."""
    dest.mkdir(parents=True, exist_ok=True)
    for file in sorted(source.iterdir()):
        if "-idx" in file.name and (names is None or file.name.split(".")[0] in names):
            shutil.copyfile(file, dest / file.name)
    return dest


class _Handler(SimpleHTTPRequestHandler):
    stall_release: threading.Event

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/lying/"):  # the first 1000 bytes of the real file
            content = Path(self.translate_path(self.path.replace("/lying", "", 1))).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(content[:1000])
            self.close_connection = True
            return
        if self.path.startswith("/stall/"):
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.flush()
            self.stall_release.wait(30)
            self.close_connection = True
            return
        super().do_GET()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that stop reading (a failed checksum, a timeout) are expected here."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class MirrorServer:
    """Serve ``directory`` over HTTP on 127.0.0.1 until :meth:`close`; ``url`` ends in '/'."""

    def __init__(self, directory: Path) -> None:
        release = threading.Event()
        handler = type("Handler", (_Handler,), {"stall_release": release})
        self._release = release
        self._server = _QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> MirrorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
