"""The compiled character n-gram kernel (propclf[fast]) gives the NumPy scores and the pipeline's probabilities."""

import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import MODELS
from propclf import LABELS, load_model
from propclf._kernels import KERNEL_MIN_CHARS, ngram_kernel
from propclf._training.evaluation import scale

pytest.importorskip("numba")


def _texts() -> list[str]:
    rng = random.Random(1)
    words = ["long", "live", "the", "great", "leader", "regime", "lied", "Über", "naïve", "café", "!", "?", "x",
             "propaganda", "des-\ntined", "émigré", "日本", "a" * 40]
    texts = ["Long live the great leader!", "", " ", "!!!", "a", "The regime lied, and the people knew it."]
    while sum(map(len, texts)) < 3 * KERNEL_MIN_CHARS:
        texts.append(" ".join(rng.choices(words, k=rng.randint(0, 40))))
    return texts


def test_kernel_scores_are_the_numpy_scores(monkeypatch: pytest.MonkeyPatch):
    model = load_model(MODELS)
    texts = _texts()
    compiled = model.probabilities(texts)
    assert ngram_kernel(sum(map(len, texts))) is not None  # the batch above was scored by the kernel
    monkeypatch.setenv("PROPCLF_KERNEL", "numpy")
    assert ngram_kernel(sum(map(len, texts))) is None
    plain = model.probabilities(texts)
    assert np.abs(compiled - plain).max() <= 1e-12
    pickled = load_model(MODELS, trust=True)
    order = [list(pickled.pipeline.classes_).index(label) for label in LABELS]
    expected = scale(pickled.pipeline.predict_proba(texts)[:, order], pickled.manifest["calibration"]["temperature"])
    assert np.abs(compiled - expected).max() <= 1e-9


def test_small_batches_do_not_import_numba():
    code = ("import sys; from propclf import predict, tag; predict('Long live the great leader!'); "
            "tag('One sentence. And another one.'); print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_word_kernel_scores_are_the_numpy_scores(monkeypatch: pytest.MonkeyPatch):
    word = next(f for f in load_model(MODELS).scorer.feature_sets if f.name == "word")
    texts = [text.lower() for text in _texts()]
    assert ngram_kernel(sum(map(len, texts))) is not None
    compiled = word._word_score(texts)
    assert compiled is not None and np.abs(compiled).max() > 0.5
    monkeypatch.setenv("PROPCLF_KERNEL", "numpy")
    assert word._word_score(texts) is None
    assert np.abs(compiled - word.score(texts)).max() <= 1e-12
