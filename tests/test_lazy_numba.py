"""numba is imported only where compiled code runs, and matnet works without it (issue 11).

Each check runs in a fresh interpreter, since this one has imported numba long ago. "Without
numba" is made two ways: not installed (a meta-path finder, installed by a sitecustomize
module first on PYTHONPATH, that finds no ``numba`` or ``numba.*``), and installed but broken
(a ``numba`` package whose import raises ImportError, as a numba built for another NumPy does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import matnet

SOURCE = Path(matnet.__file__).parents[1]  # the tree under test, whatever PYTHONPATH says
ROOT = Path(__file__).parents[1]

NOT_INSTALLED = '''
import sys


class NoNumba:
    """Finds no numba: what an interpreter without numba installed says."""

    def find_spec(self, name, path=None, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoNumba())
'''

BROKEN = 'raise ImportError("Numba needs NumPy 2.2 or less (a test stand-in)")\n'


def python(code: str, *, blocker: Path | None = None, args: tuple[str, ...] = (), timeout: float = 120):
    """Run ``code`` (or ``args`` when code is empty) in a fresh interpreter on this tree."""
    paths = [*([str(blocker)] if blocker else []), str(SOURCE), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    command = [sys.executable, *(["-c", code] if code else args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
                          check=False)


@pytest.fixture(params=["not installed", "broken"])
def without_numba(request, tmp_path) -> Path:
    """A folder that, first on PYTHONPATH, makes numba unimportable."""
    if request.param == "not installed":
        (tmp_path / "sitecustomize.py").write_text(NOT_INSTALLED)
    else:
        (tmp_path / "numba").mkdir()
        (tmp_path / "numba" / "__init__.py").write_text(BROKEN)
    return tmp_path


# ------------------------------------------------------------------ nothing imports it early
NO_NUMBA_AFTER = """
import json, runpy, sys
{body}
print(json.dumps(sorted(m for m in sys.modules if m == "numba" or m.startswith("numba."))))
"""


@pytest.mark.parametrize(
    "body",
    [
        "import matnet.mnist_loader, matnet.cli",
        "import matnet, matnet.datasets, matnet.io, matnet.gradcheck, matnet.network; matnet.Network",
        # the NumPy engine, seeded (no book-mode shuffle, whose replay is compiled), trains,
        # evaluates, saves and loads without numba
        "import numpy as np, tempfile, os\n"
        "from matnet.network import Network\n"
        "x = np.random.default_rng(0).random((30, 6)); y = np.arange(30) % 3\n"
        "net = Network([6, 4, 3], backend='numpy', seed=0)\n"
        "net.SGD((x, y), 2, 5, 1.0, test_data=(x, y), verbose=False)\n"
        "path = os.path.join(tempfile.mkdtemp(), 'n.npz'); net.save(path)\n"
        "assert Network.load(path, backend='numpy').evaluate((x, y)) == net.evaluate((x, y))",
    ],
    ids=["loader and cli", "public modules", "numpy engine"],
)
def test_importing_and_the_numpy_engine_leave_numba_unimported(body):
    result = python(NO_NUMBA_AFTER.format(body=body))
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize("command", [(), ("train",), ("reproduce",), ("gradcheck",), ("evaluate",)])
def test_help_leaves_numba_unimported(command):
    """``python -m matnet [command] --help``."""
    body = (f"sys.argv = {['matnet', *command, '--help']!r}\n"
            "try:\n    runpy.run_module('matnet', run_name='__main__')\nexcept SystemExit:\n    pass")
    result = python(NO_NUMBA_AFTER.format(body=body))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"usage: matnet {' '.join(command)}".rstrip())
    assert json.loads(lines[-1]) == []


# ----------------------------------------------------------------------- matnet without numba
WITHOUT = """
import json, random, sys, warnings
import numpy as np
from matnet.network import Network

rng = np.random.default_rng(0)
x = rng.random((60, 784))
x[x < 0.8] = 0.0
y = rng.integers(0, 10, 60)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    np.random.seed(1)
    random.seed(1)
    net = Network([784, 30, 10])
    net.SGD((x, y), 2, 10, 3.0, test_data=(x, y), verbose=False)
    Network([784, 30, 10]).SGD((x, y), 1, 10, 3.0, verbose=False)  # a second network: no second warning
np.random.seed(1)
random.seed(1)
twin = Network([784, 30, 10], backend="numpy")
twin.SGD((x, y), 2, 10, 3.0, test_data=(x, y), verbose=False)
try:
    Network([784, 30, 10], backend="numba")
    refused = None
except ImportError as exc:
    refused = str(exc)
same = all(np.array_equal(a, b) for a, b in zip(net.weights + net.biases, twin.weights + twin.biases))
print(json.dumps({
    "computed_by": net.computed_by,
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
    "same_as_numpy_backend": same,
    "refused": refused,
    "numba": repr(sys.modules.get("numba", "absent")),
}))
"""


def test_without_numba_auto_runs_on_numpy_with_one_warning(without_numba):
    result = python(WITHOUT, blocker=without_numba)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["numba"] == "'absent'"  # nothing got hold of a numba module
    assert report["computed_by"] == "numpy"
    assert report["same_as_numpy_backend"]  # the book-mode session, on the NumPy engine
    assert len(report["warnings"]) == 1, report["warnings"]
    category, message = report["warnings"][0]
    assert category == "NumbaUnavailableWarning"
    problem = ("numba cannot be imported (Numba needs NumPy 2.2 or less (a test stand-in))"
               if (without_numba / "numba").exists() else "numba is not installed")
    assert message == f"{problem}: matnet runs on its NumPy engine, several times slower (pip install numba)"
    assert report["refused"].startswith("backend 'numba' needs numba, but numba ")
    assert report["refused"].endswith(": pip install numba, or pass backend='numpy'")


NEEDS_DATA = pytest.mark.skipif(not os.environ.get("MATNET_DATA"), reason="MATNET_DATA is not set")


@pytest.mark.parametrize(("args", "status", "line"), [
    (("gradcheck", "--sizes", "5,3,2", "--backend", "numba"), 2,
     "matnet gradcheck: error: cannot build a network of sizes [5, 3, 2]: backend 'numba' needs numba"),
    pytest.param(("reproduce", "--epochs", "1", "--backend", "numba"), 1,
                 "matnet reproduce: backend 'numba' needs numba, but numba ", marks=NEEDS_DATA),
], ids=["gradcheck", "reproduce"])
def test_without_numba_the_cli_says_so_in_one_line(without_numba, args, status, line):
    result = python("", blocker=without_numba, args=("-m", "matnet", *args))
    assert result.returncode == status
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(line)


@pytest.mark.slow
def test_the_numpy_engine_tests_pass_without_numba(tmp_path):
    """The suite's NumPy-engine tests, run with numba not installed (2–4 s: a whole pytest
    session, so it runs in the slow step)."""
    (tmp_path / "sitecustomize.py").write_text(NOT_INSTALLED)
    tests = ["tests/test_network.py", "tests/test_divergence.py", "tests/test_warnings.py",
             "tests/test_odd_calls.py", "tests/test_validation.py"]
    result = python("", blocker=tmp_path, timeout=300,
                    args=("-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, "-k", "numpy"))
    assert result.returncode == 0, result.stdout[-3000:]
    # skipped: the real-MNIST tests when MATNET_DATA is not set
    passed = re.search(r"^(\d+) passed(, \d+ skipped)?, \d+ deselected in ", result.stdout, re.MULTILINE)
    assert passed and int(passed[1]) >= 100, result.stdout[-3000:]
