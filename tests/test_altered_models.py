"""Models altered by hand or on purpose, with their hashes updated: refused with one line, never used.

The hashes say a file is the one the manifest names; they cannot say the manifest or the files hold what
propclf writes. So the values are checked too: types in the manifest, the settings of every feature set
(a file cannot choose a regular expression or a code path), and finite weights and a positive temperature.
"""

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from propclf import ModelError, load_model
from propclf._plain import VOCAB_FILE, WEIGHTS_FILE, _npz_bytes
from propclf.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample.txt"
MANIFEST = "propclf.json"


def _manifest(model: Path) -> dict:
    return json.loads((model / MANIFEST).read_text(encoding="utf-8"))


def _write_manifest(model: Path, manifest: dict) -> None:
    (model / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _replace(model: Path, name: str, data: bytes) -> None:
    """Rewrite a model file and make the manifest vouch for it, as an attacker who rewrites both would."""
    (model / name).write_bytes(data)
    manifest = _manifest(model)
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    _write_manifest(model, manifest)


def _edit_vocab(model: Path, change) -> None:
    settings = json.loads((model / VOCAB_FILE).read_bytes())
    change(settings)
    _replace(model, VOCAB_FILE, json.dumps(settings).encode("utf-8"))


def _edit_weights(model: Path, change) -> None:
    with np.load(io.BytesIO((model / WEIGHTS_FILE).read_bytes()), allow_pickle=False) as archive:
        arrays = {name: archive[name].copy() for name in archive.files}
    change(arrays)
    _replace(model, WEIGHTS_FILE, _npz_bytes(arrays))


def _one_line_error(model: Path, capsys, *needles: str) -> str:
    """The command line refuses the model with one ``Error:`` line naming the model folder."""
    capsys.readouterr()
    assert main(["predict", "--format", "csv", "--model", str(model), str(SAMPLE)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), captured.err
    assert str(model) in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert captured.out == ""
    return lines[0]


# -- item 4: a manifest edited by hand -------------------------------------------------------------------

@pytest.mark.parametrize("field, value, needle", [
    ("files", "propclf.vocab.json", "files"),
    ("files", {"propclf.vocab.json": "3510d244"}, "propclf.vocab.json"),
    ("files", {"propclf.vocab.json": {"sha256": 42}}, "propclf.vocab.json"),
    ("calibration", "temperature scaling", "calibration"),
    ("calibration", {"temperature": "abc"}, "temperature"),
    ("hyperparameters", ["word+char"], "hyperparameters"),
    ("versions", "1.9.1", "versions"),
])
def test_manifest_of_the_wrong_shape_is_one_line(model_dir: Path, capsys, field, value, needle):
    manifest = _manifest(model_dir)
    if field == "files" and isinstance(value, dict):
        value = {**manifest["files"], **value}
    _write_manifest(model_dir, {**manifest, field: value})
    with pytest.raises(ModelError, match=needle):
        load_model(model_dir)
    _one_line_error(model_dir, capsys, MANIFEST, needle)


@pytest.mark.parametrize("temperature", [float("nan"), float("inf"), -0.7, 0, True, "0.7"])
def test_the_manifest_temperature_must_be_a_positive_number(model_dir: Path, capsys, temperature):
    manifest = _manifest(model_dir)
    manifest["calibration"]["temperature"] = temperature
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelError, match="temperature"):
        load_model(model_dir)
    with pytest.raises(ModelError, match="temperature"):
        load_model(model_dir, trust=True)
    _one_line_error(model_dir, capsys, "temperature")


def test_an_untouched_model_still_loads_and_agrees(model_dir: Path):
    plain, pickled = load_model(model_dir), load_model(model_dir, trust=True)
    assert plain.temperature == pickled.temperature == _manifest(model_dir)["calibration"]["temperature"]
    texts = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert np.allclose(plain.probabilities(texts), pickled.probabilities(texts), atol=1e-9)


# -- item 7: a model file cannot choose a regular expression or a code path -----------------------------

def _feature(settings: dict, name: str) -> dict:
    return next(spec for spec in settings["features"] if spec["name"] == name)


@pytest.mark.parametrize("change, needle", [
    (lambda s: _feature(s, "word").update(token_pattern=r"(\w+\s?)+$"), "token_pattern"),
    (lambda s: _feature(s, "word").update(token_pattern=None), "token_pattern"),
    (lambda s: _feature(s, "char").update(token_pattern=r"(a+)+$"), "token_pattern"),
    (lambda s: _feature(s, "char").update(analyzer="char"), "analyzer"),
    (lambda s: _feature(s, "word").update(analyzer="encoder"), "analyzer"),
    (lambda s: _feature(s, "word").update(ngram_range=[1, 9]), "ngram_range"),
    (lambda s: _feature(s, "char").update(ngram_range="2-5"), "ngram_range"),
    (lambda s: _feature(s, "word").update(sublinear_tf=False), "sublinear_tf"),
    (lambda s: _feature(s, "word").update(name="words"), "words"),
    (lambda s: s["features"].append(dict(s["features"][0])), "word"),
    (lambda s: _feature(s, "word").update(terms=[1, 2, 3]), "terms"),
    (lambda s: _feature(s, "word").update(terms=["long", "", "live"]), "terms"),
    (lambda s: _feature(s, "char").update(terms=["ab", "cd", "ab"]), "terms"),
    (lambda s: _feature(s, "word").update(terms=["long", ["live"]]), "terms"),
    (lambda s: s.update(temperature=float("nan")), "temperature"),
    (lambda s: s.update(temperature=-0.7), "temperature"),
    (lambda s: s.update(temperature=2.5), "temperature"),  # not the manifest's temperature
])
def test_only_settings_propclf_writes_are_accepted(model_dir: Path, capsys, change, needle):
    _edit_vocab(model_dir, change)
    with pytest.raises(ModelError, match=needle):
        load_model(model_dir)
    _one_line_error(model_dir, capsys, needle)


def test_the_word_pattern_is_propclf_s_own_not_the_file_s(model_dir: Path):
    """Even a harmless pattern the file names is not used: the tokens are the ones propclf trained on."""
    from propclf._plain import TOKEN_PATTERN

    model = load_model(model_dir)
    word = next(f for f in model.scorer.feature_sets if f.name == "word")
    assert word._pattern.pattern == TOKEN_PATTERN


# -- item 16: values, not only bytes --------------------------------------------------------------------

@pytest.mark.parametrize("change, needle", [
    (lambda a: a["coef"].__setitem__((0, 5), np.nan), "coef"),
    (lambda a: a["coef"].__setitem__((2, 0), np.inf), "coef"),
    (lambda a: a["intercept"].__setitem__(1, np.nan), "intercept"),
    (lambda a: a["intercept"].__setitem__(0, -np.inf), "intercept"),
    (lambda a: a["idf_word"].__setitem__(3, np.nan), "idf_word"),
    (lambda a: a["idf_char"].__setitem__(7, np.inf), "idf_char"),
    (lambda a: a["idf_char"].__setitem__(7, -2.0), "idf_char"),
    (lambda a: a.update(coef=a["coef"][:, :-1]), "shape"),
    (lambda a: a.update(intercept=a["intercept"].astype("U8")), "intercept"),
    (lambda a: a.pop("idf_word"), "idf_word"),
])
def test_weights_must_be_finite_and_fit(model_dir: Path, capsys, change, needle):
    _edit_weights(model_dir, change)
    with pytest.raises(ModelError, match=needle):
        load_model(model_dir)
    _one_line_error(model_dir, capsys, needle)
