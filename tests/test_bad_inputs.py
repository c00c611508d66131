"""Every bad input in docs/bad_inputs.py gets the answer its case promises, and docs/BAD_INPUTS.md is current.

Each case runs the real command line in-process in a temporary folder. Cases with a ``known_bug`` are
expected to fail (strictly: when the bug is fixed the test says so, and the mark must go).
"""

import importlib.util
import sys

import pytest

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("bad_inputs", ROOT / "docs" / "bad_inputs.py")
bad_inputs = importlib.util.module_from_spec(_spec)
sys.modules["bad_inputs"] = bad_inputs  # dataclasses look their module up there
_spec.loader.exec_module(bad_inputs)

CASES = bad_inputs.CASES


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    """Every case, run once, by its input's name."""
    return {case.input: result for case, result in bad_inputs.run_all()}


def test_the_cases_are_distinct_and_cover_the_kinds():
    assert len({case.input for case in CASES}) == len(CASES)
    assert {case.kind for case in CASES} == {"error", "usage", "warning", "ok"}
    assert all(case.kind in ("warning", "ok") or case.names for case in CASES)


@pytest.mark.parametrize("case", [
    pytest.param(case, id=case.input,
                 marks=[pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else [])
    for case in CASES])
def test_what_the_user_sees(results, case):
    result = results[case.input]
    lines = result.stderr.splitlines()
    if case.kind == "error":
        assert result.exit_code == 1, result.stderr
        assert len(lines) == 1, f"not one line: {result.stderr!r}"
        assert lines[0].startswith("Error: ") and case.names in lines[0], lines[0]
    elif case.kind == "usage":
        assert result.exit_code == 2, result.stderr
        assert [line for line in lines if line.startswith("Error: ")] == lines[-1:], result.stderr
        assert case.names in lines[-1], lines[-1]
    elif case.kind == "warning":
        assert result.exit_code == 0, result.stderr
        assert len(lines) == 1 and lines[0].startswith("Warning: ") and case.names in lines[0], result.stderr
        assert result.stdout, "it warned, then tagged nothing"
    else:
        assert case.kind == "ok"
        assert result.exit_code == 0, result.stderr
        assert len(lines) == (1 if case.names else 0), result.stderr
        assert all(case.names in line for line in lines)


def test_the_table_is_current_and_the_script_rerunnable(tmp_path, monkeypatch):
    """Running the script again writes docs/BAD_INPUTS.md as it is committed: one row per case, as it runs now."""
    out = tmp_path / "docs" / "BAD_INPUTS.md"
    out.parent.mkdir()
    monkeypatch.setattr(bad_inputs, "OUTPUT", out)
    monkeypatch.setattr(bad_inputs, "ROOT", tmp_path)
    assert bad_inputs.main() == 0
    written = out.read_text(encoding="utf-8")
    assert f"`{bad_inputs.COMMAND}`" in written.splitlines()[2]
    assert written.count("\n| ") == len(CASES) + 1  # the header, and one row per case
    committed = (ROOT / "docs" / "BAD_INPUTS.md").read_text(encoding="utf-8")
    assert written == committed, "docs/BAD_INPUTS.md is out of date: rerun python docs/bad_inputs.py"


def test_the_repository_is_not_written(tmp_path):
    """The damaged-model case breaks a copy: models/ stays as it is (conftest also checks the whole session)."""
    before = {path: path.read_bytes() for path in sorted(bad_inputs.MODELS.iterdir()) if path.is_file()}
    case = next(case for case in CASES if case.input == "a damaged model file")
    bad_inputs.run(case, tmp_path)
    after = {path: path.read_bytes() for path in sorted(bad_inputs.MODELS.iterdir()) if path.is_file()}
    assert after == before
    copies = sorted(path.name for path in (tmp_path / "m").iterdir() if path.is_file())
    assert copies == sorted(path.name for path in before)
    assert all((tmp_path / "m" / path.name).read_bytes() != data
               for path, data in before.items() if path.name != bad_inputs.MANIFEST)
