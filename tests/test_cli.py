"""The command line, run in-process through main(argv): exit codes and exact messages."""

import csv
import io
import json
import sys
from pathlib import Path

import pytest

from conftest import DATA, RAW, run
from propclf import LABELS
from propclf.cli import cli

SEED = RAW / "000_c312eb8dd21f1c61.txt"


def test_every_command_has_help(capsys):
    assert cli.commands, "no commands"
    for name, command in cli.commands.items():
        assert command.help and command.help.strip(), f"{name} has no help text"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"{name} --{param.name} has no help text"
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and out.startswith(f"Usage: propclf {name}")


def test_version(capsys):
    from propclf import __version__

    assert run(capsys, "--version") == (0, f"propclf, version {__version__}\n", "")


def test_predict_table(capsys):
    code, out, err = run(capsys, "predict", "--format", "table", str(SEED))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"{SEED}: 57 sentences (")
    assert lines[1].split() == ["#", "label", *LABELS, "text"]
    assert len(lines) == 2 + 57
    assert lines[2].split()[:2] == ["0", "neutral"]


def test_predict_csv_rows(capsys):
    code, out, _ = run(capsys, "predict", "--format", "csv", str(SEED))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["source", "row", "id", "sentence", "start", "end", "text", "label",
                             "p_slogan", "p_critique", "p_neutral"]
    assert len(rows) == 57
    document = SEED.read_text(encoding="utf-8")
    for row in rows:
        assert row["source"] == str(SEED)
        assert " ".join(document[int(row["start"]):int(row["end"])].split()) == row["text"]
        assert row["label"] in LABELS
        assert sum(float(row[f"p_{label}"]) for label in LABELS) == pytest.approx(1.0, abs=2e-4)


def test_predict_jsonl_many_files(capsys):
    other = RAW / "003_da91d92bb086c2ce.txt"
    code, out, _ = run(capsys, "predict", "--format", "jsonl", str(SEED), str(other))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["source"] for r in rows].count(str(other)) == 35
    assert set(rows[0]) == {"source", "sentence", "start", "end", "text", "label", "probabilities", "fragments"}
    assert set(rows[0]["probabilities"]) == set(LABELS)


def test_predict_stdin(capsys, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO("\ufeffLong live the great leader! It rained all week.".encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "predict", "--format", "csv", "-")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["source"], r["text"], r["label"]) for r in rows] == [
        ("-", "Long live the great leader!", "slogan"), ("-", "It rained all week.", "neutral")]
    assert (rows[1]["start"], rows[1]["end"]) == ("28", "47")  # offsets after the BOM is dropped


def test_predict_output_file(capsys, tmp_path: Path):
    target = tmp_path / "out.jsonl"
    code, out, _ = run(capsys, "predict", "--format", "jsonl", "--output", str(target), str(SEED))
    assert (code, out) == (0, "")
    assert len(target.read_text(encoding="utf-8").splitlines()) == 57
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left behind


def test_failed_run_leaves_existing_output_alone(capsys, tmp_path: Path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    missing = str(tmp_path / "nope.txt")
    code, _, err = run(capsys, "predict", "--format", "csv", "-o", str(target), str(SEED), missing)
    assert code == 1 and err == f"Error: {tmp_path / 'nope.txt'}: no such file\n"
    assert target.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_predict_with_model_option(capsys, model_dir: Path):
    expected = run(capsys, "predict", "--format", "csv", str(SEED))[1]
    assert run(capsys, "predict", "--format", "csv", "--model", str(model_dir), str(SEED))[1] == expected
    pickle_file = str(model_dir / "propclf.joblib")
    # The pickle only on request; its probabilities agree with the plain model's to 1e-9, so to 4 places.
    assert run(capsys, "predict", "--format", "csv", "--trust-pickle", "--model", pickle_file, str(SEED))[1] == expected
    assert run(capsys, "predict", "--format", "csv", "--trust-pickle", str(SEED))[1] == expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "{p}: no such file"),
        (lambda d: d, "{p}: no files matching '*.txt,*.md' in this folder"),
        (lambda d: (d / "empty.txt").write_text("") and d / "empty.txt" or d / "empty.txt", "{p}: file is empty"),
        (lambda d: (d / "blank.txt").write_text(" \n\t\n") and d / "blank.txt", "{p}: file is empty"),
        (lambda d: (d / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1")) and d / "latin1.txt",
         "{p}: not valid utf-8 (byte 0xe9 at offset 3); use --encoding, or --errors replace"),
    ],
    ids=["missing", "empty-folder", "empty", "blank", "not-utf8"],
)
def test_predict_bad_input(capsys, tmp_path: Path, make, message):
    path = make(tmp_path)
    code, out, err = run(capsys, "predict", str(path))
    assert (code, out) == (1, "")
    assert err == "Error: " + message.format(p=path) + "\n"


def test_predict_bad_model(capsys, tmp_path: Path, model_dir: Path):
    code, _, err = run(capsys, "predict", "--model", str(tmp_path / "none"), str(SEED))
    assert code == 1
    assert err == f"Error: {tmp_path / 'none'}: no such model folder (train one with: python train.py)\n"
    (model_dir / "propclf.weights.npz").write_bytes(b"garbage")
    code, _, err = run(capsys, "predict", "--model", str(model_dir), str(SEED))
    assert code == 1
    assert err == (f"Error: {model_dir / 'propclf.weights.npz'}: file is damaged or altered (sha256 differs from "
                   "propclf.json); retrain with: python train.py\n")
    code, _, err = run(capsys, "predict", "--model", str(model_dir / "propclf.joblib"), str(SEED))
    assert code == 1
    assert err == (f"Error: {model_dir / 'propclf.joblib'}: a pickle can run code when loaded; load its folder "
                   "(plain model) or, if you trust its source, pass trust=True (--trust-pickle)\n")


def test_usage_errors(capsys):
    code, _, err = run(capsys, "predict")
    assert code == 2 and "Missing argument 'INPUTS...'" in err
    code, _, err = run(capsys, "predict", "--format", "xml", str(SEED))
    assert code == 2 and "'xml' is not one of 'table', 'csv', 'jsonl', 'html'" in err


def test_train_and_evaluate_commands(capsys, tmp_path: Path):
    rows = list(csv.DictReader((DATA / "authored.csv").open(encoding="utf-8")))
    sample = [r for label in LABELS for r in [r for r in rows if r["label"] == label][:40]]
    data = tmp_path / "small.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(sample)
    out_dir = str(tmp_path / "m")
    no_sets = ["--crosswriter", str(tmp_path / "none")]
    code, out, err = run(capsys, "train", "--data", str(data), "--out", out_dir, "--folds", "2", "--jobs", "1",
                         "--no-report", *no_sets)
    assert code == 0
    assert "IN-CORPUS: grouped stratified 2-fold cross-validation (120 rows;" in out
    assert f"Saved to {tmp_path / 'm'}: propclf.joblib (sha256 " in out and "propclf.weights.npz (sha256 " in out
    assert (tmp_path / "m" / "propclf.json").is_file()
    assert "Searching 27 settings on 2 training splits (120 rows)..." in err  # progress, on standard error
    code, out, _ = run(capsys, "evaluate", "--data", str(data), "--folds", "2", "--jobs", "1", "--no-report", *no_sets)
    assert code == 0 and out.startswith("IN-CORPUS: grouped stratified 2-fold cross-validation (120 rows;")
    # With a real-text set, its figures come first.
    challenge = tmp_path / "challenge.csv"
    challenge.write_text("text,label,doc\nLong live the Leader!,slogan,d1\nThe regime lied.,critique,d1\n"
                         "It rained in May.,neutral,d2\nGlory to the plan.,slogan,d2\n", encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", "--data", str(data), "--folds", "2", "--jobs", "1", "--no-report",
                       "--challenge", str(challenge), *no_sets)
    assert code == 0 and out.startswith("REAL TEXT (sentences the model never trained on)")
    assert out.index("challenge ") < out.index("IN-CORPUS")


def test_train_bad_corpus(capsys, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,label,source,start,end,group\na1,Hi.,praise,authored,,,g\n", encoding="utf-8")
    code, out, err = run(capsys, "train", "--data", str(bad), "--out", str(tmp_path / "m"))
    assert (code, out) == (1, "")
    assert err.endswith(f"Error: {bad}, line 2: unknown label 'praise' (expected one of slogan, critique, neutral)\n")
    assert not (tmp_path / "m").exists()


def test_output_file_gets_ordinary_permissions(capsys, tmp_path: Path):
    import os

    target = tmp_path / "out.csv"
    assert run(capsys, "predict", "--format", "csv", "-o", str(target), str(SEED))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def _imported_by_predict(tmp_path: Path, watched: set[str]) -> list[str]:
    """Which of ``watched`` (module names) a fresh process has imported after tagging one sentence."""
    import subprocess
    import sys

    one = tmp_path / "one.txt"
    one.write_text("Long live the great leader!\n", encoding="utf-8")
    code = ("import sys; from propclf.cli import main; main(['predict', '--format', 'csv', sys.argv[1]]); "
            "watched = set(sys.argv[2].split(',')); "
            "seen = {m for m in sys.modules if any(m == w or m.startswith(w + '.') for w in watched)}; "
            "print(','.join(sorted(seen)), "
            "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, str(one), ",".join(sorted(watched))], capture_output=True,
                          text=True, check=True)
    assert ",slogan," in done.stdout
    return [name for name in done.stderr.strip().split(",") if name]


def test_predict_imports_no_heavy_library(tmp_path: Path):
    """Cold start: tagging with the bundled model needs NumPy, not scikit-learn, SciPy, pandas or the rest."""
    heavy = {"sklearn", "scipy", "pandas", "matplotlib", "dask", "distributed", "joblib"}
    assert _imported_by_predict(tmp_path, heavy) == []


def test_predict_leaves_the_dask_engine_and_the_evaluation_unimported(tmp_path: Path):
    """Start-up: the CLI imports the Dask engine and the training side only for the commands that use them."""
    assert _imported_by_predict(tmp_path, {"propclf._dask", "propclf._training"}) == []
    # The lazy names still resolve.
    import propclf

    assert propclf.tag_with_dask.__module__ == "propclf._dask" and propclf.DaskResult.__name__ == "DaskResult"
