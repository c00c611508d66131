"""The ``propclf`` command line: a thin layer over the public API.

Every command turns propclf's named errors into one line, ``Error: <file>: <problem>``, and a
non-zero exit code. ``main(argv)`` runs a command in-process and returns its exit code.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterable, Sequence

import click

from . import __version__, evaluate, tag, train
from ._errors import PropclfError
from ._labels import LABELS
from ._predict import TaggedSentence, get_model
from ._textio import atomic_write_text, decode_text, read_text

__all__ = ["cli", "main"]

FORMATS = ("table", "csv", "jsonl")
CSV_COLUMNS = ["file", "sentence", "start", "end", "text", "label", *(f"p_{label}" for label in LABELS)]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@cli.command("train")
@_data_option
@click.option("--out", default="models", show_default=True, help="Folder to write the model and manifest to.")
@_seed_option
@_folds_option
@_jobs_option
def train_command(data: str, out: str, seed: int, folds: int, jobs: int) -> None:
    """Retrain from the labeled corpus, evaluate, and save the model with its manifest."""
    from ._train import format_evaluation

    click.echo(f"Training on {data} (seed {seed}, {folds} folds)...", err=True)
    result = train(data, out, seed=seed, folds=folds, n_jobs=jobs)
    manifest = result.manifest
    click.echo(format_evaluation(manifest["evaluation"]))
    settings = manifest["hyperparameters"]
    click.echo(f"\nChosen by cross-validation: features={settings['features']}, C={settings['C']}")
    click.echo(f"Saved {result.model_path} (sha256 {manifest['sha256'][:12]}...) and its manifest "
               f"{result.model_path.with_suffix('.json')}")


@cli.command("evaluate")
@_data_option
@_seed_option
@_folds_option
@_jobs_option
def evaluate_command(data: str, seed: int, folds: int, jobs: int) -> None:
    """Measure the training procedure on a corpus by grouped cross-validation (writes nothing)."""
    from ._train import format_evaluation

    click.echo(format_evaluation(evaluate(data, seed=seed, folds=folds, n_jobs=jobs)))


@cli.command("predict")
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for reading; csv or jsonl for other tools.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (atomically) instead of standard output.")
@click.option("--model", "model_path", help="A model folder or .joblib file (default: the bundled model).")
def predict_command(files: Sequence[str], output_format: str, output: str | None, model_path: str | None) -> None:
    """Tag every sentence of text FILES ('-' reads standard input)."""
    model = get_model(model_path)
    documents = ((name, _read_input(name)) for name in files)
    tagged = ((name, tag(text, model=model)) for name, text in documents)
    render = {"table": _render_table, "csv": _render_csv, "jsonl": _render_jsonl}[output_format]
    if output:
        buffer = io.StringIO()
        render(tagged, buffer)
        atomic_write_text(output, buffer.getvalue())
    else:
        render(tagged, click.get_text_stream("stdout"))


def _read_input(name: str) -> str:
    if name == "-":
        return decode_text(click.get_binary_stream("stdin").read(), "<stdin>")
    return read_text(name)


def _render_csv(tagged: Iterable[tuple[str, list[TaggedSentence]]], out: io.TextIOBase) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, sentences in tagged:
        for s in sentences:
            writer.writerow([name, s.index, s.start, s.end, s.text, s.label,
                             *(f"{s.probabilities[label]:.4f}" for label in LABELS)])


def _render_jsonl(tagged: Iterable[tuple[str, list[TaggedSentence]]], out: io.TextIOBase) -> None:
    for name, sentences in tagged:
        for s in sentences:
            row = {"file": name, "sentence": s.index, "start": s.start, "end": s.end, "text": s.text,
                   "label": s.label, "probabilities": {k: round(v, 6) for k, v in s.probabilities.items()}}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _render_table(tagged: Iterable[tuple[str, list[TaggedSentence]]], out: io.TextIOBase) -> None:
    width = max(60, shutil.get_terminal_size((120, 24)).columns)
    header = f"{'#':>4}  {'label':<9}" + "".join(f"{label:>9}" for label in LABELS) + "  text"
    room = width - len(header) + len("text")
    for number, (name, sentences) in enumerate(tagged):
        if number:
            out.write("\n")
        counts = ", ".join(f"{sum(s.label == label for s in sentences)} {label}" for label in LABELS)
        out.write(f"{name}: {len(sentences)} sentences ({counts})\n{header}\n")
        for s in sentences:
            text = s.text if len(s.text) <= room else s.text[:room - 1] + "…"
            probabilities = "".join(f"{s.probabilities[label]:>9.2f}" for label in LABELS)
            out.write(f"{s.index:>4}  {s.label:<9}{probabilities}  {text}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="propclf", standalone_mode=False)
    except PropclfError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `head`) went away; that is not an error of ours.
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
