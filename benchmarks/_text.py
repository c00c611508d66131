"""Shared by the benchmarks: real text (the PTC news articles, or the seed documents when PTC is not there),
and the median time of a call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def real_text(ptc_dir: Path) -> tuple[str, str]:
    """All articles joined by blank lines, and where they came from."""
    articles = sorted((ptc_dir / "train-articles").glob("*.txt"))
    if articles:
        return "\n\n".join(p.read_text(encoding="utf-8") for p in articles), f"PTC articles ({len(articles)})"
    seeds = sorted((ROOT / "data" / "raw").glob("*.txt"))
    return "\n\n".join(p.read_text(encoding="utf-8") for p in seeds), "the seed documents (PTC not found)"


def median_seconds(call: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """The median wall time of ``runs`` calls, and every time."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times
