"""The command line is a client of the public API: cli.py imports nothing private of propclf."""

import ast
from pathlib import Path

import propclf

CLI = Path(propclf.__file__).parent / "cli.py"


def propclf_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) of every import of propclf in ``source``: ``from propclf.x import y``, ``from . import y``,
    ``from .x import y``, ``import propclf.x``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "propclf"):
            module = ("propclf" + (f".{node.module}" if node.module else "")) if node.level else node.module
            found += [(module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.split(".")[0] == "propclf"]
    return found


def private_imports(source: str) -> list[str]:
    return [f"{module}:{name}" for module, name in propclf_imports(source)
            if module != "propclf" or (name and name not in propclf.__all__)]


def test_cli_imports_only_the_public_api():
    imports = propclf_imports(CLI.read_text(encoding="utf-8"))
    assert ("propclf", "predict") in imports  # the walk sees the imports at all
    assert private_imports(CLI.read_text(encoding="utf-8")) == []


def test_the_check_catches_private_imports():
    assert private_imports("from ._inputs import expand_inputs\n") == ["propclf._inputs:expand_inputs"]
    assert private_imports("def f():\n    from ._training.label import LabelSession\n") == [
        "propclf._training.label:LabelSession"]
    assert private_imports("from propclf._predict import get_model\n") == ["propclf._predict:get_model"]
    assert private_imports("from . import _dask\n") == ["propclf:_dask"]
    assert private_imports("import propclf._model\n") == ["propclf._model:"]
    assert private_imports("from . import predict, tag_files\nfrom propclf import LABELS\n") == []


def test_every_public_name_is_importable():
    namespace: dict = {}
    exec(f"from propclf import {', '.join(propclf.__all__)}", namespace)  # what `from propclf import X` does
    from propclf import Corpus, Suspect, TrainResult

    assert [Corpus.__name__, Suspect.__name__, TrainResult.__name__] == ["Corpus", "Suspect", "TrainResult"]
    assert set(propclf.__all__) <= set(dir(propclf))
