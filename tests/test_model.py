"""The model: training determinism, the committed model's reproducibility, save/load safety."""

import csv
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, MODELS
from propclf import LABELS, ModelError, load_corpus, load_model, predict, train
from propclf._model import FORMAT_VERSION, build_pipeline, scale

CORPUS = load_corpus(str(DATA))


def small_corpus(tmp_path: Path, per_label: int = 60) -> Path:
    """An authored-only sample of the corpus, small enough to train in seconds."""
    rows = list(csv.DictReader((DATA / "authored.csv").open(encoding="utf-8")))
    random.Random(1).shuffle(rows)
    picked = [r for label in LABELS for r in [r for r in rows if r["label"] == label][:per_label]]
    path = tmp_path / "small.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return path


def test_training_is_deterministic(tmp_path: Path):
    data = small_corpus(tmp_path)
    first = train(str(data), str(tmp_path / "a"), seed=3, folds=2, n_jobs=1)
    second = train(str(data), str(tmp_path / "b"), seed=3, folds=2, n_jobs=1)
    probe = CORPUS.texts[:300]
    a = load_model(tmp_path / "a").predict_proba(probe)
    b = load_model(tmp_path / "b").predict_proba(probe)
    assert a == b
    assert first.manifest["sha256"] == second.manifest["sha256"]  # byte-identical model files
    assert first.manifest["evaluation"] == second.manifest["evaluation"]
    assert first.manifest["hyperparameters"] == second.manifest["hyperparameters"]


def test_manifest_describes_the_model(tmp_path: Path):
    result = train(str(small_corpus(tmp_path)), str(tmp_path / "m"), seed=0, folds=2, n_jobs=1)
    manifest = json.loads((tmp_path / "m" / "propclf.json").read_text())
    assert manifest == result.manifest
    assert manifest["labels"] == list(LABELS)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["training_data"]["rows"] == 180
    assert manifest["training_data"]["per_label"] == {"slogan": 60, "critique": 60, "neutral": 60}
    assert {"scikit-learn", "numpy", "propclf", "python"} <= set(manifest["versions"])
    assert manifest["hyperparameters"]["features"] in {"word", "char", "word+char"}
    cv = manifest["evaluation"]["cross_validation"]
    assert 0 <= cv["macro_f1"] <= 1 and set(cv["per_label"]) == set(LABELS)
    assert sum(map(sum, cv["confusion_matrix"]["rows_true_columns_predicted"])) == 180
    assert manifest["evaluation"]["majority_baseline"]["macro_f1"] < cv["macro_f1"]
    assert manifest["evaluation"]["real_text"] is None  # no seed rows in this sample
    calibration = manifest["calibration"]
    assert 0.1 <= calibration["temperature"] <= 10 and 0 <= calibration["ece_after"] <= 1


def test_committed_model_is_what_train_py_makes_from_the_committed_data():
    model = load_model(MODELS)
    manifest = model.manifest
    assert manifest["training_data"]["sha256"] == CORPUS.sha256, "retrain: python train.py"
    # The real-text check tests on the real seed documents only, never on text the team wrote.
    assert manifest["evaluation"]["real_text"]["test_rows"] == CORPUS.origins.count("seed") == 153
    settings = manifest["hyperparameters"]
    refit = build_pipeline(settings["features"], settings["C"], manifest["seed"]).fit(CORPUS.texts, CORPUS.labels)
    order = [list(refit.classes_).index(label) for label in LABELS]
    expected = scale(refit.predict_proba(CORPUS.texts)[:, order], manifest["calibration"]["temperature"])
    assert np.allclose(model.predict_proba(CORPUS.texts), expected, rtol=0, atol=1e-12)


def test_probabilities_by_hand():
    """The bundled model's probabilities are softmax((tf-idf features . coefficients + intercept) / T)."""
    model = load_model(MODELS)
    sentence = "Long live the great leader!"
    features = model.pipeline.named_steps["features"].transform([sentence]).toarray()[0]
    classifier = model.pipeline.named_steps["classifier"]
    scores = (features @ classifier.coef_.T + classifier.intercept_) / model.manifest["calibration"]["temperature"]
    exp = [math.exp(s - max(scores)) for s in scores]
    by_hand = {label: exp[list(classifier.classes_).index(label)] / sum(exp) for label in LABELS}
    result = predict(sentence, model=model)
    assert result.probabilities == pytest.approx(by_hand, abs=1e-12)
    assert result.label == max(by_hand, key=by_hand.get) == "slogan"


def test_save_load_round_trip(model_dir: Path):
    original = load_model(MODELS)
    copy = load_model(model_dir)
    probe = CORPUS.texts[:50]
    assert copy.predict_proba(probe) == original.predict_proba(probe)
    assert copy.manifest == original.manifest
    assert load_model(model_dir / "propclf.joblib").manifest == original.manifest


def test_damaged_model_is_refused(model_dir: Path):
    path = model_dir / "propclf.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"propclf\.joblib: file is damaged or altered \(sha256 differs"):
        load_model(model_dir)


def test_truncated_model_with_matching_hash_fails_cleanly(model_dir: Path):
    import hashlib

    path = model_dir / "propclf.joblib"
    path.write_bytes(path.read_bytes()[:1000])
    manifest = json.loads((model_dir / "propclf.json").read_text())
    manifest["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (model_dir / "propclf.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"propclf\.joblib: cannot load model"):
        load_model(model_dir)


def test_manifest_problems_are_refused(model_dir: Path):
    manifest_path = model_dir / "propclf.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 999}))
    with pytest.raises(ModelError, match=r"model format 999 is not supported by this propclf"):
        load_model(model_dir)
    manifest_path.write_text("{not json")
    with pytest.raises(ModelError, match=r"propclf\.json: manifest is damaged \(JSONDecodeError\)"):
        load_model(model_dir)
    manifest_path.unlink()
    with pytest.raises(ModelError, match=r"propclf\.json: manifest missing"):
        load_model(model_dir)


def test_missing_model(tmp_path: Path):
    with pytest.raises(ModelError, match=r"propclf\.joblib: no model file here \(train one with: python train.py\)"):
        load_model(tmp_path)


def test_model_from_another_scikit_learn_version_warns_once(model_dir: Path, capsys):
    import sklearn

    from propclf import ModelVersionWarning
    from propclf.cli import main

    manifest_path = model_dir / "propclf.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["versions"]["scikit-learn"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(ModelVersionWarning) as caught:
        load_model(model_dir)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        f"{model_dir / 'propclf.joblib'}: trained with scikit-learn 0.0.1, but {sklearn.__version__} is installed; "
        "its predictions may differ. Retrain with: python train.py (or install scikit-learn==0.0.1)")
    sample = Path(__file__).resolve().parents[1] / "examples" / "sample.txt"
    assert main(["predict", "--format", "csv", "--model", str(model_dir), str(sample)]) == 0
    err = capsys.readouterr().err
    assert err == f"Warning: {caught[0].message}\n"  # one line, nothing from scikit-learn itself
