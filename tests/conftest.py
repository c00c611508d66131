import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "labeled"
RAW = ROOT / "data" / "raw"
MODELS = ROOT / "models"


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
