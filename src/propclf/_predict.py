"""The predict API: label sentences, or tag a whole document sentence by sentence."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import overload

from ._labels import LABELS, UNCERTAIN
from ._model import Model, default_model_dir, load_model
from ._segment import MAX_SENTENCE_CHARS, Span, capped, normalize, segment

__all__ = ["Prediction", "TaggedSentence", "TaggedDocument", "TaggedRecord", "Fragment", "ModelLike", "UNCERTAIN",
           "predict", "tag", "get_model", "label_spans", "label_documents"]

#: What a ``model=`` argument accepts: None (the bundled model), a path, or a loaded Model.
ModelLike = Model | str | os.PathLike[str] | None
#: A quoted fragment needs at least this many words to be tagged on its own.
FRAGMENT_MIN_WORDS = 3
# Quotations: curly double, straight double, curly single and straight single quotes. Single
# quotes must not be apostrophes: the opening one follows no letter, the closing one precedes none.
_QUOTED = re.compile(
    r"“(?P<a>[^“”]+)”"
    r'|"(?P<b>[^"]+)"'
    r"|(?<![\w’])‘(?P<c>[^‘’]+?)’(?!\w)"
    r"|(?<![\w'])'(?P<d>[^']+?)'(?!\w)"
)



@dataclass(frozen=True, slots=True)
class Prediction:
    """The label of one sentence and the probability of every label (they sum to 1).

    ``explanation`` (with ``explain=True``) lists the n-grams that pushed the sentence most
    towards its label, with their contribution (tf-idf value times coefficient).
    """

    text: str
    label: str
    probabilities: dict[str, float]
    explanation: list[tuple[str, float]] | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Fragment:
    """A quoted span of three words or more inside a sentence, tagged on its own."""

    start: int
    end: int
    text: str
    label: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    """One sentence of a document: ``document[start:end]`` is its raw text.

    ``fragments`` are the quoted spans inside it (offsets into the same document).
    """

    index: int
    start: int
    end: int
    text: str
    label: str
    probabilities: dict[str, float]
    fragments: tuple[Fragment, ...] = ()
    explanation: list[tuple[str, float]] | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TaggedRecord:
    """One tagged sentence of one input, with where it came from.

    ``row`` (1-based) and ``id`` are set for table inputs; ``fields`` holds the row's other
    columns, carried through, each under its own name or, if propclf's outputs use that name, as
    ``input_NAME`` (see ``_inputs.carried_names``). For a document (HTML, PDF, Word), ``extracted``
    names the extracted text that the sentence's offsets index, and ``page`` (PDF, 1-based) is the
    page the sentence starts on.
    """

    source: str
    sentence: TaggedSentence
    row: int | None = None
    id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    page: int | None = None
    extracted: str | None = None


class TaggedDocument(list[TaggedSentence]):
    """What ``tag`` returns: the list of the document's sentences, which a notebook shows as the HTML report
    shows a document (each sentence in its label's colour, its probabilities in its tooltip)."""

    def _repr_html_(self) -> str:
        from ._outputs import html_fragment  # the writers are needed only to show it

        return html_fragment(TaggedRecord("<text>", sentence) for sentence in self)


@lru_cache(maxsize=8)
def _cached(path: Path, trust: bool) -> Model:
    return load_model(path, trust=trust)


def get_model(model: ModelLike = None, *, trust: bool = False) -> Model:
    """Resolve ``model``: a Model is used as is; a path (or None, the bundled model) is loaded once.

    ``trust=True`` loads the scikit-learn pickle instead of the plain model (see ``load_model``).
    """
    if isinstance(model, Model):
        return model
    path = Path(model) if model is not None else default_model_dir()
    return _cached(path.resolve(), trust)


def _decide(probabilities: list[float], min_confidence: float | None) -> tuple[str, dict[str, float]]:
    by_label = dict(zip(LABELS, probabilities))
    # Ties go to the earlier label in LABELS order; max() keeps the first maximum.
    best = max(by_label, key=by_label.__getitem__)
    if min_confidence is not None and by_label[best] < min_confidence:
        best = UNCERTAIN
    return best, by_label


def _check_confidence(min_confidence: float | None) -> None:
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")


#: How many n-grams ``explain=True`` lists.
EXPLAIN_TOP = 8


@overload
def predict(texts: str, *, model: ModelLike = None, explain: bool | int = False,
            min_confidence: float | None = None) -> Prediction: ...
@overload
def predict(texts: Sequence[str], *, model: ModelLike = None, explain: bool | int = False,
            min_confidence: float | None = None) -> list[Prediction]: ...


def predict(texts: str | Sequence[str], *, model: ModelLike = None, explain: bool | int = False,
            min_confidence: float | None = None) -> Prediction | list[Prediction]:
    """Label sentences: one string gives one Prediction, a list gives a list in the same order.

    Each text is taken as one sentence (white space and hyphenated line-wraps are cleaned first);
    use ``tag`` to split a document into sentences. A text longer than 5,000 characters
    (``MAX_SENTENCE_CHARS``) is labeled by its first 5,000, cut at white space, as ``tag`` cuts a
    run-on. With ``explain=True`` each result lists the 8 n-grams that drove it most (``explain=N``: the
    N that did, as ``propclf explain --top N`` shows them); with
    ``min_confidence=P`` a result whose top probability is below P is labeled ``"uncertain"`` (its
    probabilities are kept).
    """
    _check_confidence(min_confidence)
    top = EXPLAIN_TOP if explain is True else explain or 0
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise TypeError(f"predict(explain=...) takes True, False or a number of n-grams, got {explain!r}")
    if isinstance(texts, bytes | bytearray | memoryview):  # a sequence too, of ints
        raise TypeError(f"predict() takes strings, got {type(texts).__name__}; decode it first")
    single = isinstance(texts, str)
    batch = [texts] if single else list(texts)
    for text in batch:
        if not isinstance(text, str):
            raise TypeError(f"predict() takes strings, got {type(text).__name__}")
    resolved = get_model(model)
    cleaned = [normalize(_first_sentence_chars(text)) for text in batch]
    decided = [_decide(row, min_confidence) for row in resolved.predict_proba(cleaned)]
    explanations = _explanations(resolved, cleaned, decided, top) if top else [None] * len(batch)
    results = [Prediction(text, label, probabilities, explanation)
               for text, (label, probabilities), explanation in zip(batch, decided, explanations)]
    return results[0] if single else results


def _first_sentence_chars(text: str) -> str:
    """A text longer than MAX_SENTENCE_CHARS is labeled by its first piece with words, cut at white space as
    ``segment`` cuts a run-on sentence: memory stays bounded whatever one string holds."""
    if len(text) <= MAX_SENTENCE_CHARS:
        return text
    return next((text[start:end] for start, end in capped(text) if not text[start:end].isspace()), "")


def _explanations(model: Model, texts: list[str], decided: list[tuple[str, dict[str, float]]],
                  top: int = EXPLAIN_TOP) -> list:
    # An uncertain sentence is explained towards its most probable label.
    labels = [max(probabilities, key=probabilities.__getitem__) for _, probabilities in decided]
    return model.explain(texts, labels, top=top)


def tag(document: str, *, model: ModelLike = None, explain: bool = False,
        min_confidence: float | None = None) -> TaggedDocument:
    """Split a document into sentences and label each, with character offsets into ``document``.

    Quoted spans of three words or more inside a sentence are tagged too (``fragments``). The result is a
    list (a ``TaggedDocument``) that a notebook displays highlighted, as the HTML report does.
    """
    if not isinstance(document, str):
        raise TypeError(f"tag() takes a string, got {type(document).__name__}")
    _check_confidence(min_confidence)
    return TaggedDocument(label_spans(document, segment(document), get_model(model), explain=explain,
                                      min_confidence=min_confidence))


def find_fragments(document: str, span: Span) -> list[tuple[int, int, str]]:
    """Quoted spans of at least FRAGMENT_MIN_WORDS words inside ``span``: (start, end, clean text)."""
    text = span.text
    if not ("\"" in text or "'" in text or "“" in text or "‘" in text):  # most sentences: skip the regex
        return []
    found = []
    for match in _QUOTED.finditer(document, span.start, span.end):
        group = next(name for name in "abcd" if match.group(name) is not None)
        text = normalize(match.group(group))
        if len(text.split()) >= FRAGMENT_MIN_WORDS:
            found.append((match.start(group), match.end(group), text))
    return found


def label_spans(document: str, spans: Sequence[Span], model: Model, *, explain: bool = False,
                min_confidence: float | None = None, first_index: int = 0) -> list[TaggedSentence]:
    """Label already segmented spans of ``document`` (and their quoted fragments) in one batch."""
    (tagged,) = label_documents([(document, spans, 0)], model, explain=explain, min_confidence=min_confidence,
                                first_index=first_index)
    return tagged


def label_documents(documents: Sequence[tuple[str, Sequence[Span], int]], model: Model, *, explain: bool = False,
                    min_confidence: float | None = None, first_index: int = 0) -> list[list[TaggedSentence]]:
    """Label the spans of several documents with one model call: (text, spans, shift) each, where
    ``shift`` is added to the offsets given back. Sentences are numbered from ``first_index`` in each."""
    fragments = [[find_fragments(text, span) for span in spans] for text, spans, _ in documents]
    sentence_texts = [span.text for _, spans, _ in documents for span in spans]
    fragment_texts = [text for found in fragments for each in found for _, _, text in each]
    rows = model.predict_proba(sentence_texts + fragment_texts)
    decided = [_decide(row, min_confidence) for row in rows]
    sentence_decisions, fragment_decisions = iter(decided[:len(sentence_texts)]), iter(decided[len(sentence_texts):])
    explanations = iter(_explanations(model, sentence_texts, decided[:len(sentence_texts)]) if explain
                        else [None] * len(sentence_texts))
    tagged = []
    for (_, spans, shift), found_per_span in zip(documents, fragments):
        tagged.append([
            TaggedSentence(index, span.start + shift, span.end + shift, span.text, *next(sentence_decisions),
                           tuple(Fragment(start + shift, end + shift, text, *next(fragment_decisions))
                                 for start, end, text in found),
                           next(explanations))
            for index, (span, found) in enumerate(zip(spans, found_per_span), first_index)
        ])
    return tagged
