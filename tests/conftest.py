import csv
import io
import random
import shutil
import warnings
from pathlib import Path

import pytest

# When a test fails, hypothesis's pytest plugin imports its patch writer, which imports libcst, whose
# import warns (DeprecationWarning from mypy_extensions); with warnings as errors that turns every failure
# into an INTERNALERROR that hides the falsifying example. Import it once here, with that warning ignored.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # libcst is optional
        pass

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "labeled"
RAW = ROOT / "data" / "raw"
MODELS = ROOT / "models"


def small_corpus(tmp_path: Path, per_label: int = 60) -> Path:
    """An authored-only sample of the corpus, small enough to train in seconds."""
    rows = list(csv.DictReader((DATA / "authored.csv").open(encoding="utf-8")))
    random.Random(1).shuffle(rows)
    picked = [r for label in ("slogan", "critique", "neutral")
              for r in [r for r in rows if r["label"] == label][:per_label]]
    path = tmp_path / "small.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return path


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A writable copy of data/ (labeled + raw), so tests can break it."""
    shutil.copytree(ROOT / "data" / "labeled", tmp_path / "labeled")
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "raw")
    return tmp_path / "labeled"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled model."""
    target = tmp_path / "models"
    shutil.copytree(MODELS, target, ignore=shutil.ignore_patterns("report"))
    return target


def _fingerprint() -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in (ROOT / "models", ROOT / "data") for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="session", autouse=True)
def repository_is_left_alone():
    """No test may write into the repository's models/ or data/ (the shipped model, the corpus)."""
    before = _fingerprint()
    yield
    changed = sorted(set(before.items()) ^ set(_fingerprint().items()))
    assert not changed, f"tests changed the repository: {sorted({name for name, _ in changed})}"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """The command line in this process: its exit code, standard output and standard error."""
    from propclf.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(out: str) -> list[dict[str, str]]:
    """The rows of CSV output."""
    return list(csv.DictReader(io.StringIO(out)))
