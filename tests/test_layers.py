"""The house rules, read from the source: layers import downwards only, no import cycles, the
core imports nothing of the data layer, the oracle shares no code with the engines, and no
module reaches into another's private state (issues 11 and 19).

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import matnet

PACKAGE = Path(matnet.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in MODULES.items()}


def imports(name: str) -> set[str]:
    """The matnet modules ``name`` imports, anywhere in its file."""
    package = (name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]).split(".")
    found = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from .stream import …: relative to this module's package
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


FACADES = ("matnet.mnist_loader", "matnet.model", "matnet.network", "matnet.network2", "matnet.io",
           "matnet.gradcheck")


def layer(name: str) -> int:
    """0 errors and frozen arrays; 1 data; 2 core; 3 the facades (the book's modules, io,
    gradcheck); 4 what uses them."""
    if name in ("matnet.errors", "matnet.frozen"):
        return 0
    if name.startswith("matnet.data") or name == "matnet.datasets":
        return 1
    if name.startswith("matnet.core"):
        return 2
    if name in FACADES:
        return 3
    return 4  # matnet itself (its lazy Network), cli, __main__, experiments, bench


GRAPH = {name: imports(name) for name in MODULES}


def test_the_modules_are_found():
    assert {"matnet.network", "matnet.core.engine", "matnet.core.loop", "matnet.data.idx", "matnet.io",
            "matnet.cli"} <= set(GRAPH)


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_layers_import_downwards_only(name):
    upward = sorted(t for t in GRAPH[name] if layer(t) > layer(name))
    assert not upward, f"{name} (layer {layer(name)}) imports {upward}"


def test_no_import_cycles():
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycle = [*path[path.index(target):], target] if target in path else [name, target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n.startswith("matnet.core")))
def test_the_core_imports_nothing_of_the_data_layer(name):
    assert not [t for t in GRAPH[name] if layer(t) == 1], f"{name} imports {sorted(GRAPH[name])}"


def test_the_oracle_shares_no_code_with_the_engine():
    # the maths table, and the input checks its backend shares with every backend; no algorithm
    assert GRAPH["matnet.core.loop"] <= {"matnet.core.maths", "matnet.core.inputs"}
    assert "matnet.core.loop" not in GRAPH["matnet.core.engine"]


# Names outside matnet whose underscore matnet must use: the book's mnist.pkl.gz pickle
# refers to numpy's reconstruction functions by these names. (Nothing of numba's: matnet uses
# its public configuration and dispatcher methods only.)
FOREIGN_PRIVATE = {("matnet.data.book_pickle", "_reconstruct"), ("matnet.data.book_pickle", "_frombuffer")}


def reach_ins(name: str) -> list[str]:
    """``x._private`` where x is not self, cls, super() or an object of the class being
    defined; and ``from matnet... import _private``."""
    found = []

    def visit(node: ast.AST, own: set[str]) -> None:
        if isinstance(node, ast.ClassDef):
            own = own | {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            own |= {a.attr for a in ast.walk(node) if isinstance(a, ast.Attribute)
                    and isinstance(a.value, ast.Name) and a.value.id == "self"}
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            value = node.value
            is_self = isinstance(value, ast.Name) and value.id in ("self", "cls")
            is_super = isinstance(value, ast.Call) and getattr(value.func, "id", None) == "super"
            if not (is_self or is_super or node.attr in own or (name, node.attr) in FOREIGN_PRIVATE):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matnet"):
            found.extend(f"line {node.lineno}: from {node.module} import {a.name}" for a in node.names
                         if a.name.startswith("_") and not a.name.startswith("__"))
        for child in ast.iter_child_nodes(node):
            visit(child, own)

    visit(TREES[name], set())
    return found


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_no_module_reaches_into_private_state(name):
    assert reach_ins(name) == []


def test_the_private_state_check_finds_a_reach_in():
    source = ("from matnet.core.shuffle import _kernel\n"
              "def f(net):\n    return net._engine\n\n"
              "class A:\n    def g(self, other):\n        return other._h(), self._x, other._g()\n\n"
              "    def _g(self):\n        return super()._g()\n")
    TREES["matnet.example"], MODULES["matnet.example"] = ast.parse(source), PACKAGE / "example.py"
    try:
        assert reach_ins("matnet.example") == [
            "line 1: from matnet.core.shuffle import _kernel", "line 3: net._engine", "line 7: other._h"]
    finally:
        del TREES["matnet.example"], MODULES["matnet.example"]


def test_only_the_command_line_knows_argparse():
    for name, tree in TREES.items():
        if name.startswith("matnet.cli"):
            continue
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "argparse" not in imported, name
        assert not [f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                    and f.name in ("cli_main", "from_args")], name


def test_every_backend_implements_the_one_contract_and_inherits_nothing():
    """The Protocol's methods, with its parameter names, on each of the three backends, none of
    which inherits from another (matnet.core.backend)."""
    import inspect

    from matnet.core.backend import Backend
    from matnet.core.engine import EngineBackend
    from matnet.core.fused_backend import FusedBackend
    from matnet.core.loop import LoopBackend

    methods = {name: inspect.signature(fn) for name, fn in vars(Backend).items()
               if callable(fn) and not name.startswith("_")}
    assert set(methods) == {"prepare", "inputs", "train", "count_correct", "outputs", "feedforward",
                            "gradient"}
    for backend in (EngineBackend, FusedBackend, LoopBackend):
        assert backend.__bases__ == (object,), backend
        for name, wanted in methods.items():
            got = inspect.signature(getattr(backend, name))
            assert list(got.parameters) == list(wanted.parameters), (backend.__name__, name)
        assert {"name"} <= set(vars(backend)), backend
