"""Memory while tagging large inputs: peak RSS must not grow with input size.

    python benchmarks/streaming.py [--ptc-dir ../shared/ptc] [--sizes 10,100] [--quick]

Builds text corpora of the given sizes (MB) from real news text (the PTC articles, repeated to
size; the seed documents if PTC is not there), and a CSV with one row per paragraph, then runs
`propclf predict --format csv` on each in a child process and reports its peak resident memory
and wall time, median of --runs runs. Writes benchmarks/STREAMING.md unless --quick.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def real_text(ptc_dir: Path) -> tuple[str, str]:
    articles = sorted((ptc_dir / "train-articles").glob("*.txt"))
    if articles:
        return "\n\n".join(p.read_text(encoding="utf-8") for p in articles), f"PTC articles ({len(articles)})"
    seeds = sorted((ROOT / "data" / "raw").glob("*.txt"))
    return "\n\n".join(p.read_text(encoding="utf-8") for p in seeds), "the seed documents (PTC not found)"


def build(text: str, megabytes: float, folder: Path) -> tuple[Path, Path]:
    target = int(megabytes * 1_000_000)
    chunk = text.encode("utf-8")
    plain = folder / f"corpus_{megabytes:g}mb.txt"
    with plain.open("wb") as handle:
        written = 0
        while written < target:
            handle.write(chunk[: target - written] if written + len(chunk) > target else chunk)
            handle.write(b"\n\n")
            written += len(chunk) + 2
    table = folder / f"corpus_{megabytes:g}mb.csv"
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        written, row = 0, 0
        while written < target:
            for paragraph in paragraphs:
                row += 1
                writer.writerow([row, paragraph])
                written += len(paragraph) + 8
                if written >= target:
                    break
    return plain, table


def measure(path: Path, runs: int) -> dict[str, float]:
    peaks, times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "propclf", "predict", "--format", "csv", "-o", os.devnull,
                                    str(path)], stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        if status != 0:
            raise SystemExit(f"propclf failed on {path}: {process.stderr.read().decode()}")
        peaks.append(usage.ru_maxrss / 1024)  # kilobytes on Linux
    size = path.stat().st_size / 1e6
    seconds = statistics.median(times)
    return {"mb": size, "peak_mb": statistics.median(peaks), "seconds": seconds, "mb_per_s": size / seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc-dir", default=str(ROOT.parent / "shared" / "ptc"))
    parser.add_argument("--sizes", default="10,100", help="corpus sizes in MB, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 and 3 MB, one run, no results file (for CI)")
    args = parser.parse_args(argv)
    sizes = [1.0, 3.0] if args.quick else [float(s) for s in args.sizes.split(",")]
    runs = 1 if args.quick else args.runs
    text, origin = real_text(Path(args.ptc_dir))
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        results = []
        for size in sizes:
            plain, table = build(text, size, Path(folder))
            for kind, path in (("text", plain), ("csv rows", table)):
                result = measure(path, runs)
                results.append((kind, result))
                print(f"{kind:<9} {result['mb']:8.1f} MB  peak {result['peak_mb']:7.1f} MB  "
                      f"{result['seconds']:7.1f} s  {result['mb_per_s']:.2f} MB/s", flush=True)
    command = "python benchmarks/streaming.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines += [
        "# Memory while streaming", "",
        f"Command: `{command.strip()}`  ",
        f"Date: {datetime.date.today()}, machine: {os.cpu_count()} cores; text: {origin}; "
        f"median of {runs} run(s); peak = maximum resident set size of the whole `propclf predict` process.", "",
        "| input | size (MB) | peak memory (MB) | time (s) | MB/s |", "|---|---:|---:|---:|---:|",
    ]
    for kind, r in results:
        lines.append(f"| {kind} | {r['mb']:.1f} | {r['peak_mb']:.0f} | {r['seconds']:.1f} | {r['mb_per_s']:.2f} |")
    for kind in ("text", "csv rows"):
        small, large = [r for k, r in results if k == kind][0], [r for k, r in results if k == kind][-1]
        growth = large["peak_mb"] / small["peak_mb"]
        lines.append(f"\n{kind}: {large['mb'] / small['mb']:.0f}x the input, {growth:.2f}x the peak memory.")
    report = "\n".join(lines) + "\n"
    print("\n" + report)
    if not args.quick:
        sys.path.insert(0, str(ROOT / "src"))
        from propclf._textio import atomic_write_text

        atomic_write_text(ROOT / "benchmarks" / "STREAMING.md", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
