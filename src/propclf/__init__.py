"""propclf: tag each sentence of a text as a propaganda slogan, a critique, or neutral narrative.

The public API, declared here and nowhere else::

    from propclf import predict, tag
    predict("Long live the great leader!").label          # 'slogan'
    [s.label for s in tag(open("article.txt").read())]   # one label per sentence
    tag_frame(df, text_column="text")                     # a DataFrame, one row per sentence

Predicting needs NumPy alone: scikit-learn, SciPy and pandas are imported only to train, evaluate,
load a model's pickle (``load_model(path, trust=True)``) or work with DataFrames (``tag_frame``,
``Corpus.to_frame``); Dask only for ``tag_with_dask``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import CorpusError, InputError, ModelError, ModelVersionWarning, PropclfError
from ._inputs import ReadOptions
from ._labels import LABELS
from ._model import Model, load_model
from ._outputs import FORMATS, format_for, write_records
from ._predict import (
    UNCERTAIN,
    Fragment,
    ModelLike,
    Prediction,
    TaggedDocument,
    TaggedSentence,
    get_model,
    predict,
    tag,
)
from ._segment import Span, segment, segment_stream
from ._tagging import TaggedRecord, TaggedRecords, tag_files
from ._version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from ._dask import PART_FORMATS, DaskResult, tag_with_dask
    from ._training.audit import Suspect
    from ._training.corpus import Corpus
    from ._training.evaluation import EvaluationResult
    from ._training.label import LabelSession
    from ._training.train import TrainResult

__all__ = [
    "__version__",
    "LABELS",
    "UNCERTAIN",
    "predict",
    "tag",
    "tag_files",
    "tag_frame",
    "tag_with_dask",
    "write_records",
    "format_for",
    "FORMATS",
    "PART_FORMATS",
    "segment",
    "segment_stream",
    "load_model",
    "get_model",
    "load_corpus",
    "train",
    "evaluate",
    "audit",
    "agreement",
    "format_evaluation",
    "format_agreement",
    "LabelSession",
    "Prediction",
    "TaggedSentence",
    "TaggedDocument",
    "Fragment",
    "TaggedRecord",
    "TaggedRecords",
    "DaskResult",
    "Corpus",
    "EvaluationResult",
    "Suspect",
    "TrainResult",
    "ReadOptions",
    "Span",
    "Model",
    "ModelLike",
    "PropclfError",
    "InputError",
    "CorpusError",
    "ModelError",
    "ModelVersionWarning",
]


#: Names whose modules are imported on first use: the Dask engine's costs every command's start-up, and the
#: training side's (the types that load_corpus, audit and train return, the labeling session) is not for predicting.
_LAZY = {"tag_with_dask": "_dask", "DaskResult": "_dask", "PART_FORMATS": "_dask", "Corpus": "_training.corpus",
         "Suspect": "_training.audit", "TrainResult": "_training.train", "LabelSession": "_training.label",
         "EvaluationResult": "_training.evaluation"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def tag_frame(frame: pd.DataFrame, text_column: str = "text", *, rows: str = "document", id_column: str | None = None,
              model: ModelLike = None, min_confidence: float | None = None,
              warn: Callable[[str], None] | None = None, jobs: int | None = 1) -> pd.DataFrame:
    """Tag the text in a DataFrame's ``text_column``: a DataFrame with one row per sentence.

    Its columns are those of the CSV output (``source``, ``row``, ``id``, ``sentence``, ``start``, ``end``,
    ``text``, ``label``, one ``p_LABEL`` per label), then the frame's other columns, carried with their own
    values and dtypes (a name that is one of propclf's own gets ``input_`` in front, as in the CSV output).
    Each row is a document to segment (``rows="document"``) or one sentence (``rows="sentence"``), as
    ``--rows`` says for a table file, and the values are those ``propclf predict --format csv`` gives for the
    same table. ``source`` is ``"<frame>"``; ``row`` is the input row's 1-based position
    (``frame.iloc[row - 1]``, whatever the frame's index); ``id`` is ``id_column``'s value as text, or None.
    Rows whose text is empty or missing are skipped (``warn`` receives one line saying how many); text that
    is not a string, or a column that is not there, raises InputError. ``model``, ``min_confidence`` and
    ``jobs`` are as for ``tag_files``.
    """
    from ._frame import tag_frame as _tag_frame

    return _tag_frame(frame, text_column=text_column, rows=rows, id_column=id_column, model=model,
                      min_confidence=min_confidence, warn=warn, jobs=jobs)


def load_corpus(path: str = "data/labeled") -> Corpus:
    """Load and validate a labeled corpus (a CSV file or a folder of them); raises CorpusError.

    ``load_corpus(path).to_frame()`` gives it as a pandas DataFrame, one row per sentence.
    """
    from ._training.corpus import load_corpus as _load

    return _load(path)


def train(data: str = "data/labeled", out: str = "models", *, seed: int = 0, folds: int = 5,
          n_jobs: int | None = None, report: str | None = None, challenge: str | None = None,
          crosswriter: str | None = "../shared/crosswriter", progress: Callable[[str], None] | None = None,
          features: str = "tfidf", encoder: str = "minilm-l6") -> TrainResult:
    """Choose the settings by real text, evaluate, fit on all of ``data``, and save model and manifest to ``out``.

    ``features="tfidf"`` trains the default model (NumPy alone at prediction time);
    ``"tfidf+encoder"`` adds ``encoder``'s sentence embeddings to the same logistic regression: more
    accurate on real text, slower, and it needs ``pip install 'propclf[encoder]'`` to train and to use.

    Real text: the seed documents (scored by a model trained without them), the challenge set
    (``challenge``; default ``../challenge/challenge.csv`` beside ``data``), which also fits the
    calibration temperature, and the cross-writer sets in ``crosswriter`` (skipped when the folder
    is not there; None skips them). With ``report`` (a folder), also write the evaluation report.
    ``progress`` receives a line at each step.
    """
    from ._training.train import train as _train

    return _train(data, out, seed=seed, folds=folds, n_jobs=n_jobs, report=report, challenge=challenge,
                  crosswriter=crosswriter, progress=progress, features=features, encoder=encoder)


def audit(data: str = "data/labeled", *, seed: int = 0, folds: int = 5,
          hyperparameters: dict[str, Any] | None = None, output: str | None = None) -> list[Suspect]:
    """Rows of a corpus that are likely mislabeled, most doubtful first (confident learning, out of fold).

    With ``output`` (a file name), also write every suspect there as CSV, atomically, to review in a
    spreadsheet: ``id``, ``file``, ``given``, ``suggested``, one ``p_LABEL`` per label, ``text``.
    """
    from ._training.audit import audit as _audit
    from ._training.audit import write_suspects

    suspects = _audit(data, seed=seed, folds=folds, hyperparameters=hyperparameters)
    if output is not None:
        write_suspects(suspects, output)
    return suspects


def agreement(first: str, second: str) -> dict[str, Any]:
    """Cohen's kappa, raw agreement and confusion between two annotators' label files (CSV: id or text, label)."""
    from ._training.audit import agreement as _agreement

    return _agreement(first, second)


def format_agreement(result: dict[str, Any], first: str, second: str) -> str:
    """``agreement(first, second)`` as plain text: kappa, raw agreement, and the confusion table."""
    from ._training.audit import format_agreement as _format

    return _format(result, first, second)


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """An evaluation (what ``evaluate`` returns, or a model manifest's ``evaluation``) as plain-text tables,
    real text first."""
    from ._training.evaluation import format_evaluation as _format

    return _format(evaluation)


def evaluate(data: str = "data/labeled", *, seed: int = 0, folds: int = 5,
             n_jobs: int | None = None, report: str | None = None, challenge: str | None = None,
             crosswriter: str | None = "../shared/crosswriter", progress: Callable[[str], None] | None = None,
             features: str = "tfidf", encoder: str = "minilm-l6") -> EvaluationResult:
    """Measure the training procedure on ``data``: real text first, then grouped cross-validation.

    The same measurement as ``train`` (see there for ``challenge``, ``crosswriter`` and ``features``), without
    saving a model. With ``report`` (a folder), also write the evaluation report there; otherwise
    nothing is written. The result is a dict whose ``to_frame()`` gives the per-label scores of each
    set as a pandas DataFrame, and ``candidates_frame()`` the settings the search tried.
    """
    from ._training.train import evaluate as _evaluate

    return _evaluate(data, seed=seed, folds=folds, n_jobs=n_jobs, report=report, challenge=challenge,
                     crosswriter=crosswriter, progress=progress, features=features, encoder=encoder)
