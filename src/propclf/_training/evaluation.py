"""Evaluation: the held-out real-text sets, the scores, calibration error and temperature.

Training and the report both measure with these functions, so a figure means the same everywhere.

Three kinds of text the model is measured on, most telling first:

``seeds``       the real seed documents, scored by a model trained without them;
``challenge``   the project's challenge set (``data/challenge/``): documents written and labeled by
                people who never read the corpus. Never trained on; it chooses the settings and fits
                the calibration temperature, so its own figures are slightly optimistic;
``crosswriter`` further sets written by other writers who never read the corpus (an optional path).
                Neither trained on nor used for any choice: the cleanest figure there is.

Grouped cross-validation on the corpus comes last: it mixes the corpus' own sentences and says how
well the model has learned the corpus, not how it does on text the corpus did not teach.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import CorpusError
from .._labels import LABELS
from .corpus import _decode, _read_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EvaluationResult",
    "HeldOutSet",
    "load_held_out",
    "real_text_sets",
    "check_held_out",
    "calibration_set",
    "near_duplicates",
    "splitter",
    "out_of_fold_probabilities",
    "scores",
    "expected_calibration_error",
    "scale",
    "fit_temperature",
    "confidence_table",
    "NEAR_DUPLICATE",
    "CONFIDENCE_LEVELS",
    "CALIBRATION_BINS",
]

#: Character TF-IDF cosine at or above which a corpus row counts as a near-duplicate of a held-out row.
NEAR_DUPLICATE = 0.8
#: The --min-confidence levels at which accuracy and coverage are reported.
CONFIDENCE_LEVELS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CALIBRATION_BINS = 10
#: The optional cross-writer sets, read from beside the checkout when they are there.
DEFAULT_CROSSWRITER = Path("..") / "shared" / "crosswriter"
CROSSWRITER_FILES = ("documents.csv", "contrast.csv")


@dataclass(frozen=True)
class HeldOutSet:
    """Labeled sentences that no model is trained on. ``docs`` groups them (a document, a topic)."""

    name: str
    path: str
    texts: list[str]
    labels: list[str]
    docs: list[str]
    #: What the set is used for besides reporting: "selection and calibration", or "none".
    use: str

    def __len__(self) -> int:
        return len(self.texts)


class EvaluationResult(dict[str, Any]):
    """What ``evaluate`` returns: a dict (``real_text``, ``selection``, ``cross_validation``,
    ``majority_baseline``, ``calibration``, ``hyperparameters``, and ``report`` when one was written)
    whose tables are also pandas DataFrames (pandas is imported by these methods only)."""

    def to_frame(self) -> pd.DataFrame:
        """Per-label scores: one row per measured set and label, with columns ``set``, ``label``,
        ``precision``, ``recall``, ``f1`` and ``support``; the real-text sets first (as in
        ``real_text``), then ``cross-validation`` (the out-of-fold predictions on the corpus)."""
        import pandas as pd

        measured = {**(self.get("real_text") or {}), "cross-validation": self["cross_validation"]}
        rows = [{"set": name, "label": label, **result["per_label"][label]}
                for name, result in measured.items() for label in LABELS]
        return pd.DataFrame(rows, columns=["set", "label", "precision", "recall", "f1", "support"])

    def candidates_frame(self) -> pd.DataFrame:
        """The settings the search tried: one row per candidate, with its settings (``class_weight`` named
        as the report names it: ``balanced``, ``none``, ``neutral x2``), its macro-F1 on each real-text set
        and in cross-validation, and ``chosen`` (True for the settings the model was trained with)."""
        import pandas as pd

        from .pipeline import class_weight_name, settings_of

        selection = self["selection"]
        rows = [{**row, "class_weight": class_weight_name(row["class_weight"]),
                 "chosen": settings_of(row) == selection["chosen"]} for row in selection["candidates"]]
        return pd.DataFrame(rows)


def load_held_out(path: str | Path, name: str, use: str = "none") -> HeldOutSet:
    """Read a held-out CSV (columns ``text`` and ``label``; ``doc`` or ``topic`` optional)."""
    path = Path(path)
    text = _decode(path, _read_bytes(path))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    missing = [column for column in ("text", "label") if column not in columns]
    if missing:
        raise CorpusError(f"{path}: missing column(s) {', '.join(missing)}")
    group_column = next((c for c in ("doc", "topic") if c in columns), None)
    texts, labels, docs = [], [], []
    try:
        for row in reader:
            if row["label"] not in LABELS:
                raise CorpusError(f"{path}, line {reader.line_num}: unknown label {row['label']!r} "
                                  f"(expected one of {', '.join(LABELS)})")
            texts.append(row["text"])
            labels.append(row["label"])
            docs.append(row[group_column] if group_column else str(reader.line_num))
    except csv.Error as exc:
        raise CorpusError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    if not texts:
        raise CorpusError(f"{path}: no rows")
    return HeldOutSet(name, path.as_posix(), texts, labels, docs, use)


def real_text_sets(challenge: str | Path | None, crosswriter: str | Path | None) -> list[HeldOutSet]:
    """The challenge set and the cross-writer sets that exist at these paths (a missing path is skipped)."""
    sets = []
    if challenge is not None and Path(challenge).is_file():
        sets.append(load_held_out(challenge, "challenge", "selection and calibration"))
    if crosswriter is not None and Path(crosswriter).is_dir():
        for file in CROSSWRITER_FILES:
            if (Path(crosswriter) / file).is_file():
                sets.append(load_held_out(Path(crosswriter) / file, f"crosswriter {Path(file).stem}"))
    return sets


def near_duplicates(texts: list[str], others: list[str],
                    threshold: float = NEAR_DUPLICATE) -> list[tuple[int, int, float]]:
    """Pairs (row in ``texts``, row in ``others``, cosine) whose character 3-5-gram TF-IDF cosine is at
    least ``threshold``: the same sentence, or one rewritten with a few words changed."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts or not others:
        return []
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
    vectorizer.fit(texts + others)
    vectors = vectorizer.transform(texts)
    other_vectors = vectorizer.transform(others).T.tocsc()
    pairs = []
    for start in range(0, len(texts), 2000):
        similarity = (vectors[start:start + 2000] @ other_vectors).toarray()
        for row, column in zip(*(similarity >= threshold - 1e-9).nonzero()):
            pairs.append((start + int(row), int(column), round(float(similarity[row, column]), 4)))
    return pairs


def calibration_set(held_out: list[HeldOutSet]) -> HeldOutSet | None:
    """The held-out set that chooses the settings and fits the temperature (the challenge set), if any."""
    return next((s for s in held_out if "calibration" in s.use), None)


def check_held_out(ids: list[str], texts: list[str], held_out: list[HeldOutSet],
                   threshold: float = NEAR_DUPLICATE) -> dict[str, int]:
    """Raise CorpusError if a corpus row is a challenge sentence or a near-duplicate of one.

    For the cross-writer sets, which the project does not own, return instead how many of their
    sentences have a near-duplicate in the corpus (the same historical fact, told alike), so that
    the figures on them can say so.
    """
    counts = {}
    for held in held_out:
        pairs = near_duplicates(texts, held.texts, threshold)
        if pairs and held.use != "none":
            row, column, cosine = max(pairs, key=lambda pair: pair[2])
            raise CorpusError(f"corpus row {ids[row]} is a near-duplicate of a {held.name} sentence "
                              f"(character TF-IDF cosine {cosine:.2f}): {texts[row][:60]!r} ~ "
                              f"{held.texts[column][:60]!r}; held-out text must never be trained on")
        counts[held.name] = len({column for _, column, _ in pairs})
    return counts


def splitter(labels: list[str], groups: list[str], folds: int, seed: int) -> list[tuple[Any, Any]]:
    """Grouped, stratified folds: a group (twins, a document, a topic) never straddles two folds.

    A label's rows must span at least two groups, or some training split would lack that label; the number
    of folds is cut to the fewest groups any label spans.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    spans = {label: {group for group, other in zip(groups, labels, strict=True) if other == label}
             for label in set(labels)}
    fewest = min(spans, key=lambda label: (len(spans[label]), labels.count(label), label))
    folds = min(folds, len(spans[fewest]))
    if folds < 2:
        raise CorpusError(f"label {fewest!r} has {labels.count(fewest)} row(s) in {len(spans[fewest])} group(s); "
                          "every label needs rows in at least two groups to cross-validate")
    splits = list(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(labels, labels, groups))
    for train_index, _ in splits:
        missing = set(labels) - {labels[i] for i in train_index}
        if missing:  # the split put every group of a label in one test fold
            raise CorpusError(f"label {min(missing)!r} is missing from a training split of {folds}-fold "
                              "cross-validation; give it rows in more groups, or use fewer folds")
    return splits


def out_of_fold_probabilities(corpus: Any, hyperparameters: dict[str, Any], *, seed: int = 0,
                              folds: int = 5) -> Any:
    """Probabilities for every corpus row from a model that never saw its group; columns in LABELS order."""
    import numpy

    from .pipeline import build_pipeline, settings_of

    probabilities = numpy.zeros((len(corpus), len(LABELS)))
    for train_index, test_index in splitter(corpus.labels, corpus.groups, folds, seed):
        pipeline = build_pipeline(**settings_of(hyperparameters), seed=seed)
        pipeline.fit([corpus.texts[i] for i in train_index], [corpus.labels[i] for i in train_index])
        order = [list(pipeline.classes_).index(label) for label in LABELS]
        probabilities[test_index] = pipeline.predict_proba([corpus.texts[i] for i in test_index])[:, order]
    return probabilities


def scores(true: list[str], predicted: list[str]) -> dict[str, Any]:
    """Per-label precision, recall, F1 and support; macro-F1, accuracy and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=list(LABELS), zero_division=0
    )
    return {
        "per_label": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                    "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)
        },
        "macro_f1": round(float(f1.mean()), 4),
        "accuracy": round(float(accuracy_score(true, predicted)), 4),
        "confusion_matrix": {
            "labels": list(LABELS),
            "rows_true_columns_predicted": confusion_matrix(true, predicted, labels=list(LABELS)).tolist(),
        },
    }


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


def scale(probabilities: Any, temperature: float) -> Any:
    """Temperature scaling: softmax(logits / T), computed from probabilities as p^(1/T), renormalised."""
    import numpy

    logits = numpy.log(numpy.clip(probabilities, 1e-300, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = numpy.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def fit_temperature(probabilities: Any, labels: list[str]) -> float:
    """The temperature that minimises the log-loss of these probabilities."""
    import numpy
    from scipy.optimize import minimize_scalar

    truth = numpy.array([LABELS.index(label) for label in labels])
    rows = numpy.arange(len(truth))

    def loss(temperature: float) -> float:
        return float(-numpy.log(scale(probabilities, temperature)[rows, truth]).mean())

    return round(float(minimize_scalar(loss, bounds=(0.1, 10.0), method="bounded").x), 4)


def cross_fitted_temperature(probabilities: Any, labels: list[str], groups: list[str], seed: int,
                             folds: int = 2) -> Any:
    """Each group's probabilities scaled by a temperature fitted on the other groups only."""
    import numpy
    from sklearn.model_selection import GroupKFold

    scaled = numpy.zeros_like(probabilities)
    for train_index, test_index in GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(
            probabilities, labels, groups):
        temperature = fit_temperature(probabilities[train_index], [labels[i] for i in train_index])
        scaled[test_index] = scale(probabilities[test_index], temperature)
    return scaled


def confidence_table(probabilities: Any, true: list[str],
                     levels: tuple[float, ...] = CONFIDENCE_LEVELS) -> list[dict[str, Any]]:
    """For each --min-confidence level: the share of sentences kept, and the accuracy on those."""
    import numpy

    confidence = probabilities.max(axis=1)
    correct = numpy.array([LABELS[k] == t for k, t in zip(probabilities.argmax(axis=1), true)])
    table = []
    for level in levels:
        kept = confidence >= level
        table.append({"min_confidence": level, "kept": round(float(kept.mean()), 4),
                      "accuracy": round(float(correct[kept].mean()), 4) if kept.any() else None})
    return table


def held_out_scores(held_out: HeldOutSet, probabilities: Any, temperature: float | None,
                    seed: int) -> dict[str, Any]:
    """Scores, ECE before and after the temperature, and the confidence table of one held-out set."""
    predicted = [LABELS[k] for k in probabilities.argmax(axis=1)]
    result = {**scores(held_out.labels, predicted), "rows": len(held_out), "documents": len(set(held_out.docs)),
              "path": held_out.path, "use": held_out.use}
    before = expected_calibration_error(probabilities, held_out.labels)[0]
    result["ece_before"] = round(before, 4)
    if temperature is not None:
        calibrated = scale(probabilities, temperature)
        if "calibration" in held_out.use and len(set(held_out.docs)) >= 2:
            # The temperature was fitted on this set: measure its effect out of sample, document by document.
            cross = cross_fitted_temperature(probabilities, held_out.labels, held_out.docs, seed)
            result["ece_after"] = round(expected_calibration_error(cross, held_out.labels)[0], 4)
            result["ece_after_method"] = "temperature fitted on the other half of the documents"
        else:
            result["ece_after"] = round(expected_calibration_error(calibrated, held_out.labels)[0], 4)
            result["ece_after_method"] = "the shipped temperature (not fitted on this set)"
        result["at_min_confidence"] = confidence_table(calibrated, held_out.labels)
    else:
        result["at_min_confidence"] = confidence_table(probabilities, held_out.labels)
    return result


def label_table(result: dict[str, Any]) -> list[str]:
    """Per-label precision, recall, F1 and support as fixed-width lines."""
    lines = [f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for label in LABELS:
        row = result["per_label"][label]
        lines.append(f"{label:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
                     f"{row['support']:>8}")
    return lines


def confusion_lines(result: dict[str, Any]) -> list[str]:
    lines = ["Confusion matrix (rows: true, columns: predicted)", f"{'':<10}" + "".join(f"{x:>10}" for x in LABELS)]
    for label, counts in zip(LABELS, result["confusion_matrix"]["rows_true_columns_predicted"]):
        lines.append(f"{label:<10}" + "".join(f"{count:>10}" for count in counts))
    return lines


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The evaluation as plain-text tables, real text first (also used in the README and the report)."""
    lines: list[str] = []
    real = evaluation.get("real_text") or {}
    if real:
        lines += ["REAL TEXT (sentences the model never trained on)", "",
                  f"{'set':<26} {'rows':>5} {'macro-F1':>9} {'slogan':>7} {'critique':>9} {'neutral':>8} "
                  f"{'accuracy':>9} {'ECE':>6} {'ECE cal.':>9}"]
        for name, result in real.items():
            f1 = {label: result["per_label"][label]["f1"] for label in LABELS}
            after = result.get("ece_after")
            lines.append(f"{name:<26} {result['rows']:>5} {result['macro_f1']:>9.3f} {f1['slogan']:>7.3f} "
                         f"{f1['critique']:>9.3f} {f1['neutral']:>8.3f} {result['accuracy']:>9.3f} "
                         f"{result['ece_before']:>6.3f} {'' if after is None else f'{after:.3f}':>9}")
        for name, result in real.items():
            lines += ["", f"{name}: {result['rows']} sentences, {result['documents']} documents or topics; "
                          f"used for: {result['use']}",
                      *label_table(result), *confusion_lines(result)]
            kept = result.get("at_min_confidence") or []
            if kept:
                lines += [f"{'--min-confidence':<17}" + "".join(f"{row['min_confidence']:>7.2f}" for row in kept),
                          f"{'sentences kept':<17}" + "".join(f"{row['kept']:>7.0%}" for row in kept),
                          f"{'accuracy of kept':<17}" + "".join(
                              f"{'-' if row['accuracy'] is None else format(row['accuracy'], '.3f'):>7}"
                              for row in kept)]
        lines.append("")
    cv, base = evaluation["cross_validation"], evaluation["majority_baseline"]
    rows = sum(row["support"] for row in cv["per_label"].values())
    lines += [f"IN-CORPUS: grouped stratified {cv['folds']}-fold cross-validation ({rows} rows; how well the "
              "corpus is learned, not how real text goes)", "", *label_table(cv), "",
              f"{'':<24} {'propclf':>8} {'majority':>9}",
              f"{'macro-F1':<24} {cv['macro_f1']:>8.3f} {base['macro_f1']:>9.3f}",
              f"{'accuracy':<24} {cv['accuracy']:>8.3f} {base['accuracy']:>9.3f}",
              f"macro-F1 per fold: {', '.join(f'{f:.3f}' for f in cv['macro_f1_per_fold'])}",
              "", *confusion_lines(cv)]
    return "\n".join(lines)


def report_progress(progress: Callable[[str], None] | None, message: str) -> None:
    if progress is not None:
        progress(message)
