"""The labeled corpus: loading, validating and fingerprinting ``data/labeled/*.csv``.

Every row is one sentence with its provenance:

``id``      unique row id
``text``    the sentence, cleaned (see ``propclf._segment.normalize``)
``label``   ``slogan``, ``critique`` or ``neutral``
``source``  a file name in ``data/raw/`` (a seed document) or ``authored``
``start``   for seed rows, character offsets of the sentence in the raw seed document;
``end``     empty for authored rows
``group``   rows that are the same sentence in two printings, or near-duplicates, share it,
            so that no evaluation split puts one in training and its twin in test
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import CorpusError, reraised_as
from .._labels import LABELS
from .._segment import normalize
from .._textio import decode_text, read_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "AUTHORED", "Corpus", "load_corpus", "corpus_files"]

COLUMNS: tuple[str, ...] = ("id", "text", "label", "source", "start", "end", "group")
AUTHORED = "authored"
#: Where seed documents live, relative to the labeled-data folder.
RAW_DIR = Path("..") / "raw"


@dataclass(frozen=True)
class Corpus:
    """A validated corpus: parallel lists, one entry per row, plus its fingerprint."""

    ids: list[str]
    texts: list[str]
    labels: list[str]
    sources: list[str]
    groups: list[str]
    files: list[str]
    sha256: str
    #: Per row: "seed" (a real source document), "team" (a document the team wrote) or "authored".
    origins: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        """Rows per label, in LABELS order."""
        return {label: self.labels.count(label) for label in LABELS}

    def to_frame(self) -> pd.DataFrame:
        """The corpus as a pandas DataFrame, one row per sentence: id, text, label, source, group, origin, file."""
        import pandas as pd

        return pd.DataFrame({"id": self.ids, "text": self.texts, "label": self.labels, "source": self.sources,
                             "group": self.groups, "origin": self.origins or [None] * len(self), "file": self.files},
                            dtype=object)


def corpus_files(path: str | Path) -> list[Path]:
    """The CSV files that make up a corpus: ``path`` itself, or every ``*.csv`` in a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise CorpusError(f"{path}: no .csv files in this folder")
        return files
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    return [path]


def load_corpus(path: str | Path, raw_dir: str | Path | None = None) -> Corpus:
    """Load and validate a corpus file or folder; raise CorpusError at the first broken rule.

    ``raw_dir`` holds the seed documents that seed rows point into (default: ``../raw``
    beside the corpus folder); each seed row's text must be what its offsets cut out.
    """
    files = corpus_files(path)
    base = files[0].parent
    raw_dir = Path(raw_dir) if raw_dir is not None else (base / RAW_DIR).resolve()
    rows: list[tuple[str, int, dict[str, str]]] = []
    digest = hashlib.sha256()
    for file in files:
        data = _read_bytes(file)
        digest.update(file.name.encode() + b"\0" + data + b"\0")
        rows.extend((str(file), line, row) for line, row in _parse(file, data))
    _validate(rows, raw_dir)
    origin_of = _origins(raw_dir)
    return Corpus(
        ids=[row["id"] for _, _, row in rows],
        texts=[row["text"] for _, _, row in rows],
        labels=[row["label"] for _, _, row in rows],
        sources=[row["source"] for _, _, row in rows],
        groups=[row["group"] for _, _, row in rows],
        files=[file for file, _, _ in rows],
        sha256=digest.hexdigest(),
        origins=[AUTHORED if row["source"] == AUTHORED else origin_of.get(row["source"], "seed") for _, _, row in rows],
    )


def _origins(raw_dir: Path) -> dict[str, str]:
    """``raw/sources.csv``: which raw documents are real seeds and which the team wrote (default: seed)."""
    path = raw_dir / "sources.csv"
    if not path.is_file():
        return {}
    reader = csv.DictReader(io.StringIO(_decode(path, _read_bytes(path)), newline=""))
    origins = {}
    try:
        if not {"file", "origin"} <= set(reader.fieldnames or []):
            raise CorpusError(f"{path}: needs columns file and origin")
        for row in reader:
            if row["origin"] not in ("seed", "team"):
                raise CorpusError(f"{path}, line {reader.line_num}: origin must be seed or team, not {row['origin']!r}")
            origins[row["file"]] = row["origin"]
    except csv.Error as exc:
        raise CorpusError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    return origins


def _read_bytes(file: Path) -> bytes:
    with reraised_as(CorpusError):
        return read_bytes(file)


def _decode(file: Path, data: bytes) -> str:
    with reraised_as(CorpusError):
        return decode_text(data, str(file), empty_ok=True)


def _parse(file: Path, data: bytes) -> list[tuple[int, dict[str, str]]]:
    text = _decode(file, data)
    if not text.strip():
        raise CorpusError(f"{file}: file is empty")
    # Rows end at \n, \r\n or \r only: U+0085, U+2028 or a form feed is text inside a field.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise CorpusError(f"{file}: missing column(s) {', '.join(missing)}")
    parsed = []
    try:
        for row in reader:
            if None in row:
                raise CorpusError(f"{file}, line {reader.line_num}: more fields than columns")
            parsed.append((reader.line_num, {key: (row[key] or "") for key in COLUMNS}))
    except csv.Error as exc:
        raise CorpusError(f"{file}, line {reader.line_num}: malformed CSV ({exc})") from None
    return parsed


def _validate(rows: list[tuple[str, int, dict[str, str]]], raw_dir: Path) -> None:
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, tuple[str, str]] = {}
    raw_cache: dict[str, str] = {}
    for file, line, row in rows:
        where = f"{file}, line {line}"
        text, label, source = row["text"], row["label"], row["source"]
        if not row["id"]:
            raise CorpusError(f"{where}: empty id")
        if row["id"] in seen_ids:
            raise CorpusError(f"{where}: duplicate id {row['id']!r} (first at {seen_ids[row['id']]})")
        seen_ids[row["id"]] = where
        if label not in LABELS:
            raise CorpusError(f"{where}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
        if not text.strip():
            raise CorpusError(f"{where}: empty text")
        if text != normalize(text):
            raise CorpusError(f"{where}: text has stray white space (line breaks, double spaces)")
        if text in seen_texts:
            first_where, first_label = seen_texts[text]
            if first_label != label:
                raise CorpusError(
                    f"{where}: same text labeled {label!r} here and {first_label!r} at {first_where}"
                )
            raise CorpusError(f"{where}: duplicate text (first at {first_where})")
        seen_texts[text] = (where, label)
        if not row["group"]:
            raise CorpusError(f"{where}: empty group")
        if source == AUTHORED:
            if row["start"] or row["end"]:
                raise CorpusError(f"{where}: authored rows have no start/end offsets")
            continue
        _check_seed_row(where, row, raw_dir, raw_cache)


def _check_seed_row(where: str, row: dict[str, str], raw_dir: Path, cache: dict[str, str]) -> None:
    source = row["source"]
    if source not in cache:
        raw_path = raw_dir / source
        if "/" in source or "\\" in source or not raw_path.is_file():
            raise CorpusError(f"{where}: source {source!r} is neither 'authored' nor a file in {raw_dir}")
        cache[source] = _decode(raw_path, _read_bytes(raw_path))  # offsets count from after a BOM
    raw = cache[source]
    try:
        start, end = int(row["start"]), int(row["end"])
    except ValueError:
        raise CorpusError(f"{where}: start/end must be whole numbers for a seed row") from None
    if not 0 <= start < end <= len(raw):
        raise CorpusError(f"{where}: offsets {start}-{end} fall outside {source} ({len(raw)} characters)")
    if normalize(raw[start:end]) != row["text"]:
        raise CorpusError(f"{where}: text differs from {source}[{start}:{end}]")
