"""Property-based tests: any text or bytes gives a valid result or a named, one-line error."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propclf import LABELS, CorpusError, InputError, load_corpus, predict, segment, tag_files
from propclf._segment import normalize

# Any code point, lone surrogates included (they reach us through surrogateescape and JSON).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)
AWKWARD = st.lists(st.sampled_from(["Mr.", "U.S.", " ", "\n", "\n\n", "###", "-\n", "“", "”", "'", '"', "!", "?",
                                    "...", "…", "\u200b", "\u202e", "\x00", "\t", "word", "Word", "1.5", "a", "🙂",
                                    "• ", "- ", "1. ", "\ufeff", "\r\n"]), max_size=80).map("".join)
# CI runs a quick budget; HYPOTHESIS_PROFILE=long tries many more inputs on demand.
settings.register_profile("quick", max_examples=150)
settings.register_profile("long", max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(st.one_of(ANY_TEXT, AWKWARD))
def test_segment_spans_are_valid(text):
    previous_end = 0
    for span in segment(text):
        assert previous_end <= span.start < span.end <= len(text)
        assert span.text and span.text == normalize(text[span.start:span.end])
        previous_end = span.end


@FAST
@given(st.lists(st.one_of(ANY_TEXT, AWKWARD), min_size=1, max_size=5))
def test_predict_gives_probabilities_that_sum_to_one(texts):
    for result in predict(texts):
        assert result.label in LABELS
        assert sum(result.probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".tsv", ".jsonl"])
@FAST
@given(data=st.binary(max_size=300) | st.one_of(ANY_TEXT, AWKWARD).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_readers_never_crash(tmp_path_factory, suffix, data):
    path = Path(tmp_path_factory.mktemp("in")) / f"input{suffix}"
    path.write_bytes(data)
    try:
        for record in tag_files([str(path)]):
            s = record.sentence
            assert 0 <= s.start < s.end and s.label in LABELS
    except InputError as error:
        assert "\n" not in str(error) and str(path) in str(error) or "encoding" in str(error)


@FAST
@given(data=st.binary(max_size=300) | st.one_of(ANY_TEXT, AWKWARD).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_labeled_data_reader_never_crashes(tmp_path_factory, data):
    folder = Path(tmp_path_factory.mktemp("labeled"))
    (folder / "x.csv").write_bytes(b"id,text,label,source,start,end,group\n" + data)
    try:
        load_corpus(str(folder))
    except CorpusError as error:
        assert "\n" not in str(error) and "x.csv" in str(error)


def test_a_long_line_without_punctuation():
    text = "word " * 400_000  # 2 MB on one line
    spans = segment(text)
    assert len(spans) > 1 and all(len(span.text) <= 5_000 for span in spans)
