"""Documents (HTML, PDF, Word) and binary files: every sample file is made here, with the libraries' writers."""

import io
import json
from pathlib import Path

import pytest

from conftest import rows_of
from propclf import tag_files
from propclf._segment import normalize
from propclf.cli import main

pytest.importorskip("pypdf")
pytest.importorskip("docx")
pytest.importorskip("trafilatura")
fpdf = pytest.importorskip("fpdf")

HEADER = "Annual Report 2024 - Human Rights in Practice"
# Different text on each page (running headers are recognised by repeating where the body does not).
PAGES = [
    "The state newspaper praised the harvest as a victory of the people. Critics called the campaign a "
    "cynical display of power, and the villagers were des-\ntined to work without pay. The report "
    "documents what followed in the northern provinces, where the official figures",
    "were repeated by every broadcaster without question. Long live the great leader! Forward to new "
    "victories of the motherland! Witnesses described the forced labour brigades in detail.",
    "The ministry did not answer our letters. Independent observers were refused entry to the region "
    "for the whole of the year, and the census was postponed again.",
]


def make_pdf(path: Path, pages: list[str] = PAGES, header: str = HEADER) -> Path:
    class Report(fpdf.FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, header, align="C")
            self.set_y(20)
            self.set_font("Helvetica", size=11)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Page {self.page_no()} of {len(pages)}", align="C")

    pdf = Report()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("The harvest campaign", 1)
    document.add_paragraph("Long live the great leader! The harvest was a victory of the people.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Critics called the campaign a cynical display of power."
    table.cell(0, 1).text = "The villages were quiet that winter."
    document.add_paragraph("The report was published in March.")
    document.save(str(path))
    return path


ARTICLE = ("<!doctype html><html><head><title>KCNA</title></head><body>"
           "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News menu</a></li></ul></nav>"
           "<article><h1>Great victory in the fields</h1><p>Long live the great leader, whose wisdom brought the "
           "harvest home! The farmers of the province worked day and night to fulfil the plan.</p>"
           "<p>Observers abroad called the campaign a cynical display of forced labour, and the state media "
           "repeated the official figures without question.</p><p>The ceremony was held in the capital on "
           "Sunday, and many officials attended it with their families.</p></article>"
           "<footer>Copyright 2024 KCNA. All rights reserved. Contact us | Privacy policy</footer></body></html>")


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_pdf_pages_offsets_kept_text_and_running_headers(tmp_path: Path, capsys):
    pdf = make_pdf(tmp_path / "report.pdf")
    kept = tmp_path / "kept"
    code, out, err = run(["predict", "--format", "csv", "--keep-text", str(kept), str(pdf)], capsys)
    assert code == 0, err
    rows = rows_of(out)
    text_file = kept / f"{pdf}.txt".lstrip("/")
    assert {row["extracted"] for row in rows} == {str(text_file)}
    text = text_file.read_text(encoding="utf-8")
    # The running header and the page numbers repeat on every page: dropped; the body is all there.
    assert "Annual Report" not in text and "Page 1 of 3" not in text and "of 3" not in text
    assert "forced labour brigades" in text and text.count("\f") == 2  # pages joined by a form-feed line
    for row in rows:
        assert normalize(text[int(row["start"]):int(row["end"])]) == row["text"]
    by_text = {row["text"]: row for row in rows}
    # The hyphenated line wrap is joined in the sentence, as in text; the offsets keep the printed hyphen.
    joined = next(row for row in rows if "destined" in row["text"])
    assert "des-\ntined" in text[int(joined["start"]):int(joined["end"])]
    # A sentence that a page break cut is one sentence, on the page where it starts.
    crossing = next(row for row in rows if row["text"].startswith("The report documents"))
    assert crossing["text"].endswith("without question.") and crossing["page"] == "1"
    assert by_text["Long live the great leader!"]["page"] == "2"
    assert by_text["The ministry did not answer our letters."]["page"] == "3"


def test_pdf_jsonl_and_api_records_say_page_and_extracted(tmp_path: Path, capsys):
    pdf = make_pdf(tmp_path / "report.pdf")
    code, out, _ = run(["predict", "--format", "jsonl", str(pdf)], capsys)
    assert code == 0
    first = json.loads(out.splitlines()[0])
    assert first["page"] == 1 and first["extracted"] == f"{pdf}.txt".lstrip("/")
    records = list(tag_files([str(pdf)]))
    assert [r.page for r in records] == sorted(r.page for r in records) and records[-1].page == 3


def test_html_keeps_the_main_text_and_drops_navigation_and_footer(tmp_path: Path, capsys):
    page = tmp_path / "article.html"
    page.write_text(ARTICLE, encoding="utf-8")
    code, out, err = run(["predict", "--format", "csv", "--keep-text", str(tmp_path / "k"), str(page)], capsys)
    assert code == 0, err
    rows = rows_of(out)
    texts = [row["text"] for row in rows]
    assert texts[0] == "Great victory in the fields"
    assert "Long live the great leader, whose wisdom brought the harvest home!" in texts
    assert not any("menu" in t or "Copyright" in t or "Privacy" in t for t in texts)
    kept = Path(rows[0]["extracted"]).read_text(encoding="utf-8")
    assert all(normalize(kept[int(r["start"]):int(r["end"])]) == r["text"] for r in rows)
    assert {row["page"] for row in rows} == {""}


def test_word_paragraphs_and_table_cells_in_reading_order(tmp_path: Path, capsys):
    draft = make_docx(tmp_path / "draft.docx")
    code, out, err = run(["predict", "--format", "csv", str(draft)], capsys)
    assert code == 0, err
    assert [row["text"] for row in rows_of(out)] == [
        "The harvest campaign", "Long live the great leader!", "The harvest was a victory of the people.",
        "Critics called the campaign a cynical display of power.", "The villages were quiet that winter.",
        "The report was published in March."]


def test_documents_are_recognised_by_their_first_bytes(tmp_path: Path, capsys):
    pdf = make_pdf(tmp_path / "report.pdf")
    (tmp_path / "report.txt").write_bytes(pdf.read_bytes())  # a PDF with the wrong name
    (tmp_path / "draft").write_bytes(make_docx(tmp_path / "d.docx").read_bytes())
    code, out, err = run(["predict", "--format", "csv", str(tmp_path / "report.txt"), str(tmp_path / "draft")], capsys)
    assert code == 0, err
    rows = rows_of(out)
    assert "Long live the great leader!" in [r["text"] for r in rows if r["source"].endswith("report.txt")]
    assert "The report was published in March." in [r["text"] for r in rows if r["source"].endswith("draft")]


def encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    make_pdf(path.with_suffix(".plain.pdf"))
    writer = PdfWriter()
    for page in PdfReader(path.with_suffix(".plain.pdf")).pages:
        writer.add_page(page)
    writer.encrypt("secret", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)


def image_only_pdf(path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(595, 842)
    with path.open("wb") as handle:
        writer.write(handle)


def damaged_pdf(path: Path) -> None:
    data = make_pdf(path.with_suffix(".whole.pdf")).read_bytes()
    path.write_bytes(data[:len(data) // 3])


def build_case(kind: str, folder: Path) -> Path:
    if kind == "encrypted":
        encrypted_pdf(folder / "locked.pdf")
        return folder / "locked.pdf"
    if kind == "image-only":
        image_only_pdf(folder / "scan.pdf")
        return folder / "scan.pdf"
    if kind == "damaged":
        damaged_pdf(folder / "broken.pdf")
        return folder / "broken.pdf"
    if kind == "docx-not-zip":
        (folder / "draft.docx").write_text("This was never a Word file.\n", encoding="utf-8")
        return folder / "draft.docx"
    (folder / "menu.html").write_text("<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav>"
                                      "</body></html>", encoding="utf-8")
    return folder / "menu.html"


BAD_DOCUMENTS = {
    "encrypted": "an encrypted PDF that needs a password",
    "image-only": "has no text layer",
    "damaged": "a damaged or unreadable PDF",
    "docx-not-zip": "not a Word file (a .docx is a ZIP archive",
    "menu-only-html": "no main text found",
}


@pytest.mark.parametrize("kind", BAD_DOCUMENTS)
def test_a_bad_document_is_one_line_error(kind: str, tmp_path: Path, capsys):
    path = build_case(kind, tmp_path)
    code, out, err = run(["predict", "--format", "csv", str(path)], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"Error: {path}: ") and BAD_DOCUMENTS[kind] in err
    if kind == "image-only":
        assert "OCR" in err


def test_in_a_folder_run_each_bad_document_is_a_warning_and_the_run_goes_on(tmp_path: Path, capsys):
    folder = tmp_path / "archive"
    folder.mkdir()
    for kind in BAD_DOCUMENTS:
        build_case(kind, folder)
    for helper in folder.glob("*.plain.pdf"):
        helper.unlink()
    for helper in folder.glob("*.whole.pdf"):
        helper.unlink()
    make_pdf(folder / "report.pdf")
    (folder / "notes.txt").write_text("It was a cynical film.\n", encoding="utf-8")
    code, out, err = run(["predict", "--format", "csv", "--glob", "*.pdf,*.docx,*.html,*.txt", str(folder)], capsys)
    assert code == 0
    warnings = err.splitlines()
    assert len(warnings) == len(BAD_DOCUMENTS) and all(w.startswith("Warning: ") for w in warnings)
    sources = {Path(row["source"]).name for row in rows_of(out)}
    assert sources == {"report.pdf", "notes.txt"}


def test_in_a_folder_run_a_binary_file_is_a_warning_and_the_run_goes_on(tmp_path: Path, capsys):
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    (folder / "notes.txt").write_text("It was a cynical film.\n", encoding="utf-8")
    code, out, err = run(["predict", "--format", "csv", str(folder)], capsys)
    assert code == 0, err
    assert err.splitlines() == [f"Warning: {folder / 'photo.txt'}: this looks like a PNG image, not text; propclf "
                                "reads text, Markdown, CSV/TSV/JSONL, HTML, PDF and Word (.docx) files; skipped"]
    assert {Path(row["source"]).name for row in rows_of(out)} == {"notes.txt"}


BINARIES = {
    "photo.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    "logo.gif": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "a GIF image"),
    "scan.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
    "notes.txt.gz": (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "a gzip archive"),
    "tool": (b"\x7fELF\x02\x01\x01\x00", "an ELF program"),
    "old.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "a legacy Office file (.doc, .xls or .ppt)"),
}


@pytest.mark.parametrize("name", BINARIES)
def test_binary_files_are_recognised_even_with_errors_replace(name: str, tmp_path: Path, capsys):
    data, looks = BINARIES[name]
    path = tmp_path / name
    path.write_bytes(data + bytes(range(256)) * 4)
    for extra in ([], ["--errors", "replace"]):
        code, out, err = run(["predict", "--format", "csv", *extra, str(path)], capsys)
        assert code == 1 and out == ""
        assert err.startswith(f"Error: {path}: this looks like {looks}, not text; ") and err.count("\n") == 1
        assert err.endswith("propclf reads text, Markdown, CSV/TSV/JSONL, HTML, PDF and Word (.docx) files\n") or \
            err.endswith("files)\n")


def test_a_zip_that_is_not_a_word_file_is_named(tmp_path: Path, capsys):
    import zipfile

    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    code, _, err = run(["predict", str(path)], capsys)
    assert code == 1 and "this looks like a ZIP archive" in err


def test_text_that_starts_like_a_signature_is_still_text(tmp_path: Path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("ID3 tags were the subject of the talk. GIF89a is a format.\n", encoding="utf-8")
    code, out, err = run(["predict", "--format", "csv", str(path)], capsys)
    assert code == 0 and err == "" and len(rows_of(out)) == 2


def test_a_pdf_on_standard_input_is_refused_with_advice(tmp_path: Path, capsys, monkeypatch):
    data = make_pdf(tmp_path / "r.pdf").read_bytes()

    class Stdin:
        buffer = io.BytesIO(data)

    monkeypatch.setattr("sys.stdin", Stdin)
    code, _, err = run(["predict", "-"], capsys)
    assert code == 1 and err.startswith("Error: -: this looks like a PDF file; save it to a file")


def test_without_the_extra_a_document_names_it(tmp_path: Path, capsys, monkeypatch):
    import importlib.util

    pdf = make_pdf(tmp_path / "report.pdf")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pypdf" else real(name, *a))
    code, _, err = run(["predict", str(pdf)], capsys)
    assert code == 1
    assert err == f"Error: {pdf}: reading PDF files needs the formats extra: pip install 'propclf[formats]'\n"


def test_a_long_pdf_is_read_page_by_page_through_a_spool(tmp_path: Path, monkeypatch):
    """Between the two passes the pages wait in a spool file that moves to disk past SPOOL_BYTES."""
    from propclf import _formats

    pages = [f"Page body number {n} describes the campaign in the province of Kangwon in some detail." for n in
             range(60)]
    pdf = make_pdf(tmp_path / "long.pdf", pages=pages)
    monkeypatch.setattr(_formats, "SPOOL_BYTES", 1000)
    document = _formats.open_document(pdf, str(pdf), "pdf")
    pieces = document.pieces()
    first = next(pieces)
    assert "number 0 " in first and "number 1 " not in first  # one page at a time
    rest = list(pieces)
    assert len(rest) == 59 and document.page_starts is not None and len(document.page_starts) == 60


def test_label_stores_the_extracted_text_of_a_pdf_in_raw(tmp_path: Path):
    from propclf._predict import get_model
    from propclf._training.label import LabelSession

    corpus, raw = tmp_path / "labeled", tmp_path / "raw"
    corpus.mkdir()
    raw.mkdir()
    pdf = make_pdf(tmp_path / "report.pdf")
    session = LabelSession([pdf], corpus / "label-x.csv", model=get_model(), corpus=corpus, annotator="x")
    stored = raw / "report.pdf.txt"
    text = stored.read_text(encoding="utf-8")
    assert "Annual Report" not in text and "forced labour brigades" in text
    assert session.queue and all(c.source == "report.pdf.txt" for c in session.queue)
    assert all(normalize(text[c.start:c.end]) == c.text for c in session.queue)


def test_dask_gives_the_same_rows_as_local_for_documents(tmp_path: Path, capsys):
    pytest.importorskip("distributed")
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(folder / "report.pdf")
    (folder / "article.html").write_text(ARTICLE, encoding="utf-8")
    image_only_pdf(folder / "scan.pdf")
    glob = ["--glob", "*.pdf,*.html"]
    code, local, local_err = run(["predict", "--format", "csv", *glob, str(folder)], capsys)
    assert code == 0
    out = tmp_path / "parts"
    # Partitions far smaller than the PDF: a document is never cut into byte ranges.
    code, _, err = run(["predict", "--engine", "dask", "--workers", "1", "--partition-mb", "0.001", "--format", "csv",
                        *glob, "-o", str(out), str(folder)], capsys)
    assert code == 0, err
    parts = sorted(out.glob("part-*.csv"))
    assert len(parts) == 3
    lines = [line for i, part in enumerate(parts) for j, line in enumerate(part.read_text().splitlines())
             if i == 0 or j > 0]
    assert "\n".join(lines) + "\n" == local
    assert [line for line in err.splitlines() if line.startswith("Warning")] == local_err.splitlines()
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    code, _, err = run(["predict", "--engine", "dask", "--workers", "1", "--format", "parquet", "--glob", "*.pdf",
                        "-o", str(tmp_path / "pq"), str(folder)], capsys)
    assert code == 0, err
    table = pyarrow_parquet.read_table(sorted((tmp_path / "pq").glob("part-*.parquet"))[0])
    assert table.column_names[-2:] == ["page", "extracted"] and str(table.schema.field("page").type) == "int64"
    assert table.column("page").to_pylist()[-1] == 3
