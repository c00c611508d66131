"""Tagging real inputs: folders, tables, encodings, streaming, fragments, explanations, output formats."""

import json
import re
from pathlib import Path

import pytest

from conftest import RAW, rows_of, run
from propclf import UNCERTAIN, InputError, ReadOptions, predict, tag, tag_files

SEED = RAW / "003_da91d92bb086c2ce.txt"


def test_folders_are_searched_recursively_with_glob(tmp_path: Path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("Long live the Party!", encoding="utf-8")
    (tmp_path / "a" / "two.md").write_text("# Title\n\nIt rained all week.", encoding="utf-8")
    (tmp_path / "a" / "skip.log").write_text("Not me.", encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--format", "csv", str(tmp_path))
    assert code == 0
    assert sorted({r["source"] for r in rows_of(out)}) == [str(tmp_path / "a" / "one.txt"),
                                                          str(tmp_path / "a" / "two.md")]
    code, out, _ = run(capsys, "predict", "--format", "csv", "--glob", "*.log", str(tmp_path))
    assert [r["text"] for r in rows_of(out)] == ["Not me."]


def test_csv_rows_as_documents_carry_their_columns(tmp_path: Path, capsys):
    table = tmp_path / "in.csv"
    table.write_text('doc,author,body\nd1,Ann,"Long live the Party! It rained."\n'
                     'd2,Bo,The film was released in 2012.\n', encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--format", "csv", "--text-column", "body", "--id-column", "doc",
                       str(table))
    assert code == 0
    rows = rows_of(out)
    assert list(rows[0])[-1] == "author"
    assert [(r["row"], r["id"], r["sentence"], r["text"], r["author"]) for r in rows] == [
        ("1", "d1", "0", "Long live the Party!", "Ann"), ("1", "d1", "1", "It rained.", "Ann"),
        ("2", "d2", "0", "The film was released in 2012.", "Bo")]
    assert (rows[1]["start"], rows[1]["end"]) == ("21", "31")  # offsets into the cell


def test_tsv_and_jsonl_inputs(tmp_path: Path, capsys):
    tsv = tmp_path / "in.tsv"
    tsv.write_text("text\tlang\nLong live the Party! It rained.\ten\n", encoding="utf-8")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"text": "Long live the Party! It rained.", "meta": {"k": 1}}\n\n{"text": "Hi there.", "n": 2}\n',
                     encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--format", "jsonl", "--rows", "sentence", str(tsv), str(jsonl))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["source"], r["row"], r["text"]) for r in rows] == [
        (str(tsv), 1, "Long live the Party! It rained."), (str(jsonl), 1, "Long live the Party! It rained."),
        (str(jsonl), 2, "Hi there.")]
    assert rows[0]["lang"] == "en" and rows[1]["meta"] == '{"k": 1}' and rows[2]["n"] == "2"


@pytest.mark.parametrize(
    ("name", "content", "argv", "message"),
    [
        ("in.csv", "body\nHello.\n", [], "{p}: no column 'text' (columns: body); choose one with --text-column"),
        ("in.csv", "text\n", [], "{p}: no rows below the header"),
        ("in.csv", 'text,x\n"Hello.",1,2\n', [], "{p}, line 2: 3 fields where the header has 2"),
        ("in.csv", 'text,x\n"Hello.,1\n', [], "{p}, line 2: a quoted field has no closing quote"),
        ("in.csv", 'text,x\n"Hello.,1\nBye.,2\nAgain.,3\n', [],
         "{p}, line 2: a quoted field has no closing quote (it runs on to line 4)"),
        ("in.jsonl", '{"text": "a"}\nnot json\n', [], "{p}, line 2: not valid JSON (Expecting value at column 1)"),
        ("in.jsonl", '{"text": "a"}\n{"text": "b\n', [],
         "{p}, line 2: not valid JSON (the line ends inside a JSON value)"),
        ("in.jsonl", '{"text": "a"} {"text": "b"}\n', [], "{p}, line 1: not valid JSON (Extra data at column 15)"),
        ("in.jsonl", '[1, 2]\n', [], "{p}, line 1: a JSON object was expected"),
        ("in.jsonl", '{"body": "a"}\n', [],
         "{p}, row 1: no column 'text' (columns: body); choose one with --text-column"),
        ("in.csv", "text,doc\nHello.,1\n", ["--id-column", "nope"], "{p}: no column 'nope' for --id-column"),
        ("in.txt", "x", ["--encoding", "klingon"], "unknown encoding 'klingon'"),
    ],
    ids=["no-text-column", "no-rows", "ragged", "unclosed-quote", "unclosed-quote-mid-file", "bad-json",
         "unclosed-json-string", "two-json-values", "not-object", "jsonl-no-column", "no-id-column",
         "bad-encoding"],
)
def test_bad_tables(tmp_path: Path, capsys, name, content, argv, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "predict", "--format", "csv", *argv, str(path))
    assert (code, out) == (1, "")
    assert err == "Error: " + message.format(p=path) + "\n"


def test_empty_table_cells_are_skipped_with_a_warning(tmp_path: Path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("text\nHello there.\n\"\"\n  \n", encoding="utf-8")
    code, out, err = run(capsys, "predict", "--format", "csv", str(path))
    assert code == 0 and len(rows_of(out)) == 1
    assert err == f"Warning: {path}: 2 row(s) with empty 'text' skipped\n"


def test_encodings(tmp_path: Path, capsys):
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffIt rained.".encode("utf-8"))
    assert [r["start"] for r in rows_of(run(capsys, "predict", "--format", "csv", str(bom))[1])] == ["0"]
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Le café était fermé.".encode("latin-1"))
    code, out, err = run(capsys, "predict", "--format", "csv", "--encoding", "latin-1", str(latin))
    assert code == 0 and rows_of(out)[0]["text"] == "Le café était fermé."
    code, out, err = run(capsys, "predict", "--format", "csv", "--errors", "replace", str(latin))
    assert code == 0 and rows_of(out)[0]["text"] == "Le caf\ufffd \ufffdtait ferm\ufffd."
    assert err == f"Warning: {latin}: 3 undecodable byte sequence(s) replaced with U+FFFD (first at byte offset 6)\n"


def test_undecodable_byte_offset_counts_across_blocks(tmp_path: Path, monkeypatch):
    import propclf._textio as textio

    monkeypatch.setattr(textio, "BLOCK_BYTES", 5)
    path = tmp_path / "x.txt"
    path.write_bytes("héllo wörld ".encode() + b"\xff end")
    with pytest.raises(InputError, match=r"x\.txt: not valid utf-8 \(byte 0xff at offset 14\)"):
        list(tag_files([str(path)]))


def test_streaming_matches_whole_document(monkeypatch):
    """Tiny blocks, buffers, chunks and tasks give exactly what tag() gives on the whole text."""
    import propclf._segment as segment
    import propclf._tagging as tagging
    import propclf._textio as textio

    monkeypatch.setattr(textio, "BLOCK_BYTES", 97)
    monkeypatch.setattr(tagging, "TASK_CHARS", 400)
    for path in sorted(RAW.glob("*.txt")):
        # Streaming cuts only text with no sentence end for STREAM_BUFFER_CHARS; two team documents hold
        # forum threads whose lower-case user names glue posts into one 'sentence' of up to 4,100
        # characters, so the team documents stream with a buffer just over the longest sentence allowed.
        small = 1500 if not path.name.startswith("team-") else segment.MAX_SENTENCE_CHARS + 1
        monkeypatch.setattr(segment, "STREAM_BUFFER_CHARS", small)
        whole = tag(path.read_text(encoding="utf-8"))
        streamed = [record.sentence for record in tag_files([str(path)])]
        assert [(s.index, s.start, s.end, s.text, s.label, s.fragments) for s in streamed] == \
               [(s.index, s.start, s.end, s.text, s.label, s.fragments) for s in whole]
        for a, b in zip(streamed, whole):
            assert a.probabilities == pytest.approx(b.probabilities, abs=1e-12)


def test_offsets_round_trip_to_the_source(tmp_path: Path):
    document = SEED.read_text(encoding="utf-8")
    for record in tag_files([str(SEED)]):
        s = record.sentence
        assert " ".join(document[s.start:s.end].split()) == s.text
        for fragment in s.fragments:
            assert s.start <= fragment.start < fragment.end <= s.end
            assert " ".join(document[fragment.start:fragment.end].split()) == fragment.text


def test_quoted_fragments():
    sentence = ("Forced lines like “everything can be achieved with revolutionary spirit” and "
                "'you have exceeded the quota' undermine the film, doesn't it, 'Bob'?")
    (tagged,) = tag(sentence)
    assert tagged.label == "critique"
    assert [f.text for f in tagged.fragments] == ["everything can be achieved with revolutionary spirit",
                                                  "you have exceeded the quota"]
    # The bundled model tags the first as a slogan; the second, a lower-case quota cheer without "!", it
    # calls neutral: a known mistake (README, Evaluation), so only its text and offsets are checked here.
    assert tagged.fragments[0].label == "slogan"
    second = tagged.fragments[1]
    assert sentence[second.start:second.end] == second.text
    first = tagged.fragments[0]
    assert sentence[first.start:first.end] == first.text
    assert set(first.probabilities) == {"slogan", "critique", "neutral"}
    (reported,) = tag('The film is titled "Under the Guidance of the Great Commander".')
    assert [f.text for f in reported.fragments] == ["Under the Guidance of the Great Commander"]
    assert tag("He said ‘no’ twice.")[0].fragments == ()  # fewer than three words


def test_min_confidence(capsys, tmp_path: Path):
    text = "Long live the Party! The results are interesting."
    confident = tag(text)
    unsure = tag(text, min_confidence=1.0)
    assert [s.label for s in unsure] == [UNCERTAIN, UNCERTAIN]
    assert [s.probabilities for s in unsure] == [s.probabilities for s in confident]
    assert [s.label for s in tag(text, min_confidence=0.0)] == [s.label for s in confident]
    with pytest.raises(ValueError, match="min_confidence must be between 0 and 1"):
        predict("x", min_confidence=2)
    doc = tmp_path / "d.txt"
    doc.write_text(text, encoding="utf-8")
    out = run(capsys, "predict", "--format", "csv", "--min-confidence", "1", str(doc))[1]
    assert [r["label"] for r in rows_of(out)] == [UNCERTAIN, UNCERTAIN]
    assert run(capsys, "predict", "--min-confidence", "1.5", str(doc))[0] == 2


def test_explanations():
    result = predict("Long live the great leader!", explain=True)
    names = [name for name, _ in result.explanation]
    assert "long live" in names or "live" in names
    assert all(weight > 0 for _, weight in result.explanation)
    assert [w for _, w in result.explanation] == sorted((w for _, w in result.explanation), reverse=True)
    assert predict("Long live the great leader!").explanation is None
    (tagged,) = tag("Long live the great leader!", explain=True)
    assert tagged.explanation == result.explanation


def test_explain_and_inspect_commands(capsys):
    code, out, _ = run(capsys, "explain", "Long live the great leader!", "--top", "5")
    lines = out.splitlines()
    assert code == 0 and re.match(r"^slogan  slogan [01]\.\d{3}  critique 0\.\d{3}  neutral 0\.\d{3}$", lines[0])
    assert lines[2] == "What pushed it towards slogan (tf-idf value x coefficient):"
    assert len(lines) == 3 + 5 and all(re.match(r"^  +\+\d+\.\d{3}  \S", line) for line in lines[3:])
    code, out, _ = run(capsys, "inspect", "--top", "3")
    assert code == 0
    blocks = out.split("\n\n")
    assert [block.splitlines()[0] for block in blocks[1:]] == ["slogan:", "critique:", "neutral:"]
    assert all(len(block.splitlines()) == 4 for block in blocks[1:])


def test_jsonl_carries_fragments_and_explanations(tmp_path: Path, capsys):
    doc = tmp_path / "d.txt"
    doc.write_text("Critics mocked the line “we shall overfulfil every plan” in the film.", encoding="utf-8")
    (row,) = [json.loads(line) for line in run(capsys, "predict", "--format", "jsonl", "--explain", str(doc))[1]
              .splitlines()]
    assert row["fragments"][0]["text"] == "we shall overfulfil every plan"
    assert row["explanation"] and isinstance(row["explanation"][0][0], str)


def test_format_follows_output_extension(tmp_path: Path, capsys):
    for suffix, check in [(".csv", lambda t: t.startswith("source,row,id,")),
                          (".jsonl", lambda t: json.loads(t.splitlines()[0])["source"]),
                          (".html", lambda t: t.startswith("<!doctype html>"))]:
        target = tmp_path / f"out{suffix}"
        assert run(capsys, "predict", "-o", str(target), str(SEED))[0] == 0
        assert check(target.read_text(encoding="utf-8"))


def test_output_to_a_directory_is_refused(tmp_path: Path, capsys):
    code, _, err = run(capsys, "predict", "-o", str(tmp_path), str(SEED))
    assert (code, err) == (1, f"Error: {tmp_path}: is a directory; --output needs a file name\n")


def test_interrupted_output_leaves_nothing_behind(tmp_path: Path, monkeypatch, capsys):
    import propclf._outputs as outputs

    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "_write_csv", explode)
    assert run(capsys, "predict", "-o", str(target), str(SEED))[0] == 130
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    code, _, err = run(capsys, "predict", "--format", "csv", str(SEED))
    assert code == 0 and err == ""
    code, _, err = run(capsys, "predict", "--format", "csv", "--progress", str(SEED))
    assert code == 0 and "Tagging" in err


def test_html_report_is_self_contained(tmp_path: Path, capsys):
    target = tmp_path / "report.html"
    assert run(capsys, "predict", "--format", "html", "-o", str(target), str(SEED))[0] == 0
    page = target.read_text(encoding="utf-8")
    assert page.count('class="s"') == 35
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from anywhere
    assert "<link" not in page and "@import" not in page
    assert 'data-why="[[' in page  # explanations for the hover panel
    assert "35 sentences:" in page


def test_read_options_defaults():
    assert ReadOptions() == ReadOptions(encoding="utf-8", errors="strict", text_column="text", id_column=None,
                                        rows="document", glob="*.txt,*.md")


def test_errors_stay_on_one_line(tmp_path: Path, capsys):
    """A column name holding a line break (found by the property tests) is shown escaped."""
    path = tmp_path / "in.csv"
    path.write_bytes(b'"\n"\nMr.\n')
    code, out, err = run(capsys, "predict", "--format", "csv", str(path))
    assert (code, out) == (1, "")
    assert err == f"Error: {path}: no column 'text' (columns: '\\n'); choose one with --text-column\n"


def test_jobs_give_the_same_records_in_the_same_order(tmp_path: Path, monkeypatch):
    """Worker processes (small tasks, so there are many) change nothing: same records, same order."""
    import propclf._tagging as tagging

    monkeypatch.setattr(tagging, "TASK_CHARS", 3000)
    monkeypatch.setattr(tagging, "_idle_cores", lambda: 2.0)  # workers even on a busy machine
    table = tmp_path / "rows.csv"
    table.write_text("id,text\n1,Long live the Party! It was a cynical film.\n2,\n3,The train left at noon.\n",
                     encoding="utf-8")
    inputs = [*sorted(str(p) for p in RAW.glob("*.txt")), str(table)]

    def records(jobs: int) -> list[tuple]:
        return [(r.source, r.row, r.id, r.sentence) for r in tag_files(inputs, jobs=jobs, explain=True)]

    one = records(1)
    assert len(one) > 300 and len({source for source, *_ in one}) == len(inputs)
    assert records(2) == one


def test_busy_cores_mean_fewer_workers(monkeypatch):
    """Workers are started only for cores that other work leaves idle: more would be slower than one job."""
    import concurrent.futures

    import propclf._tagging as tagging

    assert tagging._worker_count(2, 2.0) == 2 and tagging._worker_count(4, 2.6) == 3
    assert tagging._worker_count(2, 1.0) == 1 and tagging._worker_count(2, 0.2) == 1
    assert tagging._worker_count(2, None) == 2 and tagging._worker_count(1, 8.0) == 1
    monkeypatch.setattr(tagging, "TASK_CHARS", 3000)
    inputs = sorted(str(p) for p in RAW.glob("*.txt"))
    one = [(r.source, r.sentence) for r in tag_files(inputs, jobs=1)]

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started with one idle core")

    monkeypatch.setattr(tagging, "_idle_cores", lambda: 1.0)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    assert [(r.source, r.sentence) for r in tag_files(inputs, jobs=2)] == one


def test_workers_read_a_plain_model_from_its_folder(model_dir: Path):
    """A plain model travels to workers as its folder and file hashes, not as pickled data; a model whose
    files changed since is refused."""
    import pickle

    import propclf._tagging as tagging
    from propclf import ModelError, load_model

    model = load_model(model_dir)
    shipped = tagging._shipped(model)
    assert shipped == (str(model_dir), model.manifest["files"]) and len(pickle.dumps(shipped)) < 10_000
    received = tagging._received(pickle.loads(pickle.dumps(shipped)))
    texts = ["Long live the great leader!", "The regime lied."]
    assert received.predict_proba(texts) == model.predict_proba(texts)
    pipeline_model = load_model(model_dir, trust=True)
    assert tagging._shipped(pipeline_model) is pipeline_model
    changed = (str(model_dir), {**model.manifest["files"], "propclf.weights.npz": {"sha256": "0" * 64}})
    with pytest.raises(ModelError, match="changed"):
        tagging._received(changed)


def test_idle_cores_are_measured():
    import propclf._tagging as tagging

    idle = tagging._idle_cores()
    assert idle is None or 0 <= idle <= (__import__("os").cpu_count() or 1) + 0.01


def test_workers_start_with_one_thread_per_numerical_library(monkeypatch):
    """BLAS and OpenMP pools in every worker would oversubscribe the cores the workers already share."""
    import os

    import propclf._tagging as tagging

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting is kept
    with tagging._one_thread_each():
        assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
        assert os.environ["OMP_NUM_THREADS"] == "3"
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "3"


def test_output_under_a_file_is_one_line(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("Long live the Party!\n", encoding="utf-8")
    code, _, err = run(capsys, "predict", "-o", "notes.txt/tags.csv", "notes.txt")
    assert (code, err) == (1, "Error: notes.txt/tags.csv: cannot write here (notes.txt is a file, not a folder)\n")
