"""Documents: web pages, PDF and Word files as text to tag, and recognising other binary files.

* HTML: the main text only (trafilatura, precision first): navigation, menus, footers, comments and
  tables of links are dropped. Each paragraph becomes a paragraph of the text (a blank line between).
* PDF: pypdf, one page at a time. Pages are joined by a blank line holding a form feed; line wraps
  and end-of-line hyphens are kept as printed, so the segmenter joins them as it does in text (a
  sentence cut by a page break is joined too). Lines at the top or bottom of a page that repeat on
  most pages (running headers, footers, page numbers) are dropped.
* Word (.docx): python-docx, the body's paragraphs and table cells in reading order.

Offsets index the extracted text, which ``--keep-text DIR`` writes beside the output. The libraries
are the ``formats`` extra and are imported only when a document is read.
"""

from __future__ import annotations

import logging
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._binary import HEAD_BYTES, binary_kind
from ._errors import InputError
from ._textio import atomic_writer, open_binary

__all__ = ["DOCUMENT_SUFFIXES", "PAGE_BREAK", "Document", "document_kind", "open_document",
           "extract_text", "kept_name"]

DOCUMENT_SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx"}
KIND_NAMES = {"html": "HTML", "pdf": "PDF", "docx": "Word (.docx)"}
_MODULES = {"html": "trafilatura", "pdf": "pypdf", "docx": "docx"}
#: Between two pages of a PDF: a blank line (the segmenter's paragraph break) holding a form feed.
PAGE_BREAK = "\n\f\n"
PARAGRAPH_BREAK = "\n\n"
#: Lines looked at for running headers (top of the page) and footers (bottom).
EDGE_LINES = 2
EDGE_WORDS = 12
#: Page texts of a PDF beyond this size wait on disk, not in memory, between the two passes.
SPOOL_BYTES = 16 << 20
#: Fewer words than this from the fallback extractors, on a page where the main one found nothing: a menu.
FALLBACK_MIN_WORDS = 30
def document_kind(path: Path) -> str | None:
    """'html', 'pdf' or 'docx' for a document (by its suffix, else by its first bytes), else None."""
    kind = DOCUMENT_SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        return kind
    try:
        if not path.is_file():  # a named pipe or a device can be read only once: by the reader
            return None
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None  # the reader reports it
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and _is_word(path):
        return "docx"
    return None


def _is_word(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def kept_name(source_name: str) -> str:
    """Where ``--keep-text DIR`` writes a document's extracted text, relative to DIR: NAME.pdf.txt,
    under the folders the input was named with (so two report.pdf of two folders do not collide)."""
    path = Path(source_name)
    parts = [part if part != ".." else "_" for part in path.parts[1 if path.anchor else 0:]]
    return str(Path(*parts)) + ".txt"


class Document:
    """A document read and checked (every error is raised on opening), whose text comes as pieces.

    ``page_starts`` (PDF) holds the offset in the text where each page starts, filled as pieces are read.
    """

    def __init__(self, name: str, kind: str, pieces: Callable[[], Iterator[str]], pages: bool) -> None:
        self.name, self.kind = name, kind
        self._pieces = pieces
        self.page_starts: list[int] | None = [] if pages else None

    def pieces(self, keep: Path | None = None) -> Iterator[str]:
        """The text, a piece at a time; with ``keep``, also written there (atomically, once complete)."""
        if keep is None:
            yield from self._numbered()
            return
        with atomic_writer(keep) as out:
            for piece in self._numbered():
                out.write(piece)
                yield piece

    def _numbered(self) -> Iterator[str]:
        offset = 0
        for index, piece in enumerate(self._pieces()):
            if self.page_starts is not None:
                separator = PAGE_BREAK if index else ""
                self.page_starts.append(offset + len(separator))
                piece = separator + piece
            elif index:
                piece = PARAGRAPH_BREAK + piece
            offset += len(piece)
            yield piece


def open_document(path: Path, name: str, kind: str) -> Document:
    """Open and check a document; raises InputError (one line naming ``name``) for what cannot be read."""
    _require(kind, name)
    with _quiet_libraries():
        if kind == "pdf":
            return _open_pdf(path, name)
        if kind == "docx":
            paragraphs = _docx_paragraphs(path, name)
            return Document(name, kind, lambda: iter(paragraphs), pages=False)
        paragraphs = _html_paragraphs(path, name)
        return Document(name, kind, lambda: iter(paragraphs), pages=False)


def extract_text(path: Path, name: str, kind: str) -> str:
    """A document's whole extracted text (what ``--keep-text`` writes)."""
    return "".join(open_document(path, name, kind).pieces())


def _require(kind: str, name: str) -> None:
    import importlib.util

    if importlib.util.find_spec(_MODULES[kind]) is None:
        raise InputError(f"{name}: reading {KIND_NAMES[kind]} files needs the formats extra: "
                         "pip install 'propclf[formats]'")


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """The parsers log each oddity of a file they recover from; the user gets one line or none, from us."""
    loggers = [logging.getLogger(name) for name in ("pypdf", "trafilatura", "htmldate", "courlan", "justext")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


# --- HTML ------------------------------------------------------------------------------------------------------


def _html_paragraphs(path: Path, name: str) -> list[str]:
    import trafilatura

    with open_binary(path, name) as handle:
        data = handle.read()
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    settings = dict(output_format="txt", favor_precision=True, include_comments=False, include_tables=False,
                    include_images=False, include_links=False, deduplicate=False, with_metadata=False)
    try:
        text = trafilatura.extract(data, fast=True, **settings)
        if text is None:
            # trafilatura's own extractor found no article: its fallbacks (readability, jusText) may, but on
            # a page of menus they return the menu, so a few words are not main text.
            text = trafilatura.extract(data, **settings)
            if text is not None and len(text.split()) < FALLBACK_MIN_WORDS:
                text = None
    except Exception as exc:  # a parser of untrusted pages: any failure is a bad page
        raise InputError(f"{name}: cannot read this HTML page ({type(exc).__name__})") from None
    paragraphs = [line.strip() for line in (text or "").split("\n") if line.strip()]
    if not paragraphs:
        raise InputError(f"{name}: no main text found in this HTML page (only navigation, links or markup?)")
    return paragraphs


# --- Word ------------------------------------------------------------------------------------------------------


def _docx_paragraphs(path: Path, name: str) -> list[str]:
    import docx
    from docx.table import Table

    if not zipfile.is_zipfile(path):
        with open_binary(path, name) as handle:
            head = handle.read(HEAD_BYTES)
        what = binary_kind(head)
        looks = f"; it looks like {what}" if what and what != "a ZIP archive" else ""
        raise InputError(f"{name}: not a Word file (a .docx is a ZIP archive, and this is not one{looks})")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # a ZIP that is not a Word package, or a damaged one
        raise InputError(f"{name}: not a readable Word file ({_reason(exc)})") from None
    paragraphs: list[str] = []
    seen_cells: set[int] = set()
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    for cell in row.cells:
                        if id(cell._tc) in seen_cells:  # a merged cell appears once per grid column it spans
                            continue
                        seen_cells.add(id(cell._tc))
                        paragraphs.extend(p.text for p in cell.paragraphs)
            else:
                paragraphs.append(block.text)
    except Exception as exc:
        raise InputError(f"{name}: not a readable Word file ({_reason(exc)})") from None
    paragraphs = [p.strip() for p in paragraphs if p.strip()]
    if not paragraphs:
        raise InputError(f"{name}: no text in this Word file")
    return paragraphs


# --- PDF -------------------------------------------------------------------------------------------------------


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _open_pdf(path: Path, name: str) -> Document:
    """First pass: extract every page once into a spool file (memory or disk) and find the running
    headers and footers; the second pass (the Document's pieces) reads the pages back without them."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    handle = open_binary(path, name)  # pypdf reads a file object as it goes; given a path, it reads it all at once
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline="")
    lengths: list[int] = []
    edges: Counter[tuple[int, str]] = Counter()
    has_text = False
    try:
        try:
            reader = PdfReader(handle)
            if reader.is_encrypted and not reader.decrypt(""):
                raise InputError(f"{name}: an encrypted PDF that needs a password; decrypt it first "
                                 "(e.g. qpdf --password=PASSWORD --decrypt IN.pdf OUT.pdf)")
            count = len(reader.pages)
            for number in range(count):
                text = reader.pages[number].extract_text() or ""
                text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
                lengths.append(spool.write(text))
                edges.update(set(_edges(text)))
                has_text = has_text or bool(text.strip())
        except InputError:
            raise
        except (DependencyError, FileNotDecryptedError):
            raise InputError(f"{name}: an encrypted PDF that cannot be opened here; decrypt it first "
                             "(e.g. qpdf --decrypt IN.pdf OUT.pdf)") from None
        except RecursionError:
            raise InputError(f"{name}: a damaged PDF (its objects nest without end)") from None
        except Exception as exc:  # pypdf raises many kinds on a damaged file; each is one line here
            raise InputError(f"{name}: a damaged or unreadable PDF ({_reason(exc)})") from None
    except BaseException:
        handle.close()
        spool.close()
        raise
    handle.close()
    if count == 0:
        spool.close()
        raise InputError(f"{name}: a PDF with no pages")
    if not has_text:
        spool.close()
        raise InputError(f"{name}: this PDF has no text layer ({count} page(s) of images, a scan?); "
                         "run OCR on it first (e.g. ocrmypdf IN.pdf OUT.pdf) and tag the result")
    repeated = {edge for edge, pages in edges.items() if pages >= 2 and pages * 2 > count}

    def pages() -> Iterator[str]:
        with spool:
            spool.seek(0)
            for length in lengths:
                yield _without_edges(spool.read(length), repeated)

    return Document(name, "pdf", pages, pages=True)


_DIGITS = re.compile(r"\d+")


def _edge_key(line: str) -> str:
    # "Page 3 of 40" and "Page 4 of 40" are the same footer.
    return _DIGITS.sub("#", " ".join(line.split())).lower()


def _edge_lines(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(index in ``lines``, position) of the first and last EDGE_LINES non-blank lines: +1, +2 from the
    top, -1, -2 from the bottom."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    for position, index in enumerate(filled[:EDGE_LINES], 1):
        yield index, position
    for position, index in enumerate(reversed(filled[-EDGE_LINES:]), 1):
        yield index, -position


def _edges(text: str) -> Iterator[tuple[int, str]]:
    lines = text.split("\n")
    for index, position in _edge_lines(lines):
        if len(lines[index].split()) <= EDGE_WORDS:  # a running header is short; a line of prose may repeat
            yield position, _edge_key(lines[index])


def _without_edges(text: str, repeated: set[tuple[int, str]]) -> str:
    if not repeated:
        return text.strip("\n")
    lines = text.split("\n")
    dropped: set[int] = set()
    gone: set[int] = {0}  # positions dropped so far; 0 stands for "beyond the edge"
    for index, position in _edge_lines(lines):
        # From the edge inwards: a second line goes only with the first (a body line may repeat too).
        inner_of = position - 1 if position > 0 else position + 1
        if inner_of in gone and (position, _edge_key(lines[index])) in repeated:
            dropped.add(index)
            gone.add(position)
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped).strip("\n")
