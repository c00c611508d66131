"""The evaluation report: baselines, calibration, learning curve, errors, and figures.

Everything is measured on the same grouped, stratified folds, so the numbers in one report can be
compared with each other. The report is a folder: ``REPORT.md`` plus PNG figures (matplotlib).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ._corpus import Corpus
from ._labels import LABELS
from ._model import build_pipeline
from ._textio import atomic_write_bytes, atomic_write_text

__all__ = ["write_report", "KEYWORDS", "expected_calibration_error"]

# A keyword lexicon, the baseline a user could write in an afternoon. It is a baseline to beat,
# never a labeler: no row of the corpus was labeled with it.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "slogan": ("long live", "glory", "let us", "forward", "hail", "heroic", "great leader", "beloved",
               "motherland", "fatherland", "victory", "comrades", "down with", "!"),
    "critique": ("propaganda", "regime", "totalitarian", "repressive", "repression", "oppressive", "lies",
                 "lie", "cynical", "brutal", "sham", "cult", "dictator", "censorship", "so-called", "abuses"),
}
LEARNING_FRACTIONS = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0)
CALIBRATION_BINS = 10


def keyword_predict(texts: list[str]) -> list[str]:
    """The lexicon baseline: the label whose keywords occur most; neutral when none or tied."""
    predictions = []
    for text in texts:
        lowered = text.lower()
        hits = {label: sum(len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)" if word != "!" else "!", lowered))
                           for word in words) for label, words in KEYWORDS.items()}
        best = max(hits, key=hits.get)
        predictions.append(best if hits[best] > 0 and list(hits.values()).count(hits[best]) == 1 else "neutral")
    return predictions


def expected_calibration_error(probabilities: Any, true: list[str], bins: int = CALIBRATION_BINS) -> tuple[float, list]:
    """Top-label ECE: the gap between confidence and accuracy, averaged over equal-width bins."""
    import numpy

    confidence = probabilities.max(axis=1)
    correct = numpy.array([LABELS[k] == t for k, t in zip(probabilities.argmax(axis=1), true)], dtype=float)
    edges = numpy.linspace(1 / len(LABELS), 1.0, bins + 1)
    table, error = [], 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high) if low > edges[0] else (confidence <= high)
        if inside.any():
            gap = abs(confidence[inside].mean() - correct[inside].mean())
            error += inside.mean() * gap
            table.append((float(low), float(high), int(inside.sum()), float(confidence[inside].mean()),
                          float(correct[inside].mean())))
    return float(error), table


def _baselines(corpus: Corpus, folds: list[tuple[Any, Any]], hyperparameters: dict[str, Any],
               seed: int) -> list[dict[str, Any]]:
    """Macro-F1 of each baseline and of the shipped configuration, per fold, on the same folds."""
    import numpy
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from ._model import TOKEN_PATTERN

    def words() -> Any:
        return TfidfVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, sublinear_tf=True)

    candidates: list[tuple[str, str, Any]] = [
        ("majority class", "always the most frequent label of the training folds",
         lambda: DummyClassifier(strategy="most_frequent")),
        ("keyword lexicon", f"{sum(map(len, KEYWORDS.values()))} hand-picked words and phrases", None),
        ("multinomial naive Bayes", "word 1-2-gram TF-IDF, alpha 0.1",
         lambda: make_pipeline(words(), MultinomialNB(alpha=0.1))),
        ("linear SVM", "word + char TF-IDF as shipped, LinearSVC C=0.5, balanced",
         lambda: make_pipeline(build_pipeline("word+char").named_steps["features"],
                               LinearSVC(C=0.5, class_weight="balanced", random_state=seed))),
        ("TF-IDF words + LR", f"word 1-2-grams, C={hyperparameters['C']}",
         lambda: build_pipeline("word", hyperparameters["C"], seed)),
        ("TF-IDF characters + LR", f"char 2-5-grams, C={hyperparameters['C']}",
         lambda: build_pipeline("char", hyperparameters["C"], seed)),
        ("propclf (shipped)", f"features={hyperparameters['features']}, C={hyperparameters['C']}",
         lambda: build_pipeline(hyperparameters["features"], hyperparameters["C"], seed)),
    ]
    rows = []
    for name, settings, make in candidates:
        scores = []
        for train_index, test_index in folds:
            test_texts = [corpus.texts[i] for i in test_index]
            if make is None:
                predicted = keyword_predict(test_texts)
            else:
                model = make().fit([corpus.texts[i] for i in train_index], [corpus.labels[i] for i in train_index])
                predicted = list(model.predict(test_texts))
            scores.append(f1_score([corpus.labels[i] for i in test_index], predicted, labels=list(LABELS),
                                   average="macro", zero_division=0))
        rows.append({"name": name, "settings": settings, "macro_f1": float(numpy.mean(scores)),
                     "std": float(numpy.std(scores)), "per_fold": [round(float(s), 4) for s in scores]})
    return rows


def _learning_curve(corpus: Corpus, folds: list[tuple[Any, Any]], hyperparameters: dict[str, Any],
                    seed: int) -> list[dict]:
    """Macro-F1 against the number of training rows: a fraction of each training fold's groups."""
    import numpy
    from sklearn.metrics import f1_score

    rng = numpy.random.default_rng(seed)
    points = []
    for fraction in LEARNING_FRACTIONS:
        scores, sizes = [], []
        for train_index, test_index in folds:
            groups = sorted({corpus.groups[i] for i in train_index})
            keep = set(rng.permutation(groups)[: max(2, int(round(fraction * len(groups))))])
            picked = [i for i in train_index if corpus.groups[i] in keep]
            if len({corpus.labels[i] for i in picked}) < len(LABELS):
                continue
            model = build_pipeline(hyperparameters["features"], hyperparameters["C"], seed)
            model.fit([corpus.texts[i] for i in picked], [corpus.labels[i] for i in picked])
            predicted = model.predict([corpus.texts[i] for i in test_index])
            scores.append(f1_score([corpus.labels[i] for i in test_index], predicted, labels=list(LABELS),
                                   average="macro"))
            sizes.append(len(picked))
        points.append({"fraction": fraction, "rows": int(numpy.mean(sizes)), "macro_f1": float(numpy.mean(scores)),
                       "std": float(numpy.std(scores))})
    return points


def _figures(out: Path, corpus: Corpus, probabilities: Any, curve: list[dict], calibration: list,
             calibration_after: list) -> list[str]:
    import io

    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt
    import numpy
    from sklearn.metrics import confusion_matrix, precision_recall_curve

    written = []

    def save(figure: Any, name: str) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(figure)
        atomic_write_bytes(out / name, buffer.getvalue())
        written.append(name)

    predicted = [LABELS[k] for k in probabilities.argmax(axis=1)]
    matrix = confusion_matrix(corpus.labels, predicted, labels=list(LABELS))
    figure, axes = plt.subplots(figsize=(4.6, 4))
    axes.imshow(matrix, cmap="Blues")
    for (r, c), value in numpy.ndenumerate(matrix):
        axes.text(c, r, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
    axes.set_xticks(range(len(LABELS)), LABELS)
    axes.set_yticks(range(len(LABELS)), LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (grouped 5-fold CV)")
    save(figure, "confusion_matrix.png")

    figure, axes = plt.subplots(figsize=(5, 4))
    for k, label in enumerate(LABELS):
        precision, recall, _ = precision_recall_curve([t == label for t in corpus.labels], probabilities[:, k])
        axes.plot(recall, precision, label=label)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_ylim(0, 1.02)
    axes.legend()
    axes.set_title("Precision-recall per label (out of fold)")
    save(figure, "precision_recall.png")

    figure, axes = plt.subplots(figsize=(5, 4))
    rows = [p["rows"] for p in curve]
    means = numpy.array([p["macro_f1"] for p in curve])
    spread = numpy.array([p["std"] for p in curve])
    axes.plot(rows, means, marker="o")
    axes.fill_between(rows, means - spread, means + spread, alpha=0.2)
    axes.set_xlabel("training rows")
    axes.set_ylabel("macro-F1 (grouped 5-fold CV)")
    axes.set_title("Learning curve")
    save(figure, "learning_curve.png")

    figure, axes = plt.subplots(figsize=(4.6, 4))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.plot([c[3] for c in calibration], [c[4] for c in calibration], marker="o", label="as fitted")
    axes.plot([c[3] for c in calibration_after], [c[4] for c in calibration_after], marker="s",
              label="temperature-scaled (shipped)")
    axes.legend()
    axes.set_xlabel("mean predicted probability (top label)")
    axes.set_ylabel("observed accuracy")
    axes.set_title("Reliability diagram (out of fold)")
    save(figure, "reliability.png")
    return written


def write_report(corpus: Corpus, evaluation: dict[str, Any], hyperparameters: dict[str, Any], out: str | Path,
                 *, seed: int = 0, folds: int = 5, probabilities: Any = None, calibrated: Any = None) -> dict[str, Any]:
    """Measure baselines, calibration, learning curve and errors; write REPORT.md and figures to ``out``.

    ``probabilities`` are the out-of-fold probabilities of the shipped configuration (computed here
    if not given); ``calibrated`` the same after temperature scaling, cross-fitted (computed likewise).
    """
    from ._train import _splitter, calibrate, out_of_fold_probabilities

    out = Path(out)
    splits = _splitter(corpus.labels, corpus.groups, folds, seed)
    baselines = _baselines(corpus, splits, hyperparameters, seed)
    if probabilities is None:
        probabilities = out_of_fold_probabilities(corpus, hyperparameters, seed=seed, folds=folds)
    if calibrated is None:
        calibrated = calibrate(corpus, probabilities, seed=seed, folds=folds)["cross_fitted"]
    error, calibration = expected_calibration_error(probabilities, corpus.labels)
    error_after, calibration_after = expected_calibration_error(calibrated, corpus.labels)
    curve = _learning_curve(corpus, splits, hyperparameters, seed)
    figures = _figures(out, corpus, probabilities, curve, calibration, calibration_after)
    mistakes = _mistakes(corpus, probabilities)
    summary = {"baselines": baselines, "expected_calibration_error": round(error, 4),
               "expected_calibration_error_after": round(error_after, 4),
               "calibration_bins": calibration, "calibration_bins_after": calibration_after,
               "learning_curve": curve, "figures": figures, "mistakes": len(mistakes)}
    atomic_write_text(out / "REPORT.md", _markdown(corpus, evaluation, summary, mistakes, folds))
    return summary


def _mistakes(corpus: Corpus, probabilities: Any) -> list[tuple[str, str, str, list[float], str]]:
    """Cross-validation mistakes, most confident first: (id, true, predicted, probabilities, text)."""
    rows = []
    for i, row in enumerate(probabilities):
        predicted = LABELS[int(row.argmax())]
        if predicted != corpus.labels[i]:
            rounded = [round(float(p), 3) for p in row]
            rows.append((corpus.ids[i], corpus.labels[i], predicted, rounded, corpus.texts[i]))
    return sorted(rows, key=lambda r: -max(r[3]))


def _markdown(corpus: Corpus, evaluation: dict[str, Any], summary: dict[str, Any], mistakes: list, folds: int) -> str:
    from ._train import format_evaluation

    best = max(summary["baselines"], key=lambda r: r["macro_f1"])
    shipped = next(r for r in summary["baselines"] if r["name"] == "propclf (shipped)")
    lines = ["# propclf evaluation report", "",
             f"{len(corpus)} rows, {len(set(corpus.groups))} groups; grouped stratified {folds}-fold "
             "cross-validation; every table below uses the same folds.", "",
             "## Nested cross-validation and the real-text check", "", "```", format_evaluation(evaluation), "```", "",
             "![confusion matrix](confusion_matrix.png) ![precision-recall](precision_recall.png)", "",
             "## Baselines (same folds; macro-F1, mean ± std over folds)", "",
             "| model | settings | macro-F1 |", "|---|---|---:|"]
    for row in summary["baselines"]:
        lines.append(f"| {row['name']} | {row['settings']} | {row['macro_f1']:.3f} ± {row['std']:.3f} |")
    verdict = ("the best" if best is shipped else
               f"within one standard deviation of the best ({best['name']})"
               if best["macro_f1"] - shipped["macro_f1"] <= best["std"] else
               f"NOT within one standard deviation of the best ({best['name']})")
    lines += ["", f"The shipped configuration is {verdict}. Hyperparameters here are the shipped model's; "
              "the nested figures above include their choice.", "",
              "## Learning curve", "", "![learning curve](learning_curve.png)", "",
              "| training rows | macro-F1 |", "|---:|---:|"]
    lines += [f"| {p['rows']} | {p['macro_f1']:.3f} ± {p['std']:.3f} |" for p in summary["learning_curve"]]
    lines += ["", "## Calibration", "", "![reliability diagram](reliability.png)", "",
              f"Expected calibration error (top label, {CALIBRATION_BINS} bins, out of fold): "
              f"**{summary['expected_calibration_error']:.3f}** as fitted, "
              f"**{summary['expected_calibration_error_after']:.3f}** after temperature scaling (the temperature "
              "fitted on the other folds' out-of-fold probabilities). The shipped model applies the temperature "
              "fitted on all of them (see `calibration` in the manifest). Scaling never changes the top label, "
              "so the tables above are unaffected.", ""]
    for title, key in (("As fitted", "calibration_bins"), ("Temperature-scaled", "calibration_bins_after")):
        lines += [f"{title}:", "", "| confidence bin | sentences | mean confidence | accuracy |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {low:.2f}-{high:.2f} | {n} | {c:.3f} | {a:.3f} |" for low, high, n, c, a in summary[key]]
        lines.append("")
    lines += ["", f"## Errors ({len(mistakes)} out-of-fold mistakes, most confident first)", "",
              "| id | true | predicted | p(slogan, critique, neutral) | sentence |", "|---|---|---|---|---|"]
    for key, true, predicted, probabilities, text in mistakes:
        lines.append(f"| {key} | {true} | {predicted} | {', '.join(f'{p:.2f}' for p in probabilities)} | "
                     f"{text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
