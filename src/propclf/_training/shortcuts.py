"""Shortcuts in a labeled corpus: surface cues that could stand in for the label.

A model learns whatever separates the labels most cheaply. If most slogans end in "!" or most rows
that say "regime" are critiques, it learns the cue instead of the voice, and real text (formal
slogans without "!", neutral history that says "regime") defeats it. These measures say how
strong each cue is in a corpus; the corpus test keeps them under ``MAX_LABEL_SHARE``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .._labels import LABELS

__all__ = ["WATCHED_WORDS", "STRONG_WORDS", "MAX_LABEL_SHARE", "shortcuts", "format_shortcuts"]

#: Words whose rows must not lean to one label: topic words that say nothing of the voice.
WATCHED_WORDS = ("regime", "propaganda", "cult", "Kim", "Stalin", "Mao", "Hitler")
#: No watched word may give one label more than this share of the rows that contain it.
MAX_LABEL_SHARE = 0.6
#: The guideline's strong judgement words and their near kin: critique that needs none of them is the
#: hard case real text is full of.
STRONG_WORDS = re.compile(
    r"\b(totalitarian\w*|repressi\w*|oppress\w*|crimes? against humanity|lies|lie|lying|liars?|sham|brutal\w*|"
    r"propaganda|dictator\w*|regime\w*|cult\w*|tyran\w*|atrocit\w*|murder\w*|terror\w*|evil|monstrous|criminal)\b",
    re.IGNORECASE,
)


def _word(word: str) -> re.Pattern[str]:
    # Names match case-sensitively as whole words ("Kim", not "kimchi"); common nouns in any case, with
    # a plural ("regimes", "cults", not "culture").
    return re.compile(rf"\b{word}\b") if word[0].isupper() else re.compile(rf"\b{word}s?\b", re.IGNORECASE)


def shortcuts(texts: list[str], labels: list[str]) -> dict[str, Any]:
    """The cue measures of a corpus: '!' in slogans, strong words in critiques, each watched word's label mix."""
    slogans = [t for t, label in zip(texts, labels) if label == "slogan"]
    critiques = [t for t, label in zip(texts, labels) if label == "critique"]
    words = {}
    for word in WATCHED_WORDS:
        pattern = _word(word)
        mix = Counter(label for text, label in zip(texts, labels) if pattern.search(text))
        rows = sum(mix.values())
        top = max(LABELS, key=lambda label: mix[label])
        words[word] = {"rows": rows, **{label: mix[label] for label in LABELS},
                       "top_label": top, "top_share": round(mix[top] / rows, 4) if rows else 0.0}
    exclaiming = [t for t in texts if "!" in t]
    return {
        "rows": len(texts),
        "slogans_with_exclamation": round(sum("!" in t for t in slogans) / len(slogans), 4) if slogans else 0.0,
        "exclamation_rows_that_are_slogans": round(
            sum(label == "slogan" for t, label in zip(texts, labels) if "!" in t) / len(exclaiming), 4)
        if exclaiming else 0.0,
        "critiques_with_strong_words": round(sum(bool(STRONG_WORDS.search(t)) for t in critiques) / len(critiques), 4)
        if critiques else 0.0,
        "words": words,
    }


def format_shortcuts(measures: dict[str, Any]) -> list[str]:
    """The measures as Markdown lines."""
    lines = [f"- slogans with '!': {measures['slogans_with_exclamation']:.1%}; rows with '!' that are slogans: "
             f"{measures['exclamation_rows_that_are_slogans']:.1%}",
             f"- critiques with a strong judgement word: {measures['critiques_with_strong_words']:.1%}", "",
             "| word | rows | slogan | critique | neutral | largest share |", "|---|---:|---:|---:|---:|---:|"]
    for word, row in measures["words"].items():
        lines.append(f"| {word} | {row['rows']} | {row['slogan']} | {row['critique']} | {row['neutral']} | "
                     f"{row['top_share']:.0%} {row['top_label']} |")
    return lines
