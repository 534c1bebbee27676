"""Every script in examples/ runs, says what it demonstrates, and passes its own checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
NEEDS_DATA = {"binary_output_layer.py", "no_hidden_layer_and_online.py", "matrix_form_backprop.py",
              "modified_neuron.py"}
QUICK = {"binary_output_layer.py": ["--epochs", "1"],
         "no_hidden_layer_and_online.py": ["--epochs", "1", "--train", "5000"]}
SAYS = {  # the line(s) each script must print: what it demonstrates
    "perceptrons.py": r"^  1 \+ 1 = 10 \(binary\)$",
    "sigmoid_simulates_perceptrons.py": r"^  c = 1000: sigmoid 0\.50, perceptron 0$",
    "gradient_descent_1d.py": r"^eta = 0\.1 descends to the minimum v = 2 at every step; eta = 1\.1 overshoo",
    "binary_output_layer.py": r"^  digit 9: bits \(8 4 2 1\) = 1001$",
    "no_hidden_layer_and_online.py": r"^\[784, 30, 10\], m = 1 \(online\) +η = 0\.3 +correct per epoch: \d+;",
    "matrix_form_backprop.py": r"^  layer 3: \|δ\| = .*vs matnet's backprop \d\.\de[-+]\d\d$",
    "modified_neuron.py": (r"^hidden neuron 0: weighted input (\S+), output \1 = softplus \1 \(a sigmoid",
                           r"^activations: layer 1 \(30 neurons\): this script's function hidden\(\) "
                           r"\(neuron 0 softplus, the others sigmoids\); layer 2 \(10 neurons\): sigmoid; "
                           r"computed by the numpy engine$"),
}


def test_every_example_is_tested_and_listed():
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts == set(SAYS)
    listed = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in listed for name in scripts)


@pytest.mark.parametrize("name", sorted(SAYS))
def test_the_example_runs_and_says_what_it_shows(name):
    if name in NEEDS_DATA and not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set")
    command = [sys.executable, str(EXAMPLES / name), *QUICK.get(name, [])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "PYTHONWARNINGS": "error"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    says = SAYS[name] if isinstance(SAYS[name], tuple) else (SAYS[name],)
    for line in says:
        assert re.search(line, result.stdout, re.MULTILINE), (line, result.stdout)


def test_a_failed_claim_fails_the_script(tmp_path):
    """The scripts' checks are real: an adder with a wrong NAND gate exits non-zero."""
    broken = (EXAMPLES / "perceptrons.py").read_text(encoding="utf-8").replace("(-2, -2), 3,", "(-2, -2), 1,")
    assert broken != (EXAMPLES / "perceptrons.py").read_text(encoding="utf-8")
    script = tmp_path / "perceptrons.py"
    script.write_text(broken, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode != 0 and "AssertionError" in result.stderr
