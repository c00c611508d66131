"""The dask engine: the same rows as the local engine, in part files, with a file cut into ranges."""

import csv
import io
import shutil
from pathlib import Path

import pytest

from conftest import RAW

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from propclf import InputError, PropclfError, ReadOptions, tag_files, write_records  # noqa: E402
from propclf._dask import plan_cuts, tag_with_dask  # noqa: E402
from propclf._segment import segment  # noqa: E402

TINY_MB = 0.004  # 4 kB partitions: the large file below is cut into several ranges


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, started once for the module and closed cleanly."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as local:
        yield local


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Several text files, one of them large enough to be cut, and a CSV table with a text column."""
    folder = tmp_path_factory.mktemp("corpus")
    texts = sorted(RAW.glob("*.txt"))
    for path in texts[:3]:
        shutil.copy(path, folder / path.name)
    big = "\n\n".join(path.read_text(encoding="utf-8") for path in texts)
    (folder / "big.txt").write_text("\ufeff" + big + "\n\n" + big, encoding="utf-8")
    with (folder / "table.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc", "text", "lang"])
        for number, path in enumerate(texts[:2]):
            writer.writerow([f"d{number}", path.read_text(encoding="utf-8")[:1500], "en"])
        writer.writerow(["empty", "", "en"])
    return folder


def inputs_of(corpus: Path) -> list[str]:
    return sorted(str(path) for path in corpus.iterdir())


def local_csv(inputs: list[str], options: ReadOptions | None = None) -> str:
    out = io.StringIO()
    write_records(tag_files(inputs, options=options), out, "csv", extra_columns=["doc", "lang"])
    return out.getvalue()


def joined_parts(parts: list[Path]) -> str:
    lines: list[str] = []
    for number, part in enumerate(parts):
        text = part.read_text(encoding="utf-8").splitlines(keepends=True)
        lines += text if number == 0 else text[1:]
    return "".join(lines)


def test_parts_equal_the_local_engine_row_for_row(cluster, corpus: Path, tmp_path: Path):
    inputs = inputs_of(corpus)
    big = corpus / "big.txt"
    assert len(plan_cuts(big, big.stat().st_size, int(TINY_MB * 1e6), "utf-8")) >= 3
    warnings: list[str] = []
    result = tag_with_dask(inputs, tmp_path / "out", scheduler=cluster.scheduler_address, partition_mb=TINY_MB,
                           warn=warnings.append)
    expected = local_csv(inputs)
    assert joined_parts(result.parts) == expected
    assert len(result.parts) >= len(inputs) + 3  # the large file is several parts
    assert [p.name for p in result.parts] == sorted(p.name for p in (tmp_path / "out").iterdir())
    assert result.sentences == len(expected.splitlines()) - 1 and result.inputs == len(inputs)
    assert sum(result.counts.values()) == result.sentences
    assert warnings == [f"{corpus / 'table.csv'}: 1 row(s) with empty 'text' skipped"]


def test_cut_files_keep_whole_file_offsets_and_sentence_numbers(cluster, corpus: Path, tmp_path: Path):
    big = corpus / "big.txt"
    result = tag_with_dask([str(big)], tmp_path / "out", scheduler=cluster.scheduler_address, partition_mb=TINY_MB,
                           output_format="jsonl", explain=True)
    rows = [line for part in result.parts for line in part.read_text(encoding="utf-8").splitlines()]
    document = big.read_text(encoding="utf-8-sig")
    spans = segment(document)
    import json

    records = [json.loads(row) for row in rows]
    assert [(r["sentence"], r["start"], r["end"], r["text"]) for r in records] == \
           [(i, s.start, s.end, s.text) for i, s in enumerate(spans)]
    assert all(r["explanation"] for r in records if r["label"] != "neutral")


def test_a_local_cluster_is_started_without_a_scheduler(corpus: Path, tmp_path: Path):
    inputs = [str(corpus / "big.txt"), str(corpus / "table.csv")]
    result = tag_with_dask(inputs, tmp_path / "out", workers=1, partition_mb=TINY_MB)
    assert joined_parts(result.parts) == local_csv(inputs)


def test_parquet_parts_hold_the_csv_rows(cluster, corpus: Path, tmp_path: Path):
    import pyarrow.parquet as pq

    inputs = [str(corpus / "big.txt"), str(corpus / "table.csv")]
    result = tag_with_dask(inputs, tmp_path / "out", scheduler=cluster.scheduler_address, partition_mb=TINY_MB,
                           output_format="parquet")
    expected = list(csv.reader(io.StringIO(local_csv(inputs))))
    tables = [pq.read_table(part) for part in result.parts]
    assert all(table.schema == tables[0].schema for table in tables)
    assert tables[0].schema.names == expected[0]
    assert str(tables[0].schema.field("start").type) == "int64"

    def shown(name: str, value: object) -> str:
        if value is None:
            return ""
        return f"{value:.4f}" if name.startswith("p_") else str(value)

    rows = [[shown(name, row[name]) for name in expected[0]] for table in tables for row in table.to_pylist()]
    assert rows == expected[1:]


def test_a_non_empty_output_folder_is_refused(cluster, corpus: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        tag_with_dask([str(corpus / "big.txt")], out, scheduler=cluster.scheduler_address)
    assert str(caught.value) == f"{out}: output folder is not empty; remove it or choose another"
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_an_undecodable_file_is_one_line_and_leaves_nothing(cluster, corpus: Path, tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes((corpus / "big.txt").read_bytes()[3:] + b"\n\nThe end \xff here.\n")  # no BOM
    size = bad.stat().st_size
    out = tmp_path / "out"
    expected = f"{bad}: not valid utf-8 (byte 0xff at offset {size - 8}); use --encoding, or --errors replace"
    with pytest.raises(InputError) as local:
        list(tag_files([str(bad)]))
    assert str(local.value) == expected
    for partition_mb in (TINY_MB, 64):  # in the last range of a cut file, and in a whole file
        with pytest.raises(PropclfError) as caught:
            tag_with_dask([str(corpus / "table.csv"), str(bad)], out, scheduler=cluster.scheduler_address,
                          partition_mb=partition_mb)
        assert type(caught.value) is InputError and str(caught.value) == expected
        assert caught.value.__cause__ is None and "\n" not in str(caught.value)
        assert not out.exists()  # the parts already written are removed, and the folder it made


def both_engines_with_replace(cluster, path: Path, tmp_path: Path) -> tuple[list[str], list[str]]:
    """The warnings of the Dask engine (cutting ``path`` into ranges) and of the local one, with --errors replace,
    once their rows are checked to be the same."""
    options = ReadOptions(errors="replace")
    local_warnings: list[str] = []
    out = io.StringIO()
    write_records(tag_files([str(path)], options=options, warn=local_warnings.append), out, "csv")
    warnings: list[str] = []
    result = tag_with_dask([str(path)], tmp_path / "out", scheduler=cluster.scheduler_address, options=options,
                           partition_mb=TINY_MB, warn=warnings.append)
    assert len(result.parts) > 2 and joined_parts(result.parts) == out.getvalue()
    return warnings, local_warnings


def test_replaced_bytes_of_a_cut_file_give_one_warning(cluster, corpus: Path, tmp_path: Path):
    bad = tmp_path / "bad.txt"
    text = (corpus / "big.txt").read_bytes()[3:]  # no BOM
    bad.write_bytes(text[:100] + b"\xe9" + text[100:] + b"\n\nThe end \xff here.\n")
    warnings, local_warnings = both_engines_with_replace(cluster, bad, tmp_path)
    assert warnings == local_warnings == [
        f"{bad}: 2 undecodable byte sequence(s) replaced with U+FFFD (first at byte offset 100)"]


def test_relative_names_are_kept_in_the_output(cluster, corpus: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(corpus)
    result = tag_with_dask(["big.txt", "table.csv"], tmp_path / "out", scheduler=cluster.scheduler_address,
                           partition_mb=TINY_MB)
    assert joined_parts(result.parts) == local_csv(["big.txt", "table.csv"])
    with pytest.raises(InputError, match=r"^nope\.txt: no such file$"):
        tag_with_dask(["nope.txt"], tmp_path / "out2", scheduler=cluster.scheduler_address)


def test_cuts_fall_after_a_finished_paragraph(corpus: Path):
    big = corpus / "big.txt"
    data = big.read_bytes()
    cuts = plan_cuts(big, len(data), 2000, "utf-8")
    assert cuts == sorted(set(cuts)) and len(cuts) > 5
    for cut in cuts:
        before = data[:cut].rstrip()
        assert data[cut - 1:cut] == b"\n" and data[len(before):cut].count(b"\n") >= 2  # a blank line
        assert before.decode()[-1] in ".!?…:;\"')]”’»"
        first = data[cut:cut + 4].lstrip().decode(errors="ignore")[:1]
        assert first.isupper() or first.isdigit()


def test_without_dask_the_error_says_what_to_install(monkeypatch, corpus: Path, tmp_path: Path):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(PropclfError, match=r"^the dask engine needs dask and distributed: pip install "
                                           r"'propclf\[dask\]'$"):
        tag_with_dask([str(corpus / "big.txt")], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_large_file_that_vanishes_is_one_line(cluster, corpus: Path, tmp_path: Path, monkeypatch):
    """The workers plan the cuts of a large file; if they cannot read it, the error names it as given."""
    import propclf._dask as engine
    from propclf._inputs import Source

    class Gone(Source):
        def size(self) -> int:
            return 10_000_000

    real = engine.expand_inputs
    gone = Gone("gone.txt", Path("gone.txt"))
    monkeypatch.setattr(engine, "expand_inputs", lambda names, glob: [*real(names[:1], glob), gone])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^gone\.txt: no such file$"):
        tag_with_dask([str(corpus / "table.csv"), "gone.txt"], tmp_path / "out", scheduler=cluster.scheduler_address,
                      partition_mb=1)
    assert not (tmp_path / "out").exists()


def test_the_command_line_engine_matches_the_local_command(cluster, corpus: Path, tmp_path: Path, capsys):
    from propclf.cli import main

    inputs = inputs_of(corpus)
    assert main(["predict", "--format", "csv", *inputs]) == 0
    expected = capsys.readouterr().out
    out = tmp_path / "parts"
    assert main(["predict", "--engine", "dask", "--scheduler", cluster.scheduler_address, "--partition-mb",
                 str(TINY_MB), "-o", str(out), *inputs]) == 0
    err = capsys.readouterr().err
    parts = sorted(out.glob("part-*.csv"))
    assert err.splitlines() == [f"Warning: {corpus / 'table.csv'}: 1 row(s) with empty 'text' skipped",
                                f"Wrote {expected.count(chr(10)) - 1} sentences of {len(inputs)} input(s) to "
                                f"{len(parts)} part file(s) in {out}"]
    assert joined_parts(parts) == expected
    assert main(["predict", "--engine", "dask", *inputs]) == 2
    assert "Error: --engine dask needs --output DIR: a folder for the part files" in capsys.readouterr().err
    assert main(["predict", "--scheduler", cluster.scheduler_address, *inputs]) == 2
    assert "Error: --scheduler, --workers and --format parquet need --engine dask" in capsys.readouterr().err


def test_a_cut_file_with_nul_characters_warns_as_the_local_engine_does(cluster, corpus: Path, tmp_path: Path):
    """The ranges of a cut file are read by the local engine's reader: its NUL count (summed over the ranges)
    and its undecodable bytes give the local warnings, and the rows are the local rows."""
    bad = tmp_path / "nuls.txt"
    text = (corpus / "big.txt").read_bytes()[3:]  # no BOM
    middle = len(text) // 2
    bad.write_bytes(text[:50] + b"\x00" + text[50:middle] + b"\xe9\x00" + text[middle:] + b"\n\nThe end \xff here.\n")
    warnings, local_warnings = both_engines_with_replace(cluster, bad, tmp_path)
    assert warnings == local_warnings == [
        f"{bad}: 2 undecodable byte sequence(s) replaced with U+FFFD (first at byte offset {middle + 1})",
        f"{bad}: 2 NUL character(s); if this is UTF-16 text, use --encoding utf-16"]


def test_a_cut_file_that_starts_like_a_binary_file_is_refused_as_locally(cluster, corpus: Path, tmp_path: Path):
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (corpus / "big.txt").read_bytes()[3:])
    assert plan_cuts(binary, binary.stat().st_size, int(TINY_MB * 1e6), "utf-8")  # the file is cut
    with pytest.raises(InputError) as local:
        list(tag_files([str(binary)]))
    with pytest.raises(InputError) as caught:
        tag_with_dask([str(binary)], tmp_path / "out", scheduler=cluster.scheduler_address, partition_mb=TINY_MB)
    assert str(caught.value) == str(local.value) and "PNG" in str(local.value)
