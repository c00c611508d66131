"""The public API: what `from propclf import ...` promises."""

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
