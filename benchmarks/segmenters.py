"""Compare sentence segmenters on propclf's hard cases and on speed.

Run from the repository root::

    python benchmarks/segmenters.py                  # Markdown tables on stdout
    python benchmarks/segmenters.py --errors propclf # plus the cases a segmenter gets wrong

Accuracy is measured on ``tests/data/segmentation_hard_cases.jsonl``: one JSON object a line,
``{"id", "category", "text", "sentences"}``, where ``sentences`` are the expected *cleaned*
sentences (white space collapsed, hyphenated line-wraps of lower-case words joined).

* **exact**: the share of cases whose list of cleaned sentences equals the expected one.
* **boundary P/R/F1**: micro-averaged over all cases. A boundary is a position in the cleaned text
  between two sentences, counted in letters and digits, so that cleaning that differs only in
  white space, a kept hyphen or a dropped ``###`` does not move every later boundary.
* **speed**: MB (10^6 bytes of UTF-8) per second on the PTC news articles
  (``<ptc-dir>/train-articles/*.txt`` joined by blank lines), the median of ``--runs`` timed runs
  of the segmenter's own call; when the articles are missing the hard-case texts are repeated instead.

propclf's ``segment`` is judged on its own ``Span.text``. The third-party segmenters give raw
sentences; each is cut from the original text (from its start to the next sentence's start) and
cleaned here the same way as the expected sentences (standalone ``###`` runs dropped, white space
collapsed, lower-case hyphenated wraps joined), so they are judged on boundaries, not on cleaning.
A segmenter that is not installed is skipped with a note.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "data", "segmentation_hard_cases.jsonl")
DEFAULT_PTC = os.path.join(ROOT, "..", "shared", "ptc")

# --- cleaning, as the expected sentences are written ---------------------------------------
_SEPARATOR = re.compile(r"(?<!\S)#{3,}(?!\S)")
_HYPHEN_WRAP = re.compile(r"(?<=\w)-[ \t]*\n\s*(?=\w)")
_WORD_BEFORE = re.compile(r"(\S+)$")
_SPACES = re.compile(r"\s+")
_OPENERS = "\"'“‘«([-–—"


def clean(raw: str) -> str:
    """Drop standalone '###' runs, join 'des-\\ntined' (lower-case fragment only), collapse spaces."""
    raw = _SEPARATOR.sub(" ", raw)

    def join(match: re.Match[str]) -> str:
        before = _WORD_BEFORE.search(raw, 0, match.start())
        fragment = before.group(1).lstrip(_OPENERS) if before else ""
        return "" if fragment.isalpha() and fragment.islower() else "-"

    return _SPACES.sub(" ", _HYPHEN_WRAP.sub(join, raw)).strip()


def from_starts(text: str, starts: list[int]) -> list[str]:
    """Cleaned sentences from sentence start offsets: each runs to the next start."""
    cuts = sorted({s for s in starts if 0 < s < len(text)})
    edges = [0, *cuts, len(text)]
    sentences = (clean(text[a:b]) for a, b in zip(edges, edges[1:]))
    return [s for s in sentences if s]


def align_starts(text: str, pieces: list[str]) -> list[int]:
    """Start offsets in ``text`` of sentences returned as strings, matched by non-space characters."""
    starts, position = [], 0
    for piece in pieces:
        while position < len(text) and text[position].isspace():
            position += 1
        starts.append(position)
        for char in piece:
            if char.isspace():
                continue
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text) or text[position] != char:
                raise ValueError(f"cannot align {piece[:40]!r} at offset {position}")
            position += 1
    return starts


# --- the segmenters --------------------------------------------------------------------------
@dataclass
class Segmenter:
    name: str
    run: Callable[[str], Any]  # the segmenter's own call: what is timed
    sentences: Callable[[str, Any], list[str]]  # cleaned sentences from run's output
    version: str = ""
    notes: list[str] = field(default_factory=list)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def load_segmenters() -> tuple[list[Segmenter], list[str]]:
    found: list[Segmenter] = []
    skipped: list[str] = []

    try:
        from propclf import segment
    except ImportError as error:
        skipped.append(f"propclf `segment`: not importable ({error})")
    else:
        found.append(Segmenter("propclf `segment`", segment, lambda text, spans: [s.text for s in spans],
                               _version("propclf")))

    try:
        import pysbd
    except ImportError:
        skipped.append("pySBD: not installed (`pip install pysbd`)")
    else:
        # clean=False keeps the text as it is (a line break ends a sentence); clean=True first
        # rewrites it (joins wrapped lines, among other things) and is measured as a second row.
        for clean_first in (False, True):
            pysbd_segmenter = pysbd.Segmenter(language="en", clean=clean_first)
            found.append(Segmenter(f"pySBD (clean={clean_first})", pysbd_segmenter.segment,
                                   lambda text, out: from_starts(text, align_starts(text, out)),
                                   _version("pysbd")))

    try:
        import syntok.segmenter as syntok_segmenter
    except ImportError:
        skipped.append("syntok: not installed (`pip install syntok`)")
    else:
        def syntok_run(text: str) -> list[int]:
            return [sentence[0].offset for paragraph in syntok_segmenter.analyze(text) for sentence in paragraph]

        found.append(Segmenter("syntok", syntok_run, from_starts, _version("syntok")))

    try:
        import blingfire
    except ImportError:
        skipped.append("blingfire: not installed (`pip install blingfire`)")
    else:
        found.append(Segmenter("blingfire", blingfire.text_to_sentences_and_offsets,
                               lambda text, out: from_starts(text, [start for start, _ in out[1]]),
                               _version("blingfire")))

    try:
        from nltk.tokenize.punkt import PunktSentenceTokenizer
    except ImportError:
        skipped.append("NLTK punkt: not installed (`pip install nltk`)")
    else:
        def punkt_row(name: str, tokenizer: Any, notes: list[str]) -> Segmenter:
            return Segmenter(name, lambda text: list(tokenizer.span_tokenize(text)),
                             lambda text, out: from_starts(text, [start for start, _ in out]),
                             _version("nltk"), notes)

        try:
            from nltk.tokenize.punkt import PunktTokenizer  # nltk >= 3.9 reads the punkt_tab data

            trained = PunktTokenizer("english")
        except (ImportError, LookupError, OSError):
            skipped.append("NLTK punkt with English parameters: the punkt_tab data is not installed here, "
                           "and no PyPI package ships it (it comes from `nltk.download`, a network "
                           "download); only the untrained tokenizer is measured")
        else:
            found.append(punkt_row("NLTK punkt (English)", trained, []))
        found.append(punkt_row("NLTK punkt (untrained)", PunktSentenceTokenizer(), []))

    naive = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
    found.append(Segmenter("naive regex (floor)", lambda text: [m.end() for m in naive.finditer(text)],
                           from_starts, "-"))
    return found, skipped


# --- scoring ---------------------------------------------------------------------------------
def boundaries(sentences: list[str]) -> set[int]:
    """Positions between sentences, counted in letters and digits of the cleaned text."""
    total = sum(ch.isalnum() for s in sentences for ch in s)
    result, count = set(), 0
    for sentence in sentences[:-1]:
        count += sum(ch.isalnum() for ch in sentence)
        if 0 < count < total:
            result.add(count)
    return result


@dataclass
class Score:
    exact: int = 0
    cases: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    by_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    wrong: list[tuple[dict, list[str]]] = field(default_factory=list)
    crashes: int = 0

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(segmenter: Segmenter, cases: list[dict]) -> Score:
    score = Score()
    for case in cases:
        try:
            got = segmenter.sentences(case["text"], segmenter.run(case["text"]))
        except Exception:  # a crash counts as one unsplit sentence
            score.crashes += 1
            got = [clean(case["text"])]
        expected = case["sentences"]
        gold, found = boundaries(expected), boundaries(got)
        score.tp += len(gold & found)
        score.fp += len(found - gold)
        score.fn += len(gold - found)
        score.cases += 1
        score.by_category[case["category"]][1] += 1
        if got == expected:
            score.exact += 1
            score.by_category[case["category"]][0] += 1
        else:
            score.wrong.append((case, got))
    return score


# --- speed -----------------------------------------------------------------------------------
def speed_text(ptc_dir: str, cases: list[dict]) -> tuple[str, str]:
    files = sorted(glob.glob(os.path.join(ptc_dir, "train-articles", "*.txt")))
    if files:
        parts = []
        for name in files:
            with open(name, encoding="utf-8") as handle:
                parts.append(handle.read().strip())
        text = "\n\n".join(parts)
        where = f"{len(files)} PTC articles from `{os.path.relpath(ptc_dir, ROOT)}/train-articles`"
    else:
        sample = "\n\n".join(case["text"] for case in cases)
        text = "\n\n".join([sample] * max(1, 2_000_000 // max(1, len(sample))))
        where = (f"NOTE: no PTC articles under `{ptc_dir}`; the hard-case texts repeated instead "
                 "(far from real prose: treat the speeds as rough)")
    return text, f"{where}, joined by blank lines: {len(text.encode('utf-8')) / 1e6:.2f} MB"


def measure(segmenter: Segmenter, text: str, runs: int) -> float:
    size = len(text.encode("utf-8")) / 1e6
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        segmenter.run(text)
        times.append(time.perf_counter() - started)
    return size / statistics.median(times)


# --- report ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="hard cases, JSON lines")
    parser.add_argument("--ptc-dir", default=DEFAULT_PTC, help="PTC corpus folder (default: ../shared/ptc)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per segmenter; the median is reported")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    parser.add_argument("--errors", metavar="NAME", action="append", default=[],
                        help="list the cases a segmenter gets wrong (a case-insensitive part of its name)")
    args = parser.parse_args(argv)

    with open(args.cases, encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    segmenters, skipped = load_segmenters()
    categories = sorted({case["category"] for case in cases})

    if not args.no_speed:
        text, speed_note = speed_text(os.path.abspath(args.ptc_dir), cases)

    rows, scores = [], {}
    for segmenter in segmenters:
        score = evaluate(segmenter, cases)
        scores[segmenter.name] = score
        p, r, f = score.prf()
        speed = "-"
        if not args.no_speed:
            try:
                speed = f"{measure(segmenter, text, args.runs):.2f}"
            except Exception as error:
                speed = f"failed ({type(error).__name__})"
        rows.append([segmenter.name, segmenter.version,
                     f"{score.exact}/{score.cases} ({100 * score.exact / score.cases:.1f}%)",
                     f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", speed])
        print(f"measured {segmenter.name}", file=sys.stderr, flush=True)

    gold_boundaries = sum(len(boundaries(case["sentences"])) for case in cases)
    print(f"## Sentence segmenters on {len(cases)} hard cases ({gold_boundaries} boundaries)\n")
    header = ["segmenter", "version", "exact cases", "boundary P", "boundary R", "boundary F1", "MB/s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    if not args.no_speed:
        print(f"Speed: {speed_note}; median of {args.runs} runs, one call on the whole text.")
    for name, score in scores.items():
        if score.crashes:
            print(f"{name} raised an error on {score.crashes} case(s); each was scored as one unsplit sentence.")
    for note in skipped:
        print(f"Skipped: {note}.")

    print("\n### Exact cases by category\n")
    names = [segmenter.name for segmenter in segmenters]
    print("| category | cases | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for category in categories:
        total = sum(1 for case in cases if case["category"] == category)
        cells = [str(scores[name].by_category[category][0]) for name in names]
        print(f"| {category} | {total} | " + " | ".join(cells) + " |")

    for wanted in args.errors:
        for name, score in scores.items():
            if wanted.lower() not in name.lower():
                continue
            print(f"\n### Cases {name} gets wrong ({len(score.wrong)})\n")
            for case, got in score.wrong:
                print(f"- `{case['id']}`: {json.dumps(case['text'], ensure_ascii=False)}")
                print(f"  - expected: {json.dumps(case['sentences'], ensure_ascii=False)}")
                print(f"  - got:      {json.dumps(got, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
