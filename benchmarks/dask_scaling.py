"""Scaling of the dask engine: wall time with a local cluster of 1 worker, then of 2 workers.

    python benchmarks/dask_scaling.py [--ptc-dir ../shared/ptc] [--megabytes 20] [--runs 3] [--quick] [--json OUT]

Builds a text corpus of --megabytes MB from real news text (the PTC training articles, concatenated
and repeated to size; the seed documents of data/raw if PTC is not there), as files of about 1.5 MB
(at least 4 files), then tags it with ``tag_with_dask`` (CSV parts) on a LocalCluster of 1 and of 2
worker processes (one thread each). Starting the cluster is timed apart and not counted; each run
writes into a fresh folder. Reports the median wall time of --runs runs, MB/s, the ratio of the
2-worker speed to the 1-worker speed, and the CPU time the workers used (CPU / wall below the number
of workers means they waited: for cores taken by other processes, or for work). Prints a Markdown
table and, with --json, writes the figures there. Writes no RESULTS file. --quick (2 MB, 1 run)
finishes within a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _text import real_text  # benchmarks/ is on sys.path: this script's folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

#: Size of the corpus files (smaller for a small corpus, so that there are at least MIN_FILES).
FILE_BYTES = 1_500_000
MIN_FILES = 4


def build_corpus(text: str, megabytes: float, folder: Path) -> list[Path]:
    """Files of about FILE_BYTES each (at least MIN_FILES), cut at paragraph ends, totalling ``megabytes`` MB."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    target, written, files = int(megabytes * 1_000_000), 0, []
    file_bytes = min(FILE_BYTES, target // MIN_FILES)
    current: list[bytes] = []
    size = 0
    index = 0
    while written + size < target:
        paragraph = (paragraphs[index % len(paragraphs)] + "\n\n").encode("utf-8")
        index += 1
        current.append(paragraph)
        size += len(paragraph)
        if size >= file_bytes or written + size >= target:
            path = folder / f"doc-{len(files):04d}.txt"
            path.write_bytes(b"".join(current))
            files.append(path)
            written, current, size = written + size, [], 0
    return files


def measure(files: list[Path], workers: int, runs: int, scratch: Path) -> dict[str, Any]:
    import logging

    from distributed import Client, LocalCluster

    from propclf._dask import tag_with_dask
    from propclf._predict import get_model

    model = get_model()
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster, set_as_default=False) as client:
        startup = time.perf_counter() - started
        client.run(lambda: None)  # every worker answers before the clock starts
        times, cpu, sentences, parts = [], [], 0, 0
        for run in range(runs):
            out = scratch / f"out-{workers}-{run}"
            before = client.run(time.process_time)
            begin = time.perf_counter()
            result = tag_with_dask([str(p) for p in files], out, scheduler=cluster.scheduler_address, model=model)
            times.append(time.perf_counter() - begin)
            after = client.run(time.process_time)
            cpu.append(sum(after[worker] - before[worker] for worker in after))
            sentences, parts = result.sentences, len(result.parts)
            shutil.rmtree(out)
    megabytes = sum(p.stat().st_size for p in files) / 1_000_000
    seconds = statistics.median(times)
    return {"workers": workers, "cluster_start_s": round(startup, 2), "times_s": [round(t, 2) for t in times],
            "median_s": round(seconds, 2), "mb_per_s": round(megabytes / seconds, 3), "sentences": sentences,
            "parts": parts, "worker_cpu_s": round(statistics.median(cpu), 2),
            # Below 1 per worker when the workers wait (for the CPU, shared with other processes, or for work).
            "cpu_per_wall": round(statistics.median(cpu) / seconds, 2)}


def run(quick: bool, ptc_dir: Path, megabytes: float, runs: int) -> dict[str, Any]:
    """Build the corpus, measure 1 and 2 workers, and return the figures."""
    text, origin = real_text(ptc_dir)
    with tempfile.TemporaryDirectory(prefix="propclf-dask-") as scratch:
        folder = Path(scratch) / "corpus"
        folder.mkdir()
        files = build_corpus(text, megabytes, folder)
        size = sum(p.stat().st_size for p in files) / 1_000_000
        results = [measure(files, workers, runs, Path(scratch)) for workers in (1, 2)]
    one, two = results
    return {
        "benchmark": "dask_scaling",
        "date": datetime.date.today().isoformat(),
        "quick": quick,
        "corpus": origin,
        "megabytes": round(size, 2),
        "files": len(files),
        "runs": runs,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "results": results,
        "speedup_2_over_1": round(one["median_s"] / two["median_s"], 2),
    }


def markdown(figures: dict[str, Any]) -> str:
    lines = [f"Dask engine, {figures['megabytes']} MB of {figures['corpus']} in {figures['files']} files, "
             f"median of {figures['runs']} run(s), {figures['cores']} cores, {figures['date']}:", "",
             "| workers | cluster start (s) | time (s) | MB/s | workers' CPU (s) | CPU / wall | sentences | parts |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in figures["results"]:
        lines.append(f"| {r['workers']} | {r['cluster_start_s']} | {r['median_s']} | {r['mb_per_s']} | "
                     f"{r['worker_cpu_s']} | {r['cpu_per_wall']} | {r['sentences']} | {r['parts']} |")
    lines += ["", f"2 workers / 1 worker speed: {figures['speedup_2_over_1']}x"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 MB, 1 run (under a minute)")
    parser.add_argument("--ptc-dir", type=Path, default=ROOT.parent / "shared" / "ptc")
    parser.add_argument("--megabytes", type=float, help="corpus size in MB (default 20; quick: 2)")
    parser.add_argument("--runs", type=int, help="runs per cluster size (default 3; quick: 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    megabytes = args.megabytes if args.megabytes is not None else (2 if args.quick else 20)
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    figures = run(args.quick, args.ptc_dir, megabytes, runs)
    print(markdown(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
