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


def test_training_says_how_long_it_takes_and_how_much_is_left(tmp_path):
    from conftest import small_corpus
    from propclf import train

    lines: list[str] = []
    train(str(small_corpus(tmp_path, 20)), str(tmp_path / "model"), folds=3, n_jobs=1, challenge=None,
          crosswriter=None, progress=lines.append)
    first = lines.index(next(line for line in lines if line.startswith("Searching")))
    assert lines[first - 1].startswith("Training takes about ") and "(1 worker(s))" in lines[first - 1]
    splits = [line for line in lines if line.strip().startswith("split ")]
    assert len(splits) == 3  # three folds; the corpus has no seed documents, so no real-text split
    assert all("left in the search" in line for line in splits[:-1]) and "left" not in splits[-1]
    assert any(line.startswith("Fitting the model on all 60 rows (about ") for line in lines)


def test_a_long_step_on_a_terminal_says_it_is_still_at_work():
    import io
    import time

    from propclf.cli import _StepProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, beats in ((Terminal(), True), (io.StringIO(), False)):
        with _StepProgress(time.monotonic(), every=0.05, stream=stream) as progress:
            progress("Fitting the model on all 60 rows...")
            time.sleep(0.4)
        text = stream.getvalue()
        assert text.splitlines()[0].endswith("Fitting the model on all 60 rows...")
        assert ("still at work (0 s since the last step)" in text) is beats


def test_the_bar_ends_full_on_text_that_is_not_ascii(tmp_path, terminal):
    # 'é' is two bytes and one character: the bar's length is in bytes, its steps in characters.
    text = "Le théâtre était plein, et le public applaudissait. " * 30_000
    (tmp_path / "long.txt").write_text(text, encoding="utf-8")
    with terminal:
        code = main(["predict", "-o", str(tmp_path / "out.csv"), str(tmp_path / "long.txt")])
    err = terminal.readouterr().err
    assert code == 0, err
    assert "100%" in err.split("\r")[-1] and err.endswith("\nWrote " + str(tmp_path / "out.csv") + "\n")
