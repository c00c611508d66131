"""The labeling command: piped and terminal sessions, resume, undo, crash safety, spreadsheet round trip."""

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from propclf import load_corpus
from propclf._predict import get_model
from propclf._training.label import LabelSession
from propclf.cli import main

DOCUMENT = ("A Night at the Theatre\n\nThe musical opened in 1974 with a large cast. Its heroine is a young welder.\n\n"
            "Let us build the bridge of the future with our own hands!\n\nIt was a cynical piece of theatre, designed "
            "to hide the famine. Audiences were required to applaud for ten minutes. The musical opened in 1974 with "
            "a large cast.\n")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    """A copy of data/ and a new document, with the current folder set there."""
    shutil.copytree(ROOT / "data" / "labeled", tmp_path / "data" / "labeled")
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "data" / "raw")
    (tmp_path / "doc.txt").write_text(DOCUMENT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def labels_file(workspace: Path) -> Path:
    return workspace / "data" / "labeled" / "label-ann.csv"


def rows(workspace: Path) -> list[dict[str, str]]:
    path = labels_file(workspace)
    return list(csv.DictReader(path.open(encoding="utf-8"))) if path.exists() else []


def label(capsys, monkeypatch, keys: str, *extra: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(keys.encode())))
    code = main(["label", "doc.txt", "--annotator", "ann", "--order", "document", *extra])
    return code, capsys.readouterr().out


def test_piped_session_accept_override_skip_undo_quit(workspace: Path, capsys, monkeypatch):
    code, out = label(capsys, monkeypatch, "a\ns\nk\nu\nc\nq\n")
    assert code == 0
    assert out.splitlines()[0] == ("6 sentence(s) to label into data/labeled/label-ann.csv. [a/Enter] accept  "
                                   "[s]logan  [c]ritique  [n]eutral  [k] skip  [u]ndo  [q]uit")
    # The repeated sentence is asked once; the 7 units give 6 questions.
    got = [(r["text"], r["label"], r["annotator"]) for r in rows(workspace)]
    assert got == [("A Night at the Theatre", "neutral", "ann"),
                   ("The musical opened in 1974 with a large cast.", "critique", "ann")]
    assert "Undone: The musical opened in 1974 with a large cast." in out
    assert out.rstrip().endswith("Saved 2 new label(s) in data/labeled/label-ann.csv; 4 sentence(s) left.")
    assert (workspace / "data" / "raw" / "doc.txt").read_text(encoding="utf-8") == DOCUMENT
    corpus = load_corpus(str(workspace / "data" / "labeled"))  # the new rows validate, offsets included
    assert "A Night at the Theatre" in corpus.texts


def test_resume_never_asks_twice(workspace: Path, capsys, monkeypatch):
    label(capsys, monkeypatch, "n\nn\n")
    code, out = label(capsys, monkeypatch, "q\n")
    assert code == 0 and out.splitlines()[0].startswith("4 sentence(s) to label")
    assert "A Night at the Theatre" not in out
    code, out = label(capsys, monkeypatch, "a\na\na\na\n")  # end of input also ends the session
    assert out.rstrip().endswith("Saved 4 new label(s) in data/labeled/label-ann.csv; 0 sentence(s) left.")
    assert len(rows(workspace)) == 6
    assert label(capsys, monkeypatch, "")[1].splitlines()[0].startswith("0 sentence(s) to label")


def test_sentences_already_in_the_corpus_are_not_asked(workspace: Path, capsys, monkeypatch):
    (workspace / "doc.txt").write_text("They never returned. Long live the Party of the welders!", encoding="utf-8")
    out = label(capsys, monkeypatch, "q\n")[1]
    assert out.splitlines()[0].startswith("1 sentence(s) to label")  # "They never returned." is a seed row


def test_uncertainty_order_puts_the_least_sure_first(workspace: Path):
    session = LabelSession([workspace / "doc.txt"], labels_file(workspace), model=get_model(),
                           corpus=workspace / "data" / "labeled", annotator="ann")
    uncertainties = [c.uncertainty for c in session.queue]
    assert uncertainties == sorted(uncertainties, reverse=True)


def test_the_labels_file_defaults_to_the_annotators_in_the_corpus(workspace: Path):
    with LabelSession([workspace / "doc.txt"], model=get_model(), corpus=workspace / "data" / "labeled",
                      annotator="ann") as session:
        assert session.into == labels_file(workspace)


def test_retrain_every(workspace: Path):
    session = LabelSession([workspace / "doc.txt"], labels_file(workspace), model=get_model(),
                           corpus=workspace / "data" / "labeled", annotator="ann", retrain_every=2)
    before = session.model
    for _ in range(2):
        candidate = session.next()
        session.decide(candidate, "neutral")
    session.wait_for_retraining()
    assert session.model is not before and session.retrained == 1
    uncertainties = [c.uncertainty for c in session.queue]
    assert uncertainties == sorted(uncertainties, reverse=True)  # the rest was re-scored and re-ordered


def test_export_and_import(workspace: Path, capsys, monkeypatch):
    queue = workspace / "queue.csv"
    assert main(["label", "doc.txt", "--annotator", "ann", "--export-queue", str(queue), "--n", "3"]) == 0
    exported = list(csv.DictReader(queue.open(encoding="utf-8")))
    assert len(exported) == 3 and all(r["label"] == "" and r["suggested"] for r in exported)
    exported[0]["label"], exported[1]["label"] = "slogan", "neutral"
    with queue.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(exported[0]))
        writer.writeheader()
        writer.writerows(exported)
    capsys.readouterr()
    assert main(["label", "doc.txt", "--annotator", "ann", "--import", str(queue)]) == 0
    assert capsys.readouterr().out == ("Appended 2 label(s) to data/labeled/label-ann.csv; 0 already labeled, "
                                       "1 left blank.\n")
    assert [(r["text"], r["label"]) for r in rows(workspace)] == [(exported[0]["text"], "slogan"),
                                                                 (exported[1]["text"], "neutral")]
    assert main(["label", "doc.txt", "--annotator", "ann", "--import", str(queue)]) == 0  # again: nothing new
    assert "Appended 0 label(s)" in capsys.readouterr().out and len(rows(workspace)) == 2
    exported[2]["label"] = "praise"
    with queue.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(exported[0]))
        writer.writeheader()
        writer.writerows(exported)
    assert main(["label", "doc.txt", "--annotator", "ann", "--import", str(queue)]) == 1
    assert capsys.readouterr().err == (f"Error: {queue}, line 4: unknown label 'praise' (expected one of slogan, "
                                       "critique, neutral)\n")
    assert len(rows(workspace)) == 2  # a bad file appends nothing


def test_bad_documents(workspace: Path, capsys):
    assert main(["label", "missing.txt", "--annotator", "ann"]) == 1
    assert capsys.readouterr().err == "Error: missing.txt: no such file\n"
    (workspace / "elsewhere").mkdir()
    (workspace / "elsewhere" / "000_c312eb8dd21f1c61.txt").write_text("Different text.", encoding="utf-8")
    assert main(["label", "elsewhere/000_c312eb8dd21f1c61.txt", "--annotator", "ann"]) == 1
    assert capsys.readouterr().err.startswith("Error: elsewhere/000_c312eb8dd21f1c61.txt: a different file named")
    assert main(["label", "--annotator", "ann"]) == 2


def command(workspace: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "propclf", "label", "doc.txt", "--annotator", "ann", "--order", "document", *extra]


def test_terminal_session_with_single_keys(workspace: Path):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(command(workspace)[0], command(workspace)[1:], cwd=str(workspace), encoding="utf-8",
                          timeout=60, env={**os.environ, "COLUMNS": "200"})
    child.expect("Label\\? ")
    child.send("n")  # one key, no Enter
    child.expect("neutral")
    child.expect("Label\\? ")
    assert [r["label"] for r in rows(workspace)] == ["neutral"]
    child.send("s")
    child.expect("Label\\? ")
    child.send("u")
    child.expect("Undone: ")
    child.expect("Label\\? ")
    assert [r["label"] for r in rows(workspace)] == ["neutral"]
    child.send("\r")  # Enter accepts the suggestion
    child.expect("Label\\? ")
    child.send("x")  # an unknown key shows the keys again and changes nothing
    child.expect("\\[q\\]uit")
    child.expect("Label\\? ")
    child.send("q")
    child.expect("Saved 2 new label\\(s\\)")
    child.expect(pexpect.EOF)
    assert len(rows(workspace)) == 2


def test_sigkill_midway_loses_nothing(workspace: Path):
    process = subprocess.Popen(command(workspace), cwd=workspace, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for count in (1, 2, 3):
        process.stdin.write(b"n\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while len(rows(workspace)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert [r["label"] for r in rows(workspace)] == ["neutral"] * 3
    load_corpus(str(workspace / "data" / "labeled"))  # still a valid corpus


def test_labels_given_while_refitting_do_not_come_back(workspace: Path, monkeypatch):
    """A refit that finishes after the sentence on screen was answered must not bring it back."""
    import propclf._training.label as label_module

    session = LabelSession([workspace / "doc.txt"], labels_file(workspace), model=get_model(),
                           corpus=workspace / "data" / "labeled", annotator="ann")
    real_build = label_module.build_pipeline

    def build_and_answer_meanwhile(*args, **kwargs):
        pipeline = real_build(*args, **kwargs)
        real_fit = pipeline.fit

        def fit(*a, **k):
            fitted = real_fit(*a, **k)
            session.decide(session.next(), "neutral")  # the annotator answers while the refit runs
            return fitted

        pipeline.fit = fit
        return pipeline

    monkeypatch.setattr(label_module, "build_pipeline", build_and_answer_meanwhile)
    first = session.next()
    session._retrain()
    assert first not in session.queue
    assert len(session.queue) == 5
    session.decide(first, "neutral")  # even if asked again, a known sentence is not written twice
    texts = [r["text"] for r in rows(workspace)]
    assert len(texts) == len(set(texts)) == 1
