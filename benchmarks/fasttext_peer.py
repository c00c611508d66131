"""Peer comparison: fastText (supervised) against propclf on the same corpus, folds and metric.

Run from anywhere (paths are resolved from the repository root)::

    python benchmarks/fasttext_peer.py                        # 5 folds, 20 MB of text, 3 timed runs
    python benchmarks/fasttext_peer.py --quick                # 2 folds, 1 MB, 1 run (well under a minute)
    python benchmarks/fasttext_peer.py --json OUT.json        # also write every figure as JSON

A benchmark-suite runner can import this file by path and call ``run(quick, ptc_dir, megabytes, runs)``;
it returns a dict of figures (or None when fastText is not installed) and writes nothing.
fastText is optional (``pip install fasttext-numpy2-wheel``, imported as ``fasttext``): without it the
script prints one line and exits 0.

What it measures:

* **Accuracy.** The labeled corpus (``data/labeled``) is split by ``propclf._training.evaluation.splitter``, the
  grouped, stratified, shuffled k-fold (seed 0) that propclf's own evaluation uses: 5 folds (2 with
  ``--quick``), groups kept whole. On every fold both models are trained on the training part and
  scored on the test part by macro-F1 over slogan/critique/neutral (``sklearn.metrics.f1_score``):

  - propclf: ``build_pipeline(features, C, seed=0)`` with the ``features`` and ``C`` recorded in
    ``models/propclf.json`` under ``hyperparameters``. Those were chosen by a grouped CV on the whole
    corpus, so this figure is slightly optimistic (it equals the manifest's search score for that
    candidate when the corpus has not changed); the nested figure is in the manifest's evaluation.
  - fastText: ``train_supervised`` on a temporary file of ``__label__<label> <text>`` lines, the text
    lower-cased with all white space (newlines included) collapsed to single spaces, with the fixed
    settings in ``FASTTEXT_SETTINGS``, chosen before looking at any score and not tuned: the values of
    fastText's text-classification tutorial (lr 0.5, 25 epochs, word bigrams) with character n-grams of
    2 to 5 (the range propclf's char features use), 50 dimensions, softmax loss, fastText's default
    2M hash buckets, one thread and a fixed seed. fastText's tokenizer splits on white space only
    (``leader!`` is one word); its character n-grams see the punctuation.

  Mean and standard deviation are over folds (population std, ddof=0, as scikit-learn's grid search
  reports it), with the per-fold paired difference propclf - fastText.

* **Speed.** One fastText model trained on the whole corpus predicts a list of real sentences:
  ``<ptc-dir>/train-articles/*.txt`` (default ``../shared/ptc`` from the repository root) cut into
  sentences by ``propclf.segment``, or the sentences of ``data/raw/*.txt`` when that folder is missing,
  repeated until the list holds ``--megabytes`` MB (10^6 bytes of UTF-8; default 20, 1 with ``--quick``).
  The sentences are lower-cased and white space collapsed beforehand (not timed); the timed call is the
  single batch call ``model.predict(sentences, k=1)``, the median of ``--runs`` runs (default 3, 1 with
  ``--quick``), reported in sentences/s and MB/s. fastText's predict runs on one core.
  If a ``fasttext`` command-line binary is on PATH, ``fasttext predict model.bin file 1`` is timed too,
  whole process, and on a one-sentence file to tell start-up and model loading apart; otherwise that
  part is skipped. With character n-grams and 2M hash buckets the model file is a few hundred MB, so
  loading it is a visible part of the whole-process time; both are reported.

Determinism: with ``thread=1`` and ``seed`` fixed, fastText training is reproducible on one machine
(with several threads it is not: the threads update shared weights without locks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from _text import median_seconds  # benchmarks/ is on sys.path: this script's folder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "labeled"
RAW = ROOT / "data" / "raw"
MANIFEST = ROOT / "models" / "propclf.json"
DEFAULT_PTC = Path("..") / "shared" / "ptc"  # relative to the repository root
SEED = 0
FOLDS, QUICK_FOLDS = 5, 2
MEGABYTES, QUICK_MEGABYTES = 20.0, 1.0
RUNS, QUICK_RUNS = 3, 1

#: Fixed fastText settings (not tuned on this corpus; see the module docstring).
FASTTEXT_SETTINGS: dict[str, Any] = {
    "lr": 0.5,
    "epoch": 25,
    "wordNgrams": 2,
    "dim": 50,
    "minn": 2,
    "maxn": 5,
    "minCount": 1,
    "loss": "softmax",
    "bucket": 2_000_000,
    "thread": 1,
    "seed": SEED,
    "verbose": 0,
}
LABEL_PREFIX = "__label__"


def _import_propclf() -> Any:
    try:
        import propclf
    except ImportError:  # not installed: use the checkout
        sys.path.insert(0, str(ROOT / "src"))
        import propclf
    return propclf


def _fasttext_version() -> str:
    from importlib import metadata

    for name in metadata.packages_distributions().get("fasttext", []) or ["fasttext"]:
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def _cores() -> dict[str, int | None]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "usable": usable}


def prepare(text: str) -> str:
    """fastText's input for one text: lower-cased, all white space (newlines too) collapsed to one space."""
    return " ".join(text.lower().split())


def train_fasttext(texts: Iterable[str], labels: Iterable[str]) -> Any:
    """A supervised fastText model with FASTTEXT_SETTINGS, trained through a temporary file."""
    import fasttext

    handle, path = tempfile.mkstemp(prefix="fasttext_peer_", suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for text, label in zip(texts, labels, strict=True):
                out.write(f"{LABEL_PREFIX}{label} {prepare(text)}\n")
        return fasttext.train_supervised(input=path, **FASTTEXT_SETTINGS)
    finally:
        os.unlink(path)


def predict_fasttext(model: Any, texts: Sequence[str]) -> list[str]:
    labels, _ = model.predict([prepare(text) for text in texts], k=1)
    return [label[0].removeprefix(LABEL_PREFIX) for label in labels]


def _macro_f1(true: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(true, predicted, labels=list(labels), average="macro", zero_division=0))


def _summary(scores: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(scores), 4), "std": round(statistics.pstdev(scores), 4)}


def compare(corpus: Any, hyperparameters: dict[str, Any], folds: int) -> dict[str, Any]:
    """Macro-F1 of propclf and fastText on the same grouped folds; training times per fold."""
    propclf = _import_propclf()
    from propclf._training.evaluation import splitter
    from propclf._training.pipeline import build_pipeline

    splits = splitter(corpus.labels, corpus.groups, folds, SEED)
    texts, labels = corpus.texts, corpus.labels
    rows, exact = [], {"propclf": [], "fasttext": [], "difference": []}
    for number, (train_index, test_index) in enumerate(splits, 1):
        train_texts, train_labels = [texts[i] for i in train_index], [labels[i] for i in train_index]
        test_texts, test_labels = [texts[i] for i in test_index], [labels[i] for i in test_index]

        started = time.perf_counter()
        model = train_fasttext(train_texts, train_labels)
        fasttext_seconds = time.perf_counter() - started
        fasttext_f1 = _macro_f1(test_labels, predict_fasttext(model, test_texts), propclf.LABELS)
        del model

        started = time.perf_counter()
        pipeline = build_pipeline(hyperparameters["features"], hyperparameters["C"], SEED)
        pipeline.fit(train_texts, train_labels)
        propclf_seconds = time.perf_counter() - started
        propclf_f1 = _macro_f1(test_labels, [str(p) for p in pipeline.predict(test_texts)], propclf.LABELS)

        exact["propclf"].append(propclf_f1)
        exact["fasttext"].append(fasttext_f1)
        exact["difference"].append(propclf_f1 - fasttext_f1)
        rows.append({"fold": number, "train_rows": len(train_index), "test_rows": len(test_index),
                     "propclf_macro_f1": round(propclf_f1, 4), "fasttext_macro_f1": round(fasttext_f1, 4),
                     "difference": round(propclf_f1 - fasttext_f1, 4),
                     "propclf_fit_seconds": round(propclf_seconds, 2),
                     "fasttext_train_seconds": round(fasttext_seconds, 2)})
        print(f"  fold {number}/{len(splits)}: propclf {propclf_f1:.4f} ({propclf_seconds:.1f} s), "
              f"fastText {fasttext_f1:.4f} ({fasttext_seconds:.1f} s)", file=sys.stderr, flush=True)
    return {
        "folds": len(splits),
        "per_fold": rows,
        "propclf": _summary(exact["propclf"]),
        "fasttext": _summary(exact["fasttext"]),
        "difference": _summary(exact["difference"]),
        "propclf_wins": sum(difference > 0 for difference in exact["difference"]),
    }


def speed_sentences(ptc_dir: Path, megabytes: float) -> tuple[list[str], str]:
    """Real sentences, prepared for fastText, repeated to ``megabytes`` MB; and where they came from."""
    propclf = _import_propclf()
    articles = sorted((ptc_dir / "train-articles").glob("*.txt"))
    source = f"PTC train-articles ({len(articles)} articles)"
    if not articles:
        articles = sorted(RAW.glob("*.txt"))
        source = f"data/raw/*.txt ({len(articles)} files; PTC folder {ptc_dir} not found)"
    unique = [prepare(span.text) for path in articles
              for span in propclf.segment(path.read_text(encoding="utf-8"))]
    unique = [sentence for sentence in unique if sentence]
    if not unique:
        raise SystemExit(f"no sentences for the speed test in {ptc_dir} or {RAW}")
    sizes = [len(sentence.encode("utf-8")) for sentence in unique]
    target, total, sentences = megabytes * 1e6, 0, []
    while total < target:
        for sentence, size in zip(unique, sizes):
            sentences.append(sentence)
            total += size
            if total >= target:
                break
    return sentences, f"{source}: {len(unique)} distinct sentences, {sum(sizes) / 1e6:.2f} MB"


def _rates(seconds: float, sentences: int, size: int) -> dict[str, Any]:
    return {"median_seconds": round(seconds, 3), "sentences_per_second": round(sentences / seconds),
            "mb_per_second": round(size / 1e6 / seconds, 2)}


def speed(corpus: Any, ptc_dir: Path, megabytes: float, runs: int) -> dict[str, Any]:
    """Train on the whole corpus, then time batch prediction (and the CLI, if on PATH)."""
    started = time.perf_counter()
    model = train_fasttext(corpus.texts, corpus.labels)
    train_seconds = time.perf_counter() - started
    sentences, source = speed_sentences(ptc_dir, megabytes)
    size = sum(len(sentence.encode("utf-8")) for sentence in sentences)
    model.predict(sentences[:1000], k=1)  # warm-up
    seconds, times = median_seconds(lambda: model.predict(sentences, k=1), runs)
    result: dict[str, Any] = {
        "source": source, "sentences": len(sentences), "megabytes": round(size / 1e6, 3), "runs": runs,
        "train_seconds_whole_corpus": round(train_seconds, 2),
        "python_predict": {**_rates(seconds, len(sentences), size), "seconds": [round(t, 3) for t in times]},
        "cli_predict": None,
    }
    binary = shutil.which("fasttext")
    if binary is None:
        result["cli_predict_note"] = "no fasttext binary on PATH: skipped"
        return result
    with tempfile.TemporaryDirectory(prefix="fasttext_peer_") as folder:
        model_path, input_path, one_path = (Path(folder) / name for name in ("model.bin", "all.txt", "one.txt"))
        model.save_model(str(model_path))
        input_path.write_text("".join(sentence + "\n" for sentence in sentences), encoding="utf-8")
        one_path.write_text(sentences[0] + "\n", encoding="utf-8")

        def cli(path: Path) -> None:
            subprocess.run([binary, "predict", str(model_path), str(path), "1"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        seconds, times = median_seconds(lambda: cli(input_path), runs)
        load_seconds, _ = median_seconds(lambda: cli(one_path), runs)  # start-up and model loading
        model_bytes = model_path.stat().st_size
    result["cli_predict"] = {**_rates(seconds, len(sentences), size), "seconds": [round(t, 3) for t in times],
                             "binary": binary, "model_mb": round(model_bytes / 1e6, 1),
                             "load_seconds": round(load_seconds, 3),
                             "mb_per_second_after_load": round(size / 1e6 / max(seconds - load_seconds, 1e-9), 2)}
    return result


def run(quick: bool = False, ptc_dir: Path = DEFAULT_PTC, megabytes: float | None = None,
        runs: int | None = None) -> dict[str, Any] | None:
    """Every figure of the comparison as a dict; None (after a one-line note) without fastText.

    ``megabytes`` and ``runs`` default to 20 and 3 (1 and 1 with ``quick``); a relative ``ptc_dir`` is
    taken from the repository root.
    """
    try:
        import fasttext  # noqa: F401
    except ImportError:
        print("fasttext_peer: fastText is not installed (pip install fasttext-numpy2-wheel); skipped.")
        return None
    propclf = _import_propclf()
    megabytes = (QUICK_MEGABYTES if quick else MEGABYTES) if megabytes is None else megabytes
    runs = (QUICK_RUNS if quick else RUNS) if runs is None else runs
    ptc_dir = Path(ptc_dir)
    if not ptc_dir.is_absolute():
        ptc_dir = ROOT / ptc_dir
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    hyperparameters = {key: manifest["hyperparameters"][key] for key in ("features", "C")}

    started = time.perf_counter()
    corpus = propclf.load_corpus(str(DATA))
    accuracy = compare(corpus, hyperparameters, QUICK_FOLDS if quick else FOLDS)
    manifest_score = next((row for row in manifest.get("search", {}).get("candidates", [])
                           if row["features"] == hyperparameters["features"] and row["C"] == hyperparameters["C"]),
                          None)
    accuracy["manifest_search_score"] = manifest_score
    return {
        "benchmark": "fasttext_peer",
        "quick": quick,
        "corpus": {"path": "data/labeled", "rows": len(corpus), "groups": len(set(corpus.groups)),
                   "per_label": {label: corpus.labels.count(label) for label in propclf.LABELS}},
        "seed": SEED,
        "metric": "macro-F1 over slogan/critique/neutral; mean and population std over folds",
        "propclf_settings": {**hyperparameters, "source": "models/propclf.json hyperparameters"},
        "fasttext_settings": {**FASTTEXT_SETTINGS, "preprocessing": "lower-case, white space collapsed"},
        "accuracy": accuracy,
        "speed": speed(corpus, ptc_dir, megabytes, runs),
        "versions": {"fasttext": _fasttext_version(), "propclf": propclf.__version__,
                     "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cores": _cores()},
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def format_summary(result: dict[str, Any]) -> str:
    accuracy, speed_result = result["accuracy"], result["speed"]
    prop, fast, diff = accuracy["propclf"], accuracy["fasttext"], accuracy["difference"]
    settings = result["propclf_settings"]
    lines = [
        f"fastText peer comparison ({result['versions']['fasttext']}, "
        f"{result['machine']['cores']['usable']} usable cores){' [quick]' if result['quick'] else ''}",
        f"  corpus: {result['corpus']['rows']} rows, {result['corpus']['groups']} groups; "
        f"{accuracy['folds']} grouped folds, seed {result['seed']}",
        f"  propclf ({settings['features']}, C={settings['C']}): macro-F1 {prop['mean']:.4f} ± {prop['std']:.4f}",
        f"  fastText (fixed settings):  macro-F1 {fast['mean']:.4f} ± {fast['std']:.4f}",
        f"  propclf - fastText per fold: {diff['mean']:+.4f} ± {diff['std']:.4f} "
        f"(propclf ahead on {accuracy['propclf_wins']}/{accuracy['folds']} folds)",
        "  per fold propclf / fastText: " + ", ".join(
            f"{row['propclf_macro_f1']:.4f}/{row['fasttext_macro_f1']:.4f}" for row in accuracy["per_fold"]),
        f"  speed text: {speed_result['source']}; repeated to {speed_result['sentences']} sentences, "
        f"{speed_result['megabytes']:.2f} MB",
    ]
    python_predict, cli = speed_result["python_predict"], speed_result["cli_predict"]
    lines.append(f"  fastText predict (Python, batch, k=1): {python_predict['sentences_per_second']:,} sentences/s, "
                 f"{python_predict['mb_per_second']:.2f} MB/s (median of {speed_result['runs']} run(s), "
                 f"{python_predict['median_seconds']:.2f} s)")
    if cli is None:
        lines.append(f"  fastText CLI: {speed_result.get('cli_predict_note', 'skipped')}")
    else:
        lines.append(f"  fastText CLI predict: {cli['sentences_per_second']:,} sentences/s, {cli['mb_per_second']:.2f} "
                     f"MB/s with loading its {cli['model_mb']:g} MB model ({cli['load_seconds']:.2f} s), "
                     f"{cli['mb_per_second_after_load']:.2f} MB/s after it")
    lines.append(f"  wall time: {result['wall_seconds']:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_FOLDS} folds, {QUICK_MEGABYTES:g} MB of text, {QUICK_RUNS} timed run")
    parser.add_argument("--ptc-dir", type=Path, default=DEFAULT_PTC,
                        help="the PTC folder; relative paths are from the repository root (default: ../shared/ptc)")
    parser.add_argument("--megabytes", type=float, default=None,
                        help=f"MB of sentences to predict for the speed test (default: {MEGABYTES:g}, "
                             f"{QUICK_MEGABYTES:g} with --quick)")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"timed runs, the median is reported (default: {RUNS}, {QUICK_RUNS} with --quick)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.megabytes is not None and args.megabytes <= 0:
        parser.error("--megabytes must be positive")
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    result = run(args.quick, args.ptc_dir, args.megabytes, args.runs)
    if result is None:
        return 0
    print(format_summary(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"  figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
