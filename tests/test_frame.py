"""pandas: tag_frame, Corpus.to_frame, and a tagged document shown in a notebook."""

import html
import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import propclf
from conftest import DATA, RAW, small_corpus
from propclf import LABELS, InputError, load_corpus, tag, tag_frame
from propclf._columns import BASE_COLUMNS
from propclf._outputs import COLOURS
from propclf.cli import main

TABLE = pd.DataFrame({
    "text": ["Long live the great leader! Prices rose in the capital.",
             "   ",
             'The minister said "we will never surrender our glorious homeland" on Monday. The regime lies to us.',
             "The film was released in 2012."],
    "key": ["k1", "k2", "k3", "k4"],
    "source": ["x", "y", "z", "w"],  # one of propclf's own names: carried as input_source
    "author": ["Ann", "Bo", "Cy", "Di"],
})


def cli_csv(capsys, tmp_path: Path, frame: pd.DataFrame, *options: str) -> pd.DataFrame:
    table = tmp_path / "t.csv"
    frame.to_csv(table, index=False)
    assert main(["predict", "--format", "csv", *options, str(table)]) == 0
    return pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False, dtype=str)


@pytest.mark.parametrize("rows", ["document", "sentence"])
def test_tag_frame_gives_the_rows_of_the_csv_output(capsys, tmp_path: Path, rows: str):
    expected = cli_csv(capsys, tmp_path, TABLE, "--rows", rows, "--id-column", "key")
    got = tag_frame(TABLE, rows=rows, id_column="key")
    assert list(got.columns) == list(expected.columns) == [*BASE_COLUMNS, "input_source", "author"]
    assert len(got) == len(expected) == (3 if rows == "sentence" else 5)  # the blank row is skipped
    assert (got["source"] == "<frame>").all()
    for column in ("row", "id", "sentence", "start", "end", "text", "label", "input_source", "author"):
        assert got[column].astype(str).tolist() == expected[column].tolist(), column
    for label in LABELS:  # the CSV rounds to 4 decimals
        assert got[f"p_{label}"].to_numpy() == pytest.approx(expected[f"p_{label}"].astype(float).to_numpy(), abs=5e-5)
    for column in ("row", "sentence", "start", "end"):
        assert got[column].dtype == "int64", column
    for label in LABELS:
        assert got[f"p_{label}"].dtype == "float64"
    assert got[[f"p_{label}" for label in LABELS]].sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_tag_frame_offsets_index_the_row_text_and_row_is_the_position():
    frame = TABLE.set_index(pd.Index([10, 20, 30, 40]))  # the index is not the position
    got = tag_frame(frame)
    assert got["id"].isna().all()  # no id column
    for _, sentence in got.iterrows():
        original = frame.iloc[sentence["row"] - 1]
        assert original["text"][sentence["start"]:sentence["end"]].startswith(sentence["text"][:10])
        assert sentence["author"] == original["author"]
    assert got["row"].tolist() == [1, 1, 3, 3, 4]
    assert got.index.tolist() == list(range(len(got)))


def test_tag_frame_carries_columns_with_their_values_and_dtypes():
    frame = pd.DataFrame({"text": ["One sentence. Two sentences.", "Three."], "n": [7, 8], "score": [0.5, 1.5],
                          "when": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    got = tag_frame(frame)
    assert got["n"].tolist() == [7, 7, 8] and got["n"].dtype == "int64"
    assert got["score"].dtype == "float64" and got["when"].dtype == frame["when"].dtype
    assert got["when"].tolist()[2] == pd.Timestamp("2024-02-01")


def test_tag_frame_skips_missing_text_and_says_how_many():
    frame = pd.DataFrame({"text": ["Long live the leader!", None, float("nan"), pd.NA, ""]}, dtype=object)
    said: list[str] = []
    got = tag_frame(frame, warn=said.append)
    assert got["row"].tolist() == [1]
    assert said == ["<frame>: 4 row(s) with empty 'text' skipped"]


def test_tag_frame_of_an_empty_frame_has_the_columns():
    got = tag_frame(pd.DataFrame({"text": pd.Series([], dtype=str), "other": pd.Series([], dtype="int64")}))
    assert list(got.columns) == [*BASE_COLUMNS, "other"] and len(got) == 0
    assert got["start"].dtype == "int64" and got["p_slogan"].dtype == "float64"


def test_tag_frame_bad_input_is_one_error_naming_the_frame():
    with pytest.raises(InputError, match=r"^<frame>: no column 'body' \(columns: text, key, source, author\); "
                                         r"choose one with text_column=$"):
        tag_frame(TABLE, text_column="body")
    with pytest.raises(InputError, match=r"^<frame>: no column 'nope' for id_column=$"):
        tag_frame(TABLE, id_column="nope")
    with pytest.raises(InputError, match=r"^<frame>, row 2: 'text' is not a string \(int\)$"):
        tag_frame(pd.DataFrame({"text": ["Fine.", 3]}, dtype=object))
    twice = pd.DataFrame([["A sentence.", "b", "c"]], columns=["text", "x", "x"])
    with pytest.raises(InputError, match=r"^<frame>: column 'x' appears twice; rename one$"):
        tag_frame(twice)
    with pytest.raises(TypeError, match="tag_frame\\(\\) takes a pandas DataFrame, got list"):
        tag_frame(["Long live the leader!"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rows=...\\) must be 'document' or 'sentence'"):
        tag_frame(TABLE, rows="paragraph")
    with pytest.raises(ValueError, match="min_confidence"):
        tag_frame(TABLE, min_confidence=2)


def test_tag_frame_uncertain_below_min_confidence():
    got = tag_frame(TABLE, min_confidence=0.999)
    assert "uncertain" in set(got["label"])
    assert ((got["label"] == "uncertain") == (got[[f"p_{label}" for label in LABELS]].max(axis=1) < 0.999)).all()


def test_tag_returns_a_list_that_a_notebook_shows_highlighted():
    document = 'Long live the great leader! The minister said "we will never surrender our homeland" <today>.'
    tagged = tag(document)
    assert isinstance(tagged, list) and tagged == list(tagged) and [s.label for s in tagged]
    shown = tagged._repr_html_()
    assert shown.startswith('<div class="propclf-doc">') and shown.endswith("</div>")
    assert "<script" not in shown and "<body" not in shown and "<html" not in shown
    spans = re.findall(r'<span class="s" tabindex="0" style="background:([^"]+)"', shown)
    assert spans == [COLOURS[s.label] for s in tagged]
    assert "&lt;today&gt;" in shown and "<today>" not in shown  # the text is escaped
    assert 'class="f"' in shown  # the quoted fragment is underlined
    for s in tagged:
        assert html.escape(f"{s.label} {s.probabilities[s.label]:.2f}") in shown  # in its tooltip
    # Every style rule is scoped to the fragment: nothing else on the notebook's page changes.
    style = re.search(r"<style>(.*?)</style>", shown, re.S).group(1)
    rules = [rule.strip() for rule in style.split("}") if rule.strip()]
    assert rules and all(selector.startswith(".propclf-doc") for rule in rules
                         for selector in rule.split("{")[0].split(","))
    assert "0 sentences" in tag("")._repr_html_()


def test_corpus_to_frame():
    corpus = load_corpus(str(DATA))
    frame = corpus.to_frame()
    assert list(frame.columns) == ["id", "text", "label", "source", "group", "origin", "file"]
    assert len(frame) == len(corpus)
    assert frame["id"].tolist() == corpus.ids and frame["text"].tolist() == corpus.texts
    assert frame["label"].value_counts().to_dict() == {k: v for k, v in corpus.counts().items() if v}
    assert frame["origin"].tolist() == corpus.origins and frame["file"].tolist() == corpus.files
    assert isinstance(corpus, propclf.Corpus)


def test_tagging_text_and_showing_it_import_no_pandas():
    code = ("import sys, propclf; d = propclf.tag('Long live the leader! It rained.'); d._repr_html_(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'scipy'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_tag_frame_with_workers_gives_the_same_frame(monkeypatch):
    """jobs=2 (small tasks, so that there are several) changes nothing in the frame."""
    import propclf._tagging as tagging


    monkeypatch.setattr(tagging, "TASK_CHARS", 3000)
    monkeypatch.setattr(tagging, "_idle_cores", lambda: 2.0)  # workers even on a busy machine
    frame = pd.DataFrame({"text": [path.read_text(encoding="utf-8") for path in sorted(RAW.glob("*.txt"))[:6]]})
    frame["n"] = range(len(frame))
    one = tag_frame(frame)
    assert len(one) > 100
    pd.testing.assert_frame_equal(tag_frame(frame, jobs=2), one)


def test_evaluation_results_as_frames(tmp_path: Path):
    """evaluate() gives a dict; to_frame() its per-label scores, candidates_frame() the search's table."""
    from test_evaluation import CHALLENGE_ROWS, write_challenge

    challenge = write_challenge(tmp_path / "challenge.csv", CHALLENGE_ROWS)
    result = propclf.evaluate(str(small_corpus(tmp_path, 40)), folds=2, n_jobs=1, challenge=str(challenge),
                              crosswriter=None)
    assert isinstance(result, dict) and isinstance(result, propclf.EvaluationResult)
    assert list(result["real_text"]) == ["challenge"]

    scores = result.to_frame()
    assert list(scores.columns) == ["set", "label", "precision", "recall", "f1", "support"]
    assert scores[["set", "label"]].values.tolist() == [[name, label] for name in ("challenge", "cross-validation")
                                                        for label in LABELS]
    measured = {"challenge": result["real_text"]["challenge"], "cross-validation": result["cross_validation"]}
    for row in scores.itertuples():
        expected = measured[row.set]["per_label"][row.label]
        assert (row.precision, row.recall, row.f1, row.support) == (
            expected["precision"], expected["recall"], expected["f1"], expected["support"])
    assert scores.groupby("set")["support"].sum().to_dict() == {"challenge": 9, "cross-validation": 120}
    assert [str(scores[c].dtype) for c in ("precision", "recall", "f1", "support")] == ["float64"] * 3 + ["int64"]

    candidates = result.candidates_frame()
    table = result["selection"]["candidates"]
    assert len(candidates) == len(table) == 27
    assert {"features", "C", "class_weight", "cv_macro_f1", "cv_std", "challenge_macro_f1",
            "real_text_macro_f1", "chosen"} <= set(candidates.columns)
    assert candidates["cv_macro_f1"].tolist() == [row["cv_macro_f1"] for row in table]
    assert set(candidates["class_weight"]) == {"balanced", "none", "neutral x2"}
    chosen = candidates[candidates["chosen"]]
    assert len(chosen) == 1
    settings = result["hyperparameters"]
    assert chosen[["features", "C"]].values.tolist() == [[settings["features"], settings["C"]]]
    assert chosen["real_text_macro_f1"].item() == candidates["real_text_macro_f1"].max()


def test_importing_the_evaluation_imports_no_pandas():
    code = ("import sys, propclf._training.train, propclf._training.evaluation; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
