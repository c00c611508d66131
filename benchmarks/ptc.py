"""Benchmark propclf on the Propaganda Techniques Corpus (PTC), read from a folder outside this repository.

Run from the repository root::

    python benchmarks/ptc.py                  # full run: Markdown on stdout and in benchmarks/PTC_RESULTS.md
    python benchmarks/ptc.py --quick          # 2 folds, a small grid, at most 60 articles; writes nothing

Options: ``--ptc-dir`` (default ``../shared/ptc``), ``--folds`` (outer folds, default 5), ``--model``
(the propclf model for part C, default ``models``), ``--jobs`` (parallel fits, default all cores).
When the PTC folder is missing the script says so in one line and exits 0 (CI without the corpus).

What it measures:

A. propclf's pipeline (``build_pipeline``: TF-IDF into logistic regression) trained on PTC sentences,
   ``propaganda`` (any annotated span overlaps the sentence) against ``none``: the sentence-level task
   of NLP4IF-2019. Outer grouped CV by article (StratifiedGroupKFold, shuffled, seed 0); inside each
   training part, a grouped CV chooses the feature set, C and the probability threshold that maximise
   the propaganda class's F1 on out-of-fold predictions. The test articles are never seen by that choice.
B. The published test-set figures of that shared task, beside ours; the data and splits differ.
C. The bundled propclf model, untouched: does its slogan probability rank the PTC sentences that carry
   the ``Slogans`` technique above the others? ROC AUC, with a 95% interval from resampling articles.

No PTC text is printed or written: the report holds counts and scores only.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PTC = Path("..") / "shared" / "ptc"  # relative to the repository root
RESULTS = ROOT / "benchmarks" / "PTC_RESULTS.md"
SEED = 0
POSITIVE, NEGATIVE = "propaganda", "none"
SLOGANS = "Slogans"

#: Candidates for the inner search (a first look at one split found the best C between 0.3 and 10).
GRID: dict[str, list[Any]] = {"features": ["word", "char", "word+char"], "C": [0.3, 1.0, 3.0, 10.0]}
QUICK_GRID: dict[str, list[Any]] = {"features": ["word", "word+char"], "C": [0.3, 1.0]}
INNER_FOLDS, QUICK_INNER_FOLDS = 3, 2
QUICK_FOLDS, QUICK_ARTICLES = 2, 60
#: Decision thresholds tried on the predicted probability of ``propaganda``.
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)
BOOTSTRAP, QUICK_BOOTSTRAP = 1000, 200

#: NLP4IF-2019 shared task, sentence-level classification (SLC), official test set: F1 of the
#: propaganda class (Da San Martino et al., "Findings of the NLP4IF-2019 Shared Task on
#: Fine-Grained Propaganda Detection", 2019).
PUBLISHED = [("Logistic-regression baseline (organisers)", 0.4347), ("Best system (BERT-based)", 0.6323)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc-dir", default=str(DEFAULT_PTC),
                        help="the PTC folder; relative paths are from the repository root (default: ../shared/ptc)")
    parser.add_argument("--folds", type=int, default=5, help="outer cross-validation folds (default: 5)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_FOLDS} folds, a small grid, at most {QUICK_ARTICLES} articles; "
                             "does not write PTC_RESULTS.md")
    parser.add_argument("--model", default="models", help="propclf model for part C (default: models)")
    parser.add_argument("--jobs", type=int, default=-1, help="parallel fits (default: -1, all cores)")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    from _ptc import load_ptc, ptc_available

    from propclf import PropclfError, load_model
    from propclf._textio import atomic_write_text

    ptc_dir = _from_root(args.ptc_dir)
    if not ptc_available(ptc_dir):
        print(f"PTC corpus not found at {args.ptc_dir} (needs {ptc_dir}/train-articles and its labels); "
              "skipping the PTC benchmark")
        return 0
    try:
        sentences = load_ptc(ptc_dir)
        model = load_model(_from_root(args.model))
    except PropclfError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    all_articles = len({s.article_id for s in sentences})
    if args.quick:
        sentences = _sample_articles(sentences, QUICK_ARTICLES)
    folds = QUICK_FOLDS if args.quick else args.folds
    settings = {
        "grid": QUICK_GRID if args.quick else GRID,
        "inner_folds": QUICK_INNER_FOLDS if args.quick else INNER_FOLDS,
        "n_jobs": args.jobs,
    }
    data = {
        "sentences": len(sentences),
        "articles": len({s.article_id for s in sentences}),
        "all_articles": all_articles,
        "propaganda": sum(s.propaganda for s in sentences),
    }
    trained = _cross_validate(sentences, folds, settings)
    slogans = _slogan_ranking(sentences, model, BOOTSTRAP if not args.quick else QUICK_BOOTSTRAP)
    report = _report(args, data, folds, settings, trained, slogans, model,
                     run_time=time.perf_counter() - started)
    print(report, end="")
    if not args.quick:
        atomic_write_text(RESULTS, report)
        print(f"Written to {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


def _from_root(path: str) -> Path:
    """Relative paths are taken from the repository root, so the defaults work from any folder."""
    return Path(path) if Path(path).is_absolute() else ROOT / path


def _sample_articles(sentences: list[Any], limit: int) -> list[Any]:
    """The sentences of at most ``limit`` articles drawn at random (seed 0), in their original order."""
    ids = sorted({s.article_id for s in sentences})
    if len(ids) <= limit:
        return sentences
    keep = set(np.random.default_rng(SEED).choice(ids, size=limit, replace=False).tolist())
    return [s for s in sentences if s.article_id in keep]


# --- A. propclf's pipeline trained on PTC -------------------------------------------------------

def _splits(labels: np.ndarray, groups: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    return list(splitter.split(np.zeros(len(labels)), labels, groups))


def _prf(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 of the propaganda class (boolean arrays); 0 where undefined."""
    hits = int(np.sum(truth & predicted))
    precision = hits / int(predicted.sum()) if predicted.any() else 0.0
    recall = hits / int(truth.sum()) if truth.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _positive_column(classifier: Any) -> int:
    return list(classifier.classes_).index(POSITIVE)


def _inner_task(texts: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
                features: str, values_of_c: list[float]) -> dict[float, np.ndarray]:
    """For one inner split and feature set: the test rows' propaganda probability for every C.

    The same as fitting ``build_pipeline(features, C)`` once per C, but the vectorizers (which do
    not depend on C) are fitted once and the classifier refitted on their output.
    """
    from sklearn.base import clone

    from propclf._training.pipeline import build_pipeline

    pipeline = build_pipeline(features, values_of_c[0], SEED)
    vectorizer = pipeline.named_steps["features"]
    train_matrix = vectorizer.fit_transform(list(texts[train]))
    test_matrix = vectorizer.transform(list(texts[test]))
    probabilities = {}
    for value in values_of_c:
        classifier = clone(pipeline.named_steps["classifier"]).set_params(C=value).fit(train_matrix, labels[train])
        probabilities[value] = classifier.predict_proba(test_matrix)[:, _positive_column(classifier)]
    return probabilities


def _choose(texts: np.ndarray, labels: np.ndarray, groups: np.ndarray, settings: dict[str, Any]) -> dict[str, Any]:
    """Grouped CV on these (training) rows: the features, C and threshold with the best out-of-fold F1."""
    from joblib import Parallel, delayed

    grid = settings["grid"]
    splits = _splits(labels, groups, settings["inner_folds"])
    tasks = [(features, train, test) for features in grid["features"] for train, test in splits]
    results = Parallel(n_jobs=settings["n_jobs"])(
        delayed(_inner_task)(texts, labels, train, test, features, grid["C"]) for features, train, test in tasks
    )
    truth = labels == POSITIVE
    best: dict[str, Any] | None = None
    for features in grid["features"]:
        for value in grid["C"]:
            out_of_fold = np.empty(len(labels))
            for (task_features, _, test), probabilities in zip(tasks, results):
                if task_features == features:
                    out_of_fold[test] = probabilities[value]
            scores = [_prf(truth, out_of_fold >= threshold)[2] for threshold in THRESHOLDS]
            at = int(np.argmax(scores))  # ties: the lowest threshold
            candidate = {"features": features, "C": value, "threshold": float(THRESHOLDS[at]),
                         "inner_f1": scores[at]}
            # Strictly better only: ties keep the earlier candidate (fewer features, smaller C).
            if best is None or candidate["inner_f1"] > best["inner_f1"]:
                best = candidate
    assert best is not None
    return best


def _cross_validate(sentences: list[Any], folds: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Nested grouped CV; per-fold and pooled precision, recall, F1 of the propaganda class."""
    from propclf._training.pipeline import build_pipeline

    texts = np.array([s.text for s in sentences], dtype=object)
    labels = np.array([POSITIVE if s.propaganda else NEGATIVE for s in sentences])
    groups = np.array([s.article_id for s in sentences])
    truth = labels == POSITIVE
    probability = np.empty(len(sentences))
    threshold_of = np.empty(len(sentences))
    rows = []
    splits = _splits(labels, groups, folds)
    for number, (train, test) in enumerate(splits, start=1):
        started = time.perf_counter()
        choice = _choose(texts[train], labels[train], groups[train], settings)
        pipeline = build_pipeline(choice["features"], choice["C"], SEED).fit(list(texts[train]), labels[train])
        probability[test] = pipeline.predict_proba(list(texts[test]))[:, _positive_column(pipeline)]
        threshold_of[test] = choice["threshold"]
        precision, recall, f1 = _prf(truth[test], probability[test] >= choice["threshold"])
        rows.append({**choice, "fold": number, "articles": len(set(groups[test])), "sentences": len(test),
                     "propaganda": int(truth[test].sum()), "precision": precision, "recall": recall, "f1": f1})
        print(f"fold {number}/{folds}: {choice['features']}, C={choice['C']:g}, threshold "
              f"{choice['threshold']:.2f} (inner F1 {choice['inner_f1']:.3f}); test F1 {f1:.3f} "
              f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    return {
        "folds": rows,
        "pooled": _prf(truth, probability >= threshold_of),
        "pooled_at_half": _prf(truth, probability >= 0.5),
        "all_propaganda": _prf(truth, np.ones_like(truth)),
    }


# --- C. the bundled model's slogan probability against PTC's Slogans ----------------------------

def _slogan_ranking(sentences: list[Any], model: Any, resamples: int) -> dict[str, Any]:
    from propclf import LABELS

    column = LABELS.index("slogan")
    probabilities = np.array(model.predict_proba([s.text for s in sentences]))
    p_slogan = probabilities[:, column]
    labelled_slogan = probabilities.argmax(axis=1) == column
    has_slogans = np.array([SLOGANS in s.techniques for s in sentences])
    propaganda = np.array([s.propaganda for s in sentences])
    groups = np.array([s.article_id for s in sentences])
    comparisons = []
    for name, rows in (("all other PTC sentences", np.ones(len(sentences), dtype=bool)),
                       ("other propaganda sentences only", propaganda)):
        positives, negatives = has_slogans & rows, ~has_slogans & rows
        comparisons.append({
            "against": name,
            "positives": int(positives.sum()),
            "negatives": int(negatives.sum()),
            "auc": _auc(has_slogans[rows], p_slogan[rows]),
            "interval": _bootstrap_auc(has_slogans[rows], p_slogan[rows], groups[rows], resamples),
            "labelled_slogan": (int((labelled_slogan & positives).sum()), int((labelled_slogan & negatives).sum())),
        })
    return {"comparisons": comparisons, "articles_with_slogans": len(set(groups[has_slogans]))}


def _auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if truth.all() or not truth.any():
        return None
    return float(roc_auc_score(truth, scores))


def _bootstrap_auc(truth: np.ndarray, scores: np.ndarray, groups: np.ndarray,
                   resamples: int) -> tuple[float, float] | None:
    """A 95% percentile interval, resampling whole articles: Slogans sentences cluster in few articles."""
    ids, positions = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(positions == i) for i in range(len(ids))]
    rng = np.random.default_rng(SEED)
    values = []
    for _ in range(resamples):
        rows = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        value = _auc(truth[rows], scores[rows])
        if value is not None:
            values.append(value)
    if len(values) < resamples / 2:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


# --- the report ----------------------------------------------------------------------------------

def _report(args: argparse.Namespace, data: dict[str, Any], folds: int, settings: dict[str, Any],
            trained: dict[str, Any], slogans: dict[str, Any], model: Any, *, run_time: float) -> str:
    import sklearn

    import propclf

    rows = trained["folds"]
    share = data["propaganda"] / data["sentences"]
    subset = (f" (a random {data['articles']} of its {data['all_articles']} articles, `--quick`)"
              if data["articles"] < data["all_articles"] else "")
    grid = settings["grid"]
    lines = [
        "# propclf on the Propaganda Techniques Corpus (PTC)",
        "",
        f"- Command: `{_command()}` (from the repository root)",
        f"- Date: {date.today().isoformat()}; machine: {os.cpu_count()} cores; run time: {_duration(run_time)}",
        f"- Versions: propclf {propclf.__version__}, scikit-learn {sklearn.__version__}, "
        f"Python {sys.version.split()[0]}",
        f"- Data: `{args.ptc_dir}`{subset}: {data['sentences']:,} sentences (non-blank lines; the title is "
        f"the first) in {data['articles']} articles; {data['propaganda']:,} propaganda ({share:.1%}), "
        f"{data['sentences'] - data['propaganda']:,} none. A sentence is propaganda if any annotated span "
        "overlaps it. This folder is PTC version 2 (used at SemEval-2020 task 11; its README lists the "
        "annotation changes), not the NLP4IF-2019 release.",
        "",
        "## A. propclf's pipeline trained on PTC: propaganda vs none",
        "",
        f"Nested cross-validation grouped by article: outer StratifiedGroupKFold ({folds} folds, shuffled, "
        f"seed {SEED}); in each outer training part, a {settings['inner_folds']}-fold grouped CV chooses the "
        f"features ({', '.join(grid['features'])}), C ({', '.join(f'{c:g}' for c in grid['C'])}) and the "
        f"threshold on P(propaganda) ({THRESHOLDS[0]:.2f} to {THRESHOLDS[-1]:.2f} by 0.01) with the best "
        "out-of-fold F1 of the propaganda class. Scores are of the propaganda class on the outer test articles.",
        "",
        "| fold | articles | sentences | propaganda | features | C | threshold | inner F1 | precision | recall | F1 |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['fold']} | {row['articles']} | {row['sentences']:,} | {row['propaganda']:,} | "
                     f"{row['features']} | {row['C']:g} | {row['threshold']:.2f} | {row['inner_f1']:.3f} | "
                     f"{row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} |")
    spread = {key: _mean_std([row[key] for row in rows]) for key in ("precision", "recall", "f1")}
    lines.append(f"| mean ± std | | | | | | | | {spread['precision']} | {spread['recall']} | {spread['f1']} |")
    pooled, half, everything = trained["pooled"], trained["pooled_at_half"], trained["all_propaganda"]
    lines += [
        "",
        "| propaganda class, all folds pooled | precision | recall | F1 |",
        "|---|---:|---:|---:|",
        f"| propclf pipeline, chosen threshold | {pooled[0]:.3f} | {pooled[1]:.3f} | **{pooled[2]:.3f}** |",
        f"| propclf pipeline, threshold 0.50 | {half[0]:.3f} | {half[1]:.3f} | {half[2]:.3f} |",
        f"| every sentence called propaganda | {everything[0]:.3f} | {everything[1]:.3f} | {everything[2]:.3f} |",
        "",
        f"F1 {pooled[2]:.3f} pooled; {spread['f1']} over {folds} folds (mean ± sample std).",
        "",
        "## B. Published figures (NLP4IF-2019 sentence-level task, its official test set)",
        "",
        "| system | F1 (propaganda class) |",
        "|---|---:|",
        *(f"| {name} | {f1:.4f} |" for name, f1 in PUBLISHED),
        f"| *ours, above: grouped CV on the PTC training articles (pooled)* | *{pooled[2]:.4f}* |",
        "",
        "**The splits differ.** The published figures are on the shared task's held-out test articles, "
        "annotated as released for NLP4IF-2019; ours are cross-validation over the training articles of PTC "
        "version 2 (grouped by article, so no article is on both sides). F1 depends on the share of "
        "propaganda sentences (see the trivial row above), which may differ between the two. Read the "
        "comparison as a rough placement, not a ranking.",
        "",
        "## C. The bundled propclf model's slogan probability on PTC `Slogans` sentences",
        "",
        f"Model: `{args.model}` (sha256 {str(model.manifest.get('sha256', '?'))[:12]}), used as it is, not "
        "retrained here (the bundled model is trained on propclf's own corpus, not on PTC). "
        "Positives are the sentences that a `Slogans` span overlaps "
        f"({slogans['articles_with_slogans']} articles); the score is the model's P(slogan). "
        "95% intervals resample articles.",
        "",
        "| Slogans sentences against | Slogans sentences | others | ROC AUC | 95% interval "
        "| labelled `slogan` (Slogans / others) |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in slogans["comparisons"]:
        auc = f"{row['auc']:.3f}" if row["auc"] is not None else "n/a"
        interval = f"{row['interval'][0]:.3f}-{row['interval'][1]:.3f}" if row["interval"] else "n/a"
        hit, miss = row["labelled_slogan"]
        lines.append(f"| {row['against']} | {row['positives']:,} | {row['negatives']:,} | {auc} | {interval} | "
                     f"{hit} of {row['positives']:,} / {miss:,} of {row['negatives']:,} |")
    lines += [
        "",
        "An AUC of 0.5 is chance. propclf's `slogan` is a sentence in the voice of a regime or movement; "
        "PTC's `Slogans` is a brief, striking phrase used in news text, which propclf's "
        "guideline labels `neutral` when it is only reported. The two overlap without being the same thing.",
        "",
    ]
    return "\n".join(lines)


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _command() -> str:
    return " ".join(["python", *(shlex.quote(arg) for arg in sys.argv)])


if __name__ == "__main__":
    sys.exit(main())
