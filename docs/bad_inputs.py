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
    expects it to fail until the bug is fixed. ``unprivileged`` runs the command as an ordinary user would
    (as root, whom file permissions do not stop, with the effective user id of ``nobody`` for the run).
    """

    input: str
    argv: tuple[str, ...]
    kind: str
    names: str
    build: Callable[[Path], None] = lambda folder: None
    known_bug: str = ""
    stdin: bytes = b""  # what standard input holds
    unprivileged: bool = False


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


def unreadable(name: str, data: str) -> Callable[[Path], None]:
    """A file nobody may read (mode 000)."""
    def build(folder: Path) -> None:
        write(name, data)(folder)
        (folder / name).chmod(0)
    return build


def fifo(name: str, data: str) -> Callable[[Path], None]:
    """A named pipe that a thread fills once, as a process piping into it would (it can be read only once)."""
    import threading

    def build(folder: Path) -> None:
        path = folder / name
        os.mkfifo(path)

        def feed() -> None:
            with path.open("w", encoding="utf-8") as handle:
                handle.write(data)
        threading.Thread(target=feed, daemon=True).start()
    return build


def odd_name(data: str) -> Callable[[Path], None]:
    """notes-caf\\xe9.txt: a file name holding a byte that is not UTF-8."""
    def build(folder: Path) -> None:
        (folder / os.fsdecode(b"notes-caf\xe9.txt")).write_text(data, encoding="utf-8")
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
    Case("a label whose rows are all in one group", ("evaluate", "--no-report", "--data", "labeled"), "error",
         "labeled", corpus("a1,Long live the great leader!,slogan,authored,,,g1\n"
                           "a2,Glory to the plan!,slogan,authored,,,g2\n"
                           "a3,The regime lied about the harvest.,critique,authored,,,g3\n"
                           "a4,The parade hid the hunger.,critique,authored,,,g4\n"
                           "a5,It rained in May.,neutral,authored,,,g5\n"
                           "a6,The train left at noon.,neutral,authored,,,g5\n")),
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
    # Documents (pip install 'propclf[formats]') and other binary files.
    Case("a PNG image named .txt", ("predict", "notes.txt"), "error", "notes.txt",
         write("notes.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")),
    Case("a PNG image, with --errors replace", ("predict", "--errors", "replace", "photo.txt"), "error", "photo.txt",
         write("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")),
    Case("a gzip archive", ("predict", "notes.txt.gz"), "error", "notes.txt.gz",
         write("notes.txt.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")),
    Case("a legacy Word .doc file", ("predict", "draft.doc"), "error", "draft.doc",
         write("draft.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))),
    Case("a .docx that is not a ZIP", ("predict", "draft.docx"), "error", "draft.docx",
         write("draft.docx", "This was never a Word file.\n")),
    Case("a damaged PDF", ("predict", "report.pdf"), "error", "report.pdf",
         write("report.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R")),
    Case("an image-only PDF (a scan, no text layer)", ("predict", "scan.pdf"), "error", "scan.pdf",
         lambda folder: blank_pdf(folder / "scan.pdf")),
    Case("an encrypted PDF", ("predict", "locked.pdf"), "error", "locked.pdf",
         lambda folder: blank_pdf(folder / "locked.pdf", password="secret")),
    Case("an HTML page with no main text", ("predict", "menu.html"), "error", "menu.html",
         write("menu.html", "<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav></body></html>")),
    Case("a PDF on standard input", ("predict", "-"), "error", "-", stdin=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
    Case("a folder with an image-only PDF (--glob '*.txt,*.pdf')", ("predict", "--glob", "*.txt,*.pdf", "docs"),
         "warning", "scan.pdf", both(write("docs/notes.txt", "It was a cynical film.\n"),
                                      lambda folder: blank_pdf(folder / "docs" / "scan.pdf"))),
    Case("an unreadable CSV (no read permission)", ("predict", "t.csv"), "error", "t.csv: permission denied",
         unreadable("t.csv", "text\nLong live the leader!\n"), unprivileged=True),
    Case("an unreadable JSONL file (no read permission)", ("predict", "t.jsonl"), "error",
         "t.jsonl: permission denied", unreadable("t.jsonl", '{"text": "Long live the leader!"}\n'),
         unprivileged=True),
    Case("a CSV in UTF-16 without a byte order mark, with --encoding utf-16", ("predict", "--encoding", "utf-16",
         "t.csv"), "error", "t.csv", write("t.csv", "text,id\nLong live the leader!,1\n".encode("utf-16-le"))),
    Case("a CSV that is a named pipe (FIFO), read once", ("predict", "t.csv"), "ok", "",
         fifo("t.csv", "text,id\nLong live the leader!,1\n")),
    Case("a CSV header with a repeated column name", ("predict", "t.csv"), "error", "'text'",
         write("t.csv", "text,text,id\nLong live the leader!,It rained.,1\n")),
    Case("an input file name with a byte that is not UTF-8, with -o", ("predict", "-o", "tags.jsonl",
         os.fsdecode(b"notes-caf\xe9.txt")), "ok", "tags.jsonl", odd_name("Long live the great leader!\n")),
    Case("an output that is the input", ("predict", "-o", "notes.txt", "notes.txt"), "error", "notes.txt", NOTES),
    Case("an output that is the input CSV", ("predict", "-o", "t.csv", "t.csv"), "error", "t.csv",
         write("t.csv", "text\nLong live the leader!\n")),
    Case("an output extension that names no format", ("predict", "-o", "tags.xlsx", "notes.txt"), "usage",
         "tags.xlsx", NOTES),
    Case("explaining an empty sentence", ("explain", ""), "usage", "SENTENCE"),
    Case("--text-column with no table among the inputs", ("predict", "--text-column", "body", "notes.txt"), "usage",
         "--text-column", NOTES),
    Case("labels for agreement in .tsv files (read by their tabs)", ("agreement", "first.tsv", "second.tsv"), "ok",
         "", both(write("first.tsv", "id\tlabel\na1\tslogan\na2\tneutral\n"),
                  write("second.tsv", "id\tlabel\na1\tslogan\na2\tcritique\n"))),
    Case("labels for agreement in a file that is not .csv or .tsv", ("agreement", "first.jsonl", "second.csv"),
         "error", "first.jsonl", both(write("first.jsonl", '{"id": "a1", "label": "slogan"}\n'),
                                      write("second.csv", "id,label\na1,slogan\n"))),
]


def blank_pdf(path: Path, password: str | None = None) -> None:
    """A PDF of two blank pages (no text layer), encrypted with ``password`` if given."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(595, 842)
    if password:
        writer.encrypt(password, algorithm="AES-256")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        writer.write(handle)


# --- Running them -----------------------------------------------------------------------------------------

def run(case: Case, folder: Path) -> Result:
    """Build the case's files in ``folder`` and run the command line there, in-process."""
    from propclf.cli import main

    case.build(folder)
    stdout, stderr = io.StringIO(), io.StringIO()
    previous, previous_stdin = Path.cwd(), sys.stdin
    os.chdir(folder)
    sys.stdin = io.TextIOWrapper(io.BytesIO(case.stdin))
    as_nobody = case.unprivileged and hasattr(os, "geteuid") and os.geteuid() == 0
    if as_nobody:
        from propclf import predict

        predict("Long live the leader!")  # the model and NumPy are loaded while they can be read
        folder.chmod(0o755)  # nobody must reach the folder, only not the file
        os.seteuid(65534)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code: int | str = main(list(case.argv))
            except SystemExit as exc:  # main() returns its exit code; a raw exit is reported as it is
                code = exc.code if isinstance(exc.code, int) else 1
            except Exception:  # an escaped exception is a finding: print it as Python would
                code = "traceback"
                traceback.print_exc(file=sys.stderr)
    finally:
        if as_nobody:
            os.seteuid(0)
        os.chdir(previous)
        sys.stdin = previous_stdin
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
        command = "propclf " + " ".join(arg or '""' for arg in case.argv)
        command = command.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")  # odd file names
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
