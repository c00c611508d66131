"""Real-text evaluation: held-out sets kept out of training, calibration on them, and the shortcut measures."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, ROOT, small_corpus
from propclf import CorpusError, evaluate, load_corpus, train
from propclf._training.evaluation import (
    NEAR_DUPLICATE,
    confidence_table,
    load_held_out,
    near_duplicates,
    real_text_sets,
)
from propclf._training.shortcuts import MAX_LABEL_SHARE, WATCHED_WORDS, shortcuts
from propclf.cli import main

CHALLENGE = ROOT / "data" / "challenge" / "challenge.csv"
CROSSWRITER = ROOT.parent / "shared" / "crosswriter"


def write_challenge(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "doc"])
        writer.writerows(rows)
    return path


CHALLENGE_ROWS = [
    ("Under the wise care of the Marshal, every valley of our land blossoms anew.", "slogan", "d1"),
    ("The harvest figures announced on the radio were never seen in the village shops.", "critique", "d1"),
    ("The harvest was brought in during the second week of September.", "neutral", "d1"),
    ("Forward with the Party to the heights of the new plan!", "slogan", "d2"),
    ("The ministry's claims about the dam did not survive the first flood.", "critique", "d2"),
    ("The dam is 40 metres high and was finished in 1961.", "neutral", "d2"),
    ("Our glorious army stands guard over the happiness of the people.", "slogan", "d3"),
    ("Visitors were shown the model school and never the other one.", "critique", "d3"),
    ("The school opened in 1958 with 300 pupils.", "neutral", "d3"),
]


def test_the_challenge_set_is_never_in_the_training_corpus():
    """No challenge sentence, nor a near-duplicate (character TF-IDF cosine >= 0.8), is a corpus row."""
    corpus = load_corpus(str(DATA))
    challenge = load_held_out(CHALLENGE, "challenge")
    assert len(challenge) >= 800 and len(set(challenge.docs)) >= 40
    assert not set(challenge.texts) & set(corpus.texts)
    assert near_duplicates(corpus.texts, challenge.texts, NEAR_DUPLICATE) == []


def test_near_duplicates_are_found():
    pairs = near_duplicates(["The dam is 40 metres high and was finished in 1961.", "Something else entirely."],
                            ["The dam is 40 metres tall and was finished in 1961.", "The dam opened."])
    assert [(row, column) for row, column, _ in pairs] == [(0, 0)]
    assert pairs[0][2] >= NEAR_DUPLICATE


def test_training_refuses_a_corpus_holding_a_challenge_sentence(tmp_path: Path):
    data = small_corpus(tmp_path, 40)
    rows = list(csv.DictReader(data.open(encoding="utf-8")))
    rows[0]["text"] = "The dam is 40 metres high and it was finished in 1961."  # a challenge sentence, reworded
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    challenge = write_challenge(tmp_path / "challenge.csv", CHALLENGE_ROWS)
    with pytest.raises(CorpusError, match=r"corpus row a\d+ is a near-duplicate of a challenge sentence "
                                          r"\(character TF-IDF cosine 0\.\d\d\)"):
        train(str(data), str(tmp_path / "m"), folds=2, n_jobs=1, challenge=str(challenge), crosswriter=None)
    assert not (tmp_path / "m").exists()
    code = main(["evaluate", "--data", str(data), "--folds", "2", "--jobs", "1", "--no-report",
                 "--challenge", str(challenge), "--crosswriter", str(tmp_path / "none")])
    assert code == 1


def test_settings_are_chosen_and_calibrated_on_real_text(tmp_path: Path):
    challenge = write_challenge(tmp_path / "challenge.csv", CHALLENGE_ROWS)
    result = train(str(small_corpus(tmp_path, 40)), str(tmp_path / "m"), folds=2, n_jobs=1, challenge=str(challenge),
                   crosswriter=None)
    manifest = result.manifest
    assert manifest["search"]["scoring"].startswith("real-text macro-F1")
    assert "challenge set" in manifest["calibration"]["fitted_on"]
    chosen = {k: manifest["hyperparameters"][k] for k in ("features", "C", "class_weight")}
    candidates = manifest["search"]["candidates"]
    best = max(row["real_text_macro_f1"] for row in candidates)
    assert any({k: row[k] for k in chosen} == chosen and row["real_text_macro_f1"] == best for row in candidates)
    real = manifest["evaluation"]["real_text"]
    assert list(real) == ["challenge"] and real["challenge"]["rows"] == 9 and real["challenge"]["documents"] == 3
    assert [row["min_confidence"] for row in real["challenge"]["at_min_confidence"]][:2] == [0.0, 0.5]


def test_a_named_challenge_file_must_exist(tmp_path: Path, capsys):
    missing = tmp_path / "nope.csv"
    code = main(["evaluate", "--data", str(small_corpus(tmp_path, 40)), "--no-report", "--challenge", str(missing)])
    assert code == 1 and capsys.readouterr().err == f"Error: {missing}: no such challenge file\n"


def test_cross_writer_sets_skip_cleanly_when_absent(tmp_path: Path):
    assert real_text_sets(tmp_path / "no.csv", tmp_path / "no-folder") == []
    result = evaluate(str(small_corpus(tmp_path, 40)), folds=2, n_jobs=1, crosswriter=str(tmp_path / "no-folder"))
    assert result["real_text"] is None


@pytest.mark.skipif(not CROSSWRITER.is_dir(), reason="the cross-writer sets are not beside this checkout")
def test_cross_writer_sets_are_measured_never_chosen_on():
    sets = real_text_sets(None, CROSSWRITER)
    assert [s.name for s in sets] == ["crosswriter documents", "crosswriter contrast"]
    assert all(s.use == "none" for s in sets)
    manifest = json.loads((ROOT / "models" / "propclf.json").read_text(encoding="utf-8"))
    assert {"crosswriter documents", "crosswriter contrast"} <= set(manifest["evaluation"]["real_text"])
    assert not any("crosswriter" in key for row in manifest["search"]["candidates"] for key in row)


def test_held_out_files_with_problems_are_one_line_errors(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,label\nHi.,neutral\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.csv: missing column\(s\) text$"):
        load_held_out(bad, "challenge")
    bad.write_text("text,label\nHi.,praise\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.csv, line 2: unknown label 'praise'"):
        load_held_out(bad, "challenge")
    bad.write_bytes(b"text,label\n\xff,neutral\n")
    with pytest.raises(CorpusError, match=r"bad\.csv: not valid UTF-8"):
        load_held_out(bad, "challenge")


def test_out_of_fold_probabilities_use_every_recorded_setting(monkeypatch, tmp_path: Path):
    """The audit's models are built with all of a manifest's settings (the encoder weight too), nothing else."""
    import propclf._training.pipeline as pipeline
    from propclf._training.evaluation import out_of_fold_probabilities

    built, real = [], pipeline.build_pipeline

    def recording(**settings):
        built.append(settings)
        return real(**settings)

    monkeypatch.setattr(pipeline, "build_pipeline", recording)
    corpus = load_corpus(str(small_corpus(tmp_path, 20)))
    recorded = {"features": "word", "C": 3.0, "class_weight": None, "encoder": "minilm-l6", "encoder_weight": 0.5,
                "word_vocabulary_size": 1234}
    probabilities = out_of_fold_probabilities(corpus, recorded, seed=7, folds=2)
    assert probabilities.shape == (60, 3)
    assert built == [{"features": "word", "C": 3.0, "class_weight": None, "encoder": "minilm-l6",
                      "encoder_weight": 0.5, "seed": 7}] * 2


def test_confidence_table_by_hand():
    probabilities = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.4, 0.35, 0.25], [0.2, 0.7, 0.1]])
    table = confidence_table(probabilities, ["slogan", "critique", "slogan", "critique"], levels=(0.0, 0.5, 0.8))
    assert table == [{"min_confidence": 0.0, "kept": 1.0, "accuracy": 0.75},
                     {"min_confidence": 0.5, "kept": 0.75, "accuracy": 0.6667},
                     {"min_confidence": 0.8, "kept": 0.25, "accuracy": 1.0}]


def test_shortcut_measures_by_hand():
    measures = shortcuts(["Long live the regime!", "The regime fell in 1989.", "The regime's lies.", "Kimchi.",
                          "Kim Il Sung was born in 1912."],
                         ["slogan", "neutral", "critique", "neutral", "neutral"])
    assert measures["slogans_with_exclamation"] == 1.0
    assert measures["critiques_with_strong_words"] == 1.0
    assert measures["words"]["regime"] == {"rows": 3, "slogan": 1, "critique": 1, "neutral": 1,
                                           "top_label": "slogan", "top_share": 0.3333}
    assert measures["words"]["Kim"]["rows"] == 1  # a name matches as a whole word only


def test_the_corpus_teaches_voice_not_shortcuts():
    """No watched topic word gives one label more than 60% of its rows; most slogans have no '!'."""
    corpus = load_corpus(str(DATA))
    measures = shortcuts(corpus.texts, corpus.labels)
    leaning = {word: (row["top_label"], row["top_share"]) for word, row in measures["words"].items()
               if row["top_share"] > MAX_LABEL_SHARE}
    assert not leaning, f"words that lean to one label: {leaning}"
    assert all(measures["words"][word]["rows"] >= 30 for word in WATCHED_WORDS)
    assert measures["slogans_with_exclamation"] < 0.5
    assert measures["critiques_with_strong_words"] < 0.6


def test_a_label_with_one_row_is_one_line_naming_the_corpus_and_the_label(tmp_path, capsys):
    corpus = small_corpus(tmp_path, 20)
    lines = corpus.read_text(encoding="utf-8").splitlines()
    slogans = [i for i, line in enumerate(lines) if ",slogan," in line]
    kept = [line for i, line in enumerate(lines) if i not in slogans[1:]]  # one slogan row left
    corpus.write_text("\n".join(kept) + "\n", encoding="utf-8")
    code = main(["train", "--data", str(corpus), "--out", str(tmp_path / "m"), "--no-report",
                 "--crosswriter", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1] == (f"Error: {corpus}: label 'slogan' has 1 row(s) in 1 group(s); every label "
                                    "needs rows in at least two groups to cross-validate")
    assert not (tmp_path / "m").exists()


def test_a_label_in_one_group_is_one_line_not_a_traceback(tmp_path, capsys):
    """Many rows of a label, all in one group: no grouped split can train on it (this was a scikit-learn traceback)."""
    corpus = small_corpus(tmp_path, 20)
    with corpus.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["label"] == "neutral":
            row["group"] = "one-topic"
    with corpus.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    neutral = sum(row["label"] == "neutral" for row in rows)
    code = main(["evaluate", "--data", str(corpus), "--folds", "2", "--jobs", "1", "--no-report",
                 "--crosswriter", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1] == (f"Error: {corpus}: label 'neutral' has {neutral} row(s) in 1 group(s); every "
                                    "label needs rows in at least two groups to cross-validate")
    assert "Traceback" not in err


def test_the_manifest_and_report_name_the_folds_used_when_the_corpus_cuts_them(tmp_path):
    """A label in three groups allows three folds, whatever was asked: the manifest says three, not five."""
    corpus = small_corpus(tmp_path, 20)
    with corpus.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    neutral = [row for row in rows if row["label"] == "neutral"]
    for number, row in enumerate(neutral):
        row["group"] = f"topic-{number % 3}"
    with corpus.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    challenge = write_challenge(tmp_path / "challenge.csv", CHALLENGE_ROWS)
    result = train(str(corpus), str(tmp_path / "m"), folds=5, n_jobs=1, challenge=str(challenge), crosswriter=None,
                   report=str(tmp_path / "report"))
    assert result.manifest["search"]["folds"] == 3
    assert result.manifest["evaluation"]["cross_validation"]["folds"] == 3
    assert "grouped stratified 3-fold cross-validation" in (tmp_path / "report" / "REPORT.md").read_text()
    # Without real text, the report's calibration and figures are on the folds: the three used.
    alone = tmp_path / "alone" / "labeled"  # no challenge set beside it
    alone.mkdir(parents=True)
    corpus.replace(alone / "small.csv")
    evaluate(str(alone), folds=5, n_jobs=1, crosswriter=None, report=str(tmp_path / "cv-report"))
    assert "on the grouped 3-fold CV" in (tmp_path / "cv-report" / "REPORT.md").read_text()
