"""The Propaganda Techniques Corpus (PTC) as sentences: the sentence-level task of NLP4IF-2019.

A PTC folder (Da San Martino et al., EMNLP 2019) holds:

``train-articles/article<ID>.txt``  one news article: the title on the first line, then one
                                    sentence per line (blank lines between some of them)
``train-task2-TC.labels``           annotated spans: article id, technique, start, end (tab-separated)
``train-task1-SI.labels``           the same spans without the technique: article id, start, end

Offsets are characters of the article as stored, end exclusive. Each non-blank line is a sentence; it
is propaganda if any annotated span overlaps it, and its techniques are those of the overlapping
spans. The corpus is not part of propclf: it is read from wherever it lies, never copied.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from propclf._errors import FileMissing, InputError
from propclf._textio import read_text

__all__ = ["ARTICLES_DIR", "TECHNIQUE_LABELS", "SPAN_LABELS", "PtcSentence", "load_ptc", "ptc_available"]

ARTICLES_DIR = "train-articles"
TECHNIQUE_LABELS = "train-task2-TC.labels"
SPAN_LABELS = "train-task1-SI.labels"
# A line's text: from its first to its last visible character. U+FEFF (a byte-order mark, or a
# zero-width no-break space) and U+200B count as blank: some PTC lines hold nothing else.
_CONTENT = re.compile(r"[^\s\ufeff\u200b](?:.*[^\s\ufeff\u200b])?")


@dataclass(frozen=True)
class PtcSentence:
    """One line of a PTC article. ``article[start:end] == text``; ``index`` counts non-blank lines from 0."""

    article_id: str
    index: int
    start: int
    end: int
    text: str
    propaganda: bool
    techniques: tuple[str, ...]


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    technique: str | None


def ptc_available(ptc_dir: str | os.PathLike[str]) -> bool:
    """Whether ``ptc_dir`` has the articles folder and both labels files (their contents are not checked)."""
    root = Path(ptc_dir)
    return ((root / ARTICLES_DIR).is_dir() and (root / TECHNIQUE_LABELS).is_file()
            and (root / SPAN_LABELS).is_file())


def load_ptc(ptc_dir: str | os.PathLike[str]) -> list[PtcSentence]:
    """Every sentence of every article, ordered by article id, then position; raises InputError.

    The propaganda flag comes from the spans of both labels files (in PTC version 2 they cover
    exactly the same characters); the techniques come from the technique labels.
    """
    root = Path(ptc_dir)
    if not root.exists():
        raise InputError(f"{root}: no such folder (expected the PTC corpus here)")
    if not root.is_dir():
        raise InputError(f"{root}: is a file, not the PTC folder")
    articles_dir = root / ARTICLES_DIR
    if not articles_dir.is_dir():
        raise InputError(f"{articles_dir}: no such folder (expected the PTC articles here)")
    articles = {path.name[len("article"):-len(".txt")]: _read_article(path)
                for path in sorted(articles_dir.glob("article*.txt")) if path.is_file()}
    if not articles:
        raise InputError(f"{articles_dir}: no article<ID>.txt files in this folder")
    spans: dict[str, list[_Span]] = defaultdict(list)
    for name, with_technique in ((TECHNIQUE_LABELS, True), (SPAN_LABELS, False)):
        for article_id, span in _read_labels(root / name, articles, with_technique=with_technique):
            spans[article_id].append(span)
    sentences = []
    for article_id in sorted(articles):
        sentences.extend(_sentences(article_id, articles[article_id], spans[article_id]))
    return sentences


def _read_article(path: Path) -> str:
    # keep_bom, and no newline translation: the labels count a leading byte-order mark as a character
    # (two PTC articles have one), so dropping it would shift every span.
    return read_text(path, keep_bom=True, empty_ok=True)


def _read_labels(path: Path, articles: dict[str, str], *, with_technique: bool) -> list[tuple[str, _Span]]:
    """The spans of one labels file, each checked against its article."""
    try:
        lines = read_text(path, empty_ok=True).split("\n")
    except FileMissing:
        raise FileMissing(f"{path}: no such file (expected the PTC labels here)") from None
    columns = "article id, technique, start, end" if with_technique else "article id, start, end"
    expected = 4 if with_technique else 3
    spans = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        where = f"{path}, line {number}"
        if len(fields) != expected:
            raise InputError(f"{where}: expected {expected} tab-separated fields ({columns}), found {len(fields)}")
        article_id, technique = fields[0], (fields[1] if with_technique else None)
        try:
            start, end = int(fields[-2]), int(fields[-1])
        except ValueError:
            raise InputError(f"{where}: start and end must be whole numbers, "
                             f"found {fields[-2]!r} and {fields[-1]!r}") from None
        if technique is not None and not technique.strip():
            raise InputError(f"{where}: empty technique")
        if article_id not in articles:
            raise InputError(f"{where}: article {article_id!r} not found "
                             f"(no {path.parent / ARTICLES_DIR / f'article{article_id}.txt'})")
        if not 0 <= start < end:
            raise InputError(f"{where}: bad span ({start}, {end}): need 0 <= start < end")
        if end > len(articles[article_id]):
            raise InputError(f"{where}: span ({start}, {end}) runs past the end of article {article_id} "
                             f"({len(articles[article_id])} characters)")
        spans.append((article_id, _Span(start, end, technique)))
    return spans


def _sentences(article_id: str, article: str, spans: list[_Span]) -> list[PtcSentence]:
    sentences = []
    position = 0
    # Split on '\n' only: str.splitlines would also cut at form feeds and U+2028 inside a line.
    for line in article.split("\n"):
        line_start, position = position, position + len(line) + 1
        content = _CONTENT.search(line)
        if content is None:
            continue
        start, end = line_start + content.start(), line_start + content.end()
        overlapping = [span for span in spans if start < span.end and span.start < end]
        sentences.append(PtcSentence(
            article_id=article_id, index=len(sentences), start=start, end=end, text=content.group(),
            propaganda=bool(overlapping),
            techniques=tuple(sorted({span.technique for span in overlapping if span.technique is not None})),
        ))
    return sentences
