"""The model: a scikit-learn pipeline, its manifest, and saving/loading both safely.

A saved model is two files side by side: ``propclf.joblib`` (the fitted pipeline) and
``propclf.json`` (the manifest: what it is, what it was trained on, how well it does, and the
sha256 of the joblib file). Loading checks the format version and the hash before unpickling.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ._errors import ModelError, ModelVersionWarning
from ._labels import LABELS
from ._textio import atomic_write_bytes, atomic_write_text

__all__ = [
    "FORMAT_VERSION",
    "MODEL_FILE",
    "MANIFEST_FILE",
    "Model",
    "build_pipeline",
    "scale",
    "save_model",
    "load_model",
    "default_model_dir",
]

#: Bumped when the saved layout changes; a model of another format is refused on load.
FORMAT_VERSION = 1
MODEL_FILE = "propclf.joblib"
MANIFEST_FILE = "propclf.json"
# Words, plus '!' and '?' as tokens of their own: exclamations carry slogans.
TOKEN_PATTERN = r"(?u)\b\w\w*\b|[!?]"


def build_pipeline(features: str = "word+char", C: float = 1.0, seed: int = 0) -> Any:
    """TF-IDF features (``word``, ``char`` or ``word+char``) into a logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    parts = []
    if "word" in features:
        parts.append(("word", TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), token_pattern=TOKEN_PATTERN,
            sublinear_tf=True, min_df=1, lowercase=True, dtype=_float64(),
        )))
    if "char" in features:
        parts.append(("char", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
            lowercase=True, dtype=_float64(),
        )))
    if not parts:
        raise ValueError(f"unknown feature set {features!r}")
    return Pipeline([
        ("features", FeatureUnion(parts)),
        ("classifier", LogisticRegression(
            C=C, class_weight="balanced", max_iter=5000, random_state=seed,
        )),
    ])


def _float64() -> Any:
    import numpy

    return numpy.float64


@dataclass
class Model:
    """A fitted pipeline and its manifest. ``predict_proba`` returns columns in LABELS order."""

    pipeline: Any
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    def predict_proba(self, texts: Sequence[str]) -> list[list[float]]:
        """One row of probabilities per text, in LABELS order."""
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))[:, self._order]
        temperature = self.manifest.get("calibration", {}).get("temperature")
        if temperature:
            probabilities = scale(probabilities, temperature)
        return probabilities.tolist()

    @property
    def _order(self) -> list[int]:
        classes = list(self.pipeline.classes_)
        return [classes.index(label) for label in LABELS]

    @cached_property
    def _feature_names(self) -> list[str]:
        return self.feature_names()

    def feature_names(self) -> list[str]:
        """Readable names of the model's features: ``long live`` for words, ``'ive '`` for characters."""
        names = []
        for name, vectorizer in self.pipeline.named_steps["features"].transformer_list:
            vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            names.extend(term if name == "word" else repr(term) for term in vocabulary)
        return names

    def coefficients(self) -> Any:
        """Coefficients as an array of shape (labels, features), rows in LABELS order."""
        return self.pipeline.named_steps["classifier"].coef_[self._order]

    def top_features(self, label: str, top: int = 15) -> list[tuple[str, float]]:
        """The features with the largest coefficients for ``label``: what the model looks for."""
        weights = self.coefficients()[LABELS.index(label)]
        names = self._feature_names
        order = weights.argsort()[::-1][:top]
        return [(names[i], round(float(weights[i]), 4)) for i in order]

    def explain(self, texts: Sequence[str], labels: Sequence[str], top: int = 8) -> list[list[tuple[str, float]]]:
        """For each text, the features that pushed it most towards its label: (name, tf-idf x weight)."""
        if not texts:
            return []
        features = self.pipeline.named_steps["features"].transform(list(texts)).tocsr()
        coefficients, names = self.coefficients(), self._feature_names
        explanations = []
        for row, label in zip(range(features.shape[0]), labels):
            start, end = features.indptr[row], features.indptr[row + 1]
            columns, values = features.indices[start:end], features.data[start:end]
            weights = values * coefficients[LABELS.index(label), columns]
            order = sorted(range(len(columns)), key=lambda i: -weights[i])[:top]
            explanations.append([(names[columns[i]], round(float(weights[i]), 4)) for i in order if weights[i] > 0])
        return explanations


def scale(probabilities: Any, temperature: float) -> Any:
    """Temperature scaling: softmax(logits / T), computed from probabilities as p^(1/T), renormalised."""
    import numpy

    logits = numpy.log(numpy.clip(probabilities, 1e-300, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = numpy.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def default_model_dir() -> Path:
    """Where the bundled model lives: inside the installed package, else the checkout's models/."""
    override = os.environ.get("PROPCLF_MODEL")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "models"
    if (packaged / MANIFEST_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(model file, manifest file) for a models folder or a model file."""
    path = Path(path)
    if path.is_dir():
        return path / MODEL_FILE, path / MANIFEST_FILE
    return path, path.with_suffix(".json")


def save_model(pipeline: Any, manifest: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    """Write the model and its manifest into folder ``out`` atomically; return the model path."""
    import joblib

    out = Path(out)
    model_path, manifest_path = out / MODEL_FILE, out / MANIFEST_FILE
    _drop_process_state(pipeline)
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    data = buffer.getvalue()
    manifest = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "model_file": MODEL_FILE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    atomic_write_bytes(model_path, data)
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return model_path


def _drop_process_state(pipeline: Any) -> None:
    """Drop scikit-learn's cached ``id()`` of the stop-word list: a memory address, which made two
    trainings of the same model pickle to different bytes. scikit-learn recomputes it when needed."""
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vars(vectorizer).pop("_stop_words_id", None)


def load_model(path: str | os.PathLike[str] | None = None) -> Model:
    """Load a model folder or ``.joblib`` file, checking its manifest, version and hash."""
    model_path, manifest_path = _paths(path if path is not None else default_model_dir())
    try:
        data = model_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{model_path}: no model file here (train one with: python train.py)") from None
    except IsADirectoryError:
        raise ModelError(f"{model_path}: is a directory, not a model file") from None
    except OSError as exc:
        raise ModelError(f"{model_path}: cannot read ({exc.strerror or exc})") from None
    manifest = _read_manifest(manifest_path)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{manifest_path}: model format {manifest.get('format_version')!r} is not supported by "
            f"this propclf (format {FORMAT_VERSION}); retrain with: python train.py"
        )
    if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
        raise ModelError(
            f"{model_path}: file is damaged or altered (sha256 differs from {manifest_path.name}); "
            "retrain with: python train.py"
        )
    pipeline = _unpickle(model_path, data)
    _check_versions(model_path, manifest)
    return Model(pipeline=pipeline, manifest=manifest, path=model_path)


def _check_versions(model_path: Path, manifest: dict[str, Any]) -> None:
    """One clear warning (instead of scikit-learn's own) when the model comes from another version."""
    import warnings

    import sklearn

    trained = manifest.get("versions", {}).get("scikit-learn")
    if trained and trained != sklearn.__version__:
        warnings.warn(ModelVersionWarning(
            f"{model_path}: trained with scikit-learn {trained}, but {sklearn.__version__} is installed; "
            f"its predictions may differ. Retrain with: python train.py (or install scikit-learn=={trained})"
        ), stacklevel=3)


def _read_manifest(manifest_path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{manifest_path}: manifest missing; a model is not loaded without it") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{manifest_path}: manifest is damaged ({type(exc).__name__})") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{manifest_path}: manifest is damaged (not a JSON object)")
    return manifest


def _unpickle(model_path: Path, data: bytes) -> Any:
    import warnings

    import joblib

    try:
        with warnings.catch_warnings():
            # The manifest records the versions; a mismatch is reported by check, not by spam.
            warnings.filterwarnings("ignore", message=".*Trying to unpickle estimator.*")
            pipeline = joblib.load(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the same to a user
        raise ModelError(f"{model_path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if not hasattr(pipeline, "predict_proba") or set(getattr(pipeline, "classes_", ())) != set(LABELS):
        raise ModelError(f"{model_path}: not a propclf model (labels {LABELS} expected)")
    return pipeline
