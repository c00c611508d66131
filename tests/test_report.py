"""The evaluation report: its measures checked by hand, and the folder it writes."""

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA
from propclf._training.corpus import load_corpus
from propclf._training.report import expected_calibration_error, keyword_predict
from propclf.cli import main


def test_expected_calibration_error_by_hand():
    """Two bins used: 0.95 confident (2 rows, 1 right) and 0.55 confident (2 rows, both right).
    ECE = 0.5 * |0.95 - 0.5| + 0.5 * |0.55 - 1.0| = 0.225 + 0.225 = 0.45."""
    probabilities = np.array([[0.95, 0.03, 0.02], [0.95, 0.03, 0.02], [0.55, 0.25, 0.2], [0.2, 0.55, 0.25]])
    error, table = expected_calibration_error(probabilities, ["slogan", "neutral", "slogan", "critique"])
    assert error == pytest.approx(0.45)
    assert [(n, round(c, 2), a) for _, _, n, c, a in table] == [(2, 0.55, 1.0), (2, 0.95, 0.5)]


def test_keyword_baseline():
    assert keyword_predict(["Long live the Party!", "The regime lied.", "It rained.", "Glory to the regime!"]) == \
        ["slogan", "critique", "neutral", "slogan"]  # "Glory...!": 2 slogan hits beat 1 critique hit
    assert keyword_predict(["A cynical sham of a regime."]) == ["critique"]


def test_report_folder(tmp_path: Path, capsys):
    rows = list(csv.DictReader((DATA / "authored.csv").open(encoding="utf-8")))
    random.Random(3).shuffle(rows)
    sample = [r for label in ("slogan", "critique", "neutral") for r in [r for r in rows if r["label"] == label][:50]]
    data = tmp_path / "small.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sample[0]))
        writer.writeheader()
        writer.writerows(sample)
    report = tmp_path / "report"
    code = main(["evaluate", "--data", str(data), "--folds", "2", "--jobs", "1", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0 and out.rstrip().endswith(f"Wrote the evaluation report to {report}/REPORT.md")
    assert sorted(p.name for p in report.iterdir()) == ["REPORT.md", "confusion_matrix.png", "learning_curve.png",
                                                        "precision_recall.png", "reliability.png"]
    for figure in report.glob("*.png"):
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (report / "REPORT.md").read_text(encoding="utf-8")
    for model in ("majority class", "keyword lexicon", "multinomial naive Bayes", "linear SVM", "TF-IDF words + LR",
                  "TF-IDF characters + LR", "propclf (shipped)"):
        assert f"| {model} |" in text
    assert "Expected calibration error" in text and "out-of-fold mistakes, most confident first" in text
    corpus = load_corpus(str(data))
    mistakes = [line for line in text.splitlines() if line.startswith("| a")]
    assert 0 < len(mistakes) < len(corpus)
    confidences = [max(float(p) for p in line.split("|")[4].split(",")) for line in mistakes]
    assert confidences == sorted(confidences, reverse=True)
    assert main(["evaluate", "--data", str(data), "--folds", "2", "--jobs", "1", "--no-report"]) == 0
