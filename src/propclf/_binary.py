"""Telling a binary file from text by its first bytes, and the one-line error that says what it looks like.

Apart from ``_formats`` (which reads the documents propclf knows) so that the text readers (``_textio``,
``_inputs``) and the document readers can both use it without importing each other.
"""

from __future__ import annotations

from ._errors import InputError

__all__ = ["HEAD_BYTES", "binary_kind", "not_text"]

_READS = "propclf reads text, Markdown, CSV/TSV/JSONL, HTML, PDF and Word (.docx) files"

# First bytes of binary files that are not documents propclf reads: what they look like.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF-", "a PDF file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc, .xls or .ppt); save it as .docx"),
    (b"{\\rtf", "an RTF file; save it as .docx"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"BZh", "a bzip2 archive; decompress it first"),
    (b"\xfd7zXZ\x00", "an xz archive; decompress it first"),
    (b"(\xb5/\xfd", "a zstd archive; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an ELF program"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O program"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC file"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
)
#: How many first bytes tell a binary file (the longest signature, with room for what follows it).
HEAD_BYTES = 16


#: Signatures that are words a text could start with count only if binary bytes follow.
_WORDLIKE = frozenset({b"GIF87a", b"GIF89a", b"BZh", b"ID3", b"OggS", b"fLaC", b"PAR1"})


def binary_kind(head: bytes) -> str | None:
    """What a file that starts with ``head`` looks like, if it is a binary format (None: maybe text)."""
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"AVI ", b"WEBP"):
        return {b"WAVE": "a WAV file", b"AVI ": "an AVI video", b"WEBP": "a WebP image"}[head[8:12]]
    if head[4:8] == b"ftyp":
        return "an MP4 or QuickTime file"
    for signature, what in _SIGNATURES:
        if head.startswith(signature) and (signature not in _WORDLIKE or _binary_bytes(head)):
            return what
    return None


def _binary_bytes(head: bytes) -> bool:
    """Control bytes other than white space, or bytes that are not UTF-8."""
    if any(byte < 9 or 13 < byte < 32 for byte in head):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 3  # not merely a character cut at the end of the head
    return False


def not_text(name: str, head: bytes) -> InputError | None:
    """The error for a binary file read as text, naming what it looks like; None if it may be text."""
    what = binary_kind(head)
    if what is None:
        return None
    if what in ("a PDF file", "a ZIP archive") and name == "-":
        return InputError(f"-: this looks like {what}; save it to a file and give its name ({_READS})")
    what, _, advice = what.partition("; ")
    return InputError(f"{name}: this looks like {what}, not text; " + (f"{advice} ({_READS})" if advice else _READS))
