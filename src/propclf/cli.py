"""The ``propclf`` command line: a thin layer over the public API.

Every command turns propclf's named errors into one line, ``Error: <file>: <problem>``, and a
non-zero exit code. ``main(argv)`` runs a command in-process and returns its exit code.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from . import __version__, agreement, audit, evaluate, predict, train
from ._errors import ModelVersionWarning, PropclfError
from ._inputs import ReadOptions, expand_inputs, read_table_heads, refuse_input_as_output
from ._labels import LABELS
from ._outputs import FORMATS, output_columns, write_records
from ._predict import get_model
from ._tagging import tag_sources
from ._textio import atomic_writer

__all__ = ["cli", "main"]

_python_show_warning = warnings.showwarning

_SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".html": "html", ".htm": "html",
                   ".txt": "table"}


class _PipeClosed(Exception):
    """Standard output's reader went away (see _closed_pipe)."""


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # click turns a BrokenPipeError into exit code 1 (and swaps sys.stdout); take it past click instead.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _PipeClosed from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="propclf")
def cli() -> None:
    """Tag each sentence as a propaganda slogan, a critique, or neutral narrative."""


_data_option = click.option("--data", default="data/labeled", show_default=True,
                            help="Labeled corpus: a CSV file or a folder of them.")
_seed_option = click.option("--seed", default=0, show_default=True, type=int,
                            help="Random seed of the cross-validation splits and the model.")
_folds_option = click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20),
                             help="Folds of grouped cross-validation.")
_jobs_option = click.option("--jobs", default=-1, show_default=True, type=int,
                            help="Processes for the hyperparameter search (-1: all cores).")
_report_option = click.option("--report", default="models/report", show_default=True,
                              help="Folder for the evaluation report (REPORT.md and figures).")
_no_report_option = click.option("--no-report", is_flag=True, help="Skip the report (baselines, curves, figures).")


def _model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--model and --trust-pickle, for every command that uses a model."""
    command = click.option("--trust-pickle", is_flag=True,
                           help="Load the model's scikit-learn pickle instead of its plain files. A pickle can "
                                "run any code when loaded: only for a model from a source you trust.")(command)
    return click.option("--model", "model_path",
                        help="A model folder (default: the bundled model).")(command)


_challenge_option = click.option("--challenge", type=click.Path(dir_okay=False),
                                 help="Challenge set CSV: chooses the settings and fits the calibration "
                                      "(default: ../challenge/challenge.csv beside --data).")
_crosswriter_option = click.option("--crosswriter", default="../shared/crosswriter", show_default=True,
                                   type=click.Path(file_okay=False),
                                   help="Folder of cross-writer sets, measured only (skipped when it is not there).")


_features_option = click.option("--features", type=click.Choice(["tfidf", "tfidf+encoder"]), default="tfidf",
                                show_default=True,
                                help="tfidf: the default model. tfidf+encoder: TF-IDF and sentence embeddings in "
                                     "one logistic regression (needs: pip install 'propclf[encoder]').")
_encoder_option = click.option("--encoder", type=click.Choice(["minilm-l6", "minilm-l6-static"]),
                               default="minilm-l6", show_default=True,
                               help="The sentence encoder of --features tfidf+encoder.")


class _StepProgress:
    """Progress on standard error, each line with the seconds since the start. On a terminal, a step
    that runs long without a line (a split of the search, the final fit) says every ``every`` seconds
    that it is still at work, so that a long run never looks stuck."""

    def __init__(self, started: float, every: float = 30.0, stream: Any = None) -> None:
        self.started, self.every, self.stream = started, every, stream
        self.last, self.line = started, None  # the last line written, the last step's line
        self._stop = threading.Event()

    def __call__(self, message: str) -> None:
        self.last = self.line = time.monotonic()
        click.echo(f"[{self.last - self.started:5.0f} s] {message}", err=True, file=self.stream)

    def __enter__(self) -> _StepProgress:
        stream = self.stream or sys.stderr
        if stream.isatty():
            threading.Thread(target=self._beat, name="propclf-progress", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def _beat(self) -> None:
        while not self._stop.wait(self.every / 3):
            now = time.monotonic()
            if now - self.last >= self.every and self.line is not None:
                click.echo(f"[{now - self.started:5.0f} s]   still at work ({now - self.line:.0f} s since the "
                           "last step)", err=True, file=self.stream)
                self.last = now


@cli.command("train")
@_data_option
@click.option("--out", default="models", show_default=True, help="Folder to write the model and manifest to.")
@_seed_option
@_folds_option
@_jobs_option
@click.option("--report", help="Folder for the evaluation report (default: report/ inside --out).")
@_no_report_option
@_challenge_option
@_crosswriter_option
@_features_option
@_encoder_option
def train_command(data: str, out: str, seed: int, folds: int, jobs: int, report: str | None, no_report: bool,
                  challenge: str | None, crosswriter: str, features: str, encoder: str) -> None:
    """Retrain from the labeled corpus, choosing the settings by real text; save the model, manifest and report."""
    minutes = "5" if features == "tfidf" else "13"
    click.echo(f"Training on {data} (seed {seed}, {folds} folds, features {features}); the bundled corpus takes "
               f"about {minutes} minutes on 2 cores...", err=True)
    report = None if no_report else (report or str(Path(out) / "report"))
    with _StepProgress(time.monotonic()) as progress:
        result = train(data, out, seed=seed, folds=folds, n_jobs=jobs, report=report, challenge=challenge,
                       crosswriter=crosswriter, progress=progress, features=features, encoder=encoder)
    from ._training.evaluation import format_evaluation
    from ._training.pipeline import describe_settings

    manifest = result.manifest
    click.echo(format_evaluation(manifest["evaluation"]))
    click.echo(f"\nChosen by {manifest['search']['scoring']}: {describe_settings(manifest['hyperparameters'])}")
    files = ", ".join(f"{name} (sha256 {entry['sha256'][:12]}...)" for name, entry in manifest["files"].items())
    click.echo(f"Saved to {result.model_path.parent}: {files}, and the manifest propclf.json")
    if report:
        click.echo(f"Wrote the evaluation report to {report}/REPORT.md")


@cli.command("evaluate")
@_data_option
@_seed_option
@_folds_option
@_jobs_option
@_report_option
@_no_report_option
@_challenge_option
@_crosswriter_option
@_features_option
@_encoder_option
def evaluate_command(data: str, seed: int, folds: int, jobs: int, report: str, no_report: bool,
                     challenge: str | None, crosswriter: str, features: str, encoder: str) -> None:
    """Measure the training procedure on real text and by grouped cross-validation; write the report."""
    with _StepProgress(time.monotonic()) as progress:
        result = evaluate(data, seed=seed, folds=folds, n_jobs=jobs, report=None if no_report else report,
                          challenge=challenge, crosswriter=crosswriter, progress=progress, features=features,
                          encoder=encoder)
    from ._training.evaluation import format_evaluation

    click.echo(format_evaluation(result))
    if not no_report:
        click.echo(f"Wrote the evaluation report to {report}/REPORT.md")


@cli.command("predict")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice([*FORMATS, "parquet"]),
              help="table (default on a terminal), csv (default otherwise), jsonl, or html (one page). "
                   "With --output, the file's extension decides when this is not given. "
                   "--engine dask writes csv, jsonl or parquet parts.")
@click.option("--output", "-o", type=click.Path(),
              help="Write to this file (atomically: it appears only when complete) instead of standard output; "
                   "with --engine dask, the folder for the part files.")
@_model_options
@click.option("--glob", default="*.txt,*.md", show_default=True,
              help="File patterns to take from folders (searched recursively), comma-separated, e.g. "
                   "'*.pdf,*.html'.")
@click.option("--keep-text", metavar="DIR", type=click.Path(file_okay=False),
              help="Write the text extracted from each HTML, PDF or Word input to DIR/NAME.txt: the text that "
                   "the output's start and end index.")
@click.option("--text-column", default="text", show_default=True,
              help="In .csv, .tsv and .jsonl inputs: the column holding the text.")
@click.option("--id-column", help="In table inputs: a column identifying each row, copied to the output.")
@click.option("--rows", type=click.Choice(["document", "sentence"]), default="document", show_default=True,
              help="In table inputs: is each row a document (split into sentences) or one sentence?")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the inputs (a BOM is dropped).")
@click.option("--errors", type=click.Choice(["strict", "replace"]), default="strict", show_default=True,
              help="Undecodable bytes: stop with an error, or replace them with U+FFFD and warn.")
@click.option("--min-confidence", type=click.FloatRange(0, 1),
              help="Label a sentence 'uncertain' when its top probability is below this.")
@click.option("--explain", is_flag=True, help="Add the n-grams that drove each label (jsonl; html always has them).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on standard error (default: when it is a terminal).")
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Processes to tag with (default: one per core). The output is the same for any number.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: this machine, --jobs processes. dask: a Dask cluster, one output file per partition "
                   "in the --output folder.")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --engine dask: the scheduler to use (tcp://host:8786); without it a local cluster is started.")
@click.option("--workers", type=click.IntRange(min=1),
              help="With --engine dask: the local cluster's workers (default: one per core), or with --scheduler "
                   "how many workers to wait for.")
@click.option("--partition-mb", type=click.FloatRange(min=0, min_open=True), default=64, show_default=True,
              help="With --engine dask: text files larger than this are split into partitions.")
def predict_command(inputs: Sequence[str], output_format: str | None, output: str | None, model_path: str | None,
                    trust_pickle: bool, glob: str, keep_text: str | None, text_column: str, id_column: str | None,
                    rows: str, encoding: str, errors: str, min_confidence: float | None, explain: bool,
                    progress: bool | None, jobs: int | None, engine: str, scheduler: str | None, workers: int | None,
                    partition_mb: float) -> None:
    """Tag every sentence of INPUTS: text or Markdown files, HTML, PDF and Word (.docx) documents (with
    pip install 'propclf[formats]'), folders, .csv/.tsv/.jsonl tables, '-' for stdin."""
    options = ReadOptions(encoding=encoding, errors=errors, text_column=text_column, id_column=id_column,
                          rows=rows, glob=glob, keep_text=keep_text)
    if engine == "dask":
        if jobs is not None:
            raise click.UsageError("--jobs is for --engine local; with dask, use --workers")
        _predict_with_dask(inputs, output, output_format or "csv", options, get_model(model_path, trust=trust_pickle),
                           min_confidence, explain, scheduler, workers, partition_mb)
        return
    if scheduler or workers or output_format == "parquet":
        raise click.UsageError("--scheduler, --workers and --format parquet need --engine dask")
    output_format = output_format or _default_format(output)
    sources = expand_inputs(inputs, glob)  # fail on a missing input before anything else
    _refuse_table_options(sources)
    if output:
        refuse_input_as_output(output, sources)
    model = get_model(model_path, trust=trust_pickle)
    # The CSV header needs every table's columns first; they come from the reader of its rows.
    columns, opened = read_table_heads(sources, options, _warn)
    bar = _progress_bar(sources, progress, to_terminal=not output and sys.stdout.isatty())
    with bar, (atomic_writer(output) if output else nullcontext(sys.stdout)) as out:
        records = tag_sources(sources, model, options, explain=explain or output_format == "html",
                              min_confidence=min_confidence, warn=_warn, progress=bar.update, jobs=jobs,
                              opened=opened)
        write_records(records, out, output_format, extra_columns=output_columns(sources, columns))
        # The bar counts characters against a length in bytes: a text that is not all ASCII ends short of it.
        bar.update(max(0, getattr(bar, "length", 0) - getattr(bar, "pos", 0)))
    if output:
        click.echo(f"Wrote {output}", err=True)


def _predict_with_dask(inputs: Sequence[str], output: str | None, output_format: str, options: ReadOptions,
                       model: Any, min_confidence: float | None, explain: bool, scheduler: str | None,
                       workers: int | None, partition_mb: float) -> None:
    from ._dask import PART_FORMATS, tag_with_dask

    if not output:
        raise click.UsageError("--engine dask needs --output DIR: a folder for the part files")
    if output_format not in PART_FORMATS:
        raise click.UsageError(f"--engine dask writes {', '.join(PART_FORMATS)}, not {output_format}")
    result = tag_with_dask(inputs, output, scheduler=scheduler, workers=workers, model=model, options=options,
                           output_format=output_format, min_confidence=min_confidence, explain=explain,
                           partition_mb=partition_mb, warn=_warn)
    click.echo(f"Wrote {result.sentences} sentences of {result.inputs} input(s) to {len(result.parts)} part file(s) "
               f"in {output}", err=True)


def _refuse_table_options(sources: list) -> None:
    """--text-column, --id-column and --rows say how to read tables: given with no table, they would do nothing."""
    context = click.get_current_context()
    given = [f"--{name.replace('_', '-')}" for name in ("text_column", "id_column", "rows")
             if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
    if given and not any(source.is_table for source in sources):
        raise click.UsageError(f"{sources[0].name}: {', '.join(given)} applies to .csv, .tsv and .jsonl inputs, "
                               "and no input is one")


def _default_format(output: str | None) -> str:
    if output:
        suffix = Path(output).suffix.lower()
        if suffix not in _SUFFIX_FORMATS and not Path(output).is_dir():  # (a folder: the writer says so)
            # Writing CSV into out.xlsx would only look like success.
            extension = f"the extension {suffix!r}" if suffix else "a name without an extension"
            raise click.UsageError(f"{output}: no output format has {extension}; name it .csv, .jsonl, .html "
                                   "or .txt, or give --format")
        return _SUFFIX_FORMATS.get(suffix, "csv")
    return "table" if sys.stdout.isatty() else "csv"


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, _: int) -> None:
        return None


#: Inputs smaller than this (in bytes) are tagged in about a second: no bar by default.
BAR_MIN_BYTES = 1_000_000


def _progress_bar(sources: list, wanted: bool | None, to_terminal: bool):  # click's type is private
    """A bar on standard error, by default only on a terminal, for a long input, and when the output does
    not stream to that same terminal (where it shows the progress itself, and a bar would be glued to it)."""
    sizes = [source.size() for source in sources]
    if None in sizes:
        return _NoBar()
    show = sys.stderr.isatty() and not to_terminal and sum(sizes) >= BAR_MIN_BYTES if wanted is None else wanted
    if not show:
        return _NoBar()
    return click.progressbar(length=max(1, sum(sizes)), label="Tagging", file=sys.stderr)


@cli.command("audit")
@_data_option
@_seed_option
@_folds_option
@click.option("--top", default=40, show_default=True, type=click.IntRange(1, 100000),
              help="How many suspects to print.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Also write every suspect to this CSV file, to review in a spreadsheet.")
@_model_options
def audit_command(data: str, seed: int, folds: int, top: int, output: str | None, model_path: str | None,
                  trust_pickle: bool) -> None:
    """List rows of the corpus that are likely mislabeled (confident learning on out-of-fold probabilities)."""
    import csv

    settings = get_model(model_path, trust=trust_pickle).manifest.get("hyperparameters")
    suspects = audit(data, seed=seed, folds=folds, hyperparameters=settings)
    if output:  # the file first: it is the complete list, the screen shows the top
        with atomic_writer(output) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["id", "file", "given", "suggested", *(f"p_{label}" for label in LABELS), "text"])
            for s in suspects:
                writer.writerow([s.id, s.file, s.given, s.suggested, *(s.probabilities[k] for k in LABELS), s.text])
        click.echo(f"Wrote {output}", err=True)
    click.echo(f"{len(suspects)} suspect row(s) in {data}; most doubtful first. Review each by hand.")
    for suspect in suspects[:top]:
        click.echo(f"{suspect.id:<16} {suspect.given:>8} -> {suspect.suggested:<8} "
                   f"(p {suspect.probabilities[suspect.given]:.2f} -> {suspect.probabilities[suspect.suggested]:.2f})"
                   f"  {suspect.text}")


@cli.command("agreement")
@click.argument("first")
@click.argument("second")
def agreement_command(first: str, second: str) -> None:
    """Cohen's kappa and the confusion between two annotators' labels (CSV files with id or text, and label)."""
    from ._training.audit import format_agreement

    result = agreement(first, second)
    click.echo(format_agreement(result, first, second))
    if result["disagreements"]:
        click.echo("\nDisagreements (id: first | second):")
        for key, a, b in result["disagreements"]:
            click.echo(f"  {key}: {a} | {b}")


KEYS = {"a": "accept", "\r": "accept", "\n": "accept", "": "accept", "s": "slogan", "c": "critique",
        "n": "neutral", "k": "skip", "u": "undo", "q": "quit"}
_HELP_LINE = "[a/Enter] accept  [s]logan  [c]ritique  [n]eutral  [k] skip  [u]ndo  [q]uit"


@cli.command("label")
@click.argument("documents", nargs=-1)
@click.option("--into", help="Labels file to append to (default: data/labeled/label-ANNOTATOR.csv).")
@click.option("--corpus", default="data/labeled", show_default=True,
              help="The corpus: its sentences are never asked again; its raw/ folder receives the documents.")
@click.option("--annotator", help="Your name, recorded with every row (default: $PROPCLF_ANNOTATOR or login).")
@click.option("--order", type=click.Choice(["uncertainty", "document"]), default="uncertainty", show_default=True,
              help="Least sure sentences first, or reading order.")
@click.option("--retrain-every", type=click.IntRange(0), default=0, show_default=True,
              help="Refit the model in the background every N new labels (0: never).")
@click.option("--context/--no-context", default=True, show_default=True,
              help="Show the sentences before and after.")
@click.option("--export-queue", type=click.Path(dir_okay=False),
              help="Instead of asking, write the next --n sentences to this CSV to label in a spreadsheet.")
@click.option("--n", "count", default=200, show_default=True, type=click.IntRange(1), help="How many to export.")
@click.option("--import", "import_path", type=click.Path(dir_okay=False),
              help="Instead of asking, validate a filled-in export and append its labels.")
@_model_options
def label_command(documents: Sequence[str], into: str | None, corpus: str, annotator: str | None, order: str,
                  retrain_every: int, context: bool, export_queue: str | None, count: int, import_path: str | None,
                  model_path: str | None, trust_pickle: bool) -> None:
    """Label the sentences of DOCUMENTS one at a time, least sure first; every answer is saved at once."""
    from ._training.label import LabelSession, default_annotator

    if not documents:
        raise click.UsageError("give at least one document to label")
    annotator = annotator or default_annotator()
    into = into or str(Path(corpus) / f"label-{annotator}.csv")
    model = get_model(model_path, trust=trust_pickle)
    with LabelSession(list(documents), into, model=model, corpus=corpus, annotator=annotator,
                      order=order, retrain_every=retrain_every) as session:
        if export_queue:
            written = session.export_queue(export_queue, count)
            click.echo(f"Wrote {written} sentence(s) to {export_queue}: fill in the 'label' column, then "
                       f"propclf label --import {export_queue} {' '.join(documents)}")
            return
        if import_path:
            result = session.import_reviewed(import_path)
            click.echo(f"Appended {result['written']} label(s) to {into}; {result['already_labeled']} already "
                       f"labeled, {result['blank']} left blank.")
            return
        _label_loop(session, context, sys.stdin.isatty())


def _label_loop(session, context: bool, interactive: bool) -> None:  # a LabelSession
    click.echo(f"{len(session.queue)} sentence(s) to label into {session.into}. {_HELP_LINE}")
    while (candidate := session.next()) is not None:
        click.echo("")
        click.echo(f"[{session.labeled} labeled, {len(session.queue)} to go]  {candidate.source} "
                   f"{candidate.start}-{candidate.end}")
        if context and candidate.before:
            click.echo(click.style(f"    {candidate.before}", dim=True))
        click.echo(click.style(f"  > {candidate.text}", bold=True))
        if context and candidate.after:
            click.echo(click.style(f"    {candidate.after}", dim=True))
        odds = "  ".join(f"{label} {p:.2f}" for label, p in candidate.probabilities.items())
        click.echo(f"Suggestion: {candidate.suggestion}  ({odds})")
        click.echo("Label? ", nl=False)
        key = _read_key(interactive)
        if key is None:
            click.echo("")
            break
        action = KEYS.get(key.lower())
        click.echo(action or key)
        if action is None:
            click.echo(_HELP_LINE)
        elif action == "quit":
            break
        elif action == "skip":
            session.skip(candidate)
        elif action == "undo":
            undone = session.undo()
            click.echo(f"Undone: {undone.text}" if undone else "Nothing to undo in this session.")
        else:
            session.decide(candidate, candidate.suggestion if action == "accept" else action)
    session.wait_for_retraining()
    click.echo(f"Saved {session.labeled} new label(s) in {session.into}; {len(session.queue)} sentence(s) left.")


def _read_key(interactive: bool) -> str | None:
    """One key on a terminal; one line (its first character) otherwise. None at end of input."""
    if interactive:
        try:
            return click.getchar()
        except (EOFError, KeyboardInterrupt):
            return None
    line = sys.stdin.readline()
    return None if line == "" else line.strip()[:1]


@cli.command("explain")
@click.argument("sentence")
@_model_options
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100),
              help="How many n-grams to show.")
def explain_command(sentence: str, model_path: str | None, trust_pickle: bool, top: int) -> None:
    """Say why SENTENCE gets its label: the n-grams that pushed it there, with their weights."""
    if not sentence.strip():
        raise click.BadParameter("is empty: give the sentence to explain", param_hint="SENTENCE")
    model = get_model(model_path, trust=trust_pickle)
    result = predict(sentence, model=model)
    (explanation,) = model.explain([sentence], [result.label], top=top)
    click.echo(f"{result.label}  " + "  ".join(f"{k} {v:.3f}" for k, v in result.probabilities.items()))
    value = "feature" if model.manifest.get("encoder") else "tf-idf"  # an encoder model has embedding values too
    click.echo(f"\nWhat pushed it towards {result.label} ({value} value x coefficient):")
    for name, weight in explanation:
        click.echo(f"  {weight:+8.3f}  {name}")


@cli.command("inspect")
@_model_options
@click.option("--top", default=15, show_default=True, type=click.IntRange(1, 200),
              help="How many features to show per label.")
def inspect_command(model_path: str | None, trust_pickle: bool, top: int) -> None:
    """Show the model: what it was trained on, and the strongest features of each label."""
    from ._training.pipeline import describe_settings

    model = get_model(model_path, trust=trust_pickle)
    manifest = model.manifest
    data = manifest.get("training_data", {})
    settings = manifest.get("hyperparameters", {})
    evaluation = manifest.get("evaluation", {})
    real = ", ".join(f"{name} {result['macro_f1']}" for name, result in (evaluation.get("real_text") or {}).items())
    click.echo(f"{model.path}: trained on {data.get('rows')} rows {data.get('per_label')}, "
               f"{describe_settings(settings)}")
    click.echo(f"macro-F1 on real text: {real or 'not measured'}; in-corpus cross-validation "
               f"{evaluation.get('cross_validation', {}).get('macro_f1')}")
    click.echo("Word n-grams are shown plain, character n-grams quoted.")
    for label in LABELS:
        click.echo(f"\n{label}:")
        for name, weight in model.top_features(label, top):
            click.echo(f"  {weight:+8.3f}  {name}")


def _show_warning(message, category, filename, lineno, file=None, line=None):  # warnings' API
    """propclf's own warnings print as one line, like its errors; others as Python prints them."""
    if issubclass(category, ModelVersionWarning):
        click.echo(f"Warning: {message}", err=True)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    previous, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        return _run(argv)
    finally:
        warnings.showwarning = previous


def _run(argv: Sequence[str] | None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="propclf", standalone_mode=False)
    except PropclfError as exc:
        # One line, whatever a file name or a column name holds.
        click.echo("Error: " + str(exc).replace("\r", "\\r").replace("\n", "\\n"), err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except (_PipeClosed, BrokenPipeError):
        return _closed_pipe()
    return 0


def _closed_pipe() -> int:
    """The reader of standard output (e.g. `head`) went away: stop quietly, as a program killed by SIGPIPE would.

    What is still buffered for the closed pipe is dropped (flushing it at exit would fail again and print
    "Exception ignored"); the status is 128 + SIGPIPE, as the shell reports for `yes | head`.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (captured in-process): nothing to flush
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)

if __name__ == "__main__":
    raise SystemExit(main())
