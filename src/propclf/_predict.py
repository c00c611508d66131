"""The predict API: label sentences, or tag a whole document sentence by sentence."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import overload

from ._labels import LABELS
from ._model import Model, default_model_dir, load_model
from ._segment import normalize, segment

__all__ = ["Prediction", "TaggedSentence", "ModelLike", "predict", "tag", "get_model"]

#: What a ``model=`` argument accepts: None (the bundled model), a path, or a loaded Model.
ModelLike = Model | str | os.PathLike[str] | None


@dataclass(frozen=True, slots=True)
class Prediction:
    """The label of one sentence and the probability of every label (they sum to 1)."""

    text: str
    label: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    """One sentence of a document: ``document[start:end]`` is its raw text."""

    index: int
    start: int
    end: int
    text: str
    label: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@lru_cache(maxsize=8)
def _cached(path: Path) -> Model:
    return load_model(path)


def get_model(model: ModelLike = None) -> Model:
    """Resolve ``model``: a Model is used as is; a path (or None, the bundled model) is loaded once."""
    if isinstance(model, Model):
        return model
    path = Path(model) if model is not None else default_model_dir()
    return _cached(path.resolve())


def _label(probabilities: list[float]) -> tuple[str, dict[str, float]]:
    by_label = dict(zip(LABELS, probabilities))
    # Ties go to the earlier label in LABELS order; max() keeps the first maximum.
    return max(by_label, key=by_label.__getitem__), by_label


@overload
def predict(texts: str, *, model: ModelLike = None) -> Prediction: ...
@overload
def predict(texts: Sequence[str], *, model: ModelLike = None) -> list[Prediction]: ...


def predict(texts: str | Sequence[str], *, model: ModelLike = None) -> Prediction | list[Prediction]:
    """Label sentences: one string gives one Prediction, a list gives a list in the same order.

    Each text is taken as one sentence (white space and hyphenated line-wraps are cleaned first);
    use ``tag`` to split a document into sentences.
    """
    single = isinstance(texts, str)
    batch = [texts] if single else list(texts)
    for text in batch:
        if not isinstance(text, str):
            raise TypeError(f"predict() takes strings, got {type(text).__name__}")
    cleaned = [normalize(text) for text in batch]
    rows = get_model(model).predict_proba(cleaned)
    results = [Prediction(text, *_label(row)) for text, row in zip(batch, rows)]
    return results[0] if single else results


def tag(document: str, *, model: ModelLike = None) -> list[TaggedSentence]:
    """Split a document into sentences and label each, with character offsets into ``document``."""
    if not isinstance(document, str):
        raise TypeError(f"tag() takes a string, got {type(document).__name__}")
    spans = segment(document)
    rows = get_model(model).predict_proba([span.text for span in spans])
    return [
        TaggedSentence(index, span.start, span.end, span.text, *_label(row))
        for index, (span, row) in enumerate(zip(spans, rows))
    ]
