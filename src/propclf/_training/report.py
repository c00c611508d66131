"""The evaluation report: real text first, then the candidates, baselines, learning curve,
calibration, errors, and figures.

Baselines and the learning curve are measured the way the settings were chosen: trained on the
rows the team wrote, tested on real text (the seed documents and the challenge set), or, when a
corpus has no real text, on its grouped folds. The report is a folder: ``REPORT.md`` plus PNG
figures (matplotlib). Cross-writer sentences are never printed in it: only their figures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .._labels import LABELS
from .._plain import TOKEN_PATTERN
from .._textio import atomic_write_bytes, atomic_write_text
from .corpus import Corpus
from .evaluation import (
    CALIBRATION_BINS,
    HeldOutSet,
    calibration_set,
    cross_fitted_temperature,
    expected_calibration_error,
    format_evaluation,
    scale,
)
from .pipeline import build_pipeline, class_weight_name, describe_settings, settings_of
from .shortcuts import MAX_LABEL_SHARE, format_shortcuts, shortcuts

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


def _test_splits(corpus: Corpus, held_out: list[HeldOutSet], measured: dict[str, Any]) -> tuple[str, list]:
    """Where baselines and the learning curve are measured: real text if there is any, else the folds."""
    search = measured["search"]
    challenge = calibration_set(held_out)
    texts = [corpus.texts[i] for i in search["seed_rows"]] + (challenge.texts if challenge else [])
    labels = [corpus.labels[i] for i in search["seed_rows"]] + (challenge.labels if challenge else [])
    if texts and search["written_rows"]:
        return "real text (seed documents + challenge set)", [(search["written_rows"], texts, labels)]
    return "grouped CV", [(list(train), [corpus.texts[i] for i in test], [corpus.labels[i] for i in test])
                          for train, test in search["splits"]]


def _baselines(corpus: Corpus, splits: list, hyperparameters: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    """Macro-F1 of each baseline and of the shipped configuration, on the same test splits."""
    import numpy
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    def words() -> Any:
        return TfidfVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, sublinear_tf=True)

    settings = dict(C=hyperparameters["C"], seed=seed, class_weight=hyperparameters["class_weight"])
    candidates: list[tuple[str, str, Any]] = [
        ("majority class", "always the most frequent label of the training rows",
         lambda: DummyClassifier(strategy="most_frequent")),
        ("keyword lexicon", f"{sum(map(len, KEYWORDS.values()))} hand-picked words and phrases", None),
        ("multinomial naive Bayes", "word 1-2-gram TF-IDF, alpha 0.1",
         lambda: make_pipeline(words(), MultinomialNB(alpha=0.1))),
        ("linear SVM", "word + char TF-IDF, LinearSVC C=0.5, balanced",
         lambda: make_pipeline(build_pipeline("word+char").named_steps["features"],
                               LinearSVC(C=0.5, class_weight="balanced", random_state=seed))),
        ("TF-IDF words + LR", f"word 1-2-grams, C={hyperparameters['C']}",
         lambda: build_pipeline("word", **settings)),
        ("TF-IDF characters + LR", f"char 2-5-grams, C={hyperparameters['C']}",
         lambda: build_pipeline("char", **settings)),
        ("propclf (shipped)", describe_settings(hyperparameters),
         lambda: build_pipeline(**hyperparameters, seed=seed)),
    ]
    rows = []
    for name, description, make in candidates:
        results = []
        for train_index, test_texts, test_labels in splits:
            if make is None:
                predicted = keyword_predict(test_texts)
            else:
                model = make().fit([corpus.texts[i] for i in train_index], [corpus.labels[i] for i in train_index])
                predicted = list(model.predict(test_texts))
            results.append(f1_score(test_labels, predicted, labels=list(LABELS), average="macro", zero_division=0))
        rows.append({"name": name, "settings": description, "macro_f1": float(numpy.mean(results)),
                     "std": float(numpy.std(results)), "per_split": [round(float(s), 4) for s in results]})
    return rows


def _learning_curve(corpus: Corpus, splits: list, hyperparameters: dict[str, Any], seed: int) -> list[dict]:
    """Macro-F1 against the number of training rows: a fraction of each training split's groups."""
    import numpy
    from sklearn.metrics import f1_score

    rng = numpy.random.default_rng(seed)
    points = []
    for fraction in LEARNING_FRACTIONS:
        results, sizes = [], []
        for train_index, test_texts, test_labels in splits:
            groups = sorted({corpus.groups[i] for i in train_index})
            keep = set(rng.permutation(groups)[: max(2, int(round(fraction * len(groups))))])
            picked = [i for i in train_index if corpus.groups[i] in keep]
            if len({corpus.labels[i] for i in picked}) < len(LABELS):
                continue
            model = build_pipeline(**hyperparameters, seed=seed)
            model.fit([corpus.texts[i] for i in picked], [corpus.labels[i] for i in picked])
            results.append(f1_score(test_labels, model.predict(test_texts), labels=list(LABELS), average="macro"))
            sizes.append(len(picked))
        if results:
            points.append({"fraction": fraction, "rows": int(numpy.mean(sizes)),
                           "macro_f1": round(float(numpy.mean(results)), 4),
                           "std": round(float(numpy.std(results)), 4)})
    return points


def _figures(out: Path, true: list[str], probabilities: Any, where: str, curve: list[dict], curve_on: str,
             calibration: list, calibration_after: list) -> list[str]:
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
    matrix = confusion_matrix(true, predicted, labels=list(LABELS))
    figure, axes = plt.subplots(figsize=(4.6, 4))
    axes.imshow(matrix, cmap="Blues")
    for (r, c), value in numpy.ndenumerate(matrix):
        axes.text(c, r, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
    axes.set_xticks(range(len(LABELS)), LABELS)
    axes.set_yticks(range(len(LABELS)), LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"Confusion matrix ({where})")
    save(figure, "confusion_matrix.png")

    figure, axes = plt.subplots(figsize=(5, 4))
    for k, label in enumerate(LABELS):
        precision, recall, _ = precision_recall_curve([t == label for t in true], probabilities[:, k])
        axes.plot(recall, precision, label=label)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_ylim(0, 1.02)
    axes.legend()
    axes.set_title(f"Precision-recall per label ({where})")
    save(figure, "precision_recall.png")

    figure, axes = plt.subplots(figsize=(5, 4))
    rows = [p["rows"] for p in curve]
    means = numpy.array([p["macro_f1"] for p in curve])
    spread = numpy.array([p["std"] for p in curve])
    axes.plot(rows, means, marker="o")
    axes.fill_between(rows, means - spread, means + spread, alpha=0.2)
    axes.set_xlabel("training rows")
    axes.set_ylabel(f"macro-F1 ({curve_on})")
    axes.set_title("Learning curve")
    save(figure, "learning_curve.png")

    figure, axes = plt.subplots(figsize=(4.6, 4))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.plot([c[3] for c in calibration], [c[4] for c in calibration], marker="o", label="as fitted")
    axes.plot([c[3] for c in calibration_after], [c[4] for c in calibration_after], marker="s",
              label="temperature-scaled")
    axes.legend()
    axes.set_xlabel("mean predicted probability (top label)")
    axes.set_ylabel("observed accuracy")
    axes.set_title(f"Reliability diagram ({where})")
    save(figure, "reliability.png")
    return written


def write_report(corpus: Corpus, held_out: list[HeldOutSet], measured: dict[str, Any], out: str | Path,
                 *, seed: int = 0) -> dict[str, Any]:
    """Measure baselines and the learning curve; write REPORT.md and figures to ``out``.

    ``measured`` is what ``_train.measure`` returned for this corpus and these held-out sets.
    """
    out = Path(out)
    hyperparameters = measured["hyperparameters"]
    curve_on, splits = _test_splits(corpus, held_out, measured)
    baselines = _baselines(corpus, splits, hyperparameters, seed)
    curve = _learning_curve(corpus, splits, hyperparameters, seed)
    challenge = calibration_set(held_out)
    if challenge is not None:
        # The figures show the challenge set: the shipped model on text it never saw.
        where, true = "challenge set", challenge.labels
        probabilities = measured["held_out"][challenge.name]
        calibrated = cross_fitted_temperature(probabilities, true, challenge.docs, seed)
    else:
        # The folds used: a small corpus can cut the folds asked for (see ``splitter``).
        folds = measured["evaluation"]["cross_validation"]["folds"]
        where, true = f"grouped {folds}-fold CV", corpus.labels
        probabilities = measured["out_of_fold"]
        calibrated = scale(probabilities, measured["calibration"]["temperature"])
    error, calibration = expected_calibration_error(probabilities, true)
    error_after, calibration_after = expected_calibration_error(calibrated, true)
    figures = _figures(out, true, probabilities, where, curve, curve_on, calibration, calibration_after)
    summary = {"baselines": baselines, "baselines_on": curve_on, "learning_curve": curve,
               "expected_calibration_error": round(error, 4),
               "expected_calibration_error_after": round(error_after, 4), "calibration_on": where,
               "calibration_bins": calibration, "calibration_bins_after": calibration_after, "figures": figures}
    mistakes = {
        "challenge": _mistakes([f"{challenge.docs[i]}#{i}" for i in range(len(challenge))], challenge.labels,
                               challenge.texts, measured["held_out"][challenge.name]) if challenge else [],
        "seeds": _mistakes([corpus.ids[i] for i in measured["search"]["seed_rows"]],
                           [corpus.labels[i] for i in measured["search"]["seed_rows"]],
                           [corpus.texts[i] for i in measured["search"]["seed_rows"]],
                           measured["seed_probabilities"]) if measured["seed_probabilities"] is not None else [],
        "corpus": _mistakes(corpus.ids, corpus.labels, corpus.texts, measured["out_of_fold"]),
    }
    summary["mistakes"] = {name: len(rows) for name, rows in mistakes.items()}
    atomic_write_text(out / "REPORT.md", _markdown(corpus, measured, summary, mistakes))
    return summary


def _mistakes(ids: list[str], labels: list[str], texts: list[str],
              probabilities: Any) -> list[tuple[str, str, str, list[float], str]]:
    """Mistakes, most confident first: (id, true, predicted, probabilities, text)."""
    rows = []
    for i, row in enumerate(probabilities):
        predicted = LABELS[int(row.argmax())]
        if predicted != labels[i]:
            rows.append((ids[i], labels[i], predicted, [round(float(p), 3) for p in row], texts[i]))
    return sorted(rows, key=lambda r: -max(r[3]))


def _mistake_table(rows: list) -> list[str]:
    lines = ["| id | true | predicted | p(slogan, critique, neutral) | sentence |", "|---|---|---|---|---|"]
    for key, true, predicted, probabilities, text in rows:
        lines.append(f"| {key} | {true} | {predicted} | {', '.join(f'{p:.2f}' for p in probabilities)} | "
                     f"{text.replace('|', '/')} |")
    return lines


def _markdown(corpus: Corpus, measured: dict[str, Any], summary: dict[str, Any], mistakes: dict[str, list]) -> str:
    evaluation, calibration = measured["evaluation"], measured["calibration"]
    selection = evaluation["selection"]
    best = max(summary["baselines"], key=lambda r: r["macro_f1"])
    shipped = next(r for r in summary["baselines"] if r["name"] == "propclf (shipped)")
    lines = ["# propclf evaluation report", "",
             f"{len(corpus)} training rows, {len(set(corpus.groups))} groups. Real text comes first: sentences no "
             "model here was trained on. Grouped cross-validation on the corpus comes last, as the in-corpus "
             "figure it is.", "",
             "## Evaluation", "", "```", format_evaluation(evaluation), "```", "",
             "![confusion matrix](confusion_matrix.png) ![precision-recall](precision_recall.png)", "",
             "## Shortcuts in the training corpus", "",
             f"Surface cues that could stand in for the voice; no watched word may give one label more than "
             f"{MAX_LABEL_SHARE:.0%} of its rows (a test checks the committed corpus).", "",
             *format_shortcuts(shortcuts(corpus.texts, corpus.labels)), "",
             f"## How the settings were chosen: {selection['by']}", "",
             "Each candidate's real-text figures come from a model trained on the corpus without the seed "
             "documents; its CV figure from the same grouped folds as every other.", ""]
    table = selection["candidates"]
    real_columns = [key for key in ("seeds_macro_f1", "challenge_macro_f1", "real_text_macro_f1") if key in table[0]]
    weighted = "encoder_weight" in table[0]
    headings = ["features", "C", "class weight", *(["encoder weight"] if weighted else []), "CV macro-F1",
                *(k.replace("_macro_f1", "").replace("_", " ") + " macro-F1" for k in real_columns)]
    lines += ["| " + " | ".join(headings) + " |",
              "|---|---:|---|" + "---:|" * (weighted + 1 + len(real_columns))]
    for row in sorted(table, key=lambda r: -r.get("real_text_macro_f1", r["cv_macro_f1"])):
        mark = " **(chosen)**" if settings_of(row) == selection["chosen"] else ""
        lines.append(f"| {row['features']}{mark} | {row['C']} | {class_weight_name(row['class_weight'])} | "
                     + " | ".join([*([f"{row['encoder_weight']:g}"] if weighted else []),
                                   f"{row['cv_macro_f1']:.3f} ± {row['cv_std']:.3f}",
                                   *(f"{row[k]:.3f}" for k in real_columns)]) + " |")
    lines += ["", f"## Baselines (macro-F1 on {summary['baselines_on']})", "",
              "| model | settings | macro-F1 |", "|---|---|---:|"]
    for row in summary["baselines"]:
        spread = f" ± {row['std']:.3f}" if len(row["per_split"]) > 1 else ""
        lines.append(f"| {row['name']} | {row['settings']} | {row['macro_f1']:.3f}{spread} |")
    gap = best["macro_f1"] - shipped["macro_f1"]
    verdict = "the best" if best is shipped else f"behind {best['name']} by {gap:.3f}"
    lines += ["", f"The shipped configuration is {verdict} here.", "",
              "## Learning curve", "", "![learning curve](learning_curve.png)", "",
              f"Macro-F1 on {summary['baselines_on']} against the number of training rows (a random share of the "
              "training groups):", "", "| training rows | macro-F1 |", "|---:|---:|"]
    lines += [f"| {p['rows']} | {p['macro_f1']:.3f} |" for p in summary["learning_curve"]]
    lines += ["", "## Calibration", "", "![reliability diagram](reliability.png)", "",
              f"The shipped temperature, **{calibration['temperature']}**, was fitted on {calibration['fitted_on']}. "
              f"Expected calibration error (top label, {CALIBRATION_BINS} bins) on the {summary['calibration_on']}: "
              f"**{summary['expected_calibration_error']:.3f}** as fitted, "
              f"**{summary['expected_calibration_error_after']:.3f}** after temperature scaling (on the challenge "
              "set, each half of the documents scaled by a temperature fitted on the other half). Scaling never "
              "changes the top label, so the tables above are unaffected.", ""]
    for title, key in (("As fitted", "calibration_bins"), ("Temperature-scaled", "calibration_bins_after")):
        lines += [f"{title}:", "", "| confidence bin | sentences | mean confidence | accuracy |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {low:.2f}-{high:.2f} | {n} | {c:.3f} | {a:.3f} |" for low, high, n, c, a in summary[key]]
        lines.append("")
    for name, title in (("challenge", "challenge-set mistakes of the shipped model"),
                        ("seeds", "seed-document mistakes of the model trained without them"),
                        ("corpus", "out-of-fold mistakes, most confident first")):
        if name == "corpus" or mistakes[name]:
            lines += ["", f"## Errors: {len(mistakes[name])} {title}", "", *_mistake_table(mistakes[name])]
    return "\n".join(lines) + "\n"
