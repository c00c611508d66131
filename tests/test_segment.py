"""Sentence segmentation: hard cases, the seeds' quirks, and offsets into the original text."""

import json
from pathlib import Path

import pytest

from conftest import RAW
from propclf import segment
from propclf._segment import normalize


def texts(document: str) -> list[str]:
    return [span.text for span in segment(document)]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Mr. Kim arrived at 3 p.m. on Jan. 5. He left.", ["Mr. Kim arrived at 3 p.m. on Jan. 5.", "He left."]),
        ("The U.S. Army landed. It rained.", ["The U.S. Army landed.", "It rained."]),
        ("They fought the U.S. The war ended.", ["They fought the U.S.", "The war ended."]),
        ("J. R. R. Tolkien wrote it. Sales rose 3.5% in 2012.",
         ["J. R. R. Tolkien wrote it.", "Sales rose 3.5% in 2012."]),
        ("“Stop!” he said. “Why?” She left.", ["“Stop!” he said.", "“Why?”", "She left."]),
        ("He said “we will win.” Nobody believed him.", ["He said “we will win.”", "Nobody believed him."]),
        ("Wait... Then it happened.", ["Wait...", "Then it happened."]),
        ("Living in exile\nKim Il Sung’s son and successor was an avid film fan who loved cinema.",
         ["Living in exile", "Kim Il Sung’s son and successor was an avid film fan who loved cinema."]),
        ("One.\n\n###\n\nTwo\n\n######\n\nClick Here: ###\n\nThree.", ["One.", "Two", "Click Here:", "Three."]),
        ("A Bit of Context\n\nThe film was released in 2012.", ["A Bit of Context", "The film was released in 2012."]),
        ("They were des-\ntined for a life of\nprivilege and power. They left.",
         ["They were destined for a life of privilege and power.", "They left."]),
        ("The race ended.Corgi dogs then rested.", ["The race ended.", "Corgi dogs then rested."]),
        ("Long live the Party! Long live the people!", ["Long live the Party!", "Long live the people!"]),
        ("e.g. this is one sentence, i.e. not two.", ["e.g. this is one sentence, i.e. not two."]),
        ("It does not deserve the word art. Every worker is a lie.",
         ["It does not deserve the word art.", "Every worker is a lie."]),
        ("Room No. 7 is free. The answer was no. Then he left.",
         ["Room No. 7 is free.", "The answer was no.", "Then he left."]),
    ],
    ids=["abbreviations", "acronym-mid", "acronym-end", "initials-decimals", "quotes", "mark-in-quote",
         "ellipsis", "line-heading", "separators", "heading", "hyphen-wrap", "glued", "exclamations", "eg-ie",
         "word-like-abbreviation", "no"],
)
def test_hard_cases(document: str, expected: list[str]):
    assert texts(document) == expected


def test_page_break_inside_a_sentence_is_joined():
    document = ("As the war raged eight young heroes left for a life of privilege and\n"
                "power and study at a prestigious film school in the far north for\n\n"
                "Moscow to study. They never returned.")
    assert texts(document) == [
        "As the war raged eight young heroes left for a life of privilege and power and study at a "
        "prestigious film school in the far north for Moscow to study.",
        "They never returned.",
    ]


def test_hyphenation_keeps_real_hyphens():
    assert normalize("the US-\nled coalition") == "the US-led coalition"
    assert normalize("Kim So-\nyoung") == "Kim So-young"
    assert normalize("develop-\n\ning the loyalty") == "developing the loyalty"


@pytest.mark.parametrize("raw", sorted(RAW.glob("*.txt")), ids=lambda p: p.name[:3])
def test_offsets_point_into_the_original(raw):
    document = raw.read_text(encoding="utf-8")
    spans = segment(document)
    assert spans
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(document)
        assert normalize(document[span.start:span.end]) == span.text
        previous_end = span.end


def test_seed_003_matches_its_hand_checked_sentences():
    """003 is the clean printing: its '###' separators and headings give exactly these units."""
    document = (RAW / "003_da91d92bb086c2ce.txt").read_text(encoding="utf-8")
    found = texts(document)
    assert len(found) == 35
    assert found[12] == "Living in exile"
    assert found[15] == "Click Here:"
    assert found[22] == "‘The biggest heartache’"
    assert found[-1] == "But I just could not betray and abandon my friends.”"


@pytest.mark.parametrize("document", ["", "   \n\n  ", "###", "\u200b", "!!!", "a" * 5000])
def test_odd_input_gives_sane_spans(document):
    for span in segment(document):
        assert 0 <= span.start < span.end <= len(document)
        assert span.text



HARD_CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "segmentation_hard_cases.jsonl")
              .read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", HARD_CASES, ids=[case["id"] for case in HARD_CASES])
def test_hard_case_file(case):
    """tests/data/segmentation_hard_cases.jsonl: every case split exactly as a careful reader would."""
    assert texts(case["text"]) == case["sentences"]


HELD_OUT = [json.loads(line) for line in (Path(__file__).parent / "data" / "segmentation_heldout.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]


def test_held_out_cases_do_not_regress():
    """tests/data/segmentation_heldout.jsonl was written apart from the splitter and is never tuned on:
    56 of 60 right when first measured; one bug it showed was fixed. Guard against falling back."""
    right = sum(texts(case["text"]) == case["sentences"] for case in HELD_OUT)
    assert len(HELD_OUT) == 60 and right >= 59


@pytest.mark.parametrize("piece_chars", [1, 97, 4096])
def test_segment_stream_gives_what_segment_gives_on_the_whole_text(monkeypatch, piece_chars: int):
    """Text arriving in pieces of any size, cut into buffers many times over, segments as the whole text does."""
    import propclf._segment as segmenter
    from propclf import segment_stream

    # The team documents hold 'sentences' of up to 4,100 characters (see test_tagging): the buffer must hold one.
    monkeypatch.setattr(segmenter, "STREAM_BUFFER_CHARS", segmenter.MAX_SENTENCE_CHARS + 1)
    paths = sorted(RAW.glob("*.txt"))[:6] if piece_chars == 1 else sorted(RAW.glob("*.txt"))
    cut = 0
    for path in paths:
        document = path.read_text(encoding="utf-8")
        pieces = (document[start:start + piece_chars] for start in range(0, len(document), piece_chars))
        streamed = list(segment_stream(pieces))
        assert streamed == segment(document), path.name
        cut += len(document) > segmenter.STREAM_BUFFER_CHARS
    assert cut  # some documents were longer than the buffer: the streaming cut was exercised
