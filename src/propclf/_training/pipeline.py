"""The scikit-learn pipeline propclf trains: TF-IDF blocks (and sentence embeddings) into a logistic regression.

Only training, evaluation, the report, the audit and labeling build pipelines; loading and predicting
need none of this (see ``_model`` for the fitted pipeline's use and ``_plain`` for the blocks' settings).
"""

from __future__ import annotations

from typing import Any

from .._model import DEFAULT_ENCODER, EmbeddingFeatures, class_weight_name, describe_settings
from .._plain import VECTORIZERS

__all__ = ["SETTING_KEYS", "build_pipeline", "build_classifier", "build_vectorizers", "class_weight_name",
           "settings_of", "describe_settings"]

#: The settings ``build_pipeline`` takes besides the seed: what a search chooses and a manifest records.
SETTING_KEYS = ("features", "C", "class_weight", "encoder", "encoder_weight")


# These defaults are the settings used when none are recorded or given (labeling with a model whose
# manifest lists none, ``audit`` without hyperparameters); the search chooses its own.
def build_pipeline(features: str = "word+char", C: float = 10.0, seed: int = 0,
                   class_weight: str | dict[str, float] | None = "balanced", encoder: str = DEFAULT_ENCODER,
                   encoder_weight: float = 1.0) -> Any:
    """TF-IDF features (``word``, ``char`` or ``word+char``), and with ``+encoder`` sentence
    embeddings (``propclf[encoder]``), side by side into one logistic regression."""
    from sklearn.pipeline import FeatureUnion, Pipeline

    parts = build_vectorizers(features, encoder, encoder_weight)
    return Pipeline([("features", FeatureUnion(parts)), ("classifier", build_classifier(C, class_weight, seed))])


def build_classifier(C: float, class_weight: str | dict[str, float] | None, seed: int) -> Any:
    """The logistic regression on top of the features."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight=class_weight, max_iter=5000, random_state=seed)


def settings_of(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The ``build_pipeline`` arguments among a manifest's hyperparameters (which also list vocabulary sizes)."""
    return {key: hyperparameters[key] for key in SETTING_KEYS if key in hyperparameters}


def build_vectorizers(features: str = "word+char", encoder: str = DEFAULT_ENCODER,
                      encoder_weight: float = 1.0) -> list[tuple[str, Any]]:
    """The named feature blocks of a feature set, in FeatureUnion order: ``word``, ``char``, ``encoder``."""
    import numpy
    from sklearn.feature_extraction.text import TfidfVectorizer

    names = features.split("+")
    unknown = sorted(set(names) - {"word", "char", "encoder"})
    if unknown or not names:
        raise ValueError(f"unknown feature set {features!r}")
    parts: list[tuple[str, Any]] = []
    for name in ("word", "char"):
        if name in names:
            settings = {key: value for key, value in VECTORIZERS[name].items() if value is not None}
            parts.append((name, TfidfVectorizer(**settings, sublinear_tf=True, lowercase=True, dtype=numpy.float64)))
    if "encoder" in names:
        parts.append(("encoder", EmbeddingFeatures(encoder, encoder_weight)))
    return parts
