"""Saving a model replaces the old one in one step: stopped at any point, the folder holds the old or the new."""

import csv
import os
from pathlib import Path

import pytest

from conftest import small_corpus
from propclf import load_model
from propclf._model import save_model
from propclf._training.pipeline import build_pipeline

PROBE = ["Long live the great leader!", "It was a cynical piece of theatre.", "The bus left at noon."]


class Stopped(BaseException):
    """Stands for a kill: not an Exception, so no handler of propclf's catches it."""


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    rows = list(csv.DictReader(small_corpus(tmp_path_factory.mktemp("corpus"), 30).open(encoding="utf-8")))
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    return [build_pipeline("word+char", C=c).fit(texts, labels) for c in (1.0, 10.0)]


def _probabilities(folder: Path, trust: bool = False) -> list[list[float]]:
    return load_model(folder, trust=trust).predict_proba(PROBE)


def _replaces_in_a_save(tmp_path: Path, pipelines) -> int:
    """How many renames one save makes (each is a point at which a kill can fall)."""
    calls = []
    real = os.replace

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    folder = tmp_path / "count"
    save_model(pipelines[0], {"calibration": {"temperature": 0.8}}, folder)
    os.replace = counting
    try:
        save_model(pipelines[1], {"calibration": {"temperature": 0.9}}, folder)
    finally:
        os.replace = real
    return len(calls)


def test_a_save_stopped_at_any_step_leaves_the_old_model_or_the_new(tmp_path: Path, pipelines, monkeypatch):
    steps = _replaces_in_a_save(tmp_path, pipelines)
    assert steps >= 7  # three staged files, the manifest, three renames into place
    reference = tmp_path / "reference"
    save_model(pipelines[0], {"calibration": {"temperature": 0.8}}, reference / "old")
    save_model(pipelines[1], {"calibration": {"temperature": 0.9}}, reference / "new")
    old, new = _probabilities(reference / "old"), _probabilities(reference / "new")
    pickled = {"old": _probabilities(reference / "old", True), "new": _probabilities(reference / "new", True)}
    assert old != new
    seen = set()
    real = os.replace
    for stop_at in range(steps + 1):
        folder = tmp_path / f"stop-{stop_at}"
        save_model(pipelines[0], {"calibration": {"temperature": 0.8}}, folder)
        count = [0]

        def stopping(*args, count=count, stop_at=stop_at, **kwargs):
            if count[0] == stop_at:
                raise Stopped
            count[0] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(os, "replace", stopping)
        try:
            save_model(pipelines[1], {"calibration": {"temperature": 0.9}}, folder)
        except Stopped:
            pass
        finally:
            monkeypatch.setattr(os, "replace", real)
        got = _probabilities(folder)
        assert got in (old, new), f"stopped before rename {stop_at}: neither model"
        seen.add("old" if got == old else "new")
        assert _probabilities(folder, trust=True) == pickled["old" if got == old else "new"]
        # The next save finishes cleanly: the plain layout, nothing staged left behind.
        save_model(pipelines[0], {"calibration": {"temperature": 0.8}}, folder)
        assert _probabilities(folder) == old
        assert sorted(p.name for p in folder.iterdir()) == ["propclf.joblib", "propclf.json", "propclf.vocab.json",
                                                            "propclf.weights.npz"]
    assert seen == {"old", "new"}


def test_a_model_found_mid_publish_loads_its_staged_files(tmp_path: Path, pipelines, monkeypatch):
    """Between the manifest and the last rename, the new model is read from its files' staged names."""
    folder = tmp_path / "m"
    save_model(pipelines[0], {"calibration": {"temperature": 0.8}}, folder)
    monkeypatch.setattr("propclf._model._finish_publish", lambda folder: None)
    save_model(pipelines[1], {"calibration": {"temperature": 0.9}}, folder)
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) and \
        load_model(folder).temperature == 0.9
    monkeypatch.undo()
    expected = _probabilities(folder)
    save_model(pipelines[1], {"calibration": {"temperature": 0.9}}, folder)  # finishes, then saves the same
    assert _probabilities(folder) == expected
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
