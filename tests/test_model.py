"""The model: training determinism, the committed model's reproducibility, save/load safety."""

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, MODELS, small_corpus
from propclf import LABELS, ModelError, load_corpus, load_model, predict, train
from propclf._model import FORMAT_VERSION
from propclf._training.evaluation import scale
from propclf._training.pipeline import build_pipeline

CORPUS = load_corpus(str(DATA))


def test_training_is_deterministic(tmp_path: Path):
    data = small_corpus(tmp_path)
    first = train(str(data), str(tmp_path / "a"), seed=3, folds=2, n_jobs=1)
    second = train(str(data), str(tmp_path / "b"), seed=3, folds=2, n_jobs=1)
    probe = CORPUS.texts[:300]
    a = load_model(tmp_path / "a").predict_proba(probe)
    b = load_model(tmp_path / "b").predict_proba(probe)
    assert a == b
    assert first.manifest["files"] == second.manifest["files"]  # byte-identical model files
    assert first.manifest["evaluation"] == second.manifest["evaluation"]
    assert first.manifest["hyperparameters"] == second.manifest["hyperparameters"]


def test_manifest_describes_the_model(tmp_path: Path):
    result = train(str(small_corpus(tmp_path)), str(tmp_path / "m"), seed=0, folds=2, n_jobs=1, crosswriter=None)
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
    assert manifest["evaluation"]["real_text"] is None  # no seed rows, no challenge set, no cross-writer sets
    calibration = manifest["calibration"]
    assert 0.1 <= calibration["temperature"] <= 10 and 0 <= calibration["ece_after"] <= 1


def test_committed_model_is_what_train_py_makes_from_the_committed_data():
    model = load_model(MODELS)
    manifest = model.manifest
    assert manifest["training_data"]["sha256"] == CORPUS.sha256, "retrain: python train.py"
    # The real-text check tests on the real seed documents only, never on text the team wrote.
    assert manifest["evaluation"]["real_text"]["seeds"]["test_rows"] == CORPUS.origins.count("seed") == 153
    settings = manifest["hyperparameters"]
    refit = build_pipeline(settings["features"], settings["C"], manifest["seed"], settings["class_weight"])
    refit.fit(CORPUS.texts, CORPUS.labels)
    order = [list(refit.classes_).index(label) for label in LABELS]
    expected = scale(refit.predict_proba(CORPUS.texts)[:, order], manifest["calibration"]["temperature"])
    # Byte for byte on the processor that trained it; another processor's BLAS kernels round
    # differently and the solver's iterations carry it (seen: 7e-7). A retrain forgotten moves far more.
    assert np.allclose(model.predict_proba(CORPUS.texts), expected, rtol=0, atol=1e-5)


def test_probabilities_by_hand():
    """The bundled model's probabilities are softmax((tf-idf features . coefficients + intercept) / T)."""
    model = load_model(MODELS, trust=True)
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
    assert copy.pipeline is None  # the default load reads plain data, not the pickle
    assert load_model(model_dir / "propclf.weights.npz").manifest == original.manifest
    trusted = load_model(model_dir / "propclf.joblib", trust=True)
    assert trusted.pipeline is not None and trusted.manifest == original.manifest


def random_text(rng: random.Random, count: int) -> list[str]:
    """Text unlike the corpus: shuffled corpus words, odd characters, case and white space."""
    words = " ".join(CORPUS.texts).split()
    odd = "ÉéİıΣσς!?.,'’“”\u200b\u202e\x00\t\n-😀ǅßﬁ  \u00a0\u2028日本語"
    texts = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            texts.append(" ".join(rng.choices(words, k=rng.randint(1, 40))))
        elif kind < 0.8:
            texts.append("".join(rng.choice(odd + "abcdef ") for _ in range(rng.randint(0, 60))))
        else:
            texts.append(" ".join(rng.choices(words, k=rng.randint(1, 10))).upper() + rng.choice(odd))
    return texts


def test_plain_model_gives_the_pipeline_probabilities():
    """The plain files, scored with NumPy, give the scikit-learn pipeline's probabilities to 1e-9."""
    plain, pickled = load_model(MODELS), load_model(MODELS, trust=True)
    pipeline, temperature = pickled.pipeline, pickled.manifest["calibration"]["temperature"]
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    texts = CORPUS.texts + random_text(random.Random(0), 5000)
    expected = scale(pipeline.predict_proba(texts)[:, order], temperature)
    got = np.array(plain.predict_proba(texts))
    assert np.abs(got - expected).max() <= 1e-9
    features = pipeline.named_steps["features"].transform(texts).tocsr()
    rows = plain.scorer.transform(texts)
    assert np.array_equal(rows.indptr, features.indptr) and np.array_equal(rows.indices, features.indices)
    assert np.abs(rows.data - features.data).max() <= 1e-12
    assert plain.feature_names() == pickled.feature_names()


@pytest.mark.parametrize("name", ["propclf.vocab.json", "propclf.weights.npz"])
def test_damaged_plain_file_is_refused(model_dir: Path, name: str):
    path = model_dir / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=rf"{name.replace('.', '[.]')}: file is damaged or altered \(sha256 differs"):
        load_model(model_dir)


def test_damaged_pickle_is_refused_when_trusted(model_dir: Path):
    path = model_dir / "propclf.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_model(model_dir).predict_proba(["Long live the Party!"])  # the plain model never reads it
    with pytest.raises(ModelError, match=r"propclf\.joblib: file is damaged or altered \(sha256 differs"):
        load_model(model_dir, trust=True)


def _rehash(model_dir: Path, name: str) -> None:
    """Make the manifest vouch for the file as it now is (as an attacker who rewrites both would)."""
    import hashlib

    manifest = json.loads((model_dir / "propclf.json").read_text())
    data = (model_dir / name).read_bytes()
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (model_dir / "propclf.json").write_text(json.dumps(manifest))


def test_truncated_files_with_matching_hash_fail_cleanly(model_dir: Path):
    for name in ("propclf.joblib", "propclf.weights.npz", "propclf.vocab.json"):
        path = model_dir / name
        path.write_bytes(path.read_bytes()[:1000])
        _rehash(model_dir, name)
    with pytest.raises(ModelError, match=r"propclf\.joblib: cannot load model"):
        load_model(model_dir, trust=True)
    with pytest.raises(ModelError, match=r"models: cannot load the plain model \(JSONDecodeError"):
        load_model(model_dir)


class _Planted:
    """A pickle that creates a file when it is loaded: stands for any code hidden in a model."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_default_load_never_unpickles(model_dir: Path, tmp_path: Path, capsys):
    import pickle

    from propclf.cli import main

    marker = tmp_path / "code-ran"
    (model_dir / "propclf.joblib").write_bytes(pickle.dumps(_Planted(marker)))
    _rehash(model_dir, "propclf.joblib")
    load_model(model_dir)
    sample = Path(__file__).resolve().parents[1] / "examples" / "sample.txt"
    assert main(["predict", "--format", "csv", "--model", str(model_dir), str(sample)]) == 0
    assert main(["inspect", "--model", str(model_dir)]) == 0
    assert not marker.exists()
    with pytest.raises(ModelError, match=r"propclf\.joblib: a pickle can run code when loaded"):
        load_model(model_dir / "propclf.joblib")
    # The planted pickle is real: trusting it runs its code (and it is then refused as no model).
    with pytest.raises(ModelError, match=r"not a propclf model"):
        load_model(model_dir, trust=True)
    assert marker.exists()


def test_model_files_hold_no_training_text_beyond_the_vocabulary():
    """CVE-2024-5206: TfidfVectorizer once kept every pruned token in ``stop_words_``."""
    import pickle

    pipeline = load_model(MODELS, trust=True).pipeline
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        assert not hasattr(vectorizer, "stop_words_")
    stored = [pickle.dumps(pipeline), (MODELS / "propclf.vocab.json").read_bytes(),
              (MODELS / "propclf.weights.npz").read_bytes()]
    vocab = json.loads(stored[1])
    assert set(vocab) == {"format", "labels", "temperature", "features"}
    # Terms are at most two words or five characters, so no sentence of three words can be stored.
    sentences = [text.lower() for text in CORPUS.texts if len(text.split()) >= 3]
    # A seeded sample: each look is a scan of megabytes, and a model that kept text would keep much of it.
    sentences = random.Random(0).sample(sentences, min(len(sentences), 2000))
    for data in stored:
        text = data.decode("utf-8", errors="replace")
        assert not [s for s in sentences if s in text]
    # The char vocabulary keeps only n-grams seen in two texts or more (min_df=2), nothing else.
    char = next(f for f in vocab["features"] if f["name"] == "char")
    assert len(char["terms"]) == len(pipeline.named_steps["features"].transformer_list[1][1].vocabulary_)


def test_manifest_problems_are_refused(model_dir: Path):
    manifest_path = model_dir / "propclf.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 999}))
    with pytest.raises(ModelError, match=r"model format 999 is not supported by this propclf"):
        load_model(model_dir)
    manifest_path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "files"}))
    with pytest.raises(ModelError, match=r"propclf\.json: manifest lists no propclf\.vocab\.json"):
        load_model(model_dir)
    manifest_path.write_text("{not json")
    with pytest.raises(ModelError, match=r"propclf\.json: manifest is damaged \(JSONDecodeError\)"):
        load_model(model_dir)
    manifest_path.unlink()
    with pytest.raises(ModelError, match=r"propclf\.json: manifest missing"):
        load_model(model_dir)


def test_missing_model(tmp_path: Path):
    with pytest.raises(ModelError, match=r"none: no such model folder \(train one with: python train.py\)"):
        load_model(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"empty/propclf\.json: manifest missing"):
        load_model(tmp_path / "empty")


def test_model_from_another_scikit_learn_version_warns_once(model_dir: Path, capsys):
    """Only the pickle depends on scikit-learn's version; the plain model does not."""
    import sklearn

    from propclf import ModelVersionWarning
    from propclf.cli import main

    manifest_path = model_dir / "propclf.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["versions"]["scikit-learn"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    load_model(model_dir)  # plain: no warning (warnings are errors in the tests)
    with pytest.warns(ModelVersionWarning) as caught:
        load_model(model_dir, trust=True)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        f"{model_dir / 'propclf.joblib'}: trained with scikit-learn 0.0.1, but {sklearn.__version__} is installed; "
        "its predictions may differ. Retrain with: python train.py (or install scikit-learn==0.0.1)")
    sample = Path(__file__).resolve().parents[1] / "examples" / "sample.txt"
    assert main(["predict", "--format", "csv", "--trust-pickle", "--model", str(model_dir), str(sample)]) == 0
    err = capsys.readouterr().err
    assert err == f"Warning: {caught[0].message}\n"  # one line, nothing from scikit-learn itself


def test_constraints_pin_the_versions_the_model_was_trained_with():
    """constraints.txt (used by the Quick start) and the manifest must agree, and be what is installed."""
    import importlib.metadata

    root = Path(__file__).resolve().parents[1]
    pins = dict(line.split("==") for line in (root / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    trained = load_model(MODELS).manifest["versions"]
    for name in ("scikit-learn", "numpy", "scipy", "joblib"):
        assert pins[name] == trained[name] == importlib.metadata.version(name), name
