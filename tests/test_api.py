"""The public API: what `from propclf import ...` promises."""

import json
from pathlib import Path

import pytest

import propclf
from conftest import MODELS, RAW
from propclf import LABELS, Prediction, TaggedSentence, load_model, predict, tag


def test_public_api_is_declared_once():
    assert set(propclf.__all__) >= {"predict", "tag", "load_model", "train", "evaluate", "LABELS", "segment"}
    for name in propclf.__all__:
        assert getattr(propclf, name) is not None
        if callable(getattr(propclf, name)) and not isinstance(getattr(propclf, name), type):
            assert getattr(propclf, name).__doc__, name


def test_predict_one_and_many():
    one = predict("Long live the Workers' Party of Korea!")
    assert isinstance(one, Prediction)
    assert one.label == "slogan"
    assert set(one.probabilities) == set(LABELS)
    assert sum(one.probabilities.values()) == pytest.approx(1.0)
    many = predict(["Long live the Workers' Party of Korea!", "The film was released in 2012."])
    assert [p.label for p in many] == ["slogan", "neutral"]
    assert many[0] == one
    assert predict([]) == []


def test_predict_guideline_examples():
    """The examples of the guideline, which the corpus does not contain word for word."""
    assert predict("The money paid to watch this film may go into the hands of an oppressive, "
                   "totalitarian regime.").label == "critique"
    assert predict("They were sent to cities as far apart as Irkutsk and Stalingrad.").label == "neutral"


def test_predict_rejects_non_strings():
    with pytest.raises(TypeError, match="predict\\(\\) takes strings, got int"):
        predict([1, 2])
    with pytest.raises(TypeError, match="tag\\(\\) takes a string, got list"):
        tag(["a"])


def test_tag_offsets_point_into_the_document():
    document = (RAW / "003_da91d92bb086c2ce.txt").read_text(encoding="utf-8")
    sentences = tag(document)
    assert len(sentences) == 35
    assert all(isinstance(s, TaggedSentence) for s in sentences)
    assert [s.index for s in sentences] == list(range(35))
    for s in sentences:
        assert " ".join(document[s.start:s.end].split()) == s.text
        assert s.label == max(s.probabilities, key=s.probabilities.get)
    assert tag("") == []


def test_model_argument_accepts_paths_and_models(model_dir: Path):
    sentence = "Glory to the heroic miners!"
    default = predict(sentence)
    assert predict(sentence, model=str(model_dir)) == default
    assert predict(sentence, model=model_dir / "propclf.weights.npz") == default
    assert predict(sentence, model=load_model(MODELS)) == default
    trusted = predict(sentence, model=load_model(MODELS, trust=True))
    assert trusted.label == default.label
    assert trusted.probabilities == pytest.approx(default.probabilities, abs=1e-9)


def test_default_model_is_loaded_once():
    from propclf._predict import get_model

    assert get_model() is get_model()
    assert get_model(MODELS) is get_model(str(MODELS))


def test_results_serialise():
    result = tag("Long live the Party! It rained.")[0]
    assert result.to_dict() == {"index": 0, "start": 0, "end": 20, "text": "Long live the Party!",
                                "label": result.label, "probabilities": result.probabilities, "fragments": (),
                                "explanation": None}


def test_written_records_carry_a_tables_columns_as_the_command_line_does(tmp_path: Path, monkeypatch):
    import io

    from propclf import tag_files, write_records
    from propclf.cli import main

    table = tmp_path / "t.csv"
    table.write_text("text,speaker\nLong live the Party! It rained.,Kim\n", encoding="utf-8")
    out = io.StringIO()
    write_records(tag_files([str(table)]), out, "csv")
    header = out.getvalue().splitlines()[0]
    assert header.split(",")[-1] == "speaker"
    assert out.getvalue().splitlines()[1].endswith(",Kim")
    assert main(["predict", str(table), "-o", str(tmp_path / "cli.csv")]) == 0
    assert (tmp_path / "cli.csv").read_text(encoding="utf-8") == out.getvalue()


def test_tagged_records_say_what_they_read_before_the_first(tmp_path: Path):
    from propclf import InputError, TaggedRecords, tag_files

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Long live the Party!\n", encoding="utf-8")
    table = tmp_path / "t.jsonl"
    table.write_text('{"text": "It rained.", "speaker": "Kim", "id": 3}\n', encoding="utf-8")
    records = tag_files([str(tmp_path / "docs"), str(table)])
    assert isinstance(records, TaggedRecords)
    assert records.inputs == [str(tmp_path / "docs" / "a.txt"), str(table)]
    assert records.tables == [str(table)]
    assert records.size == (tmp_path / "docs" / "a.txt").stat().st_size + table.stat().st_size
    assert records.columns == ["speaker", "input_id"]
    assert [r.sentence.text for r in records] == ["Long live the Party!", "It rained."]
    stopped = tag_files([str(table)])
    assert next(stopped).fields == {"speaker": "Kim", "input_id": "3"}
    stopped.close()
    assert next(stopped, None) is None
    assert tag_files(["-"]).size is None
    missing = tag_files([str(tmp_path / "none.txt")])  # nothing is read until asked for
    with pytest.raises(InputError, match="none.txt: no such file"):
        next(missing)
    bad = tmp_path / "bad.csv"
    bad.write_text("words\nIt rained.\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.csv: no column 'text'"):  # a table's head is read before tagging
        next(tag_files([str(tmp_path / "docs"), str(bad)]))


def test_records_written_to_a_file_take_its_extension_and_refuse_an_input(tmp_path: Path):
    from propclf import FORMATS, InputError, format_for, tag_files, write_records

    assert [format_for(name) for name in ("a.csv", "b.JSONL", "c.ndjson", "d.htm", "e.html", "f.txt", "g.xlsx", "h")
            ] == ["csv", "jsonl", "jsonl", "html", "html", "table", None, None]
    assert set(FORMATS) == {"table", "csv", "jsonl", "html"}
    document = tmp_path / "a.txt"
    document.write_text("Long live the Party! It rained.\n", encoding="utf-8")
    counts = write_records(tag_files([str(document)]), tmp_path / "out" / "tags.jsonl")
    lines = (tmp_path / "out" / "tags.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["Long live the Party!", "It rained."]
    assert sum(counts.values()) == 2
    with pytest.raises(InputError, match="a.txt: is also an input"):
        write_records(tag_files([str(document)]), document, "csv")
    assert document.read_text(encoding="utf-8") == "Long live the Party! It rained.\n"
    with pytest.raises(ValueError, match="no output format has the extension '.xlsx'"):
        write_records(tag_files([str(document)]), tmp_path / "tags.xlsx")
    assert not (tmp_path / "tags.xlsx").exists()


def test_explain_takes_how_many_ngrams():
    from propclf.cli import main

    sentence = "Long live the great leader, glory to the heroic workers of the party!"
    eight = predict(sentence, explain=True).explanation
    assert len(eight) == 8
    assert predict(sentence, explain=3).explanation == eight[:3]
    assert len(predict(sentence, explain=20).explanation) > 8
    assert predict(sentence, explain=False).explanation is None
    with pytest.raises(TypeError, match="explain"):
        predict(sentence, explain="yes")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["explain", "--top", "3", sentence]) == 0
    shown = [line.split() for line in out.getvalue().splitlines()[3:]]
    assert [(" ".join(words[1:]), float(words[0])) for words in shown] == [(n, pytest.approx(w, abs=5e-4))
                                                                          for n, w in eight[:3]]


def test_a_model_describes_itself_from_its_manifest():
    import json as json_module

    from propclf import get_model

    model = get_model()
    manifest = json_module.loads((MODELS / "propclf.json").read_text(encoding="utf-8"))
    about = model.describe()
    assert about["rows"] == manifest["training_data"]["rows"]
    assert about["per_label"] == manifest["training_data"]["per_label"]
    assert about["settings"].startswith(f"features={manifest['hyperparameters']['features']}, C=")
    assert about["real_text"] == {name: result["macro_f1"]
                                  for name, result in manifest["evaluation"]["real_text"].items()}
    assert about["cross_validation"] == manifest["evaluation"]["cross_validation"]["macro_f1"]
    assert about["path"] == model.path


def test_a_train_result_says_its_settings_in_one_line():
    from propclf import TrainResult

    result = TrainResult(MODELS / "propclf.joblib", {"hyperparameters": {"features": "word+char", "C": 4.0,
                                                                         "class_weight": "balanced"}})
    assert result.settings == "features=word+char, C=4.0, class weight balanced"
