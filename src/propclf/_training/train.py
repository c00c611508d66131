"""Training: the settings chosen by how they do on real text, the evaluation, the saved model.

Every candidate is scored twice: on real text (the seed documents, by a model trained without
them, and the challenge set) and by grouped cross-validation on the corpus. The real-text score
chooses; cross-validation is reported beside it as the in-corpus figure it is. The calibration
temperature is fitted on the challenge set, text the model never saw, so that the shipped
probabilities mean what they say there. See ``_evaluation`` for the sets and the measures.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import CorpusError
from .._labels import LABELS
from .._model import DEFAULT_ENCODER, load_model, save_model
from .corpus import AUTHORED, Corpus, load_corpus
from .evaluation import (
    DEFAULT_CROSSWRITER,
    EvaluationResult,
    HeldOutSet,
    calibration_set,
    check_held_out,
    expected_calibration_error,
    fit_temperature,
    held_out_scores,
    real_text_sets,
    report_progress,
    scale,
    scores,
    splitter,
)
from .pipeline import build_classifier, build_pipeline, build_vectorizers, describe_settings, settings_of

__all__ = ["SEARCH_SPACE", "ENCODER_SEARCH_SPACE", "FEATURE_FAMILIES", "TrainResult", "train", "evaluate", "measure",
           "default_challenge"]

#: Candidate settings; the real-text score picks one. Real documents are mostly neutral, more so than
#: the corpus, so besides the corpus' own label mix (None) and equal weight for each label ("balanced")
#: one candidate weighs neutral rows double.
SEARCH_SPACE: dict[str, list[Any]] = {
    "features": ["word", "char", "word+char"],
    "C": [1.0, 3.0, 10.0],
    "class_weight": ["balanced", None, {"slogan": 1.0, "critique": 1.0, "neutral": 2.0}],
}
#: ``--features tfidf+encoder``: TF-IDF and the sentence embedding in one logistic regression; the
#: embedding block's weight (its length beside the unit-length TF-IDF blocks) is searched too.
ENCODER_SEARCH_SPACE: dict[str, list[Any]] = {
    "features": ["word+char+encoder"],
    "C": [1.0, 3.0, 10.0],
    "class_weight": ["balanced", None, {"slogan": 1.0, "critique": 1.0, "neutral": 2.0}],
    "encoder_weight": [0.5, 1.0],
}
#: What ``train(features=...)`` accepts: the default TF-IDF model, or TF-IDF with an encoder (propclf[encoder]).
FEATURE_FAMILIES = ("tfidf", "tfidf+encoder")
#: Plain-model check: an encoder model's plain files are checked against the pipeline on this many
#: corpus rows (encoding all of them twice more would double the training time).
ENCODER_CHECK_ROWS = 2000
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    """What ``train`` did: where the model went, its manifest, and the evaluation."""

    model_path: Path
    manifest: dict[str, Any]

    @property
    def settings(self) -> str:
        """The chosen settings in one line: ``features=word+char, C=1.0, class weight balanced[, encoder ...]``."""
        return describe_settings(self.manifest["hyperparameters"])


def default_challenge(data: str | Path) -> Path:
    """The challenge set that goes with a corpus folder: ``../challenge/challenge.csv`` beside it."""
    data = Path(data)
    return Path(os.path.normpath((data if data.is_dir() else data.parent) / ".." / "challenge" / "challenge.csv"))


def _candidates(family: str = "tfidf", encoder: str = DEFAULT_ENCODER) -> list[dict[str, Any]]:
    if family not in FEATURE_FAMILIES:
        raise ValueError(f"unknown features {family!r} (choose from {', '.join(FEATURE_FAMILIES)})")
    if family == "tfidf":
        return [{"features": f, "C": c, "class_weight": w}
                for f in SEARCH_SPACE["features"] for c in SEARCH_SPACE["C"] for w in SEARCH_SPACE["class_weight"]]
    space = ENCODER_SEARCH_SPACE
    return [{"features": f, "C": c, "class_weight": w, "encoder": encoder, "encoder_weight": e}
            for f in space["features"] for c in space["C"] for w in space["class_weight"]
            for e in space["encoder_weight"]]


def _split_task(train_texts: list[str], train_labels: list[str], test_sets: list[list[str]],
                candidates: list[dict[str, Any]], seed: int,
                embedded: tuple[Any, list[Any]] | None = None) -> list[list[Any]]:
    """Fit the vectorizers once on one training split, then every candidate's classifier on them.

    ``embedded``: the sentence embeddings of the training rows and of each test set, for candidates
    with an encoder. Returns, per candidate, one probability array (rows x LABELS) per test set.
    """
    import scipy.sparse

    vectorizers = dict(build_vectorizers("word+char"))
    train_parts = {name: v.fit_transform(train_texts) for name, v in vectorizers.items()}
    test_parts = [{name: v.transform(texts) for name, v in vectorizers.items()} for texts in test_sets]
    if embedded is not None:
        train_parts["encoder"] = scipy.sparse.csr_matrix(embedded[0].astype("float64"))
        for parts, matrix in zip(test_parts, embedded[1]):
            parts["encoder"] = scipy.sparse.csr_matrix(matrix.astype("float64"))

    def stack(parts: dict[str, Any], candidate: dict[str, Any]) -> Any:
        # The same matrix FeatureUnion makes: the blocks side by side, in build_vectorizers' order.
        blocks = [parts[name] * (candidate["encoder_weight"] if name == "encoder" else 1.0)
                  for name, _ in build_vectorizers(candidate["features"])]
        return scipy.sparse.hstack(blocks).tocsr()

    results = []
    for candidate in candidates:
        classifier = build_classifier(candidate["C"], candidate["class_weight"], seed)
        classifier.fit(stack(train_parts, candidate), train_labels)
        order = [list(classifier.classes_).index(label) for label in LABELS]
        results.append([classifier.predict_proba(stack(parts, candidate))[:, order] for parts in test_parts])
    return results


def _run_task(kind: str, k: int, train_texts: list[str], train_labels: list[str], test_sets: list[list[str]],
              candidates: list[dict[str, Any]], seed: int, embedded: tuple[Any, list[Any]] | None,
              parent: int | None = None) -> tuple[str, int, list[list[Any]]]:
    if parent is not None:
        _end_with(parent)
    return kind, k, _split_task(train_texts, train_labels, test_sets, candidates, seed, embedded)


_watching: set[int] = set()


def _end_with(parent: int) -> None:
    """In a search worker: exit as soon as the training process ``parent`` is gone, however it ended.

    A worker finishes its split (minutes) before it notices otherwise, and a SIGKILLed parent cannot
    stop it. A thread checks once a second; scikit-learn's fits let it run between their steps.
    """
    import threading
    import time

    if parent == os.getpid() or parent in _watching:
        return  # run in the training process itself (n_jobs=1), or already watched
    _watching.add(parent)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="propclf-parent-watch", daemon=True).start()


def _search(corpus: Corpus, challenge: HeldOutSet | None, *, seed: int, folds: int, n_jobs: int | None,
            progress: Progress | None, family: str = "tfidf", encoder: str = DEFAULT_ENCODER) -> dict[str, Any]:
    """Every candidate's out-of-fold corpus probabilities and its real-text probabilities."""
    import numpy
    from joblib import Parallel, delayed, effective_n_jobs

    candidates = _candidates(family, encoder)
    texts, labels = corpus.texts, corpus.labels
    splits = splitter(labels, corpus.groups, folds, seed)
    seeds = [i for i, origin in enumerate(corpus.origins) if origin == "seed"]
    written = [i for i, origin in enumerate(corpus.origins) if origin != "seed"]
    tasks = [("fold", k, list(train), [[texts[i] for i in test]]) for k, (train, test) in enumerate(splits)]
    real_tests = ([[texts[i] for i in seeds]] if seeds else []) + ([challenge.texts] if challenge else [])
    if real_tests and written:
        # The real-text model: trained on what the team wrote, never on the seed documents it is tested on.
        tasks.append(("real", 0, written, real_tests))
    workers = max(1, min(effective_n_jobs(n_jobs), len(tasks)))
    report_progress(progress, f"Training takes about {_minutes(estimated_seconds(len(texts), family, workers))} "
                              f"in all here ({workers} worker(s)).")
    report_progress(progress, f"Searching {len(candidates)} settings on {len(tasks)} training splits "
                              f"({len(texts)} rows)...")
    out_of_fold = [numpy.zeros((len(texts), len(LABELS))) for _ in candidates]
    real: list[list[Any]] = [[] for _ in candidates]
    vectors = _embed_all(texts + (challenge.texts if challenge else []), encoder, progress) \
        if family != "tfidf" else None

    def embedded(train: list[int], tests: list[list[str]]) -> tuple[Any, list[Any]] | None:
        return None if vectors is None else (vectors([texts[i] for i in train]), [vectors(test) for test in tests])

    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_run_task)(kind, k, [texts[i] for i in train], [labels[i] for i in train], tests, candidates, seed,
                           embedded(train, tests), os.getpid())
        for kind, k, train, tests in tasks)
    started = time.monotonic()
    for done, (kind, k, results) in enumerate(jobs, 1):
        for c, probabilities in enumerate(results):
            if kind == "fold":
                out_of_fold[c][splits[k][1]] = probabilities[0]
            else:
                real[c] = probabilities
        what = f"fold {k + 1}" if kind == "fold" else "real text"
        elapsed = time.monotonic() - started
        # The splits still running are counted as half done: otherwise the first split to end, when the
        # others are nearly done too, makes the estimate several times too long.
        progressed = done + 0.5 * min(workers, len(tasks) - done)
        remaining = elapsed / progressed * (len(tasks) - progressed)
        left = f"; about {_minutes(remaining)} left in the search" if done < len(tasks) else ""
        report_progress(progress, f"  split {done}/{len(tasks)} done ({what}){left}")
    # The final fit on all rows takes about a fifth of one split's search on one worker (measured on the
    # bundled corpus: 112 s a split, 22 s the final fit with its held-out predictions).
    fit_seconds = (time.monotonic() - started) * workers / max(1, len(tasks)) / 5
    return {"candidates": candidates, "splits": splits, "out_of_fold": out_of_fold, "real": real,
            "seed_rows": seeds, "written_rows": written, "fit_seconds": fit_seconds}


#: Measured: ``python train.py`` on the 16,428-row corpus, 2 cores, with the report (seconds).
_MEASURED_SECONDS = {"tfidf": 291.0, "tfidf+encoder": 762.0}
_MEASURED_ROWS, _MEASURED_WORKERS = 16_428, 2


def estimated_seconds(rows: int, family: str, workers: int) -> float:
    """Roughly how long training takes: the measured run, scaled by rows and by workers."""
    return _MEASURED_SECONDS.get(family, _MEASURED_SECONDS["tfidf"]) * rows / _MEASURED_ROWS \
        * _MEASURED_WORKERS / max(1, workers)


def _minutes(seconds: float) -> str:
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{round(seconds / 60)} minutes"


def _embed_all(texts: list[str], encoder: str, progress: Progress | None) -> Callable[[list[str]], Any]:
    """Encode every distinct text once (kept for the rest of training); returns texts -> embeddings."""
    import numpy

    from .._encoder import embed

    distinct = list(dict.fromkeys(texts))
    # About 150 sentences a second on 2 cores.
    report_progress(progress, f"Encoding {len(distinct)} sentences with {encoder} (about "
                              f"{max(1, round(len(distinct) / 150))} s on 2 cores)...")
    chunks = []
    for start in range(0, len(distinct), 2000):
        chunks.append(embed(encoder, distinct[start:start + 2000]))
        report_progress(progress, f"  encoded {min(start + 2000, len(distinct))}/{len(distinct)}")
    matrix = numpy.concatenate(chunks) if chunks else None
    where = {text: i for i, text in enumerate(distinct)}

    def rows(selection: list[str]) -> Any:
        return matrix[[where[text] for text in selection]]
    return rows


def _candidate_table(corpus: Corpus, challenge: HeldOutSet | None, search: dict[str, Any]) -> list[dict[str, Any]]:
    table = []
    seed_labels = [corpus.labels[i] for i in search["seed_rows"]]
    for candidate, oof, real in zip(search["candidates"], search["out_of_fold"], search["real"]):
        predicted = [LABELS[k] for k in oof.argmax(axis=1)]
        per_fold = [scores([corpus.labels[i] for i in test], [predicted[i] for i in test])["macro_f1"]
                    for _, test in search["splits"]]
        row = {**candidate, "cv_macro_f1": scores(corpus.labels, predicted)["macro_f1"],
               "cv_std": round(float(_std(per_fold)), 4)}
        pooled_true, pooled_predicted = [], []
        parts = ([("seeds", seed_labels)] if search["seed_rows"] else []) + (
            [("challenge", challenge.labels)] if challenge else [])
        if real:
            for (name, true), probabilities in zip(parts, real):
                guess = [LABELS[k] for k in probabilities.argmax(axis=1)]
                row[f"{name}_macro_f1"] = scores(true, guess)["macro_f1"]
                pooled_true += true
                pooled_predicted += guess
            row["real_text_macro_f1"] = scores(pooled_true, pooled_predicted)["macro_f1"]
        table.append(row)
    return table


def _std(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


def _choose(table: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The best candidate by real text (pooled seeds + challenge), else by CV; ties to the smaller C."""
    key = "real_text_macro_f1" if "real_text_macro_f1" in table[0] else "cv_macro_f1"
    best = max(table, key=lambda row: (row[key], row["cv_macro_f1"], -row["C"]))
    how = ("real-text macro-F1 (seed documents scored by a model trained without them, plus the challenge set)"
           if key == "real_text_macro_f1" else "grouped cross-validation macro-F1 (no real-text set available)")
    return settings_of(best), how


def measure(corpus: Corpus, held_out: list[HeldOutSet], *, seed: int = 0, folds: int = 5,
            n_jobs: int | None = None, progress: Progress | None = None, features: str = "tfidf",
            encoder: str = DEFAULT_ENCODER) -> dict[str, Any]:
    """Search, choose, fit on all rows, calibrate, and score everything.

    Returns a dict with the fitted ``pipeline``, the chosen ``hyperparameters``, the ``evaluation``
    (real text first, then cross-validation), the ``calibration``, and the probabilities the report
    draws (``out_of_fold``, ``held_out``).
    """
    overlap = check_held_out(corpus.ids, corpus.texts, held_out)
    challenge = calibration_set(held_out)
    search = _search(corpus, challenge, seed=seed, folds=folds, n_jobs=n_jobs, progress=progress, family=features,
                     encoder=encoder)
    table = _candidate_table(corpus, challenge, search)
    hyperparameters, how = _choose(table)
    chosen = search["candidates"].index(hyperparameters)
    report_progress(progress, f"Chosen by {how.split(' (')[0]}: {describe_settings(hyperparameters)}")

    fit = _minutes(search["fit_seconds"])
    report_progress(progress, f"Fitting the model on all {len(corpus)} rows (about {fit})...")
    pipeline = build_pipeline(**hyperparameters, seed=seed)
    pipeline.fit(corpus.texts, corpus.labels)
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    held_out_probabilities = {s.name: pipeline.predict_proba(s.texts)[:, order] for s in held_out}

    out_of_fold = search["out_of_fold"][chosen]
    if challenge is not None:
        temperature = fit_temperature(held_out_probabilities[challenge.name], challenge.labels)
        fitted_on = f"the challenge set ({challenge.path}), probabilities of the final model"
    else:
        temperature = fit_temperature(out_of_fold, corpus.labels)
        fitted_on = "out-of-fold probabilities of grouped cross-validation on the corpus"

    real_text: dict[str, Any] = {}
    if search["seed_rows"] and search["real"][chosen]:
        seed_set = HeldOutSet("seeds", "data/raw (seed documents)", [corpus.texts[i] for i in search["seed_rows"]],
                              [corpus.labels[i] for i in search["seed_rows"]],
                              [corpus.sources[i] for i in search["seed_rows"]], "selection")
        seed_probabilities = search["real"][chosen][0]
        real_text["seeds"] = {**held_out_scores(seed_set, seed_probabilities, temperature, seed),
                              "train_rows": len(search["written_rows"]), "test_rows": len(seed_set),
                              "trained_on": "the corpus without the seed documents"}
    for held in held_out:
        real_text[held.name] = {**held_out_scores(held, held_out_probabilities[held.name], temperature, seed),
                                "trained_on": "the whole corpus",
                                "near_duplicates_in_corpus": overlap[held.name]}

    predicted = [LABELS[k] for k in out_of_fold.argmax(axis=1)]
    cross_validation = scores(corpus.labels, predicted)
    cross_validation["folds"] = len(search["splits"])
    cross_validation["macro_f1_per_fold"] = [
        scores([corpus.labels[i] for i in test], [predicted[i] for i in test])["macro_f1"]
        for _, test in search["splits"]]
    cross_validation["note"] = "out-of-fold predictions of the chosen settings (chosen by real text, not by CV)"
    majority = []
    for train_index, test_index in search["splits"]:
        train_labels = [corpus.labels[i] for i in train_index]
        majority += [(i, max(LABELS, key=train_labels.count)) for i in test_index]
    majority_labels = [label for _, label in sorted(majority)]

    ece_oof = expected_calibration_error(out_of_fold, corpus.labels)[0]
    calibration = {
        "method": "temperature scaling", "temperature": temperature, "fitted_on": fitted_on,
        "ece_before": real_text[challenge.name]["ece_before"] if challenge else round(ece_oof, 4),
        "ece_after": real_text[challenge.name]["ece_after"] if challenge else round(
            expected_calibration_error(scale(out_of_fold, temperature), corpus.labels)[0], 4),
        "ece_measured_on": "the challenge set, temperature cross-fitted by document" if challenge
        else "out-of-fold corpus probabilities (in sample)",
    }
    evaluation = {
        "real_text": real_text or None,
        "selection": {"by": how, "chosen": hyperparameters, "candidates": table},
        "cross_validation": cross_validation,
        "majority_baseline": scores(corpus.labels, majority_labels),
    }
    return {"pipeline": pipeline, "hyperparameters": hyperparameters, "evaluation": evaluation,
            "calibration": calibration, "out_of_fold": out_of_fold, "held_out": held_out_probabilities,
            "seed_probabilities": search["real"][chosen][0] if search["seed_rows"] and search["real"][chosen]
            else None, "search": search}


def _versions() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn

    from .._version import __version__

    return {"propclf": __version__, "python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__}


def evaluate_corpus(data: str | Path, *, seed: int = 0, folds: int = 5, n_jobs: int | None = None,
                    report: str | Path | None = None, challenge: str | Path | None = None,
                    crosswriter: str | Path | None = DEFAULT_CROSSWRITER, progress: Progress | None = None,
                    features: str = "tfidf", encoder: str = DEFAULT_ENCODER) -> tuple[Corpus, dict[str, Any]]:
    """Load the corpus and its held-out sets, measure, and write the report if asked."""
    if features not in FEATURE_FAMILIES:
        raise ValueError(f"unknown features {features!r} (choose from {', '.join(FEATURE_FAMILIES)})")
    corpus = load_corpus(data)
    if challenge is not None and not Path(challenge).is_file():
        # Only the default challenge set may be absent (a corpus of one's own); a named one must exist.
        raise CorpusError(f"{challenge}: no such challenge file")
    held_out = real_text_sets(challenge if challenge is not None else default_challenge(data), crosswriter)
    with _remembering_embeddings(features):
        try:
            measured = measure(corpus, held_out, seed=seed, folds=folds, n_jobs=n_jobs, progress=progress,
                               features=features, encoder=encoder)
        except CorpusError as exc:  # the corpus cannot be measured: say which corpus
            raise CorpusError(f"{data}: {exc}") from None
        if report is not None:
            from .report import write_report

            report_progress(progress, "Writing the report (baselines and learning curve on real text)...")
            summary = write_report(corpus, held_out, measured, report, seed=seed)
            measured["evaluation"]["report"] = _report_summary(summary, report)
    return corpus, measured


def evaluate(data: str | Path, *, seed: int = 0, folds: int = 5, n_jobs: int | None = None,
             report: str | Path | None = None, challenge: str | Path | None = None,
             crosswriter: str | Path | None = DEFAULT_CROSSWRITER, progress: Progress | None = None,
             features: str = "tfidf", encoder: str = DEFAULT_ENCODER) -> EvaluationResult:
    """What ``train`` measures, without saving a model: the evaluation with the calibration and the chosen
    settings beside it (the report too, with ``report``)."""
    _, measured = evaluate_corpus(data, seed=seed, folds=folds, n_jobs=n_jobs, report=report, challenge=challenge,
                                  crosswriter=crosswriter, progress=progress, features=features, encoder=encoder)
    return EvaluationResult({**measured["evaluation"], "calibration": measured["calibration"],
                             "hyperparameters": measured["hyperparameters"]})


def _remembering_embeddings(features: str) -> Any:
    """Keep every sentence's embedding for the whole measurement (the search, the final fit and the
    report's models encode the same rows); nothing to keep for TF-IDF alone."""
    import contextlib

    if "encoder" not in features:
        return contextlib.nullcontext()
    from .._encoder import remembering

    return remembering()


def train(data: str | Path, out: str | Path, *, seed: int = 0, folds: int = 5,
          n_jobs: int | None = None, report: str | Path | None = None, challenge: str | Path | None = None,
          crosswriter: str | Path | None = DEFAULT_CROSSWRITER, progress: Progress | None = None,
          features: str = "tfidf", encoder: str = DEFAULT_ENCODER) -> TrainResult:
    """Validate the corpus, choose and evaluate the settings, fit on all rows, and save model + manifest.

    ``features``: ``tfidf`` (the default model) or ``tfidf+encoder`` (TF-IDF and ``encoder``'s
    sentence embeddings in one logistic regression; needs ``propclf[encoder]``). With ``report``
    (a folder), also write the evaluation report there (see ``write_report``).
    """
    corpus, measured = evaluate_corpus(data, seed=seed, folds=folds, n_jobs=n_jobs, report=report,
                                       challenge=challenge, crosswriter=crosswriter, progress=progress,
                                       features=features, encoder=encoder)
    pipeline, hyperparameters = measured["pipeline"], measured["hyperparameters"]
    encoded = "encoder" in hyperparameters
    manifest = {
        "name": "propclf-encoder" if encoded else "propclf",
        "description": "Sentence classifier: propaganda slogan, critique, neutral narrative. " + (
            f"TF-IDF features and {hyperparameters.get('encoder')} sentence embeddings into one logistic "
            "regression (needs propclf[encoder])." if encoded else "TF-IDF features into logistic regression."),
        "labels": list(LABELS),
        "hyperparameters": {**hyperparameters, **_pipeline_settings(pipeline)},
        "search": {"scoring": measured["evaluation"]["selection"]["by"],
                   "folds": measured["evaluation"]["cross_validation"]["folds"],
                   "candidates": measured["evaluation"]["selection"]["candidates"]},
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
        "calibration": measured["calibration"],
        "versions": _versions(),
        "evaluation": {k: v for k, v in measured["evaluation"].items() if k != "selection"},
    }
    if encoded:
        from .._encoder import encoder_pin

        manifest["encoder"] = encoder_pin(hyperparameters["encoder"])
    report_progress(progress, f"Checking the plain files against the pipeline and saving the model to {out}...")
    model_path = save_model(pipeline, manifest, out,
                            check_texts=corpus.texts[:ENCODER_CHECK_ROWS] if encoded else corpus.texts)
    return TrainResult(model_path=model_path, manifest=load_model(out).manifest)


def _report_summary(summary: dict[str, Any], folder: str | Path) -> dict[str, Any]:
    """What the manifest keeps of the report: the baselines and the learning curve."""
    return {
        "folder": Path(folder).as_posix(),
        "baselines_measured_on": summary["baselines_on"],
        "baselines": {row["name"]: round(row["macro_f1"], 4) for row in summary["baselines"]},
        "learning_curve": [{"rows": p["rows"], "real_text_macro_f1": p["macro_f1"]} for p in summary["learning_curve"]],
    }


def _pipeline_settings(pipeline: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name, vectorizer in pipeline.named_steps["features"].transformer_list:
        if name == "encoder":
            continue
        settings[f"{name}_ngram_range"] = list(vectorizer.ngram_range)
        settings[f"{name}_min_df"] = vectorizer.min_df
        settings[f"{name}_vocabulary_size"] = len(vectorizer.vocabulary_)
    return settings
