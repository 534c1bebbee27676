"""``matnet`` on the command line: real data, real files, exit codes and one-line errors."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matnet import cli
from matnet.network import Network


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matnet.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def data_dir():
    if not os.environ.get("MATNET_DATA"):
        pytest.skip("MATNET_DATA is not set")
    return os.environ["MATNET_DATA"]


def test_train_prints_the_books_lines_and_writes_json(data_dir, tmp_path, capsys):
    out = tmp_path / "run.json"
    saved = tmp_path / "net.npz"
    args = ["train", "--sizes", "784,20,10", "--epochs", "2", "--seed", "1"]
    code = cli.main([*args, "--json", str(out), "--save", str(saved)])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 1"]
    assert all(line.endswith(" s)") and " / 10000  (" in line for line in lines)
    report = json.loads(out.read_text())
    assert report["sizes"] == [784, 20, 10] and len(report["per_epoch"]) == 2
    assert report["per_epoch"][1]["n_test"] == 10000
    assert 0.8 < report["best_accuracy"] <= 1.0
    assert all(e["seconds"] > 0 for e in report["per_epoch"])
    assert Network.load(saved).sizes == [784, 20, 10]


def test_same_seed_same_result(data_dir, tmp_path):
    reports = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        assert cli.main(["train", "--epochs", "1", "--seed", "7", "--json", str(path)]) == 0
        reports.append(json.loads(path.read_text())["per_epoch"][0]["correct"])
    assert reports[0] == reports[1]


def test_missing_data_is_one_line_and_exit_1(tmp_path):
    result = run_cli("train", "--epochs", "1", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0] and "train-images-idx3-ubyte" in lines[0]


def test_baselines_match_the_book(data_dir, capsys):
    assert cli.main(["baseline", "darkness"]) == 0  # in this process: it reads the training set
    said = capsys.readouterr().out.strip()
    assert said == "Baseline classifier using darkness: 2225 of 10000 values correct."
    guess = run_cli("baseline", "random")  # a real process, as a user runs it
    correct = int(guess.stdout.split(": ")[1].split(" of ")[0])
    assert 850 <= correct <= 1150


def test_evaluate_prints_accuracy_and_confusion_matrix(data_dir, tmp_path, capsys):
    net = Network([784, 10], seed=0)
    net.SGD(_slice(), 1, 10, 3.0, verbose=False)
    path = tmp_path / "n.npz"
    net.save(path)
    assert cli.main(["evaluate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    correct = int(lines[0].split(" / ")[0])
    rows = [list(map(int, line.split()[1:])) for line in lines[3:13]]
    assert np.trace(np.array(rows)) == correct
    assert np.array(rows).sum() == 10000


def test_evaluate_refuses_a_missing_file(tmp_path):
    result = run_cli("evaluate", str(tmp_path / "none.npz"))
    assert result.returncode == 1
    assert "none.npz" in result.stderr and "Traceback" not in result.stderr


def _slice():
    from matnet import datasets

    training = datasets.load_mnist().training
    return training.images[:2000], training.labels[:2000]


# --------------------------------------------------------------- every mistake is one line
def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture(scope="module")
def networks(tmp_path_factory) -> dict[str, str]:
    """Saved networks that do and do not fit MNIST."""
    folder = tmp_path_factory.mktemp("nets")
    made = {}
    for name, sizes in {"mnist": [784, 10], "5 outputs": [784, 5], "20 inputs": [20, 10]}.items():
        made[name] = str(folder / f"{name.replace(' ', '-')}.npz")
        Network(sizes, seed=0).save(made[name])
    garbage = folder / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    made["garbage"] = str(garbage)
    made["folder"] = str(folder)
    return made


MISTAKES = {
    "input size is not 784": (["train", "--sizes", "100,30,10"], 2, "must start with 784"),
    "output size is not 10": (["train", "--sizes", "784,30,5"], 2, "end with 10"),
    "negative seed (train)": (["train", "--seed", "-1"], 2, "--seed"),
    "negative seed (baseline)": (["baseline", "random", "--seed", "-1"], 2, "--seed"),
    "negative seed (gradcheck)": (["gradcheck", "--seed", "-1"], 2, "--seed"),
    "empty --save": (["train", "--save", ""], 2, "--save '': the file name is empty"),
    "--json into a missing folder": (
        ["train", "--json", "/no/dir/r.json", "--save", "{tmp}/net.npz"], 2, "folder /no/dir does not exist"
    ),
    "--save onto a folder": (["train", "--save", "{tmp}"], 2, "is a folder, not a file"),
    "--save and --json the same file": (
        ["train", "--save", "{tmp}/x", "--json", "{tmp}/x"], 2, "one would overwrite the other"
    ),
    "bench --json into a missing folder": (["bench", "--json", "/no/dir/b.json"], 2, "/no/dir does not"),
    "evaluate a network with 5 outputs": (["evaluate", "{5 outputs}"], 2, "maps 784 inputs to 5 outputs"),
    "evaluate a network with 20 inputs": (["evaluate", "{20 inputs}"], 2, "maps 20 inputs to 10 outputs"),
    "evaluate a file that is not a network": (["evaluate", "{garbage}"], 1, "not a readable .npz file"),
    "no command": ([], 2, "required: COMMAND"),
    "a network too large to build": (
        ["gradcheck", "--sizes", f"784,{10**12},10"], 2, f"cannot build a network of sizes [784, {10**12}, 1"
    ),
}

# Refused by argparse, like "negative seed" and "no command" above: the same one-line path,
# so these are made in-process.
BAD_ARGUMENTS = {
    "negative eta": (["train", "--eta", "-1"], "--eta"),
    "sizes that are not ints": (["train", "--sizes", "784,x,10"], "--sizes"),
    "zero batch size": (["train", "--batch-size", "0"], "--batch-size"),
    "negative epochs": (["train", "--epochs", "-2"], "--epochs"),
    "zero epochs": (["train", "--epochs", "0"], "argument --epochs: expected an int ≥ 1, got '0'"),
    "unknown backend": (["train", "--backend", "gpu"], "--backend"),
    "unknown dtype": (["train", "--dtype", "float16"], "--dtype"),
    "seed beyond 2**32": (["train", "--seed", str(2**32)], "--seed"),
    "unknown --only": (["reproduce", "--only", "bogus"], "invalid choice: 'bogus'"),
    "unknown baseline": (["baseline", "median"], "invalid choice: 'median'"),
}


@pytest.fixture(scope="module")
def mistakes(networks, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every mistake in MISTAKES made for real, all at once (each is a separate process)."""
    tmp = tmp_path_factory.mktemp("out")
    values = {**networks, "tmp": str(tmp)}
    children = {
        name: subprocess.Popen(
            [sys.executable, "-m", "matnet.cli", *(arg.format(**values) for arg in args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name, (args, _, _) in MISTAKES.items()
    }
    results = {}
    for name, child in children.items():
        stdout, stderr = child.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    assert sorted(p.name for p in tmp.iterdir()) == [], "a mistaken command wrote something"
    return results


@pytest.mark.parametrize("case", list(MISTAKES))
def test_every_mistake_is_one_line_on_stderr(mistakes, case):
    _, codes, message = MISTAKES[case]
    result = mistakes[case]
    line = one_line(result.stderr)
    assert result.returncode in ((codes,) if isinstance(codes, int) else codes), line
    assert message in line
    assert "Epoch" not in result.stdout  # refused before any training


def refused(capsys, args: list[str]) -> str:
    """The one line on stderr with which the command line refuses ``args`` (exit status 2)."""
    with pytest.raises(SystemExit) as caught:
        cli.main(args)
    assert caught.value.code == 2
    return one_line(capsys.readouterr().err)


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_are_one_line_and_exit_2(capsys, case):
    args, message = BAD_ARGUMENTS[case]
    line = refused(capsys, args)
    assert message in line and line.endswith(f"(see 'matnet {args[0]} --help')")


# A mistake in a subcommand's arguments points to that subcommand's help, with a hint where one helps.
HINTED = {
    "a mistyped option": (
        ["train", "--epocs", "2"],
        "matnet train: error: unrecognized arguments: --epocs 2; did you mean --epochs? "
        "(see 'matnet train --help')"),
    "a mistyped option=value": (
        ["evaluate", "n.npz", "--erors=e.png"],
        "matnet evaluate: error: unrecognized arguments: --erors=e.png; did you mean --errors? "
        "(see 'matnet evaluate --help')"),
    "an unknown word": (
        ["gradcheck", "extra"],
        "matnet gradcheck: error: unrecognized arguments: extra (see 'matnet gradcheck --help')"),
    "a space before a comma": (
        ["train", "--sizes", "784,30", ",10"],
        "matnet train: error: unrecognized arguments: ,10; --sizes takes one comma-separated word, "
        "without spaces: --sizes 784,30,10 (see 'matnet train --help')"),
    "spaces after the commas": (
        ["train", "--sizes", "784,", "30,", "10"],
        "matnet train: error: argument --sizes: --sizes must be comma-separated ints like 784,30,10, "
        "got '784,'; --sizes takes one comma-separated word, without spaces: --sizes 784,30,10 "
        "(see 'matnet train --help')"),
    "a space in a list of rates": (
        ["sweep", "--out", "s.jsonl", "--eta", "0.5,", "3"],
        "matnet sweep: error: unrecognized arguments: 3; --eta takes one comma-separated word, "
        "without spaces: --eta 0.5,3 (see 'matnet sweep --help')"),
    "an abbreviated option": (
        ["reproduce", "--seed", "3"],
        "matnet reproduce: error: unrecognized arguments: --seed 3; did you mean --seeds? "
        "(see 'matnet reproduce --help')"),
    "no command": ([], "matnet: error: the following arguments are required: COMMAND (see 'matnet --help')"),
}


@pytest.mark.parametrize("case", list(HINTED))
def test_a_mistake_points_to_the_commands_help_with_a_hint(capsys, case):
    args, said = HINTED[case]
    assert refused(capsys, args) == said


def test_a_networks_refusal_is_one_line_through_the_cli(capsys):
    with pytest.raises(cli.UsageError, match=r"cannot build a network of sizes \[784, 30, 10\]: dtype"):
        cli.train.build_network([784, 30, 10], dtype=np.int32)
    args = cli.build_parser().parse_args(["gradcheck", "--sizes", "3,2"])
    args.backend = "gpu"  # what argparse would refuse, made to reach Network itself
    assert cli.run(args) == 2
    assert one_line(capsys.readouterr().err).startswith("matnet gradcheck: error: cannot build a network")


def test_a_broken_pipe_is_not_a_traceback(data_dir, networks):
    child = subprocess.Popen(
        [sys.executable, "-m", "matnet.cli", "evaluate", networks["mnist"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    child.stdout.close()  # the reader leaves before the first line
    with child.stderr:
        stderr = child.stderr.read()
    child.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


# --------------------------------------------------------- outputs: checked first, never lost
def test_a_network_that_cannot_be_saved_where_asked_is_rescued(tmp_path, capsys):
    net = Network([3, 2], seed=0)
    report = tmp_path / "run.json"
    status = cli.train.write_outputs(net, str(tmp_path / "gone" / "net.npz"), str(report), {"ok": True})
    assert status == 1
    line = one_line(capsys.readouterr().err)
    assert "cannot save the network" in line and "gone/net.npz" in line
    rescued = Path(line.split("it was saved to ")[1].split(" instead")[0])
    try:
        np.testing.assert_array_equal(Network.load(rescued).weights[0], net.weights[0])
    finally:
        rescued.unlink()
    assert json.loads(report.read_text()) == {"ok": True}  # the summary is still written


def test_a_network_that_cannot_be_saved_at_all_is_one_line(tmp_path, capsys):
    net = Network([3, 2], seed=0, check_finite=False)
    net.weights[0][0, 0] = np.nan  # as --no-check-finite can leave it
    assert cli.train.write_outputs(net, str(tmp_path / "net.npz"), None, {}) == 1
    assert "cannot save the network: weights_0 contains NaN or inf" in one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def train_tiny(tmp_path, name: str, *args: str, capsys) -> tuple[Network, dict, list[str]]:
    """``matnet train`` of [784, 10] for an epoch: the network, the JSON summary, the stderr lines
    that mention a seed."""
    saved, summary = tmp_path / f"{name}.npz", tmp_path / f"{name}.json"
    assert cli.main(["train", "--sizes", "784,10", "--epochs", "1", *args, "--save", str(saved),
                     "--json", str(summary)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "seed" in line]
    return Network.load(saved), json.loads(summary.read_text()), said


def test_train_without_a_seed_says_the_seed_it_drew_which_repeats_the_run(data_dir, tmp_path, capsys):
    drawn, drawn_json, said = train_tiny(tmp_path, "drawn", capsys=capsys)
    seed = drawn_json["seed"]
    assert said == [f"matnet train: seed {seed} (pass --seed {seed} to repeat this run)"]
    repeated, repeated_json, said_again = train_tiny(tmp_path, "repeated", "--seed", str(seed), capsys=capsys)
    assert said_again == []  # given, not drawn: nothing to say
    assert repeated_json["seed"] == seed
    assert repeated_json["per_epoch"][0]["correct"] == drawn_json["per_epoch"][0]["correct"]
    np.testing.assert_array_equal(repeated.weights[0], drawn.weights[0])


def test_evaluate_reads_only_the_test_files(data_dir, networks, tmp_path, capsys):
    from tests._http_server import link_copy

    folder = link_copy(Path(data_dir), tmp_path / "mnist")
    (folder / "train-images-idx3-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"broken")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    assert cli.main(["evaluate", networks["mnist"], "--data-dir", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("%)")


# ---------------------------------------------------------------------------- the help
def help_text(*args: str, capsys) -> str:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([*args, "--help"])
    return capsys.readouterr().out


COMMANDS = ["", "train", "evaluate", "baseline", "gradcheck", "reproduce", "sweep", "bench"]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **action.choices}


def test_help_has_no_markup_and_shows_defaults_and_choices(capsys):
    texts = {command: help_text(*command.split(), capsys=capsys) for command in COMMANDS}
    assert set(texts) == set(subparsers())  # every command's help is checked
    for command, text in texts.items():
        assert "`" not in text and not re.search(r":[a-z]+:", text), (command, text)  # no reST
    train = " ".join(texts["train"].split())
    assert "(default: 30)" in train and "(default: 784,30,10)" in train and "(default: 3.0)" in train
    assert "--dtype {float64,float32}" in train and "(default: float64)" in train
    assert "(default: a fresh seed each run, printed so that the run can be repeated)" in train
    from matnet.experiments.reproduce import CHAPTERS

    reproduce = " ".join(texts["reproduce"].split())
    assert "run only this experiment of the chapter (repeatable), one of: " + ", ".join(
        repr(e.name) for chapter in CHAPTERS.values() for e in chapter.experiments) in reproduce
    assert "--chapter {1,3}" in reproduce and "(default: 1)" in reproduce


OUTPUT_FILES = ("json", "save", "plot", "errors", "gallery", "out")  # None: not written, nothing to say


@pytest.mark.parametrize("command", COMMANDS[1:])
def test_every_option_shows_its_default_and_choices(capsys, command):
    """Each option that has a default says it (argparse's own words, or ours where the
    default is None), and each option with choices lists them."""
    text = " ".join(help_text(command, capsys=capsys).split())
    for action in subparsers()[command]._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS or action.dest == "help":
            continue
        if action.default is not None and action.default is not False:  # 0 is a default to show
            assert f"(default: {action.default})" in text, (command, action.dest)
        elif type(action) is argparse._StoreAction and action.dest not in OUTPUT_FILES:
            assert "default:" in (action.help or ""), (command, action.dest)  # says what None means
        if action.choices is not None:
            listed = "{" + ",".join(map(str, action.choices)) + "}"
            names = ", ".join(map(repr, action.choices))
            assert listed in text or names in text, (command, action.dest)


def test_python_m_matnet_help_is_plain_text():
    result = subprocess.run([sys.executable, "-m", "matnet", "--help"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: matnet [-h] COMMAND ...")
    assert "`" not in result.stdout and not re.search(r":[a-z]+:", result.stdout)
    for command in COMMANDS[1:]:
        assert f"    {command} " in result.stdout or f"    {command}\n" in result.stdout, command


# ------------------------------------------------------------------ the README's command table
README = Path(__file__).parents[1] / "README.md"


def readme_commands() -> dict[str, str]:
    """The README's command table: each command's name, and its first two cells as one text
    (the command with its positionals, and its options)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| command | options | what it does |"):].split("\n\n")[0]
    rows = {}
    for line in table.splitlines()[2:]:
        command, options = (cell.strip().replace("\\|", "|") for cell in line.strip("|").split(" | ")[:2])
        name = command.strip("`").split()[1]
        rows[name] = f"{command} {options}"
    return rows


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions for name in action.option_strings
            if name.startswith("--") and name != "--help"}


def test_the_readmes_command_table_lists_every_option_of_every_command_and_no_other(capsys):
    """The table a reader scans and `matnet <command> --help` say the same: every command, every
    option (by its name), every positional argument."""
    table = readme_commands()
    commands = {name: parser for name, parser in subparsers().items() if name}
    assert list(table) == list(commands)  # every command, in `matnet --help`'s order
    for name, parser in commands.items():
        listed = dict(re.findall(r"(--[a-z][a-z-]*)( [^-\s][^\s]*)?", table[name]))  # option: value shown
        options = long_options(parser)
        assert set(listed) == options, (name, "README only:", set(listed) - options, "--help only:",
                                        options - set(listed))
        shown = help_text(name, capsys=capsys)
        for action in parser._actions:
            if action.option_strings and action.dest != "help":  # a value shown where the option takes one
                option = next(o for o in action.option_strings if o.startswith("--"))
                assert option in shown and bool(listed[option]) == (action.nargs != 0), (name, option)
            elif not action.option_strings:  # a positional: its choices, or its name in capitals
                said = "|".join(action.choices) if action.choices else action.dest.upper()
                assert said in table[name], (name, said)
