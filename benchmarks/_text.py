"""Real text for the benchmarks: the PTC news articles, or the seed documents when PTC is not there."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def real_text(ptc_dir: Path) -> tuple[str, str]:
    """All articles joined by blank lines, and where they came from."""
    articles = sorted((ptc_dir / "train-articles").glob("*.txt"))
    if articles:
        return "\n\n".join(p.read_text(encoding="utf-8") for p in articles), f"PTC articles ({len(articles)})"
    seeds = sorted((ROOT / "data" / "raw").glob("*.txt"))
    return "\n\n".join(p.read_text(encoding="utf-8") for p in seeds), "the seed documents (PTC not found)"
