"""The package's layout: no import cycle, and the predicting side apart from the training side.

Every module of src/propclf is read with ``ast``: imports at module level and inside functions, relative
ones resolved. Imports under ``if TYPE_CHECKING:`` never run, so they make no cycle and load nothing; they
still count as depending on the training side.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "propclf"
TRAINING = f"{PACKAGE}._training"
#: What the predicting side must not import when it is imported (NumPy alone predicts).
HEAVY = {"sklearn", "scipy", "pandas", "joblib"}
#: The top-level modules that may reach the training side: the public API and the command line, each lazily.
TRAINING_ENTRIES = {PACKAGE, f"{PACKAGE}.cli"}


@dataclass(frozen=True)
class Import:
    target: str  # the module imported, dotted, resolved
    line: int
    in_function: bool
    type_only: bool  # under ``if TYPE_CHECKING:``


def module_names(src: Path = SRC) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name, not ``__init__``)."""
    names = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(source: str, module: str, is_package: bool, modules: set[str]) -> list[Import]:
    """The imports in ``source`` (the text of ``module``); ``from X import name`` is X's submodule ``name``
    when there is one, else X."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, in_function, type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.append(Import(submodule if submodule in modules else target, node.lineno, in_function,
                                    type_only))
        is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                visit(child, in_function, True)
            for child in node.orelse:
                visit(child, in_function, type_only)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or is_function, type_only)

    visit(ast.parse(source), False, False)
    return found


def package_imports() -> dict[str, list[Import]]:
    """Each module's imports of anything."""
    modules = module_names()
    return {name: imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", set(modules))
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as a path that ends where it starts (``[a, b, a]``), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == "open":
                return path[path.index(successor):] + [successor]
            if successor not in state and (cycle := walk(successor)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def runtime_graph(imports: dict[str, list[Import]]) -> dict[str, set[str]]:
    return {module: {i.target for i in found if i.target in imports and i.target != module and not i.type_only}
            for module, found in imports.items()}


def is_top_level(module: str) -> bool:
    return module.count(".") <= 1 and not module.startswith(TRAINING)


def test_no_import_cycle_among_propclf_modules():
    cycle = find_cycle(runtime_graph(package_imports()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_only_the_api_and_the_cli_reach_the_training_side():
    offending = [f"{module} line {i.line}: imports {i.target}"
                 for module, found in package_imports().items() if is_top_level(module)
                 and module not in TRAINING_ENTRIES for i in found if i.target.startswith(TRAINING)]
    assert offending == []


def test_the_predicting_side_imports_no_heavy_library_when_imported():
    offending = [f"{module} line {i.line}: imports {i.target}"
                 for module, found in package_imports().items() if is_top_level(module)
                 for i in found if i.target.split(".")[0] in HEAVY and not i.in_function and not i.type_only]
    assert offending == []


def test_the_api_and_the_cli_reach_the_training_side_only_inside_functions():
    offending = [f"{module} line {i.line}: imports {i.target}"
                 for module, found in package_imports().items() if module in TRAINING_ENTRIES
                 for i in found if i.target.startswith(TRAINING) and not i.in_function and not i.type_only]
    assert offending == []


def test_the_import_reader_resolves_relative_and_function_level_imports():
    source = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nimport os\n"
              "from .. import _model\nfrom ..x import y\nif TYPE_CHECKING:\n    import pandas\n"
              "def f():\n    from . import pipeline\n    import sklearn.metrics\n")
    found = imports_of(source, "propclf._training.train", False,
                       {"propclf._model", "propclf._training.pipeline", "propclf.x"})
    assert [(i.target, i.in_function, i.type_only) for i in found] == [
        ("__future__", False, False), ("typing", False, False), ("os", False, False),
        ("propclf._model", False, False), ("propclf.x", False, False), ("pandas", False, True),
        ("propclf._training.pipeline", True, False), ("sklearn.metrics", True, False)]
    package = imports_of("from . import _dask\nfrom ._training.corpus import Corpus\n", "propclf", True,
                         {"propclf._dask", "propclf._training.corpus"})
    assert [i.target for i in package] == ["propclf._dask", "propclf._training.corpus"]


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
