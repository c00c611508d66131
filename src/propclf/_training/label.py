"""Growing the corpus: a labeling session with active learning, and a spreadsheet round trip.

Every decision is appended to the labels file at once, flushed and fsynced, so a crash loses at
most the sentence on screen. The file is never rewritten: undo truncates the one row this session
appended last. A sentence already labeled anywhere in the corpus (or in the file) is never asked
again, and exact duplicates are never written. One session at a time writes a labels file (a lock
beside it, ``.NAME.lock``); a new labels file, and the copy of a document into ``raw/``, appear
whole or not at all, and an empty labels file (left by an older version) counts as new.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._errors import CorpusError, InputError
from .._formats import document_kind, extract_text
from .._labels import LABELS
from .._model import Model
from .._segment import segment
from .._textio import atomic_write_bytes, atomic_write_text, read_text
from .corpus import COLUMNS, load_corpus
from .pipeline import build_pipeline, settings_of

__all__ = ["Candidate", "LabelSession", "default_annotator", "LABEL_COLUMNS"]

#: The labels file has the corpus columns, then who labeled the row and when.
LABEL_COLUMNS: tuple[str, ...] = (*COLUMNS, "annotator", "labeled_at")
QUEUE_COLUMNS = ("source", "start", "end", "text", "suggested", *(f"p_{label}" for label in LABELS), "label")


def default_annotator() -> str:
    """$PROPCLF_ANNOTATOR, else the login name."""
    return os.environ.get("PROPCLF_ANNOTATOR") or getpass.getuser()


@dataclass
class Candidate:
    """A sentence waiting for a label, with its neighbours for context and the model's suggestion."""

    source: str
    start: int
    end: int
    text: str
    before: str
    after: str
    probabilities: dict[str, float]

    @property
    def suggestion(self) -> str:
        return max(self.probabilities, key=self.probabilities.__getitem__)

    @property
    def uncertainty(self) -> float:
        """1 minus the top probability: the least sure come first."""
        return 1.0 - max(self.probabilities.values())


class LabelSession:
    """Sentences of some documents to label, most useful first, and the file the labels go to."""

    def __init__(self, documents: list[str | Path], into: str | Path | None = None, *, model: Model,
                 corpus: str | Path, annotator: str | None = None, order: str = "uncertainty",
                 retrain_every: int = 0) -> None:
        """``into`` defaults to ``label-ANNOTATOR.csv`` in ``corpus``; ``annotator`` to ``$PROPCLF_ANNOTATOR``,
        else the login name."""
        annotator = annotator or default_annotator()
        self.into = Path(into) if into is not None else Path(corpus) / f"label-{annotator}.csv"
        self._file_lock = _FileLock(self.into)
        try:
            self._start(documents, model, corpus, annotator, order, retrain_every)
        except BaseException:
            self.close()
            raise

    def _start(self, documents: list[str | Path], model: Model, corpus: str | Path, annotator: str | None,
               order: str, retrain_every: int) -> None:
        self.model = model
        self.annotator = annotator or default_annotator()
        self.order = order
        self.retrain_every = retrain_every
        self.corpus_dir = Path(corpus)
        self.raw_dir = self.corpus_dir.parent / "raw"
        self._written: list[tuple[int, Candidate]] = []  # (file size before the row, candidate)
        self._since_retrain = 0
        self._retraining: threading.Thread | None = None
        self._lock = threading.Lock()
        self.known = self._known_texts()
        self.queue = self._candidates([Path(d) for d in documents])
        self.labeled = 0
        self.retrained = 0  # background refits finished

    def close(self) -> None:
        """End the session: the labels file is free for another one."""
        self._file_lock.release()

    def __enter__(self) -> LabelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building the queue ------------------------------------------------------------------
    def _known_texts(self) -> set[str]:
        known: set[str] = set()
        if _is_empty(self.into):
            self.into.unlink()  # a first write killed by an older version: the file is new
        if self.corpus_dir.is_dir() and any(self.corpus_dir.glob("*.csv")):
            known.update(load_corpus(self.corpus_dir).texts)
        if self.into.exists() and self.into.parent.resolve() != self.corpus_dir.resolve():
            known.update(row["text"] for row in _read_rows(self.into))
        return known

    def _source_name(self, path: Path, extracted: str | None = None) -> str:
        """Where rows say they come from: a file in the corpus' raw folder (copied there if needed).

        For a document (HTML, PDF, Word) that file is its ``extracted`` text, NAME.pdf.txt: the text the
        offsets index.
        """
        if not self.raw_dir.is_dir():
            return str(path)
        if extracted is not None:
            target = self.raw_dir / f"{path.name}.txt"
            if not target.exists():
                atomic_write_text(target, extracted)
            elif read_text(target) != extracted:
                raise InputError(f"{path}: a different text named {target.name} is already in {self.raw_dir}; "
                                 "rename the document")
            return target.name
        target = self.raw_dir / path.name
        # An empty file there is a copy a kill interrupted (no row can point into it): it is replaced.
        if target.exists() and not _is_empty(target):
            if target.resolve() != path.resolve() and target.read_bytes() != path.read_bytes():
                raise InputError(f"{path}: a different file named {path.name} is already in {self.raw_dir}; rename it")
        else:
            # The corpus keeps the exact text its offsets point into; the copy appears whole or not at all.
            atomic_write_bytes(target, path.read_bytes())
        return path.name

    def _candidates(self, documents: list[Path]) -> list[Candidate]:
        found: list[Candidate] = []
        seen = set(self.known)
        for path in documents:
            kind = document_kind(path)
            text = extract_text(path, str(path), kind) if kind else read_text(path)
            source = self._source_name(path, text if kind else None)
            spans = segment(text)
            for i, span in enumerate(spans):
                if span.text in seen:
                    continue
                seen.add(span.text)
                found.append(Candidate(source, span.start, span.end, span.text,
                                       spans[i - 1].text if i else "", spans[i + 1].text if i + 1 < len(spans) else "",
                                       {}))
        self._score(found)
        return found

    def _score(self, candidates: list[Candidate]) -> None:
        rows = self.model.predict_proba([c.text for c in candidates])
        for candidate, row in zip(candidates, rows):
            candidate.probabilities = dict(zip(LABELS, row))
        if self.order == "uncertainty":
            # Stable sort: equally unsure sentences keep reading order.
            candidates.sort(key=lambda c: -c.uncertainty)

    # -- the session ---------------------------------------------------------------------------
    def next(self) -> Candidate | None:
        """The sentence to ask about now, or None when all are done."""
        with self._lock:
            return self.queue[0] if self.queue else None

    def decide(self, candidate: Candidate, label: str) -> None:
        """Append the row now (flushed and fsynced) and move on."""
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}")
        if candidate.text in self.known:  # never write the same sentence twice
            with self._lock:
                if candidate in self.queue:
                    self.queue.remove(candidate)
            return
        size = self._append(candidate, label)
        with self._lock:
            self.queue.remove(candidate)
        self.known.add(candidate.text)
        self._written.append((size, candidate))
        self.labeled += 1
        self._since_retrain += 1
        if self.retrain_every and self._since_retrain >= self.retrain_every:
            self._since_retrain = 0
            self._retrain_in_background()

    def skip(self, candidate: Candidate) -> None:
        """Not now: the sentence goes to the end of the queue (and is asked again next run)."""
        with self._lock:
            self.queue.remove(candidate)
            self.queue.append(candidate)

    def undo(self) -> Candidate | None:
        """Take back the last label of this session: truncate it off the file, ask it again next."""
        if not self._written:
            return None
        size, candidate = self._written.pop()
        with self.into.open("r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
        self.known.discard(candidate.text)
        self.labeled -= 1
        with self._lock:
            self.queue.insert(0, candidate)
        return candidate

    def _append(self, candidate: Candidate, label: str) -> int:
        """Write one row; return the file's size before it (what undo truncates back to)."""
        key = hashlib.sha1(f"{candidate.source}:{candidate.start}:{candidate.end}".encode()).hexdigest()[:12]
        row = io.StringIO()
        writer = csv.writer(row, lineterminator="\n")
        writer.writerow([f"l{key}", candidate.text, label, candidate.source, candidate.start, candidate.end,
                         f"g-l{key}", self.annotator, datetime.now(UTC).isoformat(timespec="seconds")])
        if not self.into.exists() or _is_empty(self.into):
            # A new file appears with its header and first row, or not at all (never empty: see load_corpus).
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow(LABEL_COLUMNS)
            atomic_write_text(self.into, header.getvalue() + row.getvalue())
            return len(header.getvalue().encode("utf-8"))
        with self.into.open("a", encoding="utf-8", newline="") as handle:
            size = handle.tell()
            handle.write(row.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        return size

    # -- active learning -----------------------------------------------------------------------
    def _retrain_in_background(self) -> None:
        if self._retraining is not None and self._retraining.is_alive():
            return  # one refit at a time; the next one starts after enough new labels
        self._retraining = threading.Thread(target=self._retrain, daemon=True)
        self._retraining.start()

    def _retrain(self) -> None:
        """Refit on the corpus plus this file, then re-score and re-order what is left."""
        texts, labels = [], []
        if self.corpus_dir.is_dir():
            corpus = load_corpus(self.corpus_dir)
            texts, labels = list(corpus.texts), list(corpus.labels)
        if self.into.exists() and self.into.parent.resolve() != self.corpus_dir.resolve():
            for row in _read_rows(self.into):
                texts.append(row["text"])
                labels.append(row["label"])
        if len(set(labels)) < len(LABELS):
            return
        settings = settings_of(self.model.manifest.get("hyperparameters") or {})
        pipeline = build_pipeline(**settings, seed=self.model.manifest.get("seed", 0))
        pipeline.fit(texts, labels)
        model = Model.from_pipeline(pipeline, self.model.manifest)
        with self._lock:
            pending = list(self.queue)
        rows = model.predict_proba([c.text for c in pending])
        with self._lock:
            # Re-order what is left *now*: labels given while refitting must not come back.
            self.model = model
            for candidate, row in zip(pending, rows):
                candidate.probabilities = dict(zip(LABELS, row))
            if self.order == "uncertainty" and len(self.queue) > 1:
                head, rest = self.queue[:1], self.queue[1:]  # the sentence on screen stays where it is
                rest.sort(key=lambda c: -c.uncertainty)
                self.queue = head + rest
            self.retrained += 1

    def wait_for_retraining(self) -> None:
        if self._retraining is not None:
            self._retraining.join()

    # -- the spreadsheet round trip ------------------------------------------------------------
    def export_queue(self, path: str | Path, count: int) -> int:
        """Write the next ``count`` sentences to a CSV with an empty ``label`` column to fill in."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(QUEUE_COLUMNS)
        picked = self.queue[:count]
        for c in picked:
            writer.writerow([c.source, c.start, c.end, c.text, c.suggestion,
                             *(f"{c.probabilities[label]:.4f}" for label in LABELS), ""])
        atomic_write_text(path, buffer.getvalue())
        return len(picked)

    def import_reviewed(self, path: str | Path) -> dict[str, int]:
        """Validate a filled-in queue file, then append its labeled rows; blank labels are left for later."""
        rows = list(_read_rows(Path(path), required=QUEUE_COLUMNS))
        by_place = {(c.source, c.start, c.end): c for c in self.queue}
        plan = []
        for line, row in enumerate(rows, 2):
            label = row["label"].strip()
            if not label:
                continue
            if label not in LABELS:
                raise InputError(f"{path}, line {line}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
            try:
                place = (row["source"], int(row["start"]), int(row["end"]))
            except ValueError:
                raise InputError(f"{path}, line {line}: start and end must be whole numbers") from None
            candidate = by_place.get(place)
            if candidate is None or candidate.text != row["text"]:
                if row["text"] in self.known:
                    plan.append((None, label))
                    continue
                raise InputError(f"{path}, line {line}: not a sentence of the documents given "
                                 f"({row['source']} {row['start']}-{row['end']})")
            plan.append((candidate, label))
        written = 0
        for candidate, label in plan:
            if candidate is not None and candidate.text not in self.known:
                self.decide(candidate, label)
                written += 1
        return {"written": written, "already_labeled": sum(1 for c, _ in plan if c is None),
                "blank": sum(1 for row in rows if not row["label"].strip())}


def _is_empty(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


class _FileLock:
    """One labeling session per labels file: an exclusive lock on ``.NAME.lock`` beside it, held until
    ``release`` (or the process ends, however it ends: the system drops the lock)."""

    def __init__(self, target: Path) -> None:
        self.path = target.with_name(f".{target.name}.lock")
        self._fd: int | None = None
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform (Windows): one session is up to the user
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{target}: cannot write here ({exc.strerror or exc})") from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise InputError(f"{target}: cannot lock it ({exc.strerror or exc})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise InputError(f"{target}: another propclf label session is writing to it (pid {holder}); "
                                 "finish that one first, or label into another file with --into") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file that its last holder removed meanwhile
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)  # while still held: whoever opens it next checks the inode
            os.close(self._fd)
            self._fd = None


def _read_rows(path: Path, required: tuple[str, ...] = ("text", "label")) -> list[dict[str, Any]]:
    text = read_text(path)
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = [column for column in required if column not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    try:
        return list(reader)
    except csv.Error as exc:
        raise CorpusError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
