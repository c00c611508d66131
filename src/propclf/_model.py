"""The model: a fitted pipeline or its plain-data export, its manifest, saving and loading them safely.

A saved model is a folder of four files: ``propclf.json`` (the manifest: what the model is, what it
was trained on, how well it does, and the sha256 of every other file), the plain model that
predictions use (``propclf.vocab.json`` and ``propclf.weights.npz``: data only, scored with NumPy,
see ``_plain``), and ``propclf.joblib``, the fitted scikit-learn pipeline. A pickle can run code
when it is loaded, so ``load_model`` reads it only when asked with ``trust=True``. Every file is
checked against its hash before it is read. The pipeline is built in ``_training.pipeline``; its
sentence-embedding block stays here, where the encoder models' pickles name it and loading checks it.
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

from ._errors import FileMissing, InputError, ModelError, ModelVersionWarning
from ._labels import LABELS
from ._textio import atomic_write_bytes, atomic_write_text, read_bytes, read_text

__all__ = [
    "FORMAT_VERSION",
    "MODEL_FILE",
    "MANIFEST_FILE",
    "DEFAULT_ENCODER",
    "Model",
    "EmbeddingFeatures",
    "save_model",
    "load_model",
    "default_model_dir",
]

#: Bumped when the saved layout changes; a model of another format is refused on load.
FORMAT_VERSION = 2
MODEL_FILE = "propclf.joblib"
MANIFEST_FILE = "propclf.json"
#: The largest difference allowed between the plain model's probabilities and the pipeline's.
PLAIN_TOLERANCE = 1e-9
#: The sentence encoder of ``+encoder`` feature sets (see ``_encoder.ENCODERS``).
DEFAULT_ENCODER = "minilm-l6"


class EmbeddingFeatures:
    """A feature block of sentence embeddings: ``weight`` x the encoder's unit-length embedding.

    A scikit-learn transformer by its methods (FeatureUnion and ``clone`` need no more). It holds only
    the encoder's name: the encoder's weights come from the installed package (``_encoder``), never
    from a pickle. While training, ``_encoder.remembering()`` keeps each text's embedding, so that the
    search, the final fit and the report encode every sentence once.
    """

    def __init__(self, encoder: str = DEFAULT_ENCODER, weight: float = 1.0) -> None:
        self.encoder = encoder
        self.weight = weight

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"encoder": self.encoder, "weight": self.weight}

    def set_params(self, **params: Any) -> EmbeddingFeatures:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, texts: Sequence[str], y: Any = None) -> EmbeddingFeatures:
        from ._encoder import encoder_pin

        self.pin_ = encoder_pin(self.encoder)
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        import scipy.sparse

        from ._encoder import embed

        return scipy.sparse.csr_matrix(embed(self.encoder, list(texts)).astype(_float64()) * self.weight)

    def fit_transform(self, texts: Sequence[str], y: Any = None) -> Any:
        return self.fit(texts, y).transform(texts)


def _float64() -> Any:
    import numpy

    return numpy.float64


class _PipelineScorer:
    """Features and weights read from a fitted scikit-learn pipeline (the plain scorer's twin)."""

    def __init__(self, pipeline: Any) -> None:
        classifier = pipeline.named_steps["classifier"]
        order = [list(classifier.classes_).index(label) for label in LABELS]
        self.features = pipeline.named_steps["features"]
        self.coef, self.intercept = classifier.coef_[order], classifier.intercept_[order]

    def transform(self, texts: list[str]) -> Any:
        return self.features.transform(texts).tocsr()

    def decision(self, texts: list[str]) -> Any:
        return self.transform(texts) @ self.coef.T + self.intercept

    def feature_names(self) -> list[str]:
        from ._plain import EMBEDDING_FEATURE

        names: list[str] = []
        for name, vectorizer in self.features.transformer_list:
            if isinstance(vectorizer, EmbeddingFeatures):
                continue
            vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            names.extend(term if name == "word" else repr(term) for term in vocabulary)
        # The embedding block is last in FeatureUnion order (build_vectorizers).
        return names + [EMBEDDING_FEATURE] * (self.coef.shape[1] - len(names))


# How a model's recorded settings are shown: by `inspect`, `train` and the report.
def class_weight_name(class_weight: str | dict[str, float] | None) -> str:
    """A short name for a class-weight setting: ``balanced``, ``none`` or, say, ``neutral x2``."""
    if isinstance(class_weight, dict):
        return ", ".join(f"{label} x{weight:g}" for label, weight in class_weight.items() if weight != 1) or "none"
    return class_weight or "none"


def describe_settings(settings: dict[str, Any]) -> str:
    """Chosen settings in one line: ``features=word+char, C=1.0, class weight balanced[, encoder ...]``."""
    line = (f"features={settings.get('features')}, C={settings.get('C')}, "
            f"class weight {class_weight_name(settings.get('class_weight'))}")
    if "encoder" in str(settings.get("features")):
        line += f", encoder {settings.get('encoder')} weight {settings.get('encoder_weight')}"
    return line


@dataclass
class Model:
    """A fitted model and its manifest. ``predict_proba`` returns columns in LABELS order.

    ``scorer`` turns texts into TF-IDF features and holds the linear weights: the plain model when
    loaded from files, the scikit-learn pipeline's own parts when ``pipeline`` is set (a model just
    trained, or a pickle loaded with ``trust=True``).
    """

    scorer: Any
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    pipeline: Any = None

    @classmethod
    def from_pipeline(cls, pipeline: Any, manifest: dict[str, Any] | None = None,
                      path: Path | None = None) -> Model:
        """A Model scored by a fitted scikit-learn pipeline (needs scikit-learn)."""
        return cls(_PipelineScorer(pipeline), manifest or {}, path, pipeline)

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    @property
    def temperature(self) -> float | None:
        return (self.manifest.get("calibration") or {}).get("temperature")

    def predict_proba(self, texts: Sequence[str]) -> list[list[float]]:
        """One row of probabilities per text, in LABELS order."""
        if not texts:
            return []
        return self.probabilities(list(texts)).tolist()

    def probabilities(self, texts: list[str]) -> Any:
        """Probabilities as an array (texts x labels): softmax((features . coef + intercept) / T)."""
        import numpy

        scores = self.scorer.decision(texts)
        if self.temperature:
            scores /= self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        numpy.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    @cached_property
    def _feature_names(self) -> list[str]:
        return self.feature_names()

    def feature_names(self) -> list[str]:
        """Readable names of the model's features: ``long live`` for words, ``'ive '`` for characters."""
        return self.scorer.feature_names()

    def coefficients(self) -> Any:
        """Coefficients as an array of shape (labels, features), rows in LABELS order."""
        return self.scorer.coef

    def describe(self) -> dict[str, Any]:
        """What the manifest says of the model: its ``path``, the training ``rows`` and their ``per_label``
        counts, the chosen ``settings`` in one line, the macro-F1 on each ``real_text`` set (by name) and by
        in-corpus ``cross_validation`` (None when not measured)."""
        data = self.manifest.get("training_data", {})
        evaluation = self.manifest.get("evaluation", {})
        return {"path": self.path, "rows": data.get("rows"), "per_label": data.get("per_label"),
                "settings": describe_settings(self.manifest.get("hyperparameters", {})),
                "real_text": {name: result["macro_f1"] for name, result in (evaluation.get("real_text") or {}).items()},
                "cross_validation": evaluation.get("cross_validation", {}).get("macro_f1")}

    def top_features(self, label: str, top: int = 15) -> list[tuple[str, float]]:
        """The TF-IDF features with the largest coefficients for ``label``: what the model looks for."""
        from ._plain import EMBEDDING_FEATURE

        weights = self.coefficients()[LABELS.index(label)]
        names = self._feature_names
        order = [i for i in weights.argsort()[::-1] if names[i] != EMBEDDING_FEATURE][:top]
        return [(names[i], round(float(weights[i]), 4)) for i in order]

    def explain(self, texts: Sequence[str], labels: Sequence[str], top: int = 8) -> list[list[tuple[str, float]]]:
        """For each text, the features that pushed it most towards its label: (name, tf-idf x weight).

        In an encoder model, the sentence embedding's dimensions count as one feature, their sum.
        """
        from ._plain import EMBEDDING_FEATURE

        if not texts:
            return []
        features = self.scorer.transform(list(texts))
        coefficients, names = self.coefficients(), self._feature_names
        explanations = []
        for row, label in zip(range(features.shape[0]), labels):
            start, end = features.indptr[row], features.indptr[row + 1]
            columns, values = features.indices[start:end], features.data[start:end]
            weights = values * coefficients[LABELS.index(label), columns]
            embedded = [i for i in range(len(columns)) if names[columns[i]] == EMBEDDING_FEATURE]
            terms = [(weights[i], columns[i], names[columns[i]]) for i in range(len(columns))
                     if names[columns[i]] != EMBEDDING_FEATURE]
            if embedded:  # one entry, sorted after every term of its weight
                terms.append((float(sum(weights[i] for i in embedded)), len(names), EMBEDDING_FEATURE))
            # Ties in weight are broken by column, so both scorers explain alike.
            terms.sort(key=lambda term: (-term[0], term[1]))
            explanations.append([(name, round(float(weight), 4)) for weight, _, name in terms[:top] if weight > 0])
        return explanations


def default_model_dir() -> Path:
    """Where the bundled model lives: inside the installed package, else the checkout's models/."""
    override = os.environ.get("PROPCLF_MODEL")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "models"
    if (packaged / MANIFEST_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def _folder(path: str | os.PathLike[str]) -> Path:
    """The model folder: ``path`` itself, or the folder of a model file named by ``path``."""
    path = Path(path)
    return path.parent if path.suffix in (".joblib", ".json", ".npz") and not path.is_dir() else path


def save_model(pipeline: Any, manifest: dict[str, Any], out: str | os.PathLike[str],
               check_texts: Sequence[str] = ()) -> Path:
    """Write the model (pickle and plain files) and its manifest into folder ``out``; return the pickle's path.

    The model is replaced in one atomic step (see ``_publish``). With ``check_texts``, the plain model
    must give the pipeline's probabilities on them (to PLAIN_TOLERANCE), or nothing is written.
    """
    import joblib

    from ._plain import export_plain, read_plain

    out = Path(out)
    _drop_process_state(pipeline)
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    temperature = manifest.get("calibration", {}).get("temperature")
    files = {MODEL_FILE: buffer.getvalue(), **export_plain(pipeline, temperature)}
    if check_texts:
        _check_plain(pipeline, read_plain(*_plain_bytes(files))[0], manifest, list(check_texts))
    manifest = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in files.items()},
    }
    _publish(out, files, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return out / MODEL_FILE


def _staged(folder: Path, name: str, sha256: str) -> Path:
    """Where a model file waits, named by its content, until it is renamed to ``name``."""
    return folder / f".{name}.{sha256[:16]}.new"


def _publish(out: Path, files: dict[str, bytes], manifest_text: str) -> None:
    """Replace the model in ``out`` in one atomic step: the manifest is the switch.

    The new files are first written beside the old ones under names of their content; then the new
    manifest replaces the old one (before it: the old model, whose files are untouched; after it: the
    new one, its files found under either name, see ``_read_checked``); then each file is renamed to its
    own name. A kill at any instant leaves the old model or the new one, never a mix.
    """
    out.mkdir(parents=True, exist_ok=True)
    _finish_publish(out)
    for name, data in files.items():
        atomic_write_bytes(_staged(out, name, hashlib.sha256(data).hexdigest()), data)
    atomic_write_text(out / MANIFEST_FILE, manifest_text)
    _finish_publish(out)


def _finish_publish(folder: Path) -> None:
    """Rename the staged files the manifest names to their own names; drop staged files it does not name."""
    try:
        files = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        files = {}
    wanted = {_staged(folder, name, entry["sha256"]): folder / name for name, entry in files.items()
              if isinstance(entry, dict) and isinstance(entry.get("sha256"), str)}
    for staged, target in wanted.items():
        if staged.exists():
            os.replace(staged, target)
    for leftover in folder.glob(".propclf.*.new"):
        if leftover not in wanted:
            leftover.unlink(missing_ok=True)
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where directories can be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _plain_bytes(files: dict[str, bytes]) -> tuple[bytes, bytes]:
    from ._plain import VOCAB_FILE, WEIGHTS_FILE

    return files[VOCAB_FILE], files[WEIGHTS_FILE]


def _check_plain(pipeline: Any, scorer: Any, manifest: dict[str, Any], texts: list[str]) -> None:
    import numpy

    expected = Model.from_pipeline(pipeline, manifest).probabilities(texts)
    got = Model(scorer, manifest).probabilities(texts)
    difference = float(numpy.abs(expected - got).max())
    if difference > PLAIN_TOLERANCE:
        raise ModelError(f"the plain model differs from the pipeline by {difference:.2e}; nothing was saved")


def _drop_process_state(pipeline: Any) -> None:
    """Drop scikit-learn's cached ``id()`` of the stop-word list: a memory address, which made two
    trainings of the same model pickle to different bytes. scikit-learn recomputes it when needed."""
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vars(vectorizer).pop("_stop_words_id", None)


def load_model(path: str | os.PathLike[str] | None = None, *, trust: bool = False) -> Model:
    """Load a model folder (or a file in it), checking its manifest, format and hashes.

    By default the plain model is read: data only, no code runs. ``trust=True`` loads the
    scikit-learn pickle instead; a pickle can run any code, so only for a model from a trusted source.
    """
    folder = _folder(path if path is not None else default_model_dir())
    if not trust and Path(path or "").suffix == ".joblib":
        raise ModelError(f"{path}: a pickle can run code when loaded; load its folder (plain model) or, if you "
                         "trust its source, pass trust=True (--trust-pickle)")
    manifest_path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder (train one with: python train.py)")
    manifest = _read_manifest(manifest_path)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{manifest_path}: model format {manifest.get('format_version')!r} is not supported by "
            f"this propclf (format {FORMAT_VERSION}); retrain with: python train.py"
        )
    _check_manifest(manifest_path, manifest)
    if trust:
        pipeline = _unpickle(folder / MODEL_FILE, _read_checked(folder, MODEL_FILE, manifest))
        _check_versions(folder / MODEL_FILE, manifest)
        _check_encoders(folder, pipeline)
        return Model.from_pipeline(pipeline, manifest, folder / MODEL_FILE)
    from ._plain import VOCAB_FILE, WEIGHTS_FILE, read_plain

    vocab, weights = (_read_checked(folder, name, manifest) for name in (VOCAB_FILE, WEIGHTS_FILE))
    try:
        scorer, temperature = read_plain(vocab, weights)
    except ModelError as exc:  # an encoder model without propclf[encoder], or with another encoder installed
        raise ModelError(f"{folder}: {exc}") from None
    except Exception as exc:  # any failure to read the files means the same to a user
        raise ModelError(f"{folder}: cannot load the plain model ({type(exc).__name__}: {exc})") from None
    model = Model(scorer, manifest, folder / WEIGHTS_FILE)
    if temperature != model.temperature:  # the manifest, edited by hand, must not rescale what the files say
        raise ModelError(f"{folder}: the manifest's temperature {model.temperature!r} is not the plain model's "
                         f"{temperature!r}; retrain with: python train.py")
    return model


#: Manifest entries that hold an object when present (``.get`` is called on them).
_OBJECT_ENTRIES = ("calibration", "hyperparameters", "training_data", "evaluation", "versions", "search", "encoder")


def _check_manifest(manifest_path: Path, manifest: dict[str, Any]) -> None:
    """Types and values of what loading and the commands read: the manifest is not itself hash-checked."""
    from ._plain import check_temperature

    def refuse(problem: str) -> ModelError:
        return ModelError(f"{manifest_path}: manifest is damaged ({problem}); retrain with: python train.py")

    for key in _OBJECT_ENTRIES:
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise refuse(f"{key} is a {type(manifest[key]).__name__}, not an object")
    files = manifest.get("files")
    if files is not None:
        if not isinstance(files, dict):
            raise refuse(f"files is a {type(files).__name__}, not an object")
        for name, entry in files.items():
            digest = entry.get("sha256") if isinstance(entry, dict) else None
            if not isinstance(digest, str) or len(digest) != 64:
                raise refuse(f"files: {name} has no sha256")
    try:
        check_temperature((manifest.get("calibration") or {}).get("temperature"))
    except ValueError as exc:
        raise refuse(f"calibration {exc}") from None


def _read_checked(folder: Path, name: str, manifest: dict[str, Any]) -> bytes:
    """The bytes of a model file, refused unless they hash to what the manifest says."""
    path = folder / name
    files = manifest.get("files")
    expected = files.get(name, {}).get("sha256") if isinstance(files, dict) else None
    if expected is None:
        raise ModelError(f"{folder / MANIFEST_FILE}: manifest lists no {name}; retrain with: python train.py")
    # A model being published may still have a file under its staged name (see _publish); it may be
    # renamed between two reads, so the file's own name is read again last.
    data = None
    for candidate in (path, _staged(folder, name, expected), path):
        try:
            data = read_bytes(candidate, str(path))
        except FileMissing:
            continue
        except InputError as exc:
            raise ModelError(str(exc)) from None
        if hashlib.sha256(data).hexdigest() == expected:
            return data
    if data is None:
        raise ModelError(f"{path}: model file missing (train one with: python train.py)")
    raise ModelError(f"{path}: file is damaged or altered (sha256 differs from {MANIFEST_FILE}); "
                     "retrain with: python train.py")


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


def _check_encoders(folder: Path, pipeline: Any) -> None:
    """The encoder a pickled pipeline was fitted with must be the one installed."""
    from ._encoder import load_encoder

    for _, part in pipeline.named_steps["features"].transformer_list:
        if isinstance(part, EmbeddingFeatures):
            try:
                load_encoder(part.pin_)
            except ModelError as exc:
                raise ModelError(f"{folder}: {exc}") from None


def _read_manifest(manifest_path: Path) -> dict[str, Any]:
    try:
        text = read_text(manifest_path, empty_ok=True)
    except FileMissing:
        raise ModelError(f"{manifest_path}: manifest missing; a model is not loaded without it") from None
    except InputError as exc:
        raise ModelError(str(exc)) from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
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
    except Exception as exc:  # any unpickling failure means the same to a user
        raise ModelError(f"{model_path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if not hasattr(pipeline, "predict_proba") or set(getattr(pipeline, "classes_", ())) != set(LABELS):
        raise ModelError(f"{model_path}: not a propclf model (labels {LABELS} expected)")
    return pipeline
