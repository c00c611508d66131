"""Table rows whose text cell is as long as a document, read in bounded memory.

Python's csv and json modules hold a whole cell, and the line it is on, in memory (about six bytes
per character). Here the decoded pieces of a table are scanned record by record: a record of at
most ``CELL_CHARS`` characters is handed to the csv module (or json), exactly as before; a longer
one is parsed here, and its text cell is set aside in a temporary file as it is read, to be
segmented from there in pieces, as a text file is. Its other cells are kept in memory: they are
written out with each of its sentences.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO

__all__ = ["CELL_CHARS", "SpilledText", "csv_records", "json_lines"]

#: A record longer than this (in characters) is read by the streaming reader.
CELL_CHARS = 1 << 20
#: The pieces a set-aside cell is read back in, as a text file is read.
_PIECE_CHARS = 1 << 20


class SpilledText:
    """A cell's text, set aside in an unnamed temporary file while the rest of its row is read."""

    def __init__(self) -> None:
        self._file: IO[str] | None = tempfile.TemporaryFile(
            "w+", encoding="utf-8", errors="surrogatepass", newline="")
        self.length = 0
        self.tail = ""  # the last character, for the unclosed-quote check
        self.blank = True

    def append(self, text: str) -> None:
        if text:
            assert self._file is not None
            self._file.write(text)
            self.length += len(text)
            self.tail = text[-1]
            self.blank = self.blank and text.isspace()

    def pieces(self) -> Iterator[str]:
        """The text in pieces of about a megabyte; the file is gone once they are read (or dropped)."""
        handle = self._file
        assert handle is not None, "a set-aside cell is read once"
        self._file = None
        try:
            handle.seek(0)
            while piece := handle.read(_PIECE_CHARS):
                yield piece
        finally:
            handle.close()

    def read(self) -> str:
        return "".join(self.pieces())


def _cr_held(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces, non-empty, none but the last ending in \\r: its \\n, if any, is in the next piece."""
    held = ""
    for piece in pieces:
        piece = held + piece if held else piece
        held = ""
        if piece.endswith("\r"):
            piece, held = piece[:-1], "\r"
        if piece:
            yield piece
    if held:
        yield held


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

_START_RECORD, _START_FIELD, _IN_FIELD, _IN_QUOTED, _QUOTE_IN_QUOTED = range(5)


def _line_ends(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def csv_records(pieces: Iterable[str], delimiter: str, text_column: str | None) -> Iterator[tuple[list, int]]:
    """Each record of a CSV text as (values, lines it takes), the header first.

    The values are those of ``csv.reader(lines, delimiter=delimiter)`` (the excel dialect, not
    strict): a record of at most CELL_CHARS characters is read by the csv module itself; a longer
    one by the same rules here, with its ``text_column`` cell (after the header; None: no cell) a SpilledText.
    """
    ends = re.compile(f"[{re.escape(delimiter)}\r\n]")
    text_index: int | None = None
    header = True
    state = _START_RECORD
    raw: list[str] | None = []  # the record's text, while it is short enough for the csv module
    size = 0  # characters of the record before this piece
    values: list = []
    field: list[str] | SpilledText = []
    lines = 0  # line ends inside the record's quoted fields

    def finished(record_raw: list[str] | None, record_lines: int) -> tuple[list, int]:
        if record_raw is not None:
            text_lines = _LINE.findall("".join(record_raw))
            return next(csv.reader(text_lines, delimiter=delimiter), []), len(text_lines)
        return values, record_lines

    for piece in _cr_held(pieces):
        i, n, begun = 0, len(piece), 0  # begun: where this piece's part of the record starts
        while i < n:
            char = piece[i]
            if state == _START_RECORD:
                state = _START_FIELD
                if char in "\r\n":  # a blank line: a record of no fields
                    state = -1
            if state == _START_FIELD:
                if char == '"':
                    state, i = _IN_QUOTED, i + 1
                    continue
                if char == delimiter:
                    values.append("")
                    i += 1
                    continue
                if char in "\r\n":
                    values.append("")
                    state = -1
                else:
                    state = _IN_FIELD
            if state == _IN_FIELD:
                found = ends.search(piece, i)
                stop = found.start() if found is not None else n
                field.append(piece[i:stop])
                if found is None:
                    i = n
                    continue
                values.append(field if isinstance(field, SpilledText) else "".join(field))
                field = []
                if piece[stop] == delimiter:
                    state, i = _START_FIELD, stop + 1
                    if raw is None and len(values) == text_index:
                        field = SpilledText()
                    continue
                i, state = stop, -1
            elif state == _IN_QUOTED:
                quote = piece.find('"', i)
                stop = quote if quote >= 0 else n
                part = piece[i:stop]
                field.append(part)
                lines += _line_ends(part)
                if quote < 0:
                    i = n
                    continue
                state, i = _QUOTE_IN_QUOTED, quote + 1
                continue
            elif state == _QUOTE_IN_QUOTED:
                if char == '"':
                    field.append('"')
                    state, i = _IN_QUOTED, i + 1
                    continue
                if char != delimiter and char not in "\r\n":  # text after a closing quote is kept (not strict)
                    field.append(char)
                    state, i = _IN_FIELD, i + 1
                    continue
                values.append(field if isinstance(field, SpilledText) else "".join(field))
                field = []
                if char == delimiter:
                    state, i = _START_FIELD, i + 1
                    if raw is None and len(values) == text_index:
                        field = SpilledText()
                    continue
                state = -1
            # state -1: the record ends at the line end at i
            end = i + (2 if piece.startswith("\r\n", i) else 1)
            if raw is not None:
                raw.append(piece[begun:end])
            record = finished(raw, lines + 1)
            yield record
            if header:
                header = False
                text_index = record[0].index(text_column) if text_column in record[0] else None
            state, raw, size, values, field, lines = _START_RECORD, [], 0, [], [], 0
            i = begun = end
        if state != _START_RECORD:
            if raw is not None:
                raw.append(piece[begun:])
                size += n - begun
                if size > CELL_CHARS:  # too long for the csv module: read here from now on
                    raw = None
                    if not header and len(values) == text_index and state in (_IN_FIELD, _IN_QUOTED):
                        spilled = SpilledText()
                        for part in field:
                            spilled.append(part)
                        field = spilled
    if state != _START_RECORD:  # the input ends the record (a quote left open too)
        values.append(field if isinstance(field, SpilledText) else "".join(field))
        yield finished(raw, lines + (0 if piece.endswith(("\r", "\n")) else 1))


def json_lines(pieces: Iterable[str], text_column: str,
               clean: Callable[[str], str]) -> Iterator[tuple[str, _BigLine | None]]:
    """The lines of a JSONL text (line ends kept), each with None, or for a line longer than
    CELL_CHARS, with its _BigLine: the line comes with its top-level ``text_column`` strings set aside.

    ``clean`` passes each piece of set-aside text on (it deals with lone surrogates).
    """
    parts: list[str] = []
    size = 0
    stream = _Stream(_cr_held(pieces))
    for piece in stream:
        start = 0
        while True:
            found = _LINE_END.search(piece, start)
            if found is None:
                parts.append(piece[start:])
                size += len(piece) - start
                break
            parts.append(piece[start:found.end()])
            yield "".join(parts), None
            parts, size, start = [], 0, found.end()
        if size > CELL_CHARS:
            line = _BigLine("".join(parts), stream, text_column, clean)
            parts, size = [], 0
            yield line.reduced, line
            stream.push(line.after)
    if parts:
        yield "".join(parts), None


class _Stream:
    """An iterator of pieces that can be given back the rest of one."""

    def __init__(self, pieces: Iterable[str]) -> None:
        self._pieces, self._back = iter(pieces), ""

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> str:
        if self._back:
            back, self._back = self._back, ""
            return back
        return next(self._pieces)

    def push(self, rest: str) -> None:
        self._back = rest


_LINE_END = re.compile(r"\r\n|\r|\n")
#: A JSON string's body: whole characters and whole escapes, up to what ends it or is wrong in it.
_STRING_BODY = re.compile(r'(?:[^"\\\x00-\x1f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*')
_HIGH_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")
_STRUCTURE = re.compile(r'["{}\[\],\r\n]')


class _BigLine:
    """The rest of a JSON line longer than CELL_CHARS, read with its top-level text strings set aside.

    Only the structure is followed here (strings, brackets, commas, the keys at the top level);
    json reads the line that remains, ``reduced``, in which each set-aside string is a placeholder
    (a key of ``spilled``), and says what is wrong with it, if anything (``original_position`` maps
    its positions back).
    """

    def __init__(self, head: str, stream: _Stream, text_column: str, clean: Callable[[str], str]) -> None:
        self.spilled: dict[str, SpilledText] = {}
        self.error: str | None = None  # what is wrong with a string of the line, from ``error_from`` on
        self.error_from = 0
        self.after = ""  # what follows the line in the last piece read
        self._kept: list[str] = []
        self._size = 0  # of the reduced line so far
        self._shifts: list[tuple[int, int]] = []  # (position in the reduced line, characters set aside before it)
        self._column = 0  # characters of the line before the buffer
        self._stream, self._clean = stream, clean
        buffer, position = head, 0
        depth, key, expect_key = 0, None, False
        while True:
            found = _STRUCTURE.search(buffer, position)
            if found is None:
                self._keep(buffer[position:])
                self._column += len(buffer)
                buffer, position = next(stream, ""), 0
                if not buffer:
                    break
                continue
            self._keep(buffer[position:found.start()])
            char = found.group()
            if char == '"':
                text = depth == 1 and not expect_key and key == text_column
                buffer, position, literal = self._string(buffer, found.start(), text)
                if self.error is not None:
                    break
                if depth == 1 and expect_key:
                    key = json.loads(literal) if literal is not None else None
                    expect_key = False
                continue
            if char in "\r\n":
                end = found.end() + (1 if buffer.startswith("\r\n", found.start()) else 0)
                self._keep(buffer[found.start():end])
                self.after = buffer[end:]
                break
            self._keep(char)
            position = found.end()
            depth += 1 if char in "{[" else -1 if char in "}]" else 0
            if depth == 1 and char in "{,":
                expect_key, key = True, None
        self.reduced = "".join(self._kept)
        del self._kept

    def _keep(self, text: str) -> None:
        if text:
            self._kept.append(text)
            self._size += len(text)

    def original_position(self, position: int) -> int:
        return position + sum(shift for at, shift in self._shifts if at <= position)

    def _string(self, buffer: str, quote: int, set_aside: bool) -> tuple[str, int, str | None]:
        """Read the string literal at ``quote``: kept in the line, or (``set_aside``) decoded into a
        SpilledText and replaced by a placeholder. Returns the buffer and position after it, and the
        literal if it was kept."""
        spilled = SpilledText() if set_aside else None
        literal = ['"']
        skipped = 0  # characters of the literal set aside
        position = quote + 1
        while True:
            stop = _STRING_BODY.match(buffer, position).end()  # type: ignore[union-attr]
            # Read on at the buffer's end: an escape may be cut there.
            if stop == len(buffer) or (buffer[stop] == "\\" and len(buffer) - stop < 6):
                more = next(self._stream, "")
                if more:
                    if spilled is not None and _HIGH_SURROGATE_ESCAPE.match(buffer, stop - 6, stop):
                        stop -= 6  # a surrogate pair is decoded whole
                    self._body(buffer[position:stop], spilled, literal)
                    skipped += stop - position if spilled is not None else 0
                    self._column += stop
                    buffer, position = buffer[stop:] + more, 0
                    continue
            if stop < len(buffer) and buffer[stop] == '"':
                break
            # Not a string json accepts: json says why, with the place counted from the line's start, unless
            # it finds something wrong before this string (the line is cut at the string's start for it).
            self._keep('"\x01')  # json stops past the quote if it gets there, at the quote if it finds it misplaced
            self.error_from = self.original_position(self._size - 2)
            try:
                json.loads('"' + buffer[stop:stop + 6])
            except json.JSONDecodeError as exc:
                if stop == len(buffer) or buffer[stop] in "\r\n":
                    self.error = "the line ends inside a JSON value"
                else:
                    column = self._column + stop + exc.pos
                    self.error = f"{exc.msg} column {column}" if exc.msg.endswith(" at") else \
                        f"{exc.msg} at column {column}"
            return "", 0, None
        self._body(buffer[position:stop], spilled, literal)
        if spilled is None:
            literal.append('"')
            text = "".join(literal)
            self._keep(text)
            return buffer, stop + 1, text
        skipped += stop - position
        placeholder = json.dumps(f"\x00propclf:{uuid.uuid4().hex}")
        self._keep(placeholder)
        self._shifts.append((self._size, skipped + 2 - len(placeholder)))
        self.spilled[json.loads(placeholder)] = spilled
        return buffer, stop + 1, None

    def _body(self, body: str, spilled: SpilledText | None, literal: list[str]) -> None:
        if spilled is None:
            literal.append(body)
        elif body:
            spilled.append(self._clean(json.loads(f'"{body}"')))
