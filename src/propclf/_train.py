"""Training and evaluation: hyperparameter search, grouped cross-validation, the real-text check.

Every figure is measured with groups kept whole, so a sentence and its twin (the same story
printed twice, a near-duplicate) are never split between training and test.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._corpus import AUTHORED, Corpus, load_corpus
from ._labels import LABELS
from ._model import build_pipeline, save_model, scale

__all__ = ["SEARCH_SPACE", "TrainResult", "fit", "evaluate", "train", "format_evaluation"]

#: Candidate settings; cross-validation on the training data picks one.
SEARCH_SPACE: dict[str, list[Any]] = {
    "features": ["word", "char", "word+char"],
    "C": [1.0, 3.0, 10.0, 30.0],
}


@dataclass(frozen=True)
class TrainResult:
    """What ``train`` did: where the model went, its manifest, and the evaluation."""

    model_path: Path
    manifest: dict[str, Any]


def _splitter(labels: list[str], groups: list[str], folds: int, seed: int) -> list[tuple[Any, Any]]:
    from sklearn.model_selection import StratifiedGroupKFold

    folds = min(folds, min(labels.count(label) for label in set(labels)))
    if folds < 2:
        raise ValueError("every label needs at least two rows (in two groups) to cross-validate")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(labels, labels, groups))


def _search(texts: list[str], labels: list[str], groups: list[str], folds: int, seed: int,
            n_jobs: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid search by grouped CV; returns the best settings and every candidate's score."""
    from sklearn.model_selection import GridSearchCV

    candidates = [
        {"features": [build_pipeline(features, seed=seed).named_steps["features"]],
         "classifier__C": SEARCH_SPACE["C"]}
        for features in SEARCH_SPACE["features"]
    ]
    search = GridSearchCV(
        build_pipeline(seed=seed), candidates, scoring="f1_macro",
        cv=_splitter(labels, groups, folds, seed), n_jobs=n_jobs, refit=False,
    )
    search.fit(texts, labels)
    table = []
    for params, mean, std in zip(search.cv_results_["params"],
                                 search.cv_results_["mean_test_score"],
                                 search.cv_results_["std_test_score"]):
        features = "+".join(name for name, _ in params["features"].transformer_list)
        table.append({"features": features, "C": params["classifier__C"],
                      "macro_f1": round(float(mean), 4), "std": round(float(std), 4)})
    # Ties go to the smaller C: the simpler model.
    best = max(table, key=lambda row: (row["macro_f1"], -row["C"]))
    return {"features": best["features"], "C": best["C"]}, table


def fit(texts: list[str], labels: list[str], groups: list[str], *, seed: int = 0,
        folds: int = 5, n_jobs: int | None = None,
        hyperparameters: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    """Choose hyperparameters by grouped CV on these rows (unless given), then fit on all of them."""
    table: list[dict[str, Any]] = []
    if hyperparameters is None:
        hyperparameters, table = _search(texts, labels, groups, folds, seed, n_jobs)
    pipeline = build_pipeline(hyperparameters["features"], hyperparameters["C"], seed)
    pipeline.fit(texts, labels)
    return pipeline, hyperparameters, table


def out_of_fold_probabilities(corpus: Corpus, hyperparameters: dict[str, Any], *, seed: int = 0,
                              folds: int = 5) -> Any:
    """Probabilities for every row from a model that never saw its group; columns in LABELS order."""
    import numpy

    probabilities = numpy.zeros((len(corpus), len(LABELS)))
    for train_index, test_index in _splitter(corpus.labels, corpus.groups, folds, seed):
        pipeline = build_pipeline(hyperparameters["features"], hyperparameters["C"], seed)
        pipeline.fit([corpus.texts[i] for i in train_index], [corpus.labels[i] for i in train_index])
        order = [list(pipeline.classes_).index(label) for label in LABELS]
        probabilities[test_index] = pipeline.predict_proba([corpus.texts[i] for i in test_index])[:, order]
    return probabilities


def fit_temperature(probabilities: Any, labels: list[str]) -> float:
    """The temperature that minimises the log-loss of these (out-of-fold) probabilities."""
    import numpy
    from scipy.optimize import minimize_scalar

    truth = numpy.array([LABELS.index(label) for label in labels])
    rows = numpy.arange(len(truth))

    def loss(temperature: float) -> float:
        return float(-numpy.log(scale(probabilities, temperature)[rows, truth]).mean())

    return round(float(minimize_scalar(loss, bounds=(0.1, 10.0), method="bounded").x), 4)


def calibrate(corpus: Corpus, probabilities: Any, *, seed: int = 0, folds: int = 5) -> dict[str, Any]:
    """Fit the temperature on all out-of-fold probabilities; measure its effect by cross-fitting it."""
    import numpy

    from ._report import expected_calibration_error

    cross_fitted = numpy.zeros_like(probabilities)
    for train_index, test_index in _splitter(corpus.labels, corpus.groups, folds, seed + 1):
        temperature = fit_temperature(probabilities[train_index], [corpus.labels[i] for i in train_index])
        cross_fitted[test_index] = scale(probabilities[test_index], temperature)
    before = expected_calibration_error(probabilities, corpus.labels)[0]
    after = expected_calibration_error(cross_fitted, corpus.labels)[0]
    return {"method": "temperature scaling of out-of-fold probabilities",
            "temperature": fit_temperature(probabilities, corpus.labels),
            "ece_before": round(before, 4), "ece_after": round(after, 4), "cross_fitted": cross_fitted}


def _scores(true: list[str], predicted: list[str]) -> dict[str, Any]:
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


def evaluate(corpus: Corpus, *, seed: int = 0, folds: int = 5, n_jobs: int | None = None,
             hyperparameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested grouped CV of the whole training procedure, the majority baseline, and the real-text check.

    With ``hyperparameters`` given, the inner search is skipped (faster, slightly optimistic).
    """
    texts, labels, groups = corpus.texts, corpus.labels, corpus.groups
    predicted: list[str | None] = [None] * len(texts)
    majority: list[str | None] = [None] * len(texts)
    fold_f1 = []
    for train_index, test_index in _splitter(labels, groups, folds, seed):
        pick = [texts[i] for i in train_index]
        pipeline, _, _ = fit(pick, [labels[i] for i in train_index], [groups[i] for i in train_index],
                             seed=seed, folds=folds, n_jobs=n_jobs, hyperparameters=hyperparameters)
        fold_predictions = pipeline.predict([texts[i] for i in test_index])
        train_labels = [labels[i] for i in train_index]
        most_common = max(LABELS, key=train_labels.count)
        for i, label in zip(test_index, fold_predictions):
            predicted[i] = str(label)
            majority[i] = most_common
        fold_f1.append(_scores([labels[i] for i in test_index], [predicted[i] for i in test_index])["macro_f1"])
    cross_validation = _scores(labels, [str(p) for p in predicted])
    cross_validation["folds"] = len(fold_f1)
    cross_validation["macro_f1_per_fold"] = fold_f1
    result = {
        "cross_validation": cross_validation,
        "majority_baseline": _scores(labels, [str(m) for m in majority]),
        "real_text": _real_text_check(corpus, seed=seed, folds=folds, n_jobs=n_jobs,
                                      hyperparameters=hyperparameters),
    }
    return result


def _real_text_check(corpus: Corpus, *, seed: int, folds: int, n_jobs: int | None,
                     hyperparameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Train on the team's writing only, test on the real seed documents: text the model never saw."""
    team = [i for i, origin in enumerate(corpus.origins) if origin != "seed"]
    seeds = [i for i, origin in enumerate(corpus.origins) if origin == "seed"]
    if not team or not seeds:
        return None
    pipeline, _, _ = fit([corpus.texts[i] for i in team], [corpus.labels[i] for i in team],
                         [corpus.groups[i] for i in team], seed=seed, folds=folds, n_jobs=n_jobs,
                         hyperparameters=hyperparameters)
    predicted = [str(label) for label in pipeline.predict([corpus.texts[i] for i in seeds])]
    scores = _scores([corpus.labels[i] for i in seeds], predicted)
    scores["train_rows"], scores["test_rows"] = len(team), len(seeds)
    return scores


def _versions() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn

    from . import __version__

    return {"propclf": __version__, "python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__}


def train(data: str | Path, out: str | Path, *, seed: int = 0, folds: int = 5,
          n_jobs: int | None = None, report: str | Path | None = None) -> TrainResult:
    """Validate the corpus, evaluate the procedure, fit on all rows, and save model + manifest.

    With ``report`` (a folder), also write the evaluation report there (see ``write_report``).
    """
    corpus = load_corpus(data)
    evaluation = evaluate(corpus, seed=seed, folds=folds, n_jobs=n_jobs)
    pipeline, hyperparameters, search_table = fit(corpus.texts, corpus.labels, corpus.groups,
                                                  seed=seed, folds=folds, n_jobs=n_jobs)
    # Temperature scaling never changes the top label, so the figures above hold; it makes the
    # probabilities (and --min-confidence) mean what they say.
    probabilities = out_of_fold_probabilities(corpus, hyperparameters, seed=seed, folds=folds)
    calibration = calibrate(corpus, probabilities, seed=seed, folds=folds)
    if report is not None:
        from ._report import write_report

        summary = write_report(corpus, evaluation, hyperparameters, report, seed=seed, folds=folds,
                               probabilities=probabilities, calibrated=calibration["cross_fitted"])
        evaluation = {**evaluation, "report": _report_summary(summary, report)}
    calibration = {k: v for k, v in calibration.items() if k != "cross_fitted"}
    manifest = {
        "name": "propclf",
        "description": "Sentence classifier: propaganda slogan, critique, neutral narrative. "
                       "TF-IDF features into logistic regression.",
        "labels": list(LABELS),
        "hyperparameters": {**hyperparameters, **_pipeline_settings(pipeline)},
        "search": {"scoring": "macro-F1, grouped stratified CV", "folds": folds, "candidates": search_table},
        "seed": seed,
        "training_data": {
            "path": Path(data).as_posix(),
            "sha256": corpus.sha256,
            "rows": len(corpus),
            "per_label": corpus.counts(),
            "groups": len(set(corpus.groups)),
            "authored_rows": corpus.origins.count(AUTHORED),
            "team_document_rows": corpus.origins.count("team"),
            "seed_rows": corpus.origins.count("seed"),
        },
        "calibration": calibration,
        "versions": _versions(),
        "evaluation": evaluation,
    }
    model_path = save_model(pipeline, manifest, out, check_texts=corpus.texts)
    from ._model import load_model

    return TrainResult(model_path=model_path, manifest=load_model(out).manifest)


def _report_summary(summary: dict[str, Any], folder: str | Path) -> dict[str, Any]:
    """What the manifest keeps of the report: the baselines and the calibration error."""
    return {
        "folder": Path(folder).as_posix(),
        "baselines": {row["name"]: {"macro_f1": round(row["macro_f1"], 4), "std": round(row["std"], 4)}
                      for row in summary["baselines"]},
        "expected_calibration_error": summary["expected_calibration_error"],
        "expected_calibration_error_after": summary["expected_calibration_error_after"],
        "learning_curve": [{"rows": p["rows"], "macro_f1": round(p["macro_f1"], 4)} for p in summary["learning_curve"]],
    }


def _pipeline_settings(pipeline: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name, vectorizer in pipeline.named_steps["features"].transformer_list:
        settings[f"{name}_ngram_range"] = list(vectorizer.ngram_range)
        settings[f"{name}_min_df"] = vectorizer.min_df
        settings[f"{name}_vocabulary_size"] = len(vectorizer.vocabulary_)
    classifier = pipeline.named_steps["classifier"]
    settings["class_weight"] = classifier.class_weight
    return settings


def _label_table(scores: dict[str, Any]) -> list[str]:
    lines = [f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for label in LABELS:
        row = scores["per_label"][label]
        lines.append(f"{label:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
                     f"{row['support']:>8}")
    return lines


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The evaluation as plain-text tables (also used in the README)."""
    cv, base, real = evaluation["cross_validation"], evaluation["majority_baseline"], evaluation["real_text"]
    rows = sum(row["support"] for row in cv["per_label"].values())
    lines = [f"Grouped stratified {cv['folds']}-fold cross-validation ({rows} rows)", "", *_label_table(cv), "",
             f"{'':<24} {'propclf':>8} {'majority':>9}",
             f"{'macro-F1':<24} {cv['macro_f1']:>8.3f} {base['macro_f1']:>9.3f}",
             f"{'accuracy':<24} {cv['accuracy']:>8.3f} {base['accuracy']:>9.3f}",
             f"macro-F1 per fold: {', '.join(f'{f:.3f}' for f in cv['macro_f1_per_fold'])}",
             "", "Confusion matrix (rows: true, columns: predicted)",
             f"{'':<10}" + "".join(f"{label:>10}" for label in LABELS)]
    for label, counts in zip(LABELS, cv["confusion_matrix"]["rows_true_columns_predicted"]):
        lines.append(f"{label:<10}" + "".join(f"{count:>10}" for count in counts))
    if real:
        lines += ["", f"Real-text check: trained on {real['train_rows']} rows the team wrote, "
                      f"tested on {real['test_rows']} rows of the real seed documents", *_label_table(real),
                  f"macro-F1 {real['macro_f1']:.3f}, accuracy {real['accuracy']:.3f}"]
    return "\n".join(lines)
