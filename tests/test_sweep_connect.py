"""Joining a cluster (issue 21, items 7, 9, 10): a ``--scheduler`` that is not a Dask scheduler
answers in seconds, in one line that says what is there, and leaves no ``--out`` file behind.

Each server is a real one on a loopback port, in a thread of this process: one that takes the
connection and never says a word, one that answers in HTTP, one that sends a frame of nonsense.
The sweeps run in this process (``matnet.cli.main``); none gets as far as the data.
"""

from __future__ import annotations

import importlib.util
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

import matnet.cli

pytest.importorskip("distributed", reason="Dask's distributed: pip install 'matnet[dask]'")


def silent(connection: socket.socket) -> None:
    connection.recv(1 << 16)  # takes what the client says, answers nothing, keeps it open


def http(connection: socket.socket) -> None:
    connection.recv(1 << 16)
    connection.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<p>bad request</p>\n")


def nonsense(connection: socket.socket) -> None:
    connection.sendall(struct.pack("<Q", 16) + bytes(range(200, 216)))  # a frame of 16 bytes of no message


@pytest.fixture
def server(request) -> Iterator[Callable[[Callable], str]]:
    """``server(behaviour)``: the tcp:// address of a real server that treats each connection
    with ``behaviour``; shut down after the test."""
    listeners: list[socket.socket] = []
    held: list[socket.socket] = []

    def start(behaviour: Callable[[socket.socket], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:  # closed: the test is over
                    return
                held.append(connection)
                behaviour(connection)

        threading.Thread(target=serve, daemon=True).start()
        return f"tcp://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for sock in listeners + held:
        sock.close()


def sweep(capsys, tmp_path, *options: str) -> tuple[int, str]:
    out = tmp_path / "runs.jsonl"
    argv = ["sweep", "--sizes", "784,10", "--epochs", "1", "--out", str(out), *options]
    try:
        status = matnet.cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    err = capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "runs.jsonl.lock").exists(), "nothing is left behind"
    return status, err


def test_a_server_that_never_answers_is_reported_after_the_connect_timeout(server, tmp_path, capsys):
    """Item 7: the handshake with a server that accepts and says nothing hung forever."""
    address = server(silent)
    status, err = sweep(capsys, tmp_path, "--scheduler", address, "--connect-timeout", "0.5")
    assert status == 2
    assert err == (f"matnet sweep: error: --scheduler {address}: no Dask scheduler answered within 0.5 s "
                   "(--connect-timeout S waits longer)\n")


@pytest.mark.parametrize("behaviour, error", [(http, "MemoryError"), (nonsense, "")])
def test_a_server_of_another_protocol_is_not_a_dask_scheduler(behaviour, error, server, tmp_path, capsys):
    """Item 9: an HTTP server was reported as 'out of memory (Unable to allocate 3.01 EiB …)'."""
    address = server(behaviour)
    status, err = sweep(capsys, tmp_path, "--scheduler", address)
    assert status == 2
    assert err.startswith(f"matnet sweep: error: --scheduler {address}: the server there is not a Dask "
                          f"scheduler (it answers in another protocol: {error}"), err
    assert len(err.splitlines()) == 1 and "memory" not in err


@pytest.mark.parametrize("address", ["", " ", "127.0.0.1", "foo://host:1"])
def test_a_scheduler_address_that_is_none_is_refused(address, tmp_path, capsys):
    """Item 10: ``--scheduler ""`` ran every run here, as if no --scheduler had been given."""
    status, err = sweep(capsys, tmp_path, "--scheduler", address)
    assert status == 2
    assert err.startswith("matnet sweep: error: --scheduler ") and len(err.splitlines()) == 1, err


def test_a_failed_connection_leaves_no_out_file(tmp_path, capsys):
    """Item 10: a --ray that could not start left an empty --out file (so did --scheduler)."""
    if importlib.util.find_spec("ray") is not None:
        pytest.skip("Ray is installed: --ray would start one")
    status, err = sweep(capsys, tmp_path, "--ray")
    assert (status, err) == (2, "matnet sweep: error: --ray needs Ray: pip install 'matnet[ray]'\n")


def test_out_of_memory_says_what_to_try_when_numpy_says_nothing(capsys):
    """Item 9: a MemoryError without a message printed 'out of memory ()'."""

    def command(_args) -> int:
        raise MemoryError()

    args = matnet.cli.build_parser().parse_args(["sweep", "--out", "unused.jsonl"])
    args.run = command
    assert matnet.cli.run(args) == 1
    assert capsys.readouterr().err == "matnet sweep: out of memory (is the batch size too large?)\n"
