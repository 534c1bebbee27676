"""The book's chapter-1 shell session, verbatim but for the two imports, in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from matnet.model import compiling_notice

SESSION = """
import matnet.mnist_loader as mnist_loader
training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
training_data, test_data = training_data[:1000], test_data[:1000]  # the 1,000-image slice
import matnet.network as network
net = network.Network([784, 30, 10])
net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
"""


@pytest.mark.slow
def test_the_books_session_runs_unchanged():
    if not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set")
    result = subprocess.run(
        [sys.executable, "-c", SESSION], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 30
    accuracies = []
    for j, line in enumerate(lines):
        match = re.fullmatch(rf"Epoch {j}: (\d+) / 1000", line)
        assert match, line
        accuracies.append(int(match.group(1)))
    # The session is unseeded, as in the book: runs on 1,000 images end between ~70% and
    # ~90%; anything near the 10% of guessing means the network did not learn.
    assert max(accuracies) >= 500
    # stdout is the book's lines alone; stderr holds nothing, but on a first run (an empty cache,
    # or matnet installed anew where numba has cached nothing) the one notice that it compiles
    said = result.stderr.splitlines()
    assert said == [] or (len(said) == 1 and said[0].startswith(compiling_notice(None).split(" (")[0])), said
