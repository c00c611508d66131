"""Reading what users point propclf at: text files, folders, standard input, tables and documents.

Everything streams: text arrives as decoded pieces of about a megabyte, table rows one at a time,
a PDF's pages one at a time. Undecodable bytes raise an InputError naming the file and the byte
offset, or, with ``errors="replace"``, become U+FFFD and are counted for one warning per file.
HTML, PDF and Word files (by suffix, or a PDF or Word file by its first bytes) are read by
``_formats``; other binary files are refused by their first bytes, whatever ``errors`` says.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from ._binary import not_text
from ._cells import SpilledText, csv_records, json_lines
from ._columns import CARRIED_PREFIX, DOCUMENT_COLUMNS, OWN_COLUMNS
from ._errors import InputError, shown
from ._formats import document_kind, kept_name, open_document
from ._textio import not_valid, open_binary, read_blocks

__all__ = ["Source", "TextUnit", "ReadOptions", "ReadTally", "expand_inputs", "read_units", "read_table_heads",
           "decoded_pieces", "decoder_name", "carried_names", "output_columns", "output_name",
           "refuse_input_as_output", "TABLE_SUFFIXES"]

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".ndjson": None}
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
    keep_text: str | None = None  # a folder: each document's extracted text is written there (kept_name)

    def __post_init__(self) -> None:
        decoder_name(self.encoding)  # an unknown encoding fails here, before any file is opened
        for name, allowed in (("errors", ("strict", "replace")), ("rows", ("document", "sentence"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"ReadOptions({name}=...) must be {' or '.join(map(repr, allowed))}, "
                                 f"got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Source:
    """One input: a file path, or '-' for standard input."""

    name: str
    path: Path | None
    in_folder: bool = False  # found in a folder: a document that cannot be read is a warning, not the end

    @cached_property
    def document(self) -> str | None:
        """'html', 'pdf' or 'docx' for a document (see _formats.document_kind), else None."""
        return document_kind(self.path) if self.path is not None else None

    @property
    def is_table(self) -> bool:
        return self.path is not None and self.path.suffix.lower() in TABLE_SUFFIXES and self.document is None

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
    pages: list[int] | None = None  # a PDF's page start offsets, filled as its pieces are read
    extracted: str | None = None  # a document: the name of its extracted text, which the offsets index


def expand_inputs(names: Iterable[str | Source], glob: str = "*.txt,*.md") -> list[Source]:
    """Turn command-line names into sources; folders are searched recursively with ``glob``."""
    sources: list[Source] = []
    patterns = [pattern.strip() for pattern in glob.split(",") if pattern.strip()]
    for name in names:
        if isinstance(name, Source):  # already expanded
            sources.append(name)
            continue
        if name == STDIN:
            sources.append(Source(STDIN, None))
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
            if not found:
                raise InputError(f"{name}: no files matching {glob!r} in this folder")
            sources.extend(Source(str(p), p, in_folder=True) for p in found)
        elif not path.exists():
            raise InputError(f"{name}: no such file")
        else:
            sources.append(Source(name, path))
    return sources


def refuse_input_as_output(output: str | Path, sources: Iterable[Source]) -> None:
    """Raise InputError if ``output`` is one of the inputs: writing it would replace the text being tagged."""
    target = Path(output)
    try:
        written = target.stat()
    except OSError:  # not there yet (or not reachable: writing it will say so)
        return
    for source in sources:
        try:
            same = source.path is not None and (source.path.stat().st_dev, source.path.stat().st_ino) == (
                written.st_dev, written.st_ino)
        except OSError:
            continue
        if same:
            raise InputError(f"{output}: is also an input ({source.name}); write the output to another file")


def read_units(source: Source, options: ReadOptions, warn: Callable[[str], None],
               opened: dict[str, Iterator[TextUnit]] | None = None) -> Iterator[TextUnit]:
    """The units of one source: one for a text file or a document, one per row for a table.

    ``opened`` holds tables whose header ``read_table_heads`` has already read: their rows come from
    that same reader (a FIFO cannot be read twice).
    """
    if opened is not None and source.name in opened:
        yield from opened.pop(source.name)
    elif source.document is not None:
        yield from _document_units(source, options, warn)
    elif source.is_table:
        units = _table_units(source, options, warn)
        next(units)  # the columns
        yield from units
    elif source.in_folder and (problem := _binary_file(source)) is not None:
        warn(f"{problem}; skipped")  # one binary file of a folder does not stop the run, as a bad document does not
    else:
        yield TextUnit(output_name(source.name), _non_empty(source, _decoded_pieces(source, options, warn)))


def _binary_file(source: Source) -> InputError | None:
    """The error for a file of a folder that is binary, by its first bytes (see ``_binary.not_text``)."""
    try:
        with _open(source) as handle:
            head = handle.read(16)
    except (InputError, OSError):
        return None  # the reader says what is wrong with it
    return not_text(source.name, head)


def output_name(name: str) -> str:
    """A file name as outputs write it: bytes that are not UTF-8 (surrogate escapes) as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if not name.isascii() else name


def _document_units(source: Source, options: ReadOptions, warn: Callable[[str], None]) -> Iterator[TextUnit]:
    assert source.path is not None and source.document is not None
    try:
        document = open_document(source.path, source.name, source.document)
    except InputError as exc:
        if not source.in_folder:
            raise
        warn(f"{exc}; skipped")  # one bad file of a folder does not stop the run
        return
    name = kept_name(source.name)
    keep = Path(options.keep_text) / name if options.keep_text else None
    yield TextUnit(output_name(source.name), document.pieces(keep), pages=document.page_starts,
                   extracted=str(keep) if keep is not None else name)


def _open(source: Source) -> BinaryIO:
    return sys.stdin.buffer if source.path is None else open_binary(source.path, source.name)


def decoder_name(encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    if not getattr(info, "_is_text_encoding", True):  # base64, hex, zlib, rot13...: bytes to bytes, or str to str
        raise InputError(f"{encoding!r} is not a text encoding; use one such as utf-8 or latin-1")
    return info.name


class ReplaceCounter:
    """The error handler for errors="replace": U+FFFD, counted, first byte offset kept."""

    def __init__(self) -> None:
        self.count, self.first, self.base = 0, -1, 0

    def __call__(self, exc: UnicodeError) -> tuple[str, int]:
        assert isinstance(exc, UnicodeDecodeError)
        self.count += 1
        if self.first < 0:
            self.first = self.base + exc.start
        return "\ufffd", exc.end


# Per thread (the Dask engine decodes in several at once): the counters of the decodes in progress.
_LOCAL = threading.local()
codecs.register_error("propclf.replace", lambda exc: _LOCAL.counters[-1](exc))


@contextmanager
def counting(counter: ReplaceCounter) -> Iterator[None]:
    """Decode with errors="propclf.replace" inside this block: ``counter`` counts the replacements."""
    stack = _LOCAL.__dict__.setdefault("counters", [])
    stack.append(counter)
    try:
        yield
    finally:
        stack.pop()

#: A surrogate code point on its own is not text (no output format can encode it). Decoders such as
#: utf-7 or unicode_escape, and JSON's \u escapes, can produce them.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_surrogates(text: str, where: str, replace: bool, counter: ReplaceCounter) -> str:
    """``text``, or with errors="replace" its lone surrogates as U+FFFD (counted); else an InputError."""
    found = None if text.isascii() else _SURROGATE.search(text)
    if found is None:
        return text
    if not replace:
        raise InputError(f"{where}: a lone surrogate (U+{ord(found.group()):04X}) is not text; use --errors replace")
    text, count = _SURROGATE.subn("\ufffd", text)
    counter.count += count
    return text


def _record_without_surrogates(record: dict, where: str, replace: bool, counter: ReplaceCounter) -> dict:
    """A JSON record with lone surrogates (from \\u escapes) in its keys and strings replaced, or an InputError."""
    root = [record]
    stack: list[tuple[list | dict, int | str]] = [(root, 0)]
    while stack:  # not recursive: JSON nests as deep as the parser allows
        container, key = stack.pop()
        value = container[key]  # type: ignore[index]
        if isinstance(value, str):
            container[key] = _no_surrogates(value, where, replace, counter)  # type: ignore[index]
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
        elif isinstance(value, dict):
            items = list(value.items())
            value.clear()
            value.update((_no_surrogates(k, where, replace, counter), v) for k, v in items)
            stack.extend((value, k) for k in value)
    return root[0]


@dataclass
class ReadTally:
    """What decoding a file (or a range of it) found that is worth a warning, counted."""

    replaced: ReplaceCounter = field(default_factory=ReplaceCounter)  # undecodable bytes, as U+FFFD
    surrogates: ReplaceCounter = field(default_factory=ReplaceCounter)  # lone surrogates, as U+FFFD
    nuls: int = 0

    def add(self, later: ReadTally) -> None:
        """Count in what a later range of the same file found."""
        if self.replaced.first < 0:
            self.replaced.first = later.replaced.first
        self.replaced.count += later.replaced.count
        self.surrogates.count += later.surrogates.count
        self.nuls += later.nuls

    def warnings(self, name: str) -> list[str]:
        found = []
        if self.replaced.count:
            found.append(f"{name}: {self.replaced.count} undecodable byte sequence(s) replaced with U+FFFD "
                         f"(first at byte offset {self.replaced.first})")
        if self.surrogates.count:
            found.append(f"{name}: {self.surrogates.count} lone surrogate(s) replaced with U+FFFD")
        if self.nuls:  # text in UTF-16 or UTF-32 read as an 8-bit encoding: valid, but not what was meant
            found.append(f"{name}: {self.nuls} NUL character(s); if this is UTF-16 text, use --encoding utf-16")
        return found


def _decoded_pieces(source: Source, options: ReadOptions, warn: Callable[[str], None]) -> Iterator[str]:
    """Decode a whole file (or standard input) block by block, then warn about what ``decoded_pieces`` counted."""
    tally = ReadTally()
    yield from decoded_pieces(sys.stdin.buffer if source.path is None else source.path, source.name, options, tally)
    for message in tally.warnings(source.name):
        warn(message)


def decoded_pieces(file: Path | str | BinaryIO, name: str, options: ReadOptions, tally: ReadTally, start: int = 0,
                   end: int | None = None) -> Iterator[str]:
    """Decode a file, or its byte range [start, end), block by block; errors name the byte offset in the file.

    Both engines read text this way: the local one whole files, the Dask one also ranges of a large file
    (which start where a line does, so an ASCII-compatible encoding decodes them apart).
    """
    replace = options.errors == "replace"
    codec = decoder_name(options.encoding)
    # A UTF-8 BOM is not text: it is dropped below, not by the utf-8-sig decoder, whose error offsets would
    # count from after the BOM. It can only be at the start of the file.
    bom = codec in ("utf-8", "utf-8-sig")
    decoder = codecs.getincrementaldecoder("utf-8" if bom else codec)("propclf.replace" if replace else "strict")
    bom = bom and start == 0
    consumed = start
    for block in chain(read_blocks(file, name, start=start, end=end), [b""]):
        final = not block
        if consumed == 0 and (error := not_text(name, block[:16])) is not None:
            raise error
        # Offsets in a decode error count from the bytes the decoder still held back.
        tally.replaced.base = consumed - len(decoder.getstate()[0])
        try:
            with counting(tally.replaced):
                text = decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            raise not_valid(name, options.encoding, exc, tally.replaced.base + exc.start,
                            "; use --encoding, or --errors replace") from None
        except UnicodeError as exc:  # e.g. utf-16 without a byte order mark
            raise InputError(f"{name}: not valid {options.encoding} ({exc}); use --encoding") from None
        consumed += len(block)
        if bom and text:
            text, bom = text.removeprefix("\ufeff"), False
        if text:
            tally.nuls += text.count("\x00")
            yield _no_surrogates(text, f"{name}: not valid {options.encoding}", replace, tally.surrogates)


def _non_empty(source: Source, pieces: Iterator[str]) -> Iterator[str]:
    """Pass pieces through, but raise if the whole input is empty or blank."""
    seen_text = False
    for piece in pieces:
        seen_text = seen_text or bool(piece.strip())
        yield piece
    if not seen_text:
        raise InputError(f"{source.name}: file is empty")


def _table_units(source: Source, options: ReadOptions, warn: Callable[[str], None]) -> Iterator[Any]:
    """First the table's carried columns (CSV: its header; JSONL: its first record's keys), then its units."""
    assert source.path is not None
    pieces = _non_empty(source, _decoded_pieces(source, options, warn))
    delimiter = TABLE_SUFFIXES[source.path.suffix.lower()]
    # The id column's cell is kept in memory (it is written with each sentence): no text cell is set aside then.
    text_column = options.text_column if options.text_column != options.id_column else None
    rows = (_json_rows(source, pieces, options, warn) if delimiter is None
            else _csv_rows(source, pieces, delimiter, text_column))
    first = next(rows, None)
    yield [] if first is None else list(carried_names(first[1], options).values())
    name = output_name(source.name)
    empty = 0
    for row_number, record in chain([first] if first is not None else [], rows):
        if options.text_column not in record:
            where = source.name if delimiter is not None else f"{source.name}, row {row_number}"
            raise InputError(
                f"{where}: no column {options.text_column!r} (columns: {', '.join(map(shown, record)) or 'none'}); "
                "choose one with --text-column"
            )
        if options.id_column is not None and options.id_column not in record:
            raise InputError(f"{source.name}: no column {options.id_column!r} for --id-column")
        text = record[options.text_column]
        if isinstance(text, SpilledText):  # a cell too long for memory, read back in pieces as a file is
            blank, pieces = text.blank, text.pieces()
        elif isinstance(text, str):
            blank, pieces = not text.strip(), [text]
        else:
            raise InputError(f"{source.name}, row {row_number}: {options.text_column!r} is not a string")
        if blank:
            empty += 1
            continue
        identifier = None if options.id_column is None else str(record[options.id_column])
        fields = {carried: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                  for key, carried in carried_names(record, options).items() for value in (record[key],)}
        yield TextUnit(name, pieces, row=row_number, id=identifier, fields=fields,
                       is_sentence=options.rows == "sentence")
    if empty:
        warn(f"{source.name}: {empty} row(s) with empty {options.text_column!r} skipped")


def carried_names(columns: Iterable[str], options: ReadOptions) -> dict[str, str]:
    """The columns a table row carries into the output (all but the text and id columns), each with its name there.

    A name that propclf's outputs use for their own columns, or that starts with ``input_``, gets ``input_``
    in front (``id`` becomes ``input_id``, ``input_id`` becomes ``input_input_id``): no carried column can
    hide or replace one of propclf's, in any format, and two input columns never share a name.
    """
    return {column: CARRIED_PREFIX + column if column in OWN_COLUMNS or column.startswith(CARRIED_PREFIX) else column
            for column in columns if column not in (options.text_column, options.id_column)}


def _csv_rows(source: Source, pieces: Iterable[str], delimiter: str,
              text_column: str | None) -> Iterator[tuple[int, dict]]:
    records = csv_records(pieces, delimiter, text_column)
    line = 0  # the lines read
    try:
        header, line = next(records)
    except StopIteration:
        raise InputError(f"{source.name}: file is empty") from None
    except csv.Error as exc:
        raise InputError(f"{source.name}, line 1: malformed {delimiter!r}-separated header ({exc})") from None
    seen: set[str] = set()
    for name in header:  # a row becomes a dict, which keeps one of them: the other would be dropped unseen
        if name in seen:
            raise InputError(f"{source.name}, line 1: column {name!r} appears twice in the header; rename one")
        seen.add(name)
    number = 0
    try:
        for number, (values, lines) in enumerate(records, 1):
            first_line, line = line + 1, line + lines
            if len(values) != len(header):
                raise InputError(f"{source.name}, {_field_count_problem(values, len(header), first_line, line)}")
            yield number, dict(zip(header, values))
    except csv.Error as exc:
        raise InputError(f"{source.name}, line {line + 1}: malformed CSV ({exc})") from None
    if number == 0:
        raise InputError(f"{source.name}: no rows below the header")


def _field_count_problem(values: list[str], expected: int, first_line: int, last_line: int) -> str:
    # A quote that is never closed swallows the line end and what follows: the last field ends with
    # a line break and the row comes up short. Say that, not only the count.
    last = values[-1] if values else ""
    if len(values) < expected and (last.tail if isinstance(last, SpilledText) else last).endswith(("\n", "\r")):
        runs_to = "" if last_line == first_line else f" (it runs on to line {last_line})"
        return f"line {first_line}: a quoted field has no closing quote{runs_to}"
    return f"line {last_line}: {len(values)} fields where the header has {expected}"


def _json_problem(message: str, position: int, length: int) -> str:
    """What json found wrong at ``position`` of a line of ``length`` characters (its line end not counted)."""
    if position >= length:
        return "the line ends inside a JSON value"
    # json's messages end in " at" or name no place; the column tells where.
    column = position + 1
    return f"{message} column {column}" if message.endswith(" at") else f"{message} at column {column}"


def _json_rows(source: Source, pieces: Iterable[str], options: ReadOptions,
               warn: Callable[[str], None]) -> Iterator[tuple[int, dict]]:
    number = line_number = 0
    replace = options.errors == "replace"
    replaced = ReplaceCounter()

    def where() -> str:  # of the line being read
        return f"{source.name}, line {line_number + 1}"

    surrogates: dict[int, str] = {}  # the first lone surrogate of a line's set-aside text

    def clean(text: str) -> str:  # a set-aside string's text, decoded from \u escapes
        if replace:
            return _no_surrogates(text, where(), replace, replaced)
        if not text.isascii() and (found := _SURROGATE.search(text)) is not None:
            surrogates.setdefault(line_number, found.group())
        return text

    def problem(message: str) -> InputError:
        return InputError(f"{where()}: not valid JSON ({message})")

    for line, long_line in json_lines(pieces, options.text_column, clean):
        if not line.strip():
            line_number += 1
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            length = len(line.rstrip("\r\n"))
            if long_line is not None:
                exc.pos, length = long_line.original_position(exc.pos), long_line.original_position(length)
                if long_line.error is not None and exc.pos > long_line.error_from:
                    raise problem(long_line.error) from None
            raise problem(_json_problem(exc.msg, exc.pos, length)) from None
        except RecursionError:
            raise problem("nested too deeply") from None
        except ValueError as exc:  # a number of more than 4300 digits
            raise problem(str(exc).split(";")[0]) from None
        if not isinstance(record, dict):
            raise InputError(f"{where()}: a JSON object was expected")
        spilled = None
        if long_line is not None and isinstance(text := record.get(options.text_column), str):
            spilled = long_line.spilled.get(text)
            if spilled is not None:  # its first lone surrogate stands in for it, to be found where json's would be
                record[options.text_column] = surrogates.pop(line_number, "")
        if _SURROGATE_ESCAPE.search(line) or spilled is not None and record[options.text_column]:
            record = _record_without_surrogates(record, where(), replace, replaced)
        if spilled is not None:
            record[options.text_column] = spilled
        line_number += 1
        number += 1
        yield number, record
    if replaced.count:
        warn(f"{source.name}: {replaced.count} lone surrogate(s) from \\u escapes replaced with U+FFFD")


def read_table_heads(sources: list[Source], options: ReadOptions,
                     warn: Callable[[str], None]) -> tuple[list[str], dict[str, Iterator[TextUnit]]]:
    """Read the head of every table input: the columns they carry (see ``carried_names``), in order, and
    the readers of the tables that cannot be read again, to hand to ``read_units``.

    For JSONL the keys of each file's first record count. A head is read by the reader that reads the
    rows, so a table that cannot be read fails here with its one-line error. A file that can only be
    read once (a FIFO, a device) keeps its reader, open at its first row; a regular file is closed and
    read again from the start in its turn, so hundreds of tables are never open at once.
    """
    columns: list[str] = []
    opened: dict[str, Iterator[TextUnit]] = {}
    try:
        for source in sources:
            if not source.is_table or source.path is None or source.name in opened:
                continue
            units = _table_units(source, options, warn)
            columns += [column for column in next(units) if column not in columns]
            if source.path.is_file():
                units.close()
            else:
                opened[source.name] = units
    except BaseException:
        for units in opened.values():
            units.close()
        raise
    return columns, opened


def output_columns(sources: list[Source], carried: list[str]) -> list[str]:
    """The columns after BASE_COLUMNS for these inputs: DOCUMENT_COLUMNS if any is a document, then
    ``carried``, the tables' own columns (see ``read_table_heads``)."""
    return [*(DOCUMENT_COLUMNS if any(source.document for source in sources) else ()), *carried]
