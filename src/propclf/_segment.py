"""Sentence segmentation with character offsets into the original text.

The splitter is rule-based and runs on the standard library alone, so tagging starts fast.
It knows the quirks of text pasted from web pages and PDFs:

* blank lines and ``###`` separators end a unit; a paragraph that a page or column break cut
  mid-sentence (it ends at the right margin with no end mark, or the next starts in lower case)
  is joined to the next one;
* a short line without an end mark that stands before a longer line is a heading;
* abbreviations (Mr., Jan., p.m., U.S.), initials and decimals do not end a sentence, and an
  end mark inside closing quotes ends it after the quotes;
* hard line-wraps with hyphenation (``des-\\ntined``) are undone in the sentence *text*, while
  ``start``/``end`` always point into the original input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["Span", "segment", "segment_stream", "independent_chunks", "normalize", "capped", "MAX_SENTENCE_CHARS"]


@dataclass(frozen=True, slots=True)
class Span:
    """One sentence: ``text`` is the cleaned sentence, ``source[start:end]`` the raw one."""

    start: int
    end: int
    text: str


# A run of three or more '#' standing alone is a separator (seen in pasted web articles).
# Patterns start with a character, not a look-behind: the engine then skips most positions at once.
_SEPARATOR = re.compile(r"#(?<!\S#)#{2,}(?!\S)")
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# End marks, then closing quotes or brackets, then the white space before the next word.
_END_SPACE = re.compile(r"[.!?…]+[\"'”’»)\]]*(\s+)")
# "championship.Corgi": a sentence end glued to the next one, as in scraped captions.
_GLUED_END = re.compile(r"[.!?](?<=[a-z]{3}[.!?])(?=[A-Z][a-z])")
_OPENERS = "\"'“‘«([¿¡"
_CLOSERS = "\"'”’»)]"
_TERMINAL = ".!?…:;" + _CLOSERS

# Never end a sentence after these (compared lower-case, without the final period).
_TITLES = frozenset(
    "mr mrs ms dr prof st jr sr gen col lt sgt capt cpt maj adm rev gov sen rep pres "
    "supt insp hon fr messrs mme mlle mt ft".split()
)
_ABBREVIATIONS = _TITLES | frozenset(
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "nos vol vols pp p fig figs ch sec approx ca cf vs v al eds dept "
    "univ assn inc ltd co corp bros e.g i.e viz".split()
)
# Dotted abbreviations that may also close a sentence ("...fought the U.S. The war...").
# and abbreviations that are also words: "No. 5" but "the answer was no. Then...", "art. 3" but "art. Every".
_AMBIGUOUS = frozenset("u.s u.k u.n u.s.a u.s.s.r e.u a.m p.m etc no art ed est co".split())
# After an ambiguous abbreviation, only these words start a new sentence.
_SENTENCE_STARTERS = frozenset(
    "the a an in on at it its he she they we i you this that these those there then but "
    "and so yet however meanwhile after before when while since his her their our my "
    "one some many most all no as if for several few both each every other others such "
    "although though because despite during later now today still also even only nor not "
    "what who which where why how".split()
)
# Lines that start a list item: bullets and "1." / "2)" numbering.
_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-*•–·▪]|\d{1,3}[.)])[ \t]+(?=\S)")
_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for from with as and or but nor that which who whose "
    "than into onto over under about its their his her our my your".split()
)
_HYPHEN_WRAP = re.compile(r"-(?<=\w-)[ \t]*\n\s*(?=\w)")


def _word_before(text: str, end: int, lowest: int = 0) -> str:
    """The run of non-space characters (at most 64) that ends at ``end``, never reaching before ``lowest``.

    A look at the 64 characters before ``end``, not a regex search from ``lowest``: that would make
    segmentation quadratic.
    """
    window = text[max(lowest, end - 64):end]
    if not window or window[-1].isspace():
        return ""
    return window.rsplit(None, 1)[-1]


def normalize(raw: str) -> str:
    """Clean a raw sentence: undo hyphenated line-wraps and collapse white space.

    ``des-\\ntined`` becomes ``destined``; ``US-\\nled`` keeps its hyphen (``US-led``) because
    a capitalised fragment before the hyphen is a name or acronym, not a split word.
    """

    def join(match: re.Match[str]) -> str:
        fragment = _word_before(raw, match.start()).lstrip(_OPENERS + "-–—")
        return "" if fragment.isalpha() and fragment.islower() else "-"

    text = _HYPHEN_WRAP.sub(join, raw) if "-" in raw and "\n" in raw else raw
    return " ".join(text.split())  # the same as collapsing r"\s+" and stripping, and faster


def segment(text: str) -> list[Span]:
    """Split ``text`` into sentences; each Span's offsets index ``text`` itself."""
    spans: list[Span] = []
    for block_start, block_end in _blocks(text):
        for start, end in _sentences(text, block_start, block_end):
            if end - start <= MAX_SENTENCE_CHARS:  # nearly always: no generator to go through
                cleaned = normalize(text[start:end])
                if cleaned:
                    spans.append(Span(start, end, cleaned))
                continue
            for piece_start, piece_end in _cap_length(text, start, end):
                cleaned = normalize(text[piece_start:piece_end])
                if cleaned:
                    spans.append(Span(piece_start, piece_end, cleaned))
    return spans


def _cap_length(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut a run-on 'sentence' longer than MAX_SENTENCE_CHARS at white space."""
    for piece_start, piece_end in capped(text, start, end):
        yield _trim(text, piece_start, piece_end)


def capped(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """``text[start:end]`` cut into pieces of at most MAX_SENTENCE_CHARS at white space (untrimmed, in order).

    One text taken as one sentence (``--rows sentence``, ``predict``) is cut here as ``segment`` cuts a
    run-on sentence, so that no sentence, whatever its source, costs more than this many characters' worth.
    """
    end = len(text) if end is None else end
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = max(text.rfind(" ", start, limit), text.rfind("\n", start, limit))
        cut = cut if cut > start else limit
        yield start, cut
        start = cut
    yield start, end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraphs(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, after_blank_line) of each piece between blank lines and separators."""
    cuts: list[tuple[int, int, bool]] = []  # (cut start, cut end, is_blank_line)
    for match in _BLANK_LINES.finditer(text):
        cuts.append((match.start(), match.end(), True))
    for match in _SEPARATOR.finditer(text):
        cuts.append((match.start(), match.end(), False))
    cuts.sort()
    pieces: list[tuple[int, int, bool]] = []
    position, after_blank = 0, False
    for cut_start, cut_end, is_blank in cuts:
        if cut_start < position:  # a separator inside a blank-line run
            position = max(position, cut_end)
            after_blank = after_blank and is_blank
            continue
        start, end = _trim(text, position, cut_start)
        if start < end:
            pieces.append((start, end, after_blank))
            after_blank = is_blank
        else:
            after_blank = after_blank and is_blank
        position = cut_end
    start, end = _trim(text, position, len(text))
    if start < end:
        pieces.append((start, end, after_blank))
    return pieces


def _continues(text: str, previous: tuple[int, int, bool], following: tuple[int, int, bool]) -> bool:
    """Whether a blank line between two paragraphs is a page or column break mid-sentence."""
    prev_start, prev_end, _ = previous
    next_start, _, after_blank = following
    if not after_blank:  # a '###' separator always ends the unit
        return False
    first = text[next_start]
    if first.islower():
        return True
    last = text[prev_end - 1]
    if last in _TERMINAL:
        return False
    if last in ",-–—":
        return True
    lines = text[prev_start:prev_end].split("\n")
    if len(lines) < 2 or _LIST_ITEM.match("\n" + lines[-1]) or _is_title_block(lines):
        return False  # a heading, a list item or a headline with its byline ends itself
    widest = max(len(line.rstrip()) for line in lines)
    return len(lines[-1].rstrip()) >= 0.8 * widest  # cut at the right margin


def _blocks(text: str) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    pieces = _paragraphs(text)
    for index, piece in enumerate(pieces):
        if blocks and _continues(text, pieces[index - 1], piece):
            blocks[-1] = (blocks[-1][0], piece[1])
        else:
            blocks.append((piece[0], piece[1]))
    return blocks


def _is_boundary(text: str, mark_start: int, after: int, block_end: int) -> bool:
    """Decide whether the end mark at ``mark_start`` ends a sentence; ``after`` is the next word."""
    if after >= block_end:
        return True
    nxt = text[after]
    if nxt in _OPENERS:
        nxt = text[after + 1] if after + 1 < block_end else ""
    if not (nxt.isupper() or nxt.isdigit()):
        return False
    if text[mark_start] != ".":
        return True
    if mark_start + 1 < len(text) and text[mark_start + 1] == ".":
        return True  # an ellipsis followed by a capital
    word = _word_before(text, mark_start).lstrip(_OPENERS).lower()
    if len(word) == 1 and word.isalpha():
        before = _word_before(text, mark_start - 2) if mark_start >= 2 else ""
        if before[-1:].isdigit():
            return True  # a unit after a number: "-12.5 C."
        return _next_word(text, after) in _SENTENCE_STARTERS  # an initial ("J. Smith"), or "Plan B. The"
    if word.isdigit() and len(word) <= 3 and _at_line_start(text, mark_start - len(word)):
        return False  # list numbering: "1. Study the works"
    if word in _ABBREVIATIONS:
        return False
    if word in _AMBIGUOUS:
        return _next_word(text, after) in _SENTENCE_STARTERS
    return True


def _next_word(text: str, position: int) -> str:
    match = re.match(r"[\w']+", text[position:position + 30].lstrip(_OPENERS))
    return match.group(0).lower() if match else ""


def _at_line_start(text: str, position: int) -> bool:
    line_start = text.rfind("\n", 0, position) + 1
    return not text[line_start:position].strip()


def _line_headings(text: str, start: int, end: int) -> list[int]:
    """Positions after short title-like lines that stand before a longer line."""
    cuts: list[int] = []
    lines = text[start:end].split("\n")
    stripped = [line.strip() for line in lines]
    newline = start - 1
    at_sentence_start = True
    for number in range(len(lines) - 1):
        newline += len(lines[number]) + 1
        line, next_line = stripped[number], stripped[number + 1]
        # The cheap tests first: most lines are long, and splitting them into words is not.
        if (
            at_sentence_start
            and line
            and next_line
            and (next_line[0].isupper() or next_line[0] in _OPENERS)
            and len(line) <= 0.5 * len(next_line)
            and line.rstrip(_CLOSERS)[-1:] not in ".!?…:;,-–—"
        ):
            words = line.split()
            if len(words) <= 10 and words[-1].lower() not in _FUNCTION_WORDS:
                cuts.append(newline)
        at_sentence_start = bool(line) and (line[-1] in _TERMINAL or (bool(cuts) and cuts[-1] == newline))
    return cuts


def _is_title_block(lines: list[str]) -> bool:
    """Short lines with no end marks, none ending in a function word: a headline, a byline, a rating."""
    return all(line.strip() and len(line.split()) <= 8 and line.rstrip().rstrip(_CLOSERS)[-1:] not in ".!?…:;,-–—"
               and line.split()[-1].lower() not in _FUNCTION_WORDS for line in lines)


def _title_lines(text: str, start: int, end: int) -> list[int]:
    """A block made only of short lines with no end marks (a headline and byline) has a unit per line."""
    lines = text[start:end].split("\n")
    if _is_title_block(lines):
        positions, offset = [], start
        for line in lines[:-1]:
            offset += len(line) + 1
            positions.append(offset - 1)
        return positions
    return []


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts: list[int] = []
    for match in _END_SPACE.finditer(text, start, end):
        after = match.end()
        if after < end and text[after].islower():  # the common case: not a boundary (see _is_boundary)
            continue
        if after >= end or _is_boundary(text, match.start(), after, end):
            cuts.append(match.start(1))
    for match in _GLUED_END.finditer(text, start, end):
        if _word_before(text, match.start(), start).lower() not in _ABBREVIATIONS:
            cuts.append(match.end())
    if text.find("\n", start, end) >= 0:
        cuts.extend(_line_headings(text, start, end))
        cuts.extend(match.start() for match in _LIST_ITEM.finditer(text, start, end))
        cuts.extend(_title_lines(text, start, end))
    result: list[tuple[int, int]] = []
    position = start
    cuts.append(end)
    for cut in sorted(set(cuts)):
        # _trim, inline: this loop runs once per sentence.
        piece_start, piece_end = position, cut
        while piece_start < piece_end and text[piece_start].isspace():
            piece_start += 1
        while piece_end > piece_start and text[piece_end - 1].isspace():
            piece_end -= 1
        if piece_start < piece_end:
            result.append((piece_start, piece_end))
        position = cut
    return result


#: A sentence longer than this is cut at white space (a 10 MB line without punctuation is not a sentence).
MAX_SENTENCE_CHARS = 5_000
#: Streaming keeps at most about this much undecided text in memory.
STREAM_BUFFER_CHARS = 1 << 20


def segment_stream(pieces: Iterable[str]) -> Iterator[Span]:
    """Segment text that arrives in pieces, in bounded memory; offsets count from the first piece.

    The result is the same as ``segment("".join(pieces))``: text is cut only after a sentence
    that is followed by a blank line and then by more sentences, where segmentation of what follows
    cannot change what came before. Only text with no such place for ``STREAM_BUFFER_CHARS`` is cut
    at the last sentence end instead.
    """
    buffer, base = "", 0
    for piece in _bounded(pieces, STREAM_BUFFER_CHARS):
        buffer += piece
        if len(buffer) < STREAM_BUFFER_CHARS:
            continue
        spans = segment(buffer)
        cut = _safe_cut(buffer, spans)
        for span in spans:
            if span.start >= cut:
                break
            yield Span(base + span.start, base + span.end, span.text)
        buffer, base = buffer[cut:], base + cut
    for span in segment(buffer):
        yield Span(base + span.start, base + span.end, span.text)


def _bounded(pieces: Iterable[str], size: int) -> Iterator[str]:
    """The pieces, those longer than ``size`` in slices of ``size``: a 100 MB table cell arrives as one
    piece, and the buffers above must fill and be cut as they would from a file read in blocks."""
    for piece in pieces:
        if len(piece) <= size:
            yield piece
        else:
            yield from (piece[start:start + size] for start in range(0, len(piece), size))


def _safe_cut(buffer: str, spans: list[Span]) -> int:
    """Where to cut a full buffer: the start of a sentence that begins after a blank line."""
    for index in range(len(spans) - 2, 0, -1):  # never the last sentence: it may be unfinished
        gap = buffer[spans[index - 1].end:spans[index].start]
        if _BLANK_LINES.search(gap) or _SEPARATOR.search(gap):
            return spans[index].start
    if len(spans) >= 2:
        return spans[-1].start
    # One giant sentence: keep its last quarter undecided, cut at white space before that.
    limit = len(buffer) * 3 // 4
    space = buffer.rfind(" ", 0, limit)
    return space + 1 if space > 0 else limit


def independent_chunks(pieces: Iterable[str], size: int = 1 << 18) -> Iterator[tuple[int, str]]:
    """Cut text that arrives in pieces into chunks of about ``size`` characters or more that can be
    segmented apart: (offset, chunk) such that segmenting each chunk and shifting its spans by its
    offset gives ``segment_stream`` of the whole. This lets separate processes segment one text.

    A chunk ends after a blank line that closes a paragraph ending in a sentence mark, before a
    paragraph that starts with a capital or a digit: such a blank line always ends a block, and no
    rule looks across blocks. Text with no such place for STREAM_BUFFER_CHARS is cut where
    ``segment_stream`` cuts it.
    """
    buffer, base, scanned = "", 0, 0
    for piece in _bounded(pieces, min(size, STREAM_BUFFER_CHARS)):
        buffer += piece
        while len(buffer) >= size:
            cut, scanned = _paragraph_cut(buffer, max(size, scanned))
            if cut is None and len(buffer) >= STREAM_BUFFER_CHARS:
                cut = _safe_cut(buffer, segment(buffer))
            if cut is None:
                break
            yield base, buffer[:cut]
            buffer, base, scanned = buffer[cut:], base + cut, 0
    if buffer:
        yield base, buffer


def _paragraph_cut(text: str, start: int) -> tuple[int | None, int]:
    """The first place at or after ``start`` where a blank line surely ends a block, and how far was searched."""
    for match in _BLANK_LINES.finditer(text, start):
        after = match.end()
        if after >= len(text):  # what follows is not read yet
            return None, match.start()
        end = match.start()
        while end > 0 and text[end - 1].isspace():
            end -= 1
        first, last = text[after], text[end - 1] if end else "#"
        if last in _TERMINAL and (first.isupper() or first.isdigit()):
            return after, after
    return None, max(start, len(text) - 2)
