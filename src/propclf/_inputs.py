"""Reading what users point propclf at: text files, folders, standard input, and tables.

Everything streams: text arrives as decoded pieces of about a megabyte, table rows one at a time.
Undecodable bytes raise an InputError naming the file and the byte offset, or, with
``errors="replace"``, become U+FFFD and are counted for one warning per file.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ._errors import InputError, shown
from ._textio import open_binary

__all__ = ["Source", "TextUnit", "ReadOptions", "expand_inputs", "read_units", "TABLE_SUFFIXES"]

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".ndjson": None}
BLOCK_BYTES = 1 << 20
STDIN = "-"
# Table cells may hold whole documents.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class ReadOptions:
    """How to read inputs (the CLI's --encoding, --errors, --text-column, --id-column, --rows)."""

    encoding: str = "utf-8"
    errors: str = "strict"  # or "replace"
    text_column: str = "text"
    id_column: str | None = None
    rows: str = "document"  # each table row is a "document" (segmented) or a "sentence"
    glob: str = "*.txt,*.md"


@dataclass(frozen=True)
class Source:
    """One input: a file path, or '-' for standard input."""

    name: str
    path: Path | None

    @property
    def is_table(self) -> bool:
        return self.path is not None and self.path.suffix.lower() in TABLE_SUFFIXES

    def size(self) -> int | None:
        return self.path.stat().st_size if self.path is not None else None


@dataclass
class TextUnit:
    """Text to tag: a whole text file (as pieces) or one table row."""

    source: str
    pieces: Iterable[str]
    row: int | None = None
    id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    is_sentence: bool = False


def expand_inputs(names: Iterable[str], glob: str = "*.txt,*.md") -> list[Source]:
    """Turn command-line names into sources; folders are searched recursively with ``glob``."""
    sources: list[Source] = []
    patterns = [pattern.strip() for pattern in glob.split(",") if pattern.strip()]
    for name in names:
        if name == STDIN:
            sources.append(Source(STDIN, None))
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
            if not found:
                raise InputError(f"{name}: no files matching {glob!r} in this folder")
            sources.extend(Source(str(p), p) for p in found)
        elif not path.exists():
            raise InputError(f"{name}: no such file")
        else:
            sources.append(Source(name, path))
    return sources


def read_units(source: Source, options: ReadOptions, warn: Callable[[str], None]) -> Iterator[TextUnit]:
    """The units of one source: one for a text file, one per row for a table."""
    if source.is_table:
        yield from _table_units(source, options, warn)
    else:
        yield TextUnit(source.name, _non_empty(source, _decoded_pieces(source, options, warn)))


def _open(source: Source) -> BinaryIO:
    return sys.stdin.buffer if source.path is None else open_binary(source.name)


def _decoder_name(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    return "utf-8-sig" if name == "utf-8" else name  # a BOM is not text


class _ReplaceCounter:
    """The error handler for errors="replace": U+FFFD, counted, first byte offset kept."""

    def __init__(self) -> None:
        self.count, self.first, self.base = 0, -1, 0

    def __call__(self, exc: UnicodeError) -> tuple[str, int]:
        assert isinstance(exc, UnicodeDecodeError)
        self.count += 1
        if self.first < 0:
            self.first = self.base + exc.start
        return "\ufffd", exc.end


_COUNTERS: list[_ReplaceCounter] = []
codecs.register_error("propclf.replace", lambda exc: _COUNTERS[-1](exc))


def _decoded_pieces(source: Source, options: ReadOptions, warn: Callable[[str], None]) -> Iterator[str]:
    """Decode a file block by block; errors name the byte offset in the file."""
    replace = options.errors == "replace"
    decoder = codecs.getincrementaldecoder(_decoder_name(options.encoding))("propclf.replace" if replace else "strict")
    counter = _ReplaceCounter()
    handle = _open(source)
    consumed = 0
    try:
        while True:
            try:
                block = handle.read(BLOCK_BYTES)
            except IsADirectoryError:
                raise InputError(f"{source.name}: is a directory, not a file") from None
            except OSError as exc:
                raise InputError(f"{source.name}: cannot read ({exc.strerror or exc})") from None
            final = not block
            # Offsets in a decode error count from the bytes the decoder still held back.
            counter.base = consumed - len(decoder.getstate()[0])
            _COUNTERS.append(counter)
            try:
                text = decoder.decode(block, final)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{source.name}: not valid {options.encoding} (byte 0x{exc.object[exc.start]:02x} at offset "
                    f"{counter.base + exc.start}); use --encoding, or --errors replace"
                ) from None
            finally:
                _COUNTERS.pop()
            consumed += len(block)
            if text:
                yield text
            if final:
                break
    finally:
        if source.path is not None:
            handle.close()
    if counter.count:
        warn(f"{source.name}: {counter.count} undecodable byte sequence(s) replaced with U+FFFD "
             f"(first at byte offset {counter.first})")


def _non_empty(source: Source, pieces: Iterator[str]) -> Iterator[str]:
    """Pass pieces through, but raise if the whole input is empty or blank."""
    seen_text = False
    for piece in pieces:
        seen_text = seen_text or bool(piece.strip())
        yield piece
    if not seen_text:
        raise InputError(f"{source.name}: file is empty")


def _lines(pieces: Iterable[str]) -> Iterator[str]:
    """Split decoded pieces into lines (keeping line ends), for the csv and json readers."""
    rest = ""
    for piece in pieces:
        lines = (rest + piece).splitlines(keepends=True)
        rest = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        yield from lines
    if rest:
        yield rest


def _table_units(source: Source, options: ReadOptions, warn: Callable[[str], None]) -> Iterator[TextUnit]:
    assert source.path is not None
    lines = _lines(_non_empty(source, _decoded_pieces(source, options, warn)))
    delimiter = TABLE_SUFFIXES[source.path.suffix.lower()]
    rows = _json_rows(source, lines) if delimiter is None else _csv_rows(source, lines, delimiter)
    empty = 0
    for row_number, record in rows:
        if options.text_column not in record:
            where = source.name if delimiter is not None else f"{source.name}, row {row_number}"
            raise InputError(
                f"{where}: no column {options.text_column!r} (columns: {', '.join(map(shown, record)) or 'none'}); "
                "choose one with --text-column"
            )
        if options.id_column is not None and options.id_column not in record:
            raise InputError(f"{source.name}: no column {options.id_column!r} for --id-column")
        text = record.pop(options.text_column)
        if not isinstance(text, str):
            raise InputError(f"{source.name}, row {row_number}: {options.text_column!r} is not a string")
        if not text.strip():
            empty += 1
            continue
        identifier = None if options.id_column is None else str(record.pop(options.id_column))
        fields = {key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                  for key, value in record.items()}
        yield TextUnit(source.name, [text], row=row_number, id=identifier, fields=fields,
                       is_sentence=options.rows == "sentence")
    if empty:
        warn(f"{source.name}: {empty} row(s) with empty {options.text_column!r} skipped")


def _csv_rows(source: Source, lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{source.name}: file is empty") from None
    except csv.Error as exc:
        raise InputError(f"{source.name}, line 1: malformed {delimiter!r}-separated header ({exc})") from None
    number = 0
    try:
        for number, values in enumerate(reader, 1):
            if len(values) != len(header):
                raise InputError(
                    f"{source.name}, line {reader.line_num}: {len(values)} fields where the header has {len(header)}"
                )
            yield number, dict(zip(header, values))
    except csv.Error as exc:
        raise InputError(f"{source.name}, line {reader.line_num}: malformed CSV ({exc})") from None
    if number == 0:
        raise InputError(f"{source.name}: no rows below the header")


def _json_rows(source: Source, lines: Iterator[str]) -> Iterator[tuple[int, dict]]:
    number = 0
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source.name}, line {line_number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{source.name}, line {line_number}: a JSON object was expected")
        number += 1
        yield number, record
