"""Label audit (confident learning) and inter-annotator agreement."""

import csv
import random
from pathlib import Path

import pytest

from conftest import DATA
from propclf import InputError, agreement, audit
from propclf.cli import main


def write_labels(path: Path, rows: list[tuple[str, str]], key: str = "id") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([key, "label"])
        writer.writerows(rows)
    return path


def test_kappa_by_hand(tmp_path: Path):
    """4 rows, 3 agree. p_o = 3/4; first: 2 slogan 2 neutral, second: 1 slogan 3 neutral;
    p_e = (2*1 + 2*3) / 16 = 1/2; kappa = (3/4 - 1/2) / (1 - 1/2) = 0.5."""
    first = write_labels(tmp_path / "a.csv", [("1", "slogan"), ("2", "slogan"), ("3", "neutral"), ("4", "neutral")])
    second = write_labels(tmp_path / "b.csv", [("1", "slogan"), ("2", "neutral"), ("3", "neutral"), ("4", "neutral"),
                                               ("5", "critique")])
    result = agreement(first, second)
    assert result["kappa"] == 0.5 and result["agreement"] == 0.75
    assert (result["rows"], result["only_first"], result["only_second"]) == (4, 0, 1)
    assert result["disagreements"] == [("2", "slogan", "neutral")]
    assert result["confusion"] == [[1, 0, 1], [0, 0, 0], [0, 0, 2]]


def test_agreement_matches_on_text_without_ids(tmp_path: Path):
    first = write_labels(tmp_path / "a.csv", [("Hello.", "neutral")], key="text")
    second = write_labels(tmp_path / "b.csv", [("Hello.", "neutral")], key="text")
    result = agreement(first, second)
    assert result["agreement"] == 1.0 and result["kappa"] is None  # one label only: kappa is undefined


def test_agreement_errors(tmp_path: Path, capsys):
    good = write_labels(tmp_path / "a.csv", [("1", "slogan")])
    bad_label = write_labels(tmp_path / "b.csv", [("1", "praise")])
    with pytest.raises(InputError, match=r"b\.csv, line 2: unknown label 'praise'"):
        agreement(good, bad_label)
    (tmp_path / "c.csv").write_text("id,tag\n1,slogan\n", encoding="utf-8")
    message = r"c\.csv: needs a 'label' column and an 'id' \(or 'text'\) column; has id, tag"
    with pytest.raises(InputError, match=message):
        agreement(good, tmp_path / "c.csv")
    other = write_labels(tmp_path / "d.csv", [("9", "slogan")])
    assert main(["agreement", str(good), str(other)]) == 1
    assert capsys.readouterr().err == f"Error: {other}: no rows in common with {good} (matched by id, or by text " \
                                      "without ids)\n"
    assert main(["agreement", str(good), str(tmp_path / "none.csv")]) == 1
    assert capsys.readouterr().err == f"Error: {tmp_path / 'none.csv'}: no such file\n"


def test_bundled_agreement_files(capsys):
    folder = DATA.parent / "agreement"
    assert main(["agreement", str(folder / "first_pass.csv"), str(folder / "second_pass.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("240 rows labeled by both")
    assert "Cohen's kappa 0.987, raw agreement 0.992" in out


def test_audit_finds_planted_mistakes(tmp_path: Path, capsys):
    rows = list(csv.DictReader((DATA / "authored.csv").open(encoding="utf-8")))
    random.Random(0).shuffle(rows)
    sample = [r for label in ("slogan", "critique", "neutral") for r in [r for r in rows if r["label"] == label][:80]]
    planted = [r for r in sample if r["label"] == "slogan" and r["text"].startswith(("Long live", "Glory to"))][:3]
    assert len(planted) == 3
    for row in planted:
        row["label"] = "neutral"
    data = tmp_path / "small.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sample[0]))
        writer.writeheader()
        writer.writerows(sample)
    suspects = audit(str(data), folds=3, hyperparameters={"features": "word+char", "C": 10.0})
    flagged = {s.id: s for s in suspects}
    for row in planted:
        assert flagged[row["id"]].given == "neutral" and flagged[row["id"]].suggested == "slogan"
    assert len(suspects) < len(sample) / 5  # it suggests, it does not relabel everything
    assert [s.margin for s in suspects] == sorted((s.margin for s in suspects), reverse=True)
    written = tmp_path / "all-suspects.csv"
    assert audit(str(data), folds=3, hyperparameters={"features": "word+char", "C": 10.0}, output=str(written)) == (
        suspects)
    table = list(csv.DictReader(written.open(encoding="utf-8")))
    assert [row["id"] for row in table] == [s.id for s in suspects]
    assert list(table[0]) == ["id", "file", "given", "suggested", "p_slogan", "p_critique", "p_neutral", "text"]
    target = tmp_path / "suspects.csv"
    assert main(["audit", "--data", str(data), "--folds", "3", "--top", "2", "-o", str(target)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("most doubtful first. Review each by hand.") and len(out) == 3
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == int(out[0].split()[0])
