"""The plain scorer's two ways of finding n-grams: looked up one at a time (small batches, no tables to
build) and through the array tables (large batches) give the same counts and scores."""

import random

import numpy as np
import pytest

from conftest import MODELS
from propclf import _plain, load_model, predict


def _texts() -> list[str]:
    rng = random.Random(3)
    words = ["long", "live", "the", "great", "leader", "regime", "lied", "Über", "naïve", "café", "!", "?", "x",
             "propaganda", "it's", "émigré", "日本", "a" * 40, "don't", "u.s.", "--", "\u00a0", "q!?"]
    texts = ["Long live the great leader!", "", " ", "!!!", "a", "The regime lied, and the people knew it.",
             "tab\there", "two  spaces", " leading and trailing "]
    texts += [" ".join(rng.choices(words, k=rng.randint(0, 30))) for _ in range(300)]
    return [text.lower() for text in texts]


@pytest.mark.parametrize("name", ["word", "char"])
def test_looked_up_and_table_hits_agree(monkeypatch: pytest.MonkeyPatch, name: str):
    monkeypatch.setenv("PROPCLF_KERNEL", "numpy")
    feature_set = next(f for f in load_model(MODELS).scorer.feature_sets if f.name == name)
    texts = _texts()
    monkeypatch.setattr(_plain, "SMALL_BATCH_CHARS", 10 ** 9)
    looked_up, looked_up_scores = feature_set.counts(texts), feature_set.score(texts)
    assert not feature_set._tables_built
    monkeypatch.setattr(_plain, "SMALL_BATCH_CHARS", 0)
    tables, table_scores = feature_set.counts(texts), feature_set.score(texts)
    assert feature_set._tables_built
    assert looked_up.indices.size > 1000  # the texts do hit many terms
    assert np.array_equal(looked_up.indptr, tables.indptr)
    assert np.array_equal(looked_up.indices, tables.indices)
    assert np.array_equal(looked_up.data, tables.data)
    assert np.array_equal(looked_up_scores, table_scores)


def test_one_sentence_builds_no_tables():
    """A short run never waits for the tables: the one-sentence cold start."""
    model = load_model(MODELS)
    assert predict("Long live the great leader!", model=model).label == "slogan"
    assert not any(f._tables_built for f in model.scorer.feature_sets)


def test_key_table_finds_every_key_and_no_other():
    rng = np.random.default_rng(5)
    keys = np.unique(rng.integers(0, 2 ** 62, 50_000))
    keys = np.concatenate([keys, np.arange(1000)])  # runs of neighbours too
    columns = rng.permutation(len(keys))
    table = _plain._KeyTable(keys, columns)
    assert np.array_equal(table.columns(keys), columns)
    others = rng.integers(0, 2 ** 62, 50_000)
    others = others[~np.isin(others, keys)]
    assert (table.columns(others) == -1).all()
    assert (_plain._KeyTable(keys[:0], columns[:0]).columns(keys[:5]) == -1).all()


def test_the_faster_token_pattern_finds_the_same_tokens():
    from propclf._plain import TOKEN_PATTERN

    fast = _plain._SAME_TOKENS[TOKEN_PATTERN]
    slow = __import__("re").compile(TOKEN_PATTERN)
    rng = random.Random(7)
    alphabet = "ab_9 !?.,'’-\n\t\u00a0éßİ日本\u0301\u200b٣²"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(20_000)] + _texts()
    assert all(fast.findall(text) == slow.findall(text) for text in texts)
