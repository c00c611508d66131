"""Table cells as long as documents: the streaming reader gives the records the csv and json modules give."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RAW
from propclf import InputError, ReadOptions, _cells, _textio
from propclf._inputs import expand_inputs, read_units

settings.register_profile("quick", max_examples=150)
settings.register_profile("long", max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CSV_TEXT = st.lists(st.sampled_from(['"', '""', ",", "\t", "\r", "\n", "\r\n", "a", "text", "id", " ", 'x"y', "é",
                                     "🙂", "\u2028", "\\"]), max_size=60).map("".join)
JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                     max_size=3), max_leaves=6)
JSON_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=40)
JSON_RECORD = st.dictionaries(st.sampled_from(["text", "id", "k", "te\"xt"]), JSON_TEXT | JSON_VALUE, max_size=4)
JSON_BREAK = st.sampled_from(["", '"', "\\", "\\u", "\\ud83d", "\\ude00", "\n", "\r", "{", "}", "[", ",", ":", "\x01",
                              " ", "\\x", '"text"', "\\\\"])


def _outcome(path: Path, options: ReadOptions) -> list | str:
    """The units of a table (their text joined) and its warnings, or its one-line error."""
    warnings: list[str] = []
    try:
        units = [(u.row, u.id, u.fields, "".join(u.pieces)) for source in expand_inputs([str(path)])
                 for u in read_units(source, options, warnings.append)]
    except InputError as exc:
        return str(exc)
    return [units, warnings]


def _both_ways(path: Path, options: ReadOptions, monkeypatch, block: int) -> tuple:
    monkeypatch.setattr(_textio, "BLOCK_BYTES", block)  # pieces cut anywhere, escapes and line ends too
    read_by_modules = _outcome(path, options)
    monkeypatch.setattr(_cells, "CELL_CHARS", 0)  # every record is a long one
    read_here = _outcome(path, options)
    monkeypatch.setattr(_cells, "CELL_CHARS", 1 << 20)
    return read_by_modules, read_here


CSV_FIELD = st.one_of(CSV_TEXT.map(lambda text: text.replace(",", "").replace("\t", "")),
                      CSV_TEXT.map(lambda text: '"' + text.replace('"', '""') + '"'),  # quoted
                      st.tuples(CSV_TEXT, st.sampled_from(["a", '"', " ", "é"])).map(  # text after the closing quote
                          lambda parts: '"' + parts[0].replace('"', '""') + '"' + parts[1]))


@FAST
@given(rows=st.lists(st.lists(CSV_FIELD, min_size=2, max_size=4), max_size=4), block=st.integers(1, 9),
       suffix=st.sampled_from([".csv", ".tsv"]), ends=st.sampled_from(["\n", "\r\n", "\r"]), last_end=st.booleans())
def test_a_csv_table_reads_the_same_through_the_streaming_reader(tmp_path_factory, monkeypatch, rows, block,
                                                                  suffix, ends, last_end):
    table = tmp_path_factory.mktemp("t") / f"t{suffix}"
    delimiter = "," if suffix == ".csv" else "\t"
    lines = [delimiter.join(["id", "text", "k"])] + [delimiter.join(fields) for fields in rows]
    table.write_text(ends.join(lines) + (ends if last_end else ""), encoding="utf-8", newline="")
    read_by_modules, read_here = _both_ways(table, ReadOptions(id_column="id"), monkeypatch, block)
    assert read_here == read_by_modules


@FAST
@given(records=st.lists(JSON_RECORD, min_size=1, max_size=3), ascii_only=st.booleans(), block=st.integers(1, 9),
       breaks=st.lists(st.tuples(st.integers(0, 10**6), JSON_BREAK), max_size=2), crlf=st.booleans())
def test_a_jsonl_table_reads_the_same_through_the_streaming_reader(tmp_path_factory, monkeypatch, records,
                                                                    ascii_only, block, breaks, crlf):
    text = "".join(json.dumps(r, ensure_ascii=ascii_only) + ("\r\n" if crlf else "\n") for r in records)
    for where, mark in breaks:  # mutations: the errors must be the same too
        where %= len(text) + 1
        text = text[:where] + mark + text[where:]
    table = tmp_path_factory.mktemp("t") / "t.jsonl"
    table.write_text(text, encoding="utf-8", newline="")
    for errors in ("strict", "replace"):
        read_by_modules, read_here = _both_ways(table, ReadOptions(errors=errors), monkeypatch, block)
        assert read_here == read_by_modules


# The child's own peak: VmHWM starts afresh at exec, while ru_maxrss keeps the parent's (this test's text).
_READ_PEAK = ("import re, sys; from propclf import ReadOptions;"
              "from propclf._inputs import expand_inputs, read_units;"
              "from propclf._tagging import _tasks;"
              "units = (u for s in expand_inputs([sys.argv[1]]) for u in read_units(s, ReadOptions(), print));"
              "chars = sum(len(chunk.text) for task in _tasks(units) for _, chunk in task);"
              "print(chars, re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))")


def _read_peak_kb(path: Path) -> tuple[int, int]:
    """Characters read and peak memory (kB) of a process that reads ``path`` into tagging's tasks."""
    done = subprocess.run([sys.executable, "-c", _READ_PEAK, str(path)], capture_output=True, text=True, check=True)
    chars, peak = done.stdout.split()[-2:]
    return int(chars), int(peak)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc")
def test_a_50_mb_cell_takes_the_memory_the_same_text_takes_as_a_file(tmp_path: Path):
    """Peak memory reading one 50 MB cell, against the same text as .txt (it was 5 to 6 times as much)."""
    seed = RAW.joinpath("000_c312eb8dd21f1c61.txt").read_text(encoding="utf-8").replace('"', "'")
    text = (seed * (50_000_000 // len(seed) + 1))[:50_000_000]
    (tmp_path / "cell.txt").write_text(text, encoding="utf-8")
    (tmp_path / "cell.csv").write_text(f'id,text\n1,"{text}"\n', encoding="utf-8")
    (tmp_path / "cell.jsonl").write_text(json.dumps({"id": 1, "text": text}) + "\n", encoding="utf-8")  # \u escapes
    file_chars, file_peak = _read_peak_kb(tmp_path / "cell.txt")
    assert file_chars == len(text)
    for table in ("cell.csv", "cell.jsonl"):
        chars, peak = _read_peak_kb(tmp_path / table)
        assert chars == len(text)
        assert peak < 1.3 * file_peak + 20_000, (table, peak, file_peak)
