"""Reading inputs and writing outputs under faults: unreadable and one-shot inputs, odd names and columns,
outputs that would replace an input, closed pipes, and memory whatever the shape of the input."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import RAW, rows_of, run
from propclf import ReadOptions, predict, tag_files
from propclf._segment import MAX_SENTENCE_CHARS

SEED = RAW / "000_c312eb8dd21f1c61.txt"
SLOGANS = "Long live the great leader! It rained all week.\n"


# --- One wording for bytes that are not UTF-8, whoever reads the file ------------------------------------------

def test_every_reader_words_bad_utf8_the_same(tmp_path: Path):
    """Tagging, the corpus, a held-out set and a model's manifest read files the same way: the same message
    (the tagging commands add what their options can do about it), in the error type of each."""
    from propclf import CorpusError, InputError, ModelError, load_model
    from propclf._training.corpus import load_corpus
    from propclf._training.evaluation import load_held_out

    data = b'{"text": "ab\xff"}\n'  # byte 0xff at offset 12
    for name in ("bad.txt", "bad.csv", "model/propclf.json"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError) as tagging:
        list(tag_files([str(tmp_path / "bad.txt")]))
    assert str(tagging.value) == (f"{tmp_path / 'bad.txt'}: not valid utf-8 (byte 0xff at offset 12); "
                                  "use --encoding, or --errors replace")
    for kind, read, path in ((CorpusError, load_corpus, tmp_path / "bad.csv"),
                             (CorpusError, lambda p: load_held_out(p, "held-out"), tmp_path / "bad.csv"),
                             (ModelError, lambda p: load_model(p.parent), tmp_path / "model" / "propclf.json")):
        with pytest.raises(kind) as caught:
            read(path)
        assert str(caught.value) == f"{path}: not valid UTF-8 (byte 0xff at offset 12)"
        assert caught.value.__cause__ is None


# --- Each input is opened once, by the one reader ----------------------------------------------------------

@pytest.mark.parametrize(("name", "content"), [("t.csv", "text,k\nLong live the leader!,1\n"),
                                               ("t.jsonl", '{"text": "Long live the leader!", "k": 1}\n')])
def test_a_table_in_a_fifo_is_read_once(tmp_path: Path, name, content):
    """A FIFO can be read once: the columns and the rows come from the one reading (it used to hang)."""
    fifo = tmp_path / name
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as handle:
            handle.write(content)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        done = subprocess.run([sys.executable, "-m", "propclf", "predict", "--format", "csv", str(fifo)],
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:  # (the process is killed; the writer thread is a daemon)
        pytest.fail("propclf waited for a second reading of the FIFO")
    assert done.returncode == 0, done.stderr
    assert [(r["text"], r["k"]) for r in rows_of(done.stdout)] == [("Long live the leader!", "1")]


def test_a_utf16_table_without_a_byte_order_mark_is_a_one_line_error(tmp_path: Path, capsys):
    table = tmp_path / "t.csv"
    table.write_bytes("text,id\nLong live the leader!,1\n".encode("utf-16-le"))
    code, out, err = run(capsys, "predict", "--encoding", "utf-16", str(table))
    assert (code, out) == (1, "")
    assert err == f"Error: {table}: not valid utf-16 (UTF-16 stream does not start with BOM); use --encoding\n"


def test_a_bad_table_fails_before_anything_is_written(tmp_path: Path, capsys):
    """A table's head is read by the reader that reads its rows: its error comes first, nothing is written."""
    good, bad = tmp_path / "a.txt", tmp_path / "b.jsonl"
    good.write_text(SLOGANS, encoding="utf-8")
    bad.write_text("not json\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    code, out, err = run(capsys, "predict", "-o", str(target), str(good), str(bad))
    assert (code, out, err) == (1, "", f"Error: {bad}, line 1: not valid JSON (Expecting value at column 1)\n")
    assert not target.exists()


# --- Names and columns ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".html", ".txt"])
def test_a_file_name_that_is_not_utf8_is_written_escaped(tmp_path: Path, capsys, suffix):
    source = tmp_path / os.fsdecode(b"caf\xe9.txt")
    source.write_text(SLOGANS, encoding="utf-8")
    target = tmp_path / f"out{suffix}"
    code, _, err = run(capsys, "predict", "-o", str(target), str(source))
    assert (code, err) == (0, f"Wrote {target}\n")
    written = target.read_text(encoding="utf-8")
    assert str(tmp_path / "caf\\xe9.txt") in written.replace("\\\\", "\\")  # JSON doubles the backslash


def test_a_repeated_column_name_is_refused(tmp_path: Path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("text,text,id\nLong live the leader!,It rained.,1\n", encoding="utf-8")
    code, out, err = run(capsys, "predict", str(table))
    assert (code, out) == (1, "")
    assert err == f"Error: {table}, line 1: column 'text' appears twice in the header; rename one\n"


OWN_NAMES = "id,source,label,start,input_id,explanation"


@pytest.mark.parametrize("output_format", ["csv", "jsonl", "html"])
def test_columns_named_like_propclfs_own_are_carried_under_a_prefix(tmp_path: Path, capsys, output_format):
    table = tmp_path / "t.csv"
    table.write_text(f"body,{OWN_NAMES},x\nLong live the leader!,7,web,slogan,3,ii,e,xx\n", encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--explain", "--format", output_format, "--text-column", "body", str(table))
    assert code == 0
    expected = {"input_id": "7", "input_source": "web", "input_label": "slogan", "input_start": "3",
                "input_input_id": "ii", "input_explanation": "e", "x": "xx"}
    if output_format == "csv":
        (row,) = rows_of(out)
        assert list(row)[-len(expected):] == list(expected)
    elif output_format == "jsonl":
        (row,) = [json.loads(line) for line in out.splitlines()]
        assert isinstance(row["explanation"], list) and "id" not in row
    else:
        for key, value in expected.items():
            assert f"<b>{key}</b> {value}</span>" in out
        return
    assert {key: row[key] for key in expected} == expected
    assert (row["source"], row["label"], row["start"]) == (str(table), "slogan", 0 if output_format == "jsonl" else "0")


def test_the_output_names_are_propclfs_own(tmp_path: Path, capsys):
    """Every name propclf's outputs use is one that a carried column gets a prefix for."""
    from propclf._columns import OWN_COLUMNS

    table = tmp_path / "t.csv"
    table.write_text("text,id\nLong live the leader!,1\n", encoding="utf-8")
    _, out, _ = run(capsys, "predict", "--format", "csv", "--id-column", "id", str(table))
    assert set(rows_of(out)[0]) <= OWN_COLUMNS
    _, out, _ = run(capsys, "predict", "--format", "jsonl", "--explain", "--id-column", "id", str(table))
    assert set(json.loads(out.splitlines()[0])) <= OWN_COLUMNS


# --- Outputs ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["notes.txt", "t.csv"])
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, capsys, name):
    source = tmp_path / name
    content = SLOGANS if name.endswith(".txt") else "text\nLong live the leader!\n"
    source.write_text(content, encoding="utf-8")
    os.link(source, tmp_path / "same")
    for output in (str(source), str(tmp_path / "." / name)):
        code, out, err = run(capsys, "predict", "--format", "csv", "-o", output, str(source))
        assert (code, out) == (1, "")
        assert err == f"Error: {output}: is also an input ({source}); write the output to another file\n"
    assert run(capsys, "predict", "--format", "csv", "-o", str(tmp_path / "same"), str(source))[0] == 1
    assert source.read_text(encoding="utf-8") == content


@pytest.mark.parametrize("name", ["out.xlsx", "out"])
def test_an_output_whose_extension_names_no_format_is_refused(tmp_path: Path, capsys, name):
    target = tmp_path / name
    code, _, err = run(capsys, "predict", "-o", str(target), str(SEED))
    assert code == 2 and err.splitlines()[-1].startswith(f"Error: {target}: no output format has ")
    assert not target.exists()
    assert run(capsys, "predict", "--format", "csv", "-o", str(target), str(SEED))[0] == 0  # said plainly: fine
    assert target.read_text(encoding="utf-8").startswith("source,row,id,")


def test_a_closed_pipe_ends_quietly_with_the_sigpipe_status(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text(SEED.read_text(encoding="utf-8") * 40, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "propclf", "predict", "--format", "csv", str(big)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"source,")
    process.stdout.close()  # as `head -n 1` does
    assert process.wait(timeout=300) == 141
    assert process.stderr.read() == b""


# --- Options that would do nothing ---------------------------------------------------------------------------

def test_explaining_nothing_is_refused(capsys):
    code, out, err = run(capsys, "explain", "  ")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == "Error: Invalid value for SENTENCE: is empty: give the sentence to explain"


def test_predict_refuses_bytes():
    with pytest.raises(TypeError, match=r"^predict\(\) takes strings, got bytes; decode it first$"):
        predict(b"Long live the leader!")


@pytest.mark.parametrize(("setting", "message"), [
    ({"rows": "paragraph"}, "ReadOptions(rows=...) must be 'document' or 'sentence', got 'paragraph'"),
    ({"errors": "ignore"}, "ReadOptions(errors=...) must be 'strict' or 'replace', got 'ignore'")])
def test_read_options_refuse_unknown_values(setting, message):
    with pytest.raises(ValueError) as caught:
        ReadOptions(**setting)
    assert str(caught.value) == message


@pytest.mark.parametrize("option", [["--text-column", "body"], ["--id-column", "doc"], ["--rows", "sentence"]])
def test_table_options_without_a_table_are_refused(capsys, option):
    code, _, err = run(capsys, "predict", *option, str(SEED))
    assert code == 2
    assert err.splitlines()[-1] == f"Error: {SEED}: {option[0]} applies to .csv, .tsv and .jsonl inputs, and no " \
                                   "input is one"


def test_table_options_with_a_table_among_the_inputs_are_fine(tmp_path: Path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("body\nLong live the leader!\n", encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--format", "csv", "--text-column", "body", str(SEED), str(table))
    assert code == 0 and rows_of(out)[-1]["text"] == "Long live the leader!"


def test_agreement_reads_a_tsv_by_its_tabs(tmp_path: Path, capsys):
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text("id\tlabel\na1\tslogan\na2\tneutral\n", encoding="utf-8")
    second.write_text("id\tlabel\na1\tslogan\na2\tcritique\n", encoding="utf-8")
    code, out, _ = run(capsys, "agreement", str(first), str(second))
    assert code == 0 and out.startswith("2 rows labeled by both") and "a2: neutral | critique" in out
    other = tmp_path / "a.jsonl"
    other.write_text('{"id": "a1", "label": "slogan"}\n', encoding="utf-8")
    code, _, err = run(capsys, "agreement", str(other), str(second))
    assert (code, err) == (1, f"Error: {other}: labels are read from a .csv or .tsv file\n")


# --- Memory, whatever the shape ------------------------------------------------------------------------------

def test_a_long_sentence_row_is_cut_as_segmentation_cuts_a_run_on(tmp_path: Path):
    words = "the party and the people march on together " * 700  # 30,800 characters, no sentence end
    table = tmp_path / "t.csv"
    table.write_text(f'text\n"{words}"\n', encoding="utf-8")
    records = list(tag_files([str(table)], options=ReadOptions(rows="sentence")))
    assert len(records) == 7 and all(len(r.sentence.text) <= MAX_SENTENCE_CHARS for r in records)
    assert [r.sentence.index for r in records] == list(range(7))
    assert " ".join(r.sentence.text for r in records) == words.strip()
    assert all(words[r.sentence.start:r.sentence.end] == r.sentence.text for r in records)


def test_predict_labels_a_huge_string_by_its_first_sentence_worth():
    slogans = "Long live the great leader! " * 200  # 5,600 characters
    text = slogans + "It rained all week and the film was released in 2012. " * 2000
    cut = slogans.rfind(" ", 0, MAX_SENTENCE_CHARS)
    whole, first = predict(text), predict(text[:cut])
    assert whole.text == text
    assert (whole.label, whole.probabilities) == (first.label, first.probabilities)


# The child's own peak: VmHWM starts afresh at exec, while ru_maxrss keeps the parent's (on Linux).
_PEAK = ("import re, resource, sys; from propclf.cli import main; "
         "sys.stdout = open('/dev/null', 'w'); code = main(['predict', '--jobs', '1', '--format', 'csv', sys.argv[1]]);"
         "status = open('/proc/self/status').read() if sys.platform == 'linux' else '';"
         "peak = re.search(r'VmHWM:\\s*(\\d+)', status);"
         "print(code, peak.group(1) if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")


def _peak_kb(path: Path) -> int:
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, check=True)
    code, peak = done.stderr.split()[-2:]
    assert code == "0", done.stderr
    return int(peak)


def test_memory_of_a_table_cell_does_not_grow_with_its_length(tmp_path: Path):
    """Peak memory for an 8 MB cell against a 1 MB one, each in its own process (it was 4.5 times as much)."""
    text = SEED.read_text(encoding="utf-8").replace("\n", " ")
    peaks = []
    for megabytes in (1, 8):
        cell = (text * (megabytes * 1_000_000 // len(text) + 1))[:megabytes * 1_000_000].replace('"', "'")
        table = tmp_path / f"cell{megabytes}.csv"
        table.write_text(f'text\n"{cell}"\n', encoding="utf-8")
        peaks.append(_peak_kb(table))
    assert peaks[1] < 1.6 * peaks[0], peaks

