"""What a newcomer sees while propclf works: a progress bar only where it helps, and lines that read well."""

import sys
from pathlib import Path

import pytest

from conftest import RAW
from propclf.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample.txt"


@pytest.fixture
def terminal(monkeypatch, capsys):
    """Standard output and standard error both a terminal, as when a person runs propclf by hand."""
    class Terminal:
        def readouterr(self):
            return capsys.readouterr()

        def __enter__(self):
            monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
            monkeypatch.setattr(sys.stderr, "isatty", lambda: True)

        def __exit__(self, *exc):
            monkeypatch.undo()
    return Terminal()


def test_no_bar_for_a_short_file(terminal):
    with terminal:
        assert main(["predict", str(SAMPLE)]) == 0
    captured = terminal.readouterr()
    assert "Tagging" not in captured.err and captured.err == ""
    assert captured.out.startswith(f"{SAMPLE}: 8 sentences (")


def test_no_bar_glued_to_a_table_on_the_same_terminal(terminal, tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))) * 12,
                   encoding="utf-8")
    assert big.stat().st_size > 1_000_000
    with terminal:
        assert main(["predict", "--jobs", "1", str(big)]) == 0
    captured = terminal.readouterr()
    assert "Tagging" not in captured.err  # the table itself shows the progress there
    assert captured.out.startswith(f"{big}: ")


def test_a_bar_for_a_long_file_written_elsewhere_ends_its_line(terminal, tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))) * 12,
                   encoding="utf-8")
    out = tmp_path / "tags.csv"
    with terminal:
        assert main(["predict", "--jobs", "1", "-o", str(out), str(big)]) == 0
    err = terminal.readouterr().err
    assert "Tagging" in err
    assert f"\nWrote {out}\n" in err  # on a line of its own, after the bar's


def test_one_sentence_is_singular(terminal, tmp_path: Path):
    one = tmp_path / "one.txt"
    one.write_text("Long live the great leader!\n", encoding="utf-8")
    with terminal:
        assert main(["predict", "--format", "table", str(one)]) == 0
    assert terminal.readouterr().out.startswith(f"{one}: 1 sentence (1 slogan, ")
