"""Progress bars (matnet.progress): drawn on a terminal, nothing when piped; the long
commands drive them (train per mini-batch, reproduce and sweep per run, gradcheck per parameter)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios

import numpy as np

from matnet import progress
from matnet.gradcheck import numerical_gradient


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_draws_on_a_terminal_with_rate_and_time_left():
    stream = Terminal()
    steps = progress.bar(10, "work", "step", stream)
    for _ in range(10):
        steps.update(1)
    steps.close()
    text = stream.getvalue()
    assert "work:" in text and "/10 [" in text and "step/s" in text and "<" in text  # elapsed<left


def test_nothing_is_drawn_when_piped():
    stream = io.StringIO()  # not a terminal
    steps = progress.bar(10, "work", "step", stream)
    steps.update(10)
    steps.close()
    assert stream.getvalue() == ""


def test_one_bar_per_epoch_in_mini_batches():
    stream = Terminal()
    on_progress = progress.EpochProgress(stream)
    for done, total in [(2, 5), (5, 5), (4, 4)]:
        on_progress(done, total)
    text = stream.getvalue()
    assert "epoch 0:" in text and "/5 [" in text and "epoch 1:" in text and "/4 [" in text
    assert "mini-batch/s" in text


def test_finite_differences_report_every_parameter_once():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((30, 40)), rng.standard_normal((3, 30))]
    biases = [rng.standard_normal((30, 1)), rng.standard_normal((3, 1))]
    told = []
    numerical_gradient(weights, biases, rng.random((40, 1)), np.eye(3)[:, :1], on_parameters=told.append)
    assert sum(told) == 30 * 40 + 3 * 30 + 30 + 3 and max(told) <= 500


def test_gradcheck_on_a_real_terminal_shows_its_bar_and_piped_does_not():
    command = [sys.executable, "-m", "matnet", "gradcheck", "--sizes", "60,30,10", "--backend", "numpy"]
    piped = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert piped.returncode == 0 and "finite differences:" not in piped.stderr
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    assert b"finite differences:" in seen and b"parameter" in seen
