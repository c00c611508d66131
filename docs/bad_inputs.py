"""Every bad input, and what the user sees: builds each one in a temporary folder, runs the real command line
in-process (``propclf.cli.main(argv)``) from that folder, and writes the table to docs/BAD_INPUTS.md.

    python docs/bad_inputs.py

Nothing is typed by hand: each row's exit code and message are what the run printed. The repository's
models/ and data/ are only read (a model or a corpus to break is copied into the temporary folder first).
tests/test_bad_inputs.py imports CASES and checks each case's contract (see ``Case.kind``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
OUTPUT = ROOT / "docs" / "BAD_INPUTS.md"
COMMAND = "python docs/bad_inputs.py"
SEED = "Long live the great leader! The musical opened in Kaesong in the spring of 1974.\n"
CORPUS_HEADER = "id,text,label,source,start,end,group\n"
MANIFEST = "propclf.json"


@dataclass(frozen=True)
class Case:
    """One bad input: the files it needs, the command, and what kind of answer is right.

    ``kind`` is the contract tests/test_bad_inputs.py checks:

    - ``error``: exit code 1 and exactly one line on standard error, ``Error: ...``, naming ``names``;
    - ``usage``: a usage mistake caught by click: exit code 2, and click's usage lines end in one ``Error: ...`` line;
    - ``warning``: it runs (exit code 0), with exactly one line on standard error, ``Warning: ...``, naming ``names``;
    - ``ok``: it runs (exit code 0) and says one line on standard error (``names`` in it), or nothing if ``names``
      is empty.

    ``known_bug`` says why a case breaks its contract today (an exception escapes: a traceback); the test
    expects it to fail until the bug is fixed.
    """

    input: str
    argv: tuple[str, ...]
    kind: str
    names: str
    build: Callable[[Path], None] = lambda folder: None
    known_bug: str = ""


@dataclass(frozen=True)
class Result:
    exit_code: int | str  # "traceback" when an exception escaped main() (the installed command exits with 1)
    stdout: str
    stderr: str
    folder: str = ""  # where it ran: shown as $PWD in the table

    @property
    def message(self) -> str:
        """The line the user reads: the Error or Warning line, else the last line on standard error."""
        lines = self.stderr.splitlines()
        shown = [line for line in lines if line.startswith(("Error: ", "Warning: "))]
        return (shown or lines or [""])[-1]


# --- Building the inputs ----------------------------------------------------------------------------------

def write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return build


def both(*builds: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        for step in builds:
            step(folder)
    return build


def corpus(rows: str) -> Callable[[Path], None]:
    """A small corpus in labeled/x.csv, with its seed document in raw/seed.txt."""
    return both(write("raw/seed.txt", SEED), write("labeled/x.csv", CORPUS_HEADER + rows))


def model_copy(change: Callable[[Path], None]) -> Callable[[Path], None]:
    """A copy of the bundled model in m/ (its report left out), then ``change`` applied to the copy."""
    def build(folder: Path) -> None:
        shutil.copytree(MODELS, folder / "m", ignore=shutil.ignore_patterns("report"))
        change(folder / "m")
    return build


def damage_model_files(model: Path) -> None:
    """Flip bytes in the middle of every model file but the manifest (whatever files the format has)."""
    for path in sorted(model.iterdir()):
        if path.is_file() and path.name != MANIFEST:
            data = bytearray(path.read_bytes())
            middle = len(data) // 2
            data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
            path.write_bytes(bytes(data))


def remove_manifest(model: Path) -> None:
    (model / MANIFEST).unlink()


def edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """A manifest edited by hand (it is not itself hash-checked)."""
    def edit(model: Path) -> None:
        manifest = json.loads((model / MANIFEST).read_text(encoding="utf-8"))
        change(manifest)
        (model / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return edit


def rewrite_vouched(name: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """A model file rewritten, and the manifest's hash of it updated to match (as an attacker would)."""
    def edit(model: Path) -> None:
        data = change((model / name).read_bytes())
        (model / name).write_bytes(data)
        manifest = json.loads((model / MANIFEST).read_text(encoding="utf-8"))
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        (model / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return edit


def crafted_token_pattern(data: bytes) -> bytes:
    settings = json.loads(data)
    settings["features"][0]["token_pattern"] = r"(\w+\s?)+$"
    return json.dumps(settings).encode("utf-8")


def nan_coefficient(data: bytes) -> bytes:
    import numpy

    with numpy.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name].copy() for name in archive.files}
    arrays["coef"][0, 0] = numpy.nan
    buffer = io.BytesIO()
    numpy.savez(buffer, **arrays)
    return buffer.getvalue()


def labeling_elsewhere(folder: Path) -> None:
    """Another `propclf label` session holds the labels file (its lock is taken by a child process)."""
    import subprocess

    (folder / "labeled").mkdir(parents=True, exist_ok=True)
    lock = folder / "labeled" / ".label-ann.csv.lock"
    code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'4242\\n'); print('ready', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE)
    holder.stdout.readline()
    _HOLDERS.append(holder)


_HOLDERS: list = []


NOTES = write("notes.txt", "Long live the great leader! It was a cynical film.\n")
CASES: list[Case] = [
    Case("a missing file", ("predict", "notes.txt"), "error", "notes.txt"),
    Case("an empty file", ("predict", "notes.txt"), "error", "notes.txt", write("notes.txt", "")),
    Case("a blank file (spaces and line breaks)", ("predict", "notes.txt"), "error", "notes.txt",
         write("notes.txt", "  \n\n\t\n")),
    Case("a folder with no matching files", ("predict", "notes"), "error", "notes",
         write("notes/scan.pdf", b"%PDF-1.4\n")),
    Case("bytes that are not valid UTF-8", ("predict", "notes.txt"), "error", "notes.txt",
         write("notes.txt", b"Caf\xe9 society was a cynical film.\n")),
    Case("the same, with --errors replace", ("predict", "--errors", "replace", "notes.txt"), "warning", "notes.txt",
         write("notes.txt", b"Caf\xe9 society was a cynical film.\n")),
    Case("a file with NUL bytes (UTF-16 text read as UTF-8)", ("predict", "notes.txt"), "warning", "notes.txt",
         write("notes.txt", "Long live the great leader!\n".encode("utf-16-le"))),
    Case("UTF-16 without a byte order mark, with --encoding utf-16", ("predict", "--encoding", "utf-16", "notes.txt"),
         "error", "notes.txt", write("notes.txt", "Long live the great leader!\n".encode("utf-16-le"))),
    Case("an unknown encoding", ("predict", "--encoding", "klingon", "t.csv"), "error", "klingon",
         write("t.csv", "text\nLong live the leader!\n")),
    Case("an encoding that is not a text encoding", ("predict", "--encoding", "rot13", "notes.txt"), "error",
         "rot13", NOTES),
    Case("a CSV without the text column", ("predict", "t.csv"), "error", "t.csv",
         write("t.csv", "body\nLong live the leader!\n")),
    Case("a CSV without the --text-column given", ("predict", "--text-column", "content", "t.csv"), "error", "t.csv",
         write("t.csv", "text\nLong live the leader!\n")),
    Case("a CSV without the --id-column given", ("predict", "--id-column", "tweet_id", "t.csv"), "error", "t.csv",
         write("t.csv", "text\nLong live the leader!\n")),
    Case("a CSV with only a header", ("predict", "t.csv"), "error", "t.csv", write("t.csv", "text,id\n")),
    Case("a ragged CSV row", ("predict", "t.csv"), "error", "t.csv",
         write("t.csv", "text,id\nLong live the leader!,1,extra\n")),
    Case("a CSV with an unclosed quote", ("predict", "t.csv"), "error", "t.csv",
         write("t.csv", 'text,id\n"Long live the leader!,1\n')),
    Case("a TSV row with more fields than the header", ("predict", "t.tsv"), "error", "t.tsv",
         write("t.tsv", "text\tid\nLong live the leader!\t1\t2\n")),
    Case("a TSV read as CSV would be (commas, no tabs)", ("predict", "t.tsv"), "error", "t.tsv",
         write("t.tsv", "text,id\nLong live the leader!,1\n")),
    Case("a JSONL line that is not JSON", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "Long live the leader!"}\nnot json\n')),
    Case("a JSONL line with an unterminated string", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "Long live the leader!"}\n{"text": "unterminated\n')),
    Case("a JSONL line that is an array, not an object", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '["Long live the leader!"]\n')),
    Case("a JSONL record without the text key", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "Long live the leader!"}\n{"body": "no text here"}\n')),
    Case("a JSONL text that is not a string", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": 42}\n')),
    Case("a JSONL text with a lone surrogate escape", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "Long live \\ud800 the leader!"}\n')),
    Case("a JSONL first line nested 100,000 deep", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "x", "y": ' + "[" * 100_000 + "]" * 100_000 + "}\n")),
    Case("a JSONL second line nested 100,000 deep", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "Long live the leader!"}\n{"text": "x", "y": ' + "[" * 100_000 + "]" * 100_000
               + "}\n")),
    Case("a JSONL first line with a 5,000-digit number", ("predict", "t.jsonl"), "error", "t.jsonl",
         write("t.jsonl", '{"text": "x", "n": ' + "9" * 5000 + "}\n")),
    Case("an unknown label in a labeled corpus file", ("evaluate", "--no-report", "--data", "labeled"), "error",
         "labeled/x.csv", corpus("a1,Long live the great leader!,praise,authored,,,g1\n")),
    Case("a duplicate row in labeled data", ("evaluate", "--no-report", "--data", "labeled"), "error",
         "labeled/x.csv", corpus("a1,Long live the great leader!,slogan,authored,,,g1\n" * 2)),
    Case("the same text with two labels", ("evaluate", "--no-report", "--data", "labeled"), "error", "labeled/x.csv",
         corpus("a1,Long live the great leader!,slogan,authored,,,g1\n"
                "a2,Long live the great leader!,neutral,authored,,,g2\n")),
    Case("offsets that do not match the source", ("evaluate", "--no-report", "--data", "labeled"), "error",
         "labeled/x.csv", corpus("s1,Long live the great leader!,slogan,seed.txt,5,32,g1\n")),
    Case("offsets outside the source", ("evaluate", "--no-report", "--data", "labeled"), "error", "labeled/x.csv",
         corpus("s1,Long live the great leader!,slogan,seed.txt,0,9999,g1\n")),
    Case("a seed document that is not UTF-8", ("evaluate", "--no-report", "--data", "labeled"), "error",
         "raw/seed.txt", both(corpus("s1,Long live the great leader!,slogan,seed.txt,0,27,g1\n"),
                              write("raw/seed.txt", b"Long live the great leader! \xe9\n"))),
    Case("a corpus file missing a column", ("evaluate", "--no-report", "--data", "labeled"), "error", "labeled/x.csv",
         write("labeled/x.csv", "id,text,label\na1,Long live the great leader!,slogan\n")),
    Case("a corpus folder with no CSV files", ("evaluate", "--no-report", "--data", "labeled"), "error", "labeled",
         write("labeled/notes.txt", "nothing here\n")),
    Case("a labels file with an unknown label", ("agreement", "first.csv", "second.csv"), "error", "first.csv",
         both(write("first.csv", "id,label\na1,praise\n"), write("second.csv", "id,label\na1,slogan\n"))),
    Case("a damaged model file", ("predict", "--model", "m", "notes.txt"), "error", "m/",
         both(NOTES, model_copy(damage_model_files))),
    Case("a model folder without its manifest", ("predict", "--model", "m", "notes.txt"), "error", "m/",
         both(NOTES, model_copy(remove_manifest))),
    Case("a hand-edited manifest: a files entry that is a string", ("predict", "--model", "m", "notes.txt"),
         "error", "propclf.json", both(NOTES, model_copy(edit_manifest(
             lambda m: m["files"].update({"propclf.vocab.json": "3510d244"}))))),
    Case("a hand-edited manifest: calibration a string", ("predict", "--model", "m", "notes.txt"), "error",
         "propclf.json", both(NOTES, model_copy(edit_manifest(lambda m: m.update(calibration="scaled"))))),
    Case("a hand-edited manifest: temperature \"abc\"", ("predict", "--model", "m", "notes.txt"), "error",
         "propclf.json", both(NOTES, model_copy(edit_manifest(
             lambda m: m["calibration"].update(temperature="abc"))))),
    Case("a hand-edited manifest: a negative temperature", ("predict", "--model", "m", "notes.txt"), "error",
         "propclf.json", both(NOTES, model_copy(edit_manifest(
             lambda m: m["calibration"].update(temperature=-0.7))))),
    Case("a model whose vocab names its own token pattern (hash updated)", ("predict", "--model", "m", "notes.txt"),
         "error", "m", both(NOTES, model_copy(rewrite_vouched("propclf.vocab.json", crafted_token_pattern)))),
    Case("a model with a NaN coefficient (hash updated)", ("predict", "--model", "m", "notes.txt"), "error", "m",
         both(NOTES, model_copy(rewrite_vouched("propclf.weights.npz", nan_coefficient)))),
    Case("a labels file another label session is writing", ("label", "--corpus", "labeled", "--annotator", "ann",
                                                             "notes.txt"),
         "error", "label-ann.csv", both(NOTES, labeling_elsewhere)),
    Case("a model folder that does not exist", ("predict", "--model", "nowhere", "notes.txt"), "error", "nowhere",
         NOTES),
    Case("--min-confidence 2", ("predict", "--min-confidence", "2", "notes.txt"), "usage", "--min-confidence", NOTES),
    Case("an unknown --format", ("predict", "--format", "pdf", "notes.txt"), "usage", "--format", NOTES),
    Case("an output path in a missing folder (it is created)", ("predict", "-o", "out/new/tags.csv", "notes.txt"),
         "ok", "out/new/tags.csv", NOTES),
    Case("an output path that is a folder", ("predict", "-o", "out", "notes.txt"), "error", "out",
         both(NOTES, write("out/keep.txt", ""))),
    Case("an output path under a file", ("predict", "-o", "notes.txt/tags.csv", "notes.txt"), "error", "notes.txt",
         NOTES),
]


# --- Running them -----------------------------------------------------------------------------------------

def run(case: Case, folder: Path) -> Result:
    """Build the case's files in ``folder`` and run the command line there, in-process."""
    from propclf.cli import main

    case.build(folder)
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code: int | str = main(list(case.argv))
            except SystemExit as exc:  # main() returns its exit code; a raw exit is reported as it is
                code = exc.code if isinstance(exc.code, int) else 1
            except Exception:  # noqa: BLE001 - an escaped exception is a finding: print it as Python would
                code = "traceback"
                traceback.print_exc(file=sys.stderr)
    finally:
        os.chdir(previous)
    return Result(code, stdout.getvalue(), stderr.getvalue(), str(folder))


def run_all() -> list[tuple[Case, Result]]:
    results = []
    for case in CASES:
        with tempfile.TemporaryDirectory(prefix="propclf-bad-") as folder:
            try:
                results.append((case, run(case, Path(folder))))
            finally:
                while _HOLDERS:  # processes a case started to hold a lock
                    holder = _HOLDERS.pop()
                    holder.kill()
                    holder.wait()
    return results


def cell(text: str) -> str:
    """A Markdown table cell holding ``text`` as code."""
    if not text:
        return ""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def shown(result: Result) -> str:
    """The message as the table shows it: the temporary folder's absolute path as $PWD."""
    message = result.message
    for folder in {result.folder, str(Path(result.folder).resolve())}:
        if folder:
            message = message.replace(folder, "$PWD")
    return cell(message) if message else "*(nothing on standard error)*"


def table(results: list[tuple[Case, Result]]) -> str:
    lines = [
        "# Bad inputs, and what the user sees",
        "",
        f"Generated by `{COMMAND}`: each input is built in a temporary folder and the real command line is",
        "run on it there (in-process, `propclf.cli.main(argv)`); the exit code and message are what it printed.",
        "Do not edit this file by hand; rerun the command.",
        "",
        "Errors are one line on standard error and exit code 1; usage mistakes (caught by click) exit with 2",
        "after click's usage lines, of which the last is shown. A few inputs run, with a warning or a notice.",
        "Where a message holds the absolute path of the folder the command ran in, it is shown as `$PWD`.",
        "Where Python prints a traceback instead, its last line is shown.",
        "",
        "| input | command | exit code | message |",
        "|---|---|---:|---|",
    ]
    for case, result in results:
        command = "propclf " + " ".join(case.argv)
        bug = " (known bug)" if case.known_bug else ""
        code = "1 (traceback)" if result.exit_code == "traceback" else result.exit_code
        lines.append(f"| {case.input}{bug} | {cell(command)} | {code} | {shown(result)} |")
    bugs = [(case, result) for case, result in results if case.known_bug]
    if bugs:
        lines += ["", "Known bugs (an exception escapes instead of a one-line error):", ""]
        lines += [f"- {case.input}: {case.known_bug}." for case, _ in bugs]
    return "\n".join(lines) + "\n"


def main() -> int:
    results = run_all()
    OUTPUT.write_text(table(results), encoding="utf-8")
    print(f"Wrote {OUTPUT.relative_to(ROOT)} ({len(results)} inputs)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))  # document this checkout's propclf, installed or not
    raise SystemExit(main())
