"""Labels are never lost or doubled: one session per labels file, and every first write is atomic."""

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from propclf import InputError, load_corpus
from propclf._predict import get_model
from propclf._training.label import LabelSession
from test_label import DOCUMENT, command, labels_file, rows, workspace  # noqa: F401 - the fixture `place` uses


def session(folder: Path) -> LabelSession:
    return LabelSession([folder / "doc.txt"], labels_file(folder), model=get_model(),
                        corpus=folder / "data" / "labeled", annotator="ann", order="document")


@pytest.fixture
def place(workspace: Path) -> Path:  # noqa: F811 - the imported fixture
    """test_label's workspace: a copy of data/ and a new document, the current folder set there."""
    return workspace


class Stopped(BaseException):
    """Stands for a kill: not an Exception, so no handler of propclf's catches it."""


# -- item 11: two sessions on one labels file ------------------------------------------------------------

def test_a_second_session_on_the_same_file_is_refused(place: Path):
    first = session(place)
    with pytest.raises(InputError, match=r"label-ann\.csv: another propclf label session .*pid \d+"):
        session(place)
    first.decide(first.next(), "neutral")
    first.close()
    second = session(place)  # the first has ended: the file is free again
    second.decide(second.next(), "slogan")
    second.undo()
    second.close()
    assert [r["label"] for r in rows(place)] == ["neutral"]
    load_corpus(str(place / "data" / "labeled"))


def test_two_label_commands_at_once(place: Path):
    """Both run at the same time: the second says why in one line and writes nothing; the first is unharmed."""
    first = subprocess.Popen(command(place), cwd=place, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    lock = labels_file(place).with_name(".label-ann.csv.lock")
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(command(place), cwd=place, input=b"s\ns\ns\n", capture_output=True, timeout=120)
    out, err = first.communicate(b"n\nn\nu\nc\n", timeout=120)
    assert first.returncode == 0, err.decode()
    assert second.returncode == 1
    message = second.stderr.decode().splitlines()
    assert len(message) == 1 and message[0].startswith("Error: ") and "label-ann.csv" in message[0], message
    assert [r["label"] for r in rows(place)] == ["neutral", "critique"]
    load_corpus(str(place / "data" / "labeled"))
    assert not lock.exists()


# -- item 12: a kill at the first write ------------------------------------------------------------------

def test_an_empty_labels_file_is_treated_as_new(place: Path):
    labels_file(place).write_bytes(b"")  # what a kill at the first write once left
    with session(place) as s:
        s.decide(s.next(), "neutral")
    assert [r["label"] for r in rows(place)] == ["neutral"]
    load_corpus(str(place / "data" / "labeled"))


def test_a_kill_at_the_first_write_leaves_no_empty_file(place: Path, monkeypatch):
    import propclf._training.label as label_module

    s = session(place)

    def killed(*args, **kwargs):
        raise Stopped

    monkeypatch.setattr(label_module.csv, "writer", killed)
    with pytest.raises(Stopped):
        s.decide(s.next(), "neutral")
    monkeypatch.undo()
    s.close()
    assert not labels_file(place).exists()
    load_corpus(str(place / "data" / "labeled"))
    with session(place) as again:
        again.decide(again.next(), "critique")
    assert [r["label"] for r in rows(place)] == ["critique"]


def test_the_document_copy_into_raw_is_atomic(place: Path, monkeypatch):
    raw = place / "data" / "raw" / "doc.txt"
    real = os.replace

    def killed(source, target, *args, **kwargs):
        if Path(target) == raw:
            raise Stopped
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(Stopped):
        session(place)
    monkeypatch.undo()
    assert not raw.exists() and not [p for p in raw.parent.iterdir() if p.name.startswith(".doc.txt")]
    raw.write_bytes(b"")  # what a kill while copying once left
    with session(place) as s:
        assert s.queue and raw.read_text(encoding="utf-8") == DOCUMENT


def test_the_lock_file_stays_out_of_the_corpus(place: Path):
    with session(place) as s:
        s.decide(s.next(), "neutral")
        corpus = load_corpus(str(place / "data" / "labeled"))
        assert all(not Path(f).name.startswith(".") for f in corpus.files)
        with open(labels_file(place), encoding="utf-8") as handle:
            assert list(csv.DictReader(handle))[0]["label"] == "neutral"
    assert sys.platform == "win32" or not labels_file(place).with_name(".label-ann.csv.lock").exists()
