"""Tagging many inputs as a stream: read, segment, label in batches, yield one record per sentence."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from ._inputs import ReadOptions, Source, TextUnit, expand_inputs, read_units
from ._model import Model
from ._predict import ModelLike, TaggedSentence, _check_confidence, get_model, label_spans
from ._segment import Span, normalize, segment_stream

__all__ = ["TaggedRecord", "tag_files", "BATCH_SENTENCES"]

#: Sentences labeled per model call: large enough to amortise, small enough to bound memory.
BATCH_SENTENCES = 2_000


@dataclass(frozen=True, slots=True)
class TaggedRecord:
    """One tagged sentence of one input, with where it came from.

    ``row`` (1-based) and ``id`` are set for table inputs; ``fields`` holds the row's other
    columns, carried through unchanged.
    """

    source: str
    sentence: TaggedSentence
    row: int | None = None
    id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def tag_files(
    inputs: Iterable[str],
    *,
    model: ModelLike = None,
    options: ReadOptions | None = None,
    explain: bool = False,
    min_confidence: float | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[TaggedRecord]:
    """Tag every sentence of text files, folders, tables and '-' (stdin), streaming, in input order.

    ``options`` says how to read (encoding, table columns...). ``warn`` receives one-line warnings
    (default: ignored); ``progress`` receives the number of input characters done, as they are done.
    """
    _check_confidence(min_confidence)
    options = options or ReadOptions()
    sources = expand_inputs(inputs, options.glob)
    resolved = get_model(model)
    for source in sources:
        yield from _tag_source(source, resolved, options, explain, min_confidence, warn or (lambda _: None),
                               progress or (lambda _: None))


@dataclass
class _Window:
    """Consecutive sentences of one unit, with the raw text they span (for quoted fragments)."""

    unit: TextUnit
    text: str
    offset: int  # where ``text`` starts in the unit
    spans: list[Span]
    first_index: int


class _RawText:
    """The part of a unit's text that has been read but not yet labeled."""

    def __init__(self) -> None:
        self.text, self.offset = "", 0

    def tee(self, pieces: Iterable[str]) -> Iterator[str]:
        for piece in pieces:
            self.text += piece
            yield piece

    def take(self, start: int, end: int) -> str:
        """The raw text of [start, end), forgetting everything before ``end``."""
        taken = self.text[start - self.offset:end - self.offset]
        self.text, self.offset = self.text[end - self.offset:], end
        return taken


def _windows(unit: TextUnit, size: int) -> Iterator[_Window]:
    if unit.is_sentence:
        text = "".join(unit.pieces)
        start = len(text) - len(text.lstrip())
        yield _Window(unit, text, 0, [Span(start, len(text.rstrip()), normalize(text))], 0)
        return
    raw, spans, index = _RawText(), [], 0
    for span in segment_stream(raw.tee(unit.pieces)):
        spans.append(span)
        if len(spans) >= size:
            yield _Window(unit, raw.take(spans[0].start, spans[-1].end), spans[0].start, spans, index)
            index, spans = index + len(spans), []
    if spans:
        yield _Window(unit, raw.take(spans[0].start, spans[-1].end), spans[0].start, spans, index)


def _tag_source(source: Source, model: Model, options: ReadOptions, explain: bool, min_confidence: float | None,
                warn: Callable[[str], None], progress: Callable[[int], None]) -> Iterator[TaggedRecord]:
    batch: list[_Window] = []
    pending = 0
    for unit in read_units(source, options, warn):
        for window in _windows(unit, BATCH_SENTENCES):
            batch.append(window)
            pending += len(window.spans)
            progress(len(window.text))
            if pending >= BATCH_SENTENCES:
                yield from _label_batch(batch, model, explain, min_confidence)
                batch, pending = [], 0
    yield from _label_batch(batch, model, explain, min_confidence)


def _label_batch(batch: list[_Window], model: Model, explain: bool,
                 min_confidence: float | None) -> Iterator[TaggedRecord]:
    """One model call for many windows: their texts are joined, and offsets shifted there and back."""
    if not batch:
        return
    joined, shifted, owners = [], [], []
    length = 0
    for window in batch:
        shift = length - window.offset
        joined.append(window.text + "\n\n")
        length += len(window.text) + 2
        shifted.extend(Span(s.start + shift, s.end + shift, s.text) for s in window.spans)
        owners.extend((window, shift, window.first_index + i) for i in range(len(window.spans)))
    tagged = label_spans("".join(joined), shifted, model, explain=explain, min_confidence=min_confidence)
    for sentence, (window, shift, index) in zip(tagged, owners):
        unit = window.unit
        yield TaggedRecord(unit.source, _unshift(sentence, shift, index), unit.row, unit.id, unit.fields)


def _unshift(sentence: TaggedSentence, shift: int, index: int) -> TaggedSentence:
    fragments = tuple(replace(f, start=f.start - shift, end=f.end - shift) for f in sentence.fragments)
    return replace(sentence, index=index, start=sentence.start - shift, end=sentence.end - shift,
                   fragments=fragments)
