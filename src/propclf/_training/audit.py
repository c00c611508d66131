"""Checking the labels themselves: likely labeling mistakes, and agreement between two annotators.

``audit`` is confident learning (Northcutt et al., 2021) written plainly: out-of-fold
probabilities from grouped cross-validation; a per-label threshold, the mean probability the
model gives a label on the rows that carry it; a row is flagged when another label clears its
threshold and beats the given label. It only suggests; a person decides.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import InputError, shown
from .._labels import LABELS
from .._textio import atomic_writer, read_text
from .corpus import load_corpus

__all__ = ["Suspect", "audit", "write_suspects", "agreement", "format_agreement"]


@dataclass(frozen=True)
class Suspect:
    """A row whose label the model doubts, out of fold, with the label it suggests."""

    id: str
    text: str
    given: str
    suggested: str
    probabilities: dict[str, float]
    file: str

    @property
    def margin(self) -> float:
        return self.probabilities[self.suggested] - self.probabilities[self.given]


def audit(data: str | Path = "data/labeled", *, seed: int = 0, folds: int = 5,
          hyperparameters: dict[str, Any] | None = None) -> list[Suspect]:
    """Rows that are likely mislabeled, most doubtful first."""
    from .evaluation import out_of_fold_probabilities

    corpus = load_corpus(data)
    probabilities = out_of_fold_probabilities(corpus, hyperparameters or {}, seed=seed, folds=folds)
    given = [LABELS.index(label) for label in corpus.labels]
    thresholds = [probabilities[[i for i, g in enumerate(given) if g == k], k].mean() for k in range(len(LABELS))]
    suspects = []
    for i, label in enumerate(given):
        row = probabilities[i]
        candidates = [k for k in range(len(LABELS)) if k != label and row[k] >= thresholds[k] and row[k] > row[label]]
        if candidates:
            best = max(candidates, key=lambda k: row[k])
            suspects.append(Suspect(corpus.ids[i], corpus.texts[i], LABELS[label], LABELS[best],
                                    {name: round(float(p), 4) for name, p in zip(LABELS, row)}, corpus.files[i]))
    return sorted(suspects, key=lambda s: -s.margin)


_LABEL_DELIMITERS = {".csv": ",", ".tsv": "\t"}


def _read_labels(path: str | Path) -> dict[str, str]:
    """id -> label from a CSV (or TSV) with columns ``id`` (or ``text``) and ``label``."""
    delimiter = _LABEL_DELIMITERS.get(Path(path).suffix.lower())
    if delimiter is None:
        raise InputError(f"{path}: labels are read from a .csv or .tsv file")
    text = read_text(path)
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    columns = reader.fieldnames or []
    key = "id" if "id" in columns else "text" if "text" in columns else None
    if key is None or "label" not in columns:
        raise InputError(f"{path}: needs a 'label' column and an 'id' (or 'text') column; "
                         f"has {', '.join(map(shown, columns))}")
    labels: dict[str, str] = {}
    for row in reader:
        if row["label"] not in LABELS:
            raise InputError(f"{path}, line {reader.line_num}: unknown label {row['label']!r} "
                             f"(expected one of {', '.join(LABELS)})")
        if row[key] in labels:
            raise InputError(f"{path}, line {reader.line_num}: {key} {row[key]!r} appears twice")
        labels[row[key]] = row["label"]
    return labels


def agreement(first: str | Path, second: str | Path) -> dict[str, Any]:
    """Cohen's kappa, raw agreement and the confusion between two annotators' labels of the same rows."""
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    a, b = _read_labels(first), _read_labels(second)
    shared = [key for key in a if key in b]
    if not shared:
        raise InputError(f"{second}: no rows in common with {first} (matched by id, or by text without ids)")
    labels_a, labels_b = [a[key] for key in shared], [b[key] for key in shared]
    # With a single label in play, chance agreement is 1 and kappa is undefined.
    kappa = (round(float(cohen_kappa_score(labels_a, labels_b, labels=list(LABELS))), 4)
             if len(set(labels_a) | set(labels_b)) > 1 else None)
    return {
        "rows": len(shared),
        "only_first": len(a) - len(shared),
        "only_second": len(b) - len(shared),
        "kappa": kappa,
        "agreement": round(sum(x == y for x, y in zip(labels_a, labels_b)) / len(shared), 4),
        "confusion": confusion_matrix(labels_a, labels_b, labels=list(LABELS)).tolist(),
        "disagreements": [(key, a[key], b[key]) for key in shared if a[key] != b[key]],
    }


def write_suspects(suspects: list[Suspect], path: str | Path) -> None:
    """Every suspect as one CSV row, atomically: to review in a spreadsheet."""
    with atomic_writer(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "file", "given", "suggested", *(f"p_{label}" for label in LABELS), "text"])
        for s in suspects:
            writer.writerow([s.id, s.file, s.given, s.suggested, *(s.probabilities[k] for k in LABELS), s.text])


def format_agreement(result: dict[str, Any], first: str, second: str) -> str:
    """The agreement as plain text: kappa, raw agreement, and the confusion table."""
    kappa = "undefined (one label only)" if result["kappa"] is None else format(result["kappa"], ".3f")
    lines = [f"{result['rows']} rows labeled by both ({result['only_first']} only in {first}, "
             f"{result['only_second']} only in {second})",
             f"Cohen's kappa {kappa}, raw agreement {result['agreement']:.3f}", "",
             f"rows: {first}, columns: {second}", f"{'':<10}" + "".join(f"{label:>10}" for label in LABELS)]
    for label, counts in zip(LABELS, result["confusion"]):
        lines.append(f"{label:<10}" + "".join(f"{count:>10}" for count in counts))
    return "\n".join(lines)
