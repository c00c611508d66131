"""Fuzzing the readers of user tables (.csv, .tsv, .jsonl) and of the labeled corpus (data/labeled/*.csv).

Each target writes a generated document to a temporary file, reads it through the public entry points
(``expand_inputs`` + ``read_units``, ``load_corpus``) and accepts exactly two outcomes: valid output, or
one of propclf's named errors (InputError, CorpusError) with a one-line message that names the file.
Anything else (another exception, a multi-line message, output that is not valid text) fails.

The documents are structured, then damaged: valid headers with ragged or mutated rows, quotes,
delimiters and line breaks inside cells, NUL bytes, BOMs, CR-only and CRLF line ends, huge fields,
bytes that are not UTF-8, JSON lines that are arrays, numbers, nested or deeply nested values,
missing or duplicate columns, damaged offsets and labels in the corpus. Where a document was written
by a correct writer (``csv.writer``, ``json.dumps``) and left undamaged, the reader must give back
exactly what was written; and reading a file in blocks of a few bytes must give exactly what reading
it at once gives (the streaming reader cuts files into 1 MB blocks).

Budget: a quick, fixed number of examples per target by default (CI); more on demand::

    HYPOTHESIS_PROFILE=long python -m pytest -q tests/test_fuzz.py          # 3,000 per target
    PROPCLF_FUZZ_EXAMPLES=20000 python -m pytest -q tests/test_fuzz.py      # any number per target

With ``PROPCLF_FUZZ_REPORT=path.json`` the number of inputs each target actually tried (shrinking and
replays included) is written there, and printed, when the module finishes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propclf import LABELS, CorpusError, InputError, PropclfError, ReadOptions, _inputs, _textio, segment
from propclf._inputs import expand_inputs, read_units
from propclf._segment import normalize
from propclf._training.corpus import COLUMNS, load_corpus

QUICK_EXAMPLES = 40


def _budget() -> int:
    if os.environ.get("PROPCLF_FUZZ_EXAMPLES"):
        return int(os.environ["PROPCLF_FUZZ_EXAMPLES"])
    return 3000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else QUICK_EXAMPLES


FUZZ = settings(max_examples=_budget(), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example, HealthCheck.filter_too_much])
#: Inputs tried per target (every call of a test body: generation, shrinking and replays).
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried(request):
    yield
    summary = ", ".join(f"{target} {count}" for target, count in sorted(TRIED.items()))
    report = os.environ.get("PROPCLF_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps({"examples_per_target": _budget(), "tried": dict(sorted(TRIED.items())),
                                            "total": sum(TRIED.values())}, indent=2) + "\n", encoding="utf-8")
        terminal = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if terminal is not None and capture is not None:
            with capture.global_and_fixture_disabled():  # teardown output is otherwise captured, and dropped
                terminal.write_line(f"\nfuzz inputs tried: {summary} (total {sum(TRIED.values())})")


# --- Building blocks --------------------------------------------------------------------------------------

PIECES = ["word", "Long live the great leader!", "It was a cynical film.", " ", "  ", ",", ";", "\t", '"', "'",
          '""', "\n", "\r", "\r\n", "\n\n", "\x00", "\ufeff", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c",
          "\x1e", "é", "’", "🙂", "\u202e", "\ud800", "\\", "{", "}", "[", "]", ":", "-\n", "1", "-1", "1e400"]
SMALL_CELL = st.one_of(st.lists(st.sampled_from(PIECES), max_size=10).map("".join),
                       st.text(st.characters(codec=None, exclude_categories=()), max_size=20))
HUGE_CELL = st.builds(lambda piece, n: piece * n, st.sampled_from(["x", "word ", "é", '"', "\n", "a,b\t"]),
                      st.integers(1 << 12, 1 << 17))
# About one cell in a hundred is huge.
CELL = st.integers(0, 99).flatmap(lambda k: HUGE_CELL if k == 0 else SMALL_CELL)
COLUMN = st.one_of(st.sampled_from(["text", "text", "id", "body", "Text", "text ", " text", "", "text\n", 'a"b',
                                    "a,b", "a\tb", "\x00", "\ufefftext", "é", "\u2028", "1"]), SMALL_CELL)
TEXT_COLUMNS = ["text", "body", "Text", "id", "missing", "", "text\n"]
ID_COLUMNS = [None, None, "id", "nope", "text", "body"]
ENCODINGS = ["utf-8"] * 6 + ["utf-8-sig", "UTF8", "latin-1", "cp1252", "utf-16", "utf-7", "ascii",
                             "klingon", "rot13", "base64", "hex", "zlib"]
BAD_ENCODING_MESSAGES = ("unknown encoding", "is not a text encoding")
INSERTS = [b"\x00", b"\xff", b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\r", b"\n", b"\r\n", b'"', b",", b"\t", b"{",
           b"\xef\xbb\xbf", b"\xfe\xff", b"\x85", b"\xe2\x80\xa8", b"+2AA-", b"\\ud800"]
MUTATIONS = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["insert", "delete", "replace", "truncate"]),
                               st.sampled_from(INSERTS)), max_size=3)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


def mutate(data: bytes, operations: list[tuple[float, str, bytes]]) -> bytes:
    for where, operation, blob in operations:
        i = int(where * len(data))
        if operation == "insert":
            data = data[:i] + blob + data[i:]
        elif operation == "delete":
            data = data[:i] + data[i + 1:]
        elif operation == "replace":
            data = data[:i] + blob + data[i + len(blob):]
        else:
            data = data[:i]
    return data


def encode(text: str, encoding: str) -> bytes:
    """Text as a user's file might hold it; unencodable characters become '?' or surrogate bytes."""
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


FILE_ENCODINGS = st.sampled_from(["utf-8"] * 5 + ["utf-8-bom", "utf-16", "latin-1"])


@st.composite
def read_options(draw) -> dict:
    return {"encoding": draw(st.sampled_from(ENCODINGS)), "errors": draw(st.sampled_from(["strict", "replace"])),
            "text_column": draw(st.sampled_from(TEXT_COLUMNS)), "id_column": draw(st.sampled_from(ID_COLUMNS)),
            "rows": draw(st.sampled_from(["document", "sentence"]))}


def is_text(value: str) -> bool:
    """Valid Unicode: every output format writes UTF-8, which has no lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def one_line(message: str) -> bool:
    return bool(message) and message.splitlines() == [message]


def workdir(factory, name: str) -> Path:
    folder = factory.getbasetemp() / f"fuzz-{name}"
    folder.mkdir(exist_ok=True)
    return folder


# --- Reading tables ---------------------------------------------------------------------------------------

def read_all(path: Path, options: dict) -> tuple[list[tuple], list[str]]:
    """Every unit of one input, as plain tuples, and the warnings; raises what the reader raises."""
    warnings: list[str] = []
    units = []
    read = ReadOptions(**options)
    for source in expand_inputs([str(path)], read.glob):
        for unit in read_units(source, read, warnings.append):
            units.append((unit.source, unit.row, unit.id, "".join(unit.pieces), dict(unit.fields), unit.is_sentence))
    return units, warnings


def check_read(path: Path, options: dict) -> list[tuple] | PropclfError:
    """Read ``path``; assert the outcome is valid output or a proper error, and return it."""
    try:
        units, warnings = read_all(path, options)
    except InputError as error:
        message = str(error)
        assert one_line(message), f"not one line: {message!r}"
        bad_encoding = any(words in message for words in BAD_ENCODING_MESSAGES)
        assert str(path) in message or bad_encoding, f"names no file: {message!r}"
        if bad_encoding:
            assert options["encoding"] in {"klingon", "rot13", "base64", "hex", "zlib"}, message
        return error
    assert options["encoding"] not in {"klingon", "rot13", "base64", "hex", "zlib"}, "a bad encoding was accepted"
    for warning in warnings:
        assert one_line(warning) and str(path) in warning, f"bad warning: {warning!r}"
    table = path.suffix in (".csv", ".tsv", ".jsonl")
    previous_row = 0
    for source, row, identifier, text, fields, is_sentence in units:
        assert source == str(path)
        assert isinstance(text, str) and text.strip() and is_text(text), f"bad text: {text!r}"
        if not table:
            assert row is None and identifier is None and fields == {}
            continue
        assert isinstance(row, int) and row > previous_row, "row numbers must increase"
        previous_row = row
        assert is_sentence == (options["rows"] == "sentence")
        assert identifier is None if options["id_column"] is None else isinstance(identifier, str)
        assert identifier is None or is_text(identifier)
        assert options["text_column"] not in fields
        for key, value in fields.items():
            assert isinstance(key, str) and isinstance(value, str) and is_text(key) and is_text(value), (key, value)
    return units


def expected_rows(header: list[str], rows: list[list[str]], options: dict) -> list[tuple] | None:
    """What a correct reader gives for a well-formed table (None: do not predict, e.g. an error is due)."""
    text_column, id_column = options["text_column"], options["id_column"]
    if text_column not in header or (id_column is not None and id_column not in header) or not rows:
        return None
    if any(len(values) != len(header) for values in rows):
        return None
    expected = []
    for number, values in enumerate(rows, 1):
        record = dict(zip(header, values))
        text = record.pop(text_column)
        if not text.strip():
            continue
        identifier = None if id_column is None else (text if id_column == text_column else record.pop(id_column))
        expected.append((number, identifier, text, record))
    return expected


@st.composite
def csv_documents(draw, delimiter: str) -> tuple[bytes, list[str], list[list[str]], bool]:
    """(bytes, header, rows, clean): clean when a correct csv.writer wrote it in UTF-8 and nothing was damaged."""
    header = draw(st.lists(COLUMN, max_size=5))
    if draw(st.booleans()):
        header.insert(draw(st.integers(0, len(header))), "text")
    width = len(header)
    ragged = draw(st.integers(0, 9)) == 0
    row = st.lists(CELL, max_size=width + 2) if ragged else st.lists(CELL, min_size=width, max_size=width)
    rows = draw(st.lists(row, max_size=6))
    line_end = draw(LINE_ENDS)
    if draw(st.integers(0, 3)) > 0:
        buffer = io.StringIO()
        quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=quoting)
        writer.writerow(header)
        writer.writerows(rows)
        text, written = buffer.getvalue(), True
    else:
        text, written = "".join(delimiter.join(values) + line_end for values in [header, *rows]), False
    file_encoding = draw(FILE_ENCODINGS)
    operations = draw(MUTATIONS)
    data = mutate(encode(text, file_encoding), operations)
    clean = (written and not ragged and not operations and file_encoding in ("utf-8", "utf-8-bom")
             and is_text(text) and not (header and header[0].startswith("\ufeff"))
             and writer_quotes_line_breaks(line_end, [header, *rows]))
    return data, header, rows, clean


def writer_quotes_line_breaks(line_end: str, rows: list[list[str]]) -> bool:
    """Python's csv.writer quotes a cell for the characters of its line terminator only: with "\\n" lines, a
    cell holding "\\r" is written bare, and no reader can tell it from a line end. Such files are not valid."""
    others = {"\r", "\n"} - set(line_end)
    return not any(char in cell for row in rows for cell in row for char in others)


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
@FUZZ
@given(document=st.data(), options=read_options())
def test_fuzz_csv_and_tsv(tmp_path_factory, suffix, document, options):
    TRIED[suffix[1:]] += 1
    delimiter = _inputs.TABLE_SUFFIXES[suffix]
    data, header, rows, clean = document.draw(csv_documents(delimiter))
    path = workdir(tmp_path_factory, suffix[1:]) / f"input{suffix}"
    path.write_bytes(data)
    outcome = check_read(path, options)
    expected = expected_rows(header, rows, options)
    if clean and expected is not None and options["encoding"] in ("utf-8", "utf-8-sig", "UTF8"):
        # Written by csv.writer and undamaged: the reader gives back exactly what was written.
        assert not isinstance(outcome, PropclfError), f"a valid table was refused: {outcome}"
        assert [(row, identifier, text, fields) for _, row, identifier, text, fields, _ in outcome] == expected


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), CELL)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


def nested(depth: int) -> str:
    return '{"text": "deep", "x": ' + "[" * depth + "]" * depth + "}"


ODD_LINES = st.sampled_from([
    "", "   ", "\t", "null", "42", "-0.5e3", '"text"', "[]", '[{"text": "in an array"}]', "true", "{", "}", "{}",
    '{"text": NaN}', '{"text": "a", "x": Infinity, "y": -Infinity, "z": NaN}', '{"text": "a", "text": "b"}',
    '{"text": "lone \\ud800 surrogate"}', '{"text": "ok", "\\udfff": 1}', '{"text": "a\\u0000b"}',
    '{"text": "x", "n": ' + "9" * 5000 + "}", '{"text": "x", "n": 1' + "0" * 400 + ".5}",
    nested(50), nested(900), nested(990), nested(5_000), nested(200_000), "[" * 100_000,
    '{"text": "\x85 and \u2028 raw"}',
    '{"text": "unterminated', "{'text': 'single quotes'}", '{"text": "a"} trailing', '\ufeff{"text": "bom"}',
])


@st.composite
def jsonl_documents(draw) -> tuple[bytes, list[tuple[dict, bool]], bool]:
    """(bytes, records, clean): records as written (with whether each line was a JSON object)."""
    lines, records = [], []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind < 6:
            record = draw(st.dictionaries(COLUMN, JSON_VALUES, max_size=4))
            if draw(st.booleans()):
                record["text"] = draw(CELL)
            lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
            records.append(record)
        elif kind < 7:
            lines.append(json.dumps(draw(JSON_VALUES)))
            records.append(None)
        else:
            lines.append(draw(SMALL_CELL) if kind == 9 else draw(ODD_LINES))
            records.append(None)
    line_end = draw(LINE_ENDS)
    text = "".join(line + line_end for line in lines)
    file_encoding = draw(FILE_ENCODINGS)
    operations = draw(MUTATIONS)
    data = mutate(encode(text, file_encoding), operations)
    clean = (all(record is not None for record in records) and not operations
             and file_encoding in ("utf-8", "utf-8-bom") and is_text(text))
    # What was written, as the json module itself reads it back (it joins escaped surrogate pairs).
    written = [json.loads(line) for line in lines] if clean else records
    return data, written, clean


@FUZZ
@given(document=jsonl_documents(), options=read_options())
def test_fuzz_jsonl(tmp_path_factory, document, options):
    TRIED["jsonl"] += 1
    data, records, clean = document
    path = workdir(tmp_path_factory, "jsonl") / "input.jsonl"
    path.write_bytes(data)
    outcome = check_read(path, options)
    text_column, id_column = options["text_column"], options["id_column"]
    if not (clean and records and options["encoding"] in ("utf-8", "utf-8-sig", "UTF8")):
        return
    if not all(text_column in r and isinstance(r[text_column], str) and (id_column is None or id_column in r)
               for r in records):
        return
    if not is_text(json.dumps(records, ensure_ascii=False)) and options["errors"] == "strict":
        assert isinstance(outcome, InputError), "a lone surrogate escape was passed on as text"
        return
    # Written by json.dumps, one object a line, and undamaged: the reader gives back what was written
    # (with --errors replace, lone surrogates from \\u escapes as U+FFFD).
    assert not isinstance(outcome, PropclfError), f"valid JSON lines were refused: {outcome}"
    expected = []
    for number, record in enumerate(records, 1):
        record = without_surrogates(record)
        text = record.pop(text_column)
        if not text.strip():
            continue
        identifier = None if id_column is None else str(text if id_column == text_column else record.pop(id_column))
        fields = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in record.items()}
        expected.append((number, identifier, text, fields))
    assert [(row, identifier, text, fields) for _, row, identifier, text, fields, _ in outcome] == expected


def without_surrogates(value: object) -> object:
    if isinstance(value, str):
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
@FUZZ
@given(data=st.binary(max_size=400), prefix=st.sampled_from([b"", b"text\n", b"text\tid\n", b"text,id\r\n"]),
       options=read_options())
def test_fuzz_table_bytes(tmp_path_factory, suffix, data, prefix, options):
    """Arbitrary bytes, sometimes under a valid header."""
    TRIED[f"{suffix[1:]}-bytes"] += 1
    path = workdir(tmp_path_factory, f"bytes{suffix}") / f"input{suffix}"
    path.write_bytes(prefix + data)
    check_read(path, options)


@contextmanager
def block_size(size: int) -> Iterator[None]:
    previous, _textio.BLOCK_BYTES = _textio.BLOCK_BYTES, size
    try:
        yield
    finally:
        _textio.BLOCK_BYTES = previous


def outcome_of(path: Path, options: dict) -> tuple:
    try:
        return ("ok", *read_all(path, options))
    except InputError as error:
        assert one_line(str(error)), f"not one line: {error}"
        return ("error", str(error))


@FUZZ
@given(document=st.data(), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".txt"]), size=st.integers(1, 16),
       options=read_options())
def test_fuzz_reading_in_blocks_changes_nothing(tmp_path_factory, document, suffix, size, options):
    """Files are read in blocks; where a block ends must not change any row, text, warning or error."""
    TRIED["blocks"] += 1
    if suffix == ".jsonl":
        data = document.draw(jsonl_documents())[0]
    else:
        data = document.draw(csv_documents(_inputs.TABLE_SUFFIXES.get(suffix) or ","))[0]
    path = workdir(tmp_path_factory, "blocks") / f"input{suffix}"
    path.write_bytes(data)
    whole = outcome_of(path, options)
    with block_size(max(size, len(data) // 4096)):  # a huge cell in 1-byte blocks would only be slow
        in_blocks = outcome_of(path, options)
    if whole[0] == "error" and in_blocks[0] == "error" and "not valid" in whole[1] + in_blocks[1]:
        # A file that is both undecodable and malformed: the reader stops at whichever it meets first,
        # and reading the whole file at once decodes it all before the first line is parsed.
        return
    assert in_blocks == whole


# --- The labeled corpus -----------------------------------------------------------------------------------

SEED_TEXT = ("Long live the great leader!  The musical opened in Kaesong\nin the spring of 1974, with a cast of "
             "hundreds.\n\nIt was a cynical piece of theatre, designed to hide the famine. Audiences were "
             "re-\nquired to applaud for ten minutes.\r\n")
SEED_SPANS = segment(SEED_TEXT)
RAW_SOURCES = ["seed.txt", "seed.txt", "authored", "authored", "latin1.txt", "missing.txt", "sub", "../raw/seed.txt",
               "seed.txt\x00", "", "sources.csv", "Authored", "seed.txt ", "\u2028"]
FIELD_MUTANTS = st.one_of(st.sampled_from(
    ["", " ", "praise", "Slogan", "slogan ", "uncertain", "-1", "0", "1", "10", "99999999", "9" * 5000, "1_0", "٣",
     " 5 ", "1.0", "abc", "\x00", "\x85", "\u2028", "a  b", " lead", "trail ", "line\nbreak", "x-\nwrap", "g-1",
     "seed-0", "a0", *RAW_SOURCES]), SMALL_CELL)


def make_raw(folder: Path) -> Path:
    raw = folder / "raw"
    if not raw.is_dir():
        raw.mkdir()
        (raw / "seed.txt").write_bytes(b"\xef\xbb\xbf" + SEED_TEXT.encode("utf-8"))  # offsets count after the BOM
        (raw / "latin1.txt").write_bytes("Une phrase écrite en latin-1.".encode("latin-1"))
        (raw / "sub").mkdir()
    (raw / "sources.csv").unlink(missing_ok=True)
    return raw


@st.composite
def corpus_rows(draw) -> list[dict[str, str]]:
    """Valid rows: authored sentences and seed sentences whose offsets cut them out of seed.txt."""
    rows = []
    for i in range(draw(st.integers(1, 6))):
        label = draw(st.sampled_from(LABELS))
        if draw(st.booleans()):
            span = SEED_SPANS[draw(st.integers(0, len(SEED_SPANS) - 1))]
            row = {"text": span.text, "source": "seed.txt", "start": str(span.start), "end": str(span.end)}
        else:
            row = {"text": normalize(f"{normalize(draw(CELL))} #{i}"), "source": "authored", "start": "", "end": ""}
        rows.append({"id": f"{draw(SMALL_CELL)}-{i}", "label": label, "group": draw(SMALL_CELL) or "g", **row})
    # One row per text: the validator refuses duplicates, and a valid corpus has none.
    unique = {row["text"]: row for row in rows}
    return list(unique.values())


@st.composite
def corpus_documents(draw) -> tuple[bytes, list[dict[str, str]], bool]:
    rows = draw(corpus_rows())
    header = list(COLUMNS)
    damaged = False
    if draw(st.integers(0, 4)) == 0:  # permute, drop, duplicate or rename columns, or add one
        header = draw(st.permutations(header))
        edit = draw(st.sampled_from(["drop", "duplicate", "rename", "extra", "none"]))
        i = draw(st.integers(0, len(header) - 1))
        if edit == "drop":
            header.pop(i)
        elif edit == "duplicate":
            header.insert(i, header[-1])
        elif edit == "rename":
            header[i] = draw(FIELD_MUTANTS)
        elif edit == "extra":
            header.append(draw(FIELD_MUTANTS))
        damaged = edit != "none"
    for _ in range(draw(st.integers(0, 3))):  # damage a field, or copy a row
        row = rows[draw(st.integers(0, len(rows) - 1))]
        if draw(st.integers(0, 4)) == 0:
            rows.append(dict(row))
        else:
            row[draw(st.sampled_from(COLUMNS))] = draw(FIELD_MUTANTS)
        damaged = True
    line_end = draw(LINE_ENDS)
    if draw(st.integers(0, 3)) > 0:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=line_end)
        writer.writerow(header)
        writer.writerows([[row.get(column, "") for column in header] for row in rows])
        text, written = buffer.getvalue(), True
    else:
        lines = [",".join(header), *(",".join(row.get(column, "") for column in header) for row in rows)]
        text, written = "".join(line + line_end for line in lines), False
    file_encoding = draw(FILE_ENCODINGS)
    operations = draw(MUTATIONS)
    data = mutate(encode(text, file_encoding), operations)
    clean = (written and not damaged and not operations and file_encoding in ("utf-8", "utf-8-bom") and is_text(text)
             and writer_quotes_line_breaks(line_end, [[row[column] for column in COLUMNS] for row in rows]))
    return data, rows, clean


def check_corpus(folder: Path, corpus_file: Path, raw: Path) -> object:
    try:
        corpus = load_corpus(folder)
    except CorpusError as error:
        message = str(error)
        assert one_line(message), f"not one line: {message!r}"
        assert str(corpus_file) in message or str(raw) in message, f"names no file: {message!r}"
        return error
    assert len(corpus.ids) == len(corpus.texts) == len(corpus.labels) == len(corpus.groups) == len(corpus)
    assert len(set(corpus.ids)) == len(corpus.ids) and len(set(corpus.texts)) == len(corpus.texts)
    for text, label, group in zip(corpus.texts, corpus.labels, corpus.groups):
        assert label in LABELS and text.strip() and text == normalize(text) and group
    return corpus


@FUZZ
@given(document=corpus_documents())
def test_fuzz_corpus(tmp_path_factory, document):
    TRIED["corpus"] += 1
    data, rows, clean = document
    folder = workdir(tmp_path_factory, "corpus")
    raw = make_raw(folder)
    labeled = folder / "labeled"
    labeled.mkdir(exist_ok=True)
    corpus_file = labeled / "x.csv"
    corpus_file.write_bytes(data)
    outcome = check_corpus(labeled, corpus_file, raw)
    if clean:
        # Valid rows written by csv.writer: loaded exactly as written.
        assert not isinstance(outcome, PropclfError), f"a valid corpus was refused: {outcome}"
        assert outcome.ids == [row["id"] for row in rows] and outcome.texts == [row["text"] for row in rows]
        assert outcome.labels == [row["label"] for row in rows]


SOURCES_LINES = st.sampled_from(["file,origin", "\ufefffile,origin", "origin,file", "file", "seed.txt,seed",
                                 "seed.txt,team", "seed.txt,fake", "seed.txt", "seed.txt,seed,extra", "", '"a\nb",seed',
                                 '"unterminated,seed', "\x00,seed", "latin1.txt,team"])


@FUZZ
@given(rows=corpus_rows(), lines=st.lists(SOURCES_LINES | SMALL_CELL, max_size=5), operations=MUTATIONS,
       line_end=LINE_ENDS)
def test_fuzz_corpus_sources_file(tmp_path_factory, rows, lines, operations, line_end):
    """raw/sources.csv says which seed documents are real; a damaged one fails with a named error."""
    TRIED["corpus-sources"] += 1
    folder = workdir(tmp_path_factory, "sources")
    raw = make_raw(folder)
    text = "".join(line + line_end for line in lines)
    (raw / "sources.csv").write_bytes(mutate(text.encode("utf-8", "surrogatepass"), operations))
    labeled = folder / "labeled"
    labeled.mkdir(exist_ok=True)
    buffer = io.StringIO()
    csv.DictWriter(buffer, COLUMNS).writeheader()
    csv.DictWriter(buffer, COLUMNS).writerows(rows)
    (labeled / "x.csv").write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    check_corpus(labeled, labeled / "x.csv", raw)


# --- Regressions: the exact inputs the fuzzing above failed on, before the readers were fixed -------------

def read_bytes(tmp_path: Path, name: str, data: bytes, **options) -> list[tuple] | PropclfError:
    path = tmp_path / name
    path.write_bytes(data)
    defaults = {"encoding": "utf-8", "errors": "strict", "text_column": "text", "id_column": None, "rows": "document"}
    return check_read(path, {**defaults, **options})


@pytest.mark.parametrize("encoding", ["rot13", "base64", "hex", "zlib"])
def test_regression_an_encoding_that_is_not_a_text_encoding(tmp_path, encoding):
    # Was: TypeError (rot13), AssertionError (base64, hex, zlib with --errors replace) from inside codecs.
    for errors in ("strict", "replace"):
        error = read_bytes(tmp_path, "t.csv", b"text\nhello\n", encoding=encoding, errors=errors)
        assert isinstance(error, InputError)
        assert str(error) == f"{encoding!r} is not a text encoding; use one such as utf-8 or latin-1"
    with pytest.raises(InputError, match="^unknown encoding 'klingon'$"):
        ReadOptions(encoding="klingon")  # before any file is opened


def test_regression_utf16_without_a_byte_order_mark(tmp_path):
    # Was: UnicodeError("UTF-16 stream does not start with BOM").
    error = read_bytes(tmp_path, "t.tsv", b"text\n", encoding="utf-16")
    assert isinstance(error, InputError)
    assert str(error) == (f"{tmp_path / 't.tsv'}: not valid utf-16 (UTF-16 stream does not start with BOM); "
                          "use --encoding")


@pytest.mark.parametrize("size", [1 << 20, 1, 2, 4])
def test_regression_byte_offsets_after_a_bom(tmp_path, size):
    # Was: the utf-8-sig decoder counted offsets from after the BOM, so in the first block read the offset of a
    # bad byte (in the error, or in the --errors replace warning) was 3 too small: 2 here, where the byte is at 5.
    path = tmp_path / "t.txt"
    path.write_bytes(b"\xef\xbb\xbfab\xe9 cd.\n")
    options = {"encoding": "utf-8", "errors": "strict", "text_column": "text", "id_column": None, "rows": "document"}
    with block_size(size):
        assert outcome_of(path, options) == ("error", f"{path}: not valid utf-8 (byte 0xe9 at offset 5); "
                                             "use --encoding, or --errors replace")
        assert outcome_of(path, {**options, "errors": "replace"}) == ("ok", [
            (str(path), None, None, "ab\ufffd cd.\n", {}, False)], [
            f"{path}: 1 undecodable byte sequence(s) replaced with U+FFFD (first at byte offset 5)"])


def test_regression_the_id_column_is_the_text_column(tmp_path):
    # Was: KeyError('text'): the text was popped from the row before the id was read from it.
    units = read_bytes(tmp_path, "t.csv", b"text,n\nhello,1\n", id_column="text")
    assert [(row, identifier, text, fields) for _, row, identifier, text, fields, _ in units] == [
        (1, "hello", "hello", {"n": "1"})]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_regression_crlf_cut_between_two_blocks(tmp_path, size):
    # Was: a block ending between \r and \n made an empty line, hence a row of 0 fields (or, for b"\r\n",
    # "no column 'text'" instead of "file is empty"). With 1 MB blocks a large CRLF file hit it at random.
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,n\r\nhello,1\r\nworld,2\r\n")
    options = {"encoding": "utf-8", "errors": "strict", "text_column": "text", "id_column": None, "rows": "document"}
    whole = outcome_of(path, options)
    assert whole[0] == "ok" and [unit[3] for unit in whole[1]] == ["hello", "world"]
    with block_size(size):
        assert outcome_of(path, options) == whole
    path.write_bytes(b"\r\n")
    with block_size(1):
        assert outcome_of(path, options) == ("error", f"{path}: file is empty")


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1e"])
def test_regression_line_separators_inside_a_cell_or_a_json_string(tmp_path, char):
    # Was: str.splitlines cut lines at these characters too, breaking a CSV row or a JSON line in two.
    units = read_bytes(tmp_path, "t.csv", f"text,n\na{char}b,1\n".encode())
    assert [(unit[3], unit[4]) for unit in units] == [(f"a{char}b", {"n": "1"})]
    units = read_bytes(tmp_path, "t.jsonl", json.dumps({"text": f"a{char}b", "n": 1}, ensure_ascii=False).encode())
    assert [(unit[3], unit[4]) for unit in units] == [(f"a{char}b", {"n": "1"})]


def test_regression_a_lone_surrogate_escape_in_json(tmp_path):
    # Was: the text '\ud800' passed on, and `propclf predict` then crashed writing it (UnicodeEncodeError).
    data = b'{"text": "lone \\ud800 surrogate"}\n{"text": "pair \\ud83d\\ude42 ok"}\n'
    error = read_bytes(tmp_path, "t.jsonl", data)
    assert str(error) == (f"{tmp_path / 't.jsonl'}, line 1: a lone surrogate (U+D800) is not text; "
                          "use --errors replace")
    warnings: list[str] = []
    (tmp_path / "t.jsonl").write_bytes(data)
    source = expand_inputs([str(tmp_path / "t.jsonl")])[0]
    units = list(read_units(source, ReadOptions(errors="replace"), warnings.append))
    assert [unit.pieces for unit in units] == [["lone \ufffd surrogate"], ["pair 🙂 ok"]]
    assert warnings == [f"{source.name}: 1 lone surrogate(s) from \\u escapes replaced with U+FFFD"]


def test_regression_a_lone_surrogate_from_the_decoder(tmp_path):
    # utf-7 can encode a lone surrogate ("+2AA-" is U+D800): the same error, or U+FFFD with --errors replace.
    error = read_bytes(tmp_path, "t.csv", b"text\nbad +2AA- here\n", encoding="utf-7")
    assert isinstance(error, InputError) and "lone surrogate (U+D800)" in str(error)
    units, warnings = read_all(tmp_path / "t.csv", {"encoding": "utf-7", "errors": "replace", "text_column": "text",
                                                    "id_column": None, "rows": "document"})
    assert [unit[3] for unit in units] == ["bad \ufffd here"]
    assert warnings == [f"{tmp_path / 't.csv'}: 1 lone surrogate(s) replaced with U+FFFD"]


@pytest.mark.parametrize(("line", "reason"), [
    (nested(5_000), "nested too deeply"),
    ("[" * 100_000, "nested too deeply"),
    ('{"text": "x", "n": ' + "9" * 5000 + "}", "Exceeds the limit (4300 digits) for integer string conversion"),
])
def test_regression_json_too_deep_or_a_number_too_long(tmp_path, line, reason):
    # Was: RecursionError, or ValueError (not a JSONDecodeError), out of json.loads.
    error = read_bytes(tmp_path, "t.jsonl", b'{"text": "fine"}\n' + line.encode() + b"\n")
    assert isinstance(error, InputError)
    assert str(error).startswith(f"{tmp_path / 't.jsonl'}, line 2: not valid JSON ({reason}")


def corpus_folder(tmp_path: Path, rows: list[dict[str, str]]) -> tuple[Path, Path, Path]:
    raw = make_raw(tmp_path)
    labeled = tmp_path / "labeled"
    labeled.mkdir(exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (labeled / "x.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return labeled, labeled / "x.csv", raw


AUTHORED_ROW = {"id": "a1", "text": "Long live the leader!", "label": "slogan", "source": "authored", "start": "",
                "end": "", "group": "g1"}


def test_regression_a_line_separator_inside_a_corpus_field(tmp_path):
    # Was: "line 3: unknown label ''": U+0085 in the group split the row in two.
    labeled, corpus_file, raw = corpus_folder(tmp_path, [{**AUTHORED_ROW, "group": "\x85word"}])
    corpus = check_corpus(labeled, corpus_file, raw)
    assert not isinstance(corpus, PropclfError), corpus
    assert corpus.groups == ["\x85word"]


def test_regression_a_seed_document_that_is_not_utf8(tmp_path):
    # Was: UnicodeDecodeError from reading data/raw/latin1.txt.
    row = {**AUTHORED_ROW, "source": "latin1.txt", "start": "0", "end": "3"}
    labeled, corpus_file, raw = corpus_folder(tmp_path, [row])
    error = check_corpus(labeled, corpus_file, raw)
    assert str(error) == f"{raw / 'latin1.txt'}: not valid UTF-8 (byte 0xe9 at offset 11)"


def test_regression_a_sources_file_that_is_not_utf8(tmp_path):
    # Was: UnicodeDecodeError from reading data/raw/sources.csv.
    labeled, corpus_file, raw = corpus_folder(tmp_path, [AUTHORED_ROW])
    (raw / "sources.csv").write_bytes(b"\xfffile,origin\n")
    error = check_corpus(labeled, corpus_file, raw)
    assert str(error) == f"{raw / 'sources.csv'}: not valid UTF-8 (byte 0xff at offset 0)"
    (raw / "sources.csv").write_bytes(b"\xef\xbb\xbffile,origin\nseed.txt,team\n")  # a BOM is fine
    assert check_corpus(labeled, corpus_file, raw).origins == ["authored"]
