"""The benchmark suite: speed, start-up, memory, training and the fastText peer, each beside its baseline.

    pip install -e '.[bench]' && python benchmarks/run.py [--quick] [--ptc-dir ../shared/ptc]
        [--megabytes 100] [--naive-megabytes 10] [--runs 3] [--skip fasttext,fasttext-speed,dask,train,encoder]
        [--torch-python PATH]

Every figure is measured in the same run as its baseline, in child processes, as the median of
--runs runs, and reported as a ratio next to the absolute figures and the machine's cores. The text
is real news text: the PTC articles in --ptc-dir, repeated to size (the seed documents when that
folder is missing). Writes benchmarks/RESULTS.md, except with --quick, which runs everything on
small inputs once to prove the suite works (CI does this).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _text import real_text  # benchmarks/ is on sys.path: this script's folder

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sklearn", "pandas", "matplotlib", "dask", "joblib")


def _peer(name: str) -> Any:
    """Import a sibling benchmark script by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(text: str, megabytes: float, folder: Path) -> Path:
    """A text file of about ``megabytes`` MB: the text repeated, cut at a paragraph when it is enough."""
    path = folder / f"corpus_{megabytes:g}mb.txt"
    data, target = text.encode("utf-8") + b"\n\n", int(megabytes * 1_000_000)
    with path.open("wb") as handle:
        written = 0
        while written < target:
            end = data.find(b"\n\n", target - written)
            piece = data if end < 0 else data[:end + 2]
            handle.write(piece)
            written += len(piece)
    return path


class _Peak:
    """Peak resident memory of a process and all its children, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process, self.peak = psutil.Process(pid), 0

    def sample(self) -> None:
        import psutil

        try:
            tree = [self.process, *self.process.children(recursive=True)]
            self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass


def timed(command: list[str], *, memory: bool = False) -> dict[str, float]:
    """Wall time (and peak memory of the process tree) of one child process, which must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = _Peak(process.pid) if memory else None
    while process.poll() is None:
        if peak:
            peak.sample()
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return {"seconds": seconds, **({"peak_mb": peak.peak / 1e6} if peak else {})}


def median(command: list[str], runs: int, *, memory: bool = False) -> dict[str, float]:
    results = [timed(command, memory=memory) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


# The naive way: the trained scikit-learn pipeline's predict_proba on the segmented sentences, one
# process. It prints its own timing, so reading and segmenting are not counted against it.
NAIVE = """
import sys, time
from propclf import load_model, segment
scorer = load_model(trust=True).pipeline.predict_proba if sys.argv[2] == "pipeline" else load_model().predict_proba
sentences = [s.text for s in segment(open(sys.argv[1], encoding="utf-8").read())]
start = time.perf_counter()
for i in range(0, len(sentences), 2000):
    scorer(sentences[i:i + 2000])
print(time.perf_counter() - start, len(sentences), sum(len(s.encode()) for s in sentences))
"""
# The floor: read the file and run one regex tokenisation pass over it.
FLOOR = "import re, sys; re.findall(r'\\w+', open(sys.argv[1], encoding='utf-8').read())"


def throughput(corpus: Path, naive_corpus: Path, runs: int, cores: int) -> dict[str, Any]:
    size = corpus.stat().st_size / 1e6
    out = corpus.with_suffix(".csv")
    results: dict[str, Any] = {"megabytes": size, "naive_megabytes": naive_corpus.stat().st_size / 1e6}
    for jobs in sorted({1, cores}):
        run = median([sys.executable, "-m", "propclf", "predict", "--jobs", str(jobs), "--format", "csv",
                      "-o", str(out), str(corpus)], runs)
        results[f"propclf_jobs{jobs}_mb_s"] = size / run["seconds"]
        results[f"propclf_jobs{jobs}_seconds"] = run["seconds"]
    with out.open(encoding="utf-8", newline="") as handle:
        results["sentences"] = sum(1 for _ in csv.reader(handle)) - 1
    for name, scorer in (("naive", "pipeline"), ("plain", "plain")):
        timings = []
        for _ in range(runs):
            done = subprocess.run(_python(NAIVE, str(naive_corpus), scorer), cwd=ROOT, capture_output=True, text=True,
                                  check=True)
            seconds, sentences, sentence_bytes = done.stdout.split()
            timings.append((float(seconds), int(sentences), int(sentence_bytes)))
        seconds, sentences, _ = sorted(timings)[len(timings) // 2]
        results[f"{name}_mb_s"] = results["naive_megabytes"] / seconds
        results[f"{name}_sentences_s"] = sentences / seconds
    results["floor_mb_s"] = size / median(_python(FLOOR, str(corpus)), runs)["seconds"]
    results["propclf_sentences_s"] = results["sentences"] / results[f"propclf_jobs{cores}_seconds"]
    return results


# One core kept busy by another process, while propclf runs beside it.
BUSY = "while True: pass"
# The segmenter alone on one core: CPU seconds of segmenting the whole file (reading not counted).
SEGMENT = """
import sys, time
from propclf import segment
text = open(sys.argv[1], encoding="utf-8").read()
start = time.process_time()
segment(text)
print(time.process_time() - start)
"""


def targets(corpus: Path, runs: int, cores: int, ptc_dir: Path, fasttext: bool) -> dict[str, Any]:
    """The figures the speed targets are stated in that the other sections do not measure: the segmenter
    alone, both job counts with one core kept busy, and fastText's predict on the same PTC sentences."""
    size = corpus.stat().st_size / 1e6
    seconds = sorted(float(subprocess.run(_python(SEGMENT, str(corpus)), cwd=ROOT, capture_output=True, text=True,
                                          check=True).stdout) for _ in range(runs))[runs // 2]
    results: dict[str, Any] = {"segmenter_mb_s": size / seconds}
    busy = subprocess.Popen(_python(BUSY))
    try:
        for jobs in sorted({1, cores}):
            run = median([sys.executable, "-m", "propclf", "predict", "--jobs", str(jobs), "--format", "csv",
                          "-o", os.devnull, str(corpus)], runs)
            results[f"busy_jobs{jobs}_mb_s"] = size / run["seconds"]
    finally:
        busy.kill()
        busy.wait()
    if fasttext:
        peer = _peer("fasttext_peer")
        try:
            import fasttext as _  # noqa: F401
        except ImportError:
            return results
        corpus_rows = peer._import_propclf().load_corpus(str(ROOT / "data" / "labeled"))
        results["fasttext"] = peer.speed(corpus_rows, ptc_dir, size, runs)["python_predict"]
    return results


def cold_start(folder: Path, runs: int) -> dict[str, Any]:
    one = folder / "one.txt"
    one.write_text("Long live the great leader!\n", encoding="utf-8")
    figures = {
        "python_pass_s": median(_python("pass"), runs)["seconds"],
        "import_sklearn_s": median(_python("import sklearn.linear_model"), runs)["seconds"],
        "propclf_predict_s": median([sys.executable, "-m", "propclf", "predict", str(one)], runs)["seconds"],
    }
    # Which heavy libraries the predict path imports (it should import none of them).
    check = ("import sys; from propclf.cli import main; main(['predict', sys.argv[1]]); "
             f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)")
    done = subprocess.run(_python(check, str(one)), cwd=ROOT, capture_output=True, text=True, check=True)
    figures["heavy_imports"] = done.stderr.strip().splitlines()[-1]
    return figures


def memory(text: str, folder: Path, sizes: list[float], cores: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        corpus = build(text, size, folder)
        for jobs in sorted({1, cores}):
            run = timed([sys.executable, "-m", "propclf", "predict", "--jobs", str(jobs), "--format", "csv",
                         "-o", os.devnull, str(corpus)], memory=True)
            rows.append({"megabytes": corpus.stat().st_size / 1e6, "jobs": jobs, **run})
    return rows


def training(folder: Path, quick: bool) -> dict[str, Any]:
    out = folder / "models"
    command = [sys.executable, "train.py", "--out", str(out), "--no-report"]
    if quick:  # a small slice of the corpus, to prove the step works
        import random

        rows = list(csv.DictReader((ROOT / "data" / "labeled" / "authored.csv").open(encoding="utf-8")))
        random.Random(0).shuffle(rows)
        small = folder / "small.csv"
        with small.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows([r for label in ("slogan", "critique", "neutral")
                              for r in [r for r in rows if r["label"] == label][:40]])
        command += ["--data", str(small), "--folds", "2"]
    seconds = timed(command)["seconds"]
    manifest = json.loads((out / "propclf.json").read_text(encoding="utf-8"))
    return {"seconds": seconds, "rows": manifest["training_data"]["rows"],
            "files": {name: entry["bytes"] for name, entry in manifest["files"].items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc-dir", type=Path, default=ROOT.parent / "shared" / "ptc")
    parser.add_argument("--megabytes", type=float, default=100.0, help="size of the throughput corpus")
    parser.add_argument("--naive-megabytes", type=float, default=10.0,
                        help="size of the corpus the naive pipeline tags (it is slow; its rate is what counts)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to skip: fasttext (section 5), fasttext-speed (its speed in "
                             "section 8), dask, train, encoder")
    parser.add_argument("--torch-python", help="a Python with sentence-transformers and PyTorch: the encoder "
                                               "section compares propclf's NumPy encoder with it")
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one run, no RESULTS.md (for CI)")
    args = parser.parse_args(argv)
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    megabytes, naive_mb, runs = (1.0, 0.5, 1) if args.quick else (args.megabytes, args.naive_megabytes, args.runs)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    text, origin = real_text(args.ptc_dir)
    results: dict[str, Any] = {"cores": cores, "text": origin, "runs": runs}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("throughput...", flush=True)
        results["throughput"] = throughput(build(text, megabytes, folder), build(text, naive_mb, folder), runs, cores)
        print("targets...", flush=True)
        results["targets"] = targets(build(text, megabytes, folder), runs, cores, args.ptc_dir,
                                     "fasttext-speed" not in skip)
        print("cold start...", flush=True)
        results["cold_start"] = cold_start(folder, max(runs, 5) if not args.quick else 1)
        print("memory...", flush=True)
        results["memory"] = memory(text, folder, [megabytes / 10, megabytes], cores)
        if "train" not in skip:
            print("training...", flush=True)
            results["training"] = training(folder, args.quick)
    if "fasttext" not in skip:
        print("fastText peer...", flush=True)
        results["fasttext"] = _peer("fasttext_peer").run(args.quick, args.ptc_dir, 1.0 if args.quick else 20.0, runs)
    if "dask" not in skip:
        print("dask scaling...", flush=True)
        results["dask"] = _peer("dask_scaling").run(args.quick, args.ptc_dir, 2.0 if args.quick else 20.0, runs)
    if "encoder" not in skip and (ROOT / "models" / "encoder" / "propclf.json").is_file():
        print("encoder model...", flush=True)
        results["encoder"] = _peer("encoder").run(args.ptc_dir, 50 if args.quick else 2000, runs,
                                                  ROOT / "models" / "encoder", args.torch_python)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = format_results(results, command.strip())
    print("\n" + report)
    if not args.quick:
        sys.path.insert(0, str(ROOT / "src"))
        from propclf._textio import atomic_write_text

        atomic_write_text(ROOT / "benchmarks" / "RESULTS.md", report)
    return 0


def format_results(r: dict[str, Any], command: str) -> str:
    t, c = r["throughput"], r["cold_start"]
    cores = r["cores"]
    lines = [
        "# Benchmark results", "",
        f"Command: `{command}`  ",
        f"Date: {datetime.date.today()}; machine: {cores} cores, Python {sys.version.split()[0]}; text: {r['text']}, "
        f"repeated to size; median of {r['runs']} run(s) unless said otherwise. Each figure was measured in the "
        "same run as its baseline. This machine is shared, so absolute times are noisy; the ratios less so.", "",
        "## 1. Throughput of `propclf predict` (read, segment, vectorise, classify, write CSV)", "",
        "| what | MB/s | ratio to the naive way |", "|---|---:|---:|",
    ]
    naive = t["naive_mb_s"]
    for jobs in sorted({1, cores}):
        rate = t[f"propclf_jobs{jobs}_mb_s"]
        lines.append(f"| propclf predict, `--jobs {jobs}`, end to end, {t['megabytes']:.0f} MB | {rate:.2f} | "
                     f"{rate / naive:.1f}x |")
    lines += [
        f"| naive: the same scikit-learn pipeline's `predict_proba` on the segmented sentences, one process, "
        f"{t['naive_megabytes']:.0f} MB (segmenting not timed) | {naive:.2f} | 1.0x |",
        f"| propclf's plain model (`Model.predict_proba`) on the same segmented sentences, one process | "
        f"{t['plain_mb_s']:.2f} | {t['plain_mb_s'] / naive:.1f}x |",
        f"| floor: read the file and one regex tokenisation pass | {t['floor_mb_s']:.1f} | "
        f"{t['floor_mb_s'] / naive:.1f}x |",
    ]
    lines.append(f"\npropclf tagged {t['sentences']:,} sentences, {t['propclf_sentences_s']:,.0f} sentences/s on "
                 f"{cores} cores; the naive way {t['naive_sentences_s']:,.0f} sentences/s.")
    if r.get("fasttext"):
        fast = r["fasttext"]["speed"]["python_predict"]
        lines.append(f"The peer, fastText's `predict` on a batch of segmented sentences (Python, one core; section 5): "
                     f"{fast['mb_per_second']:.2f} MB/s, {fast['sentences_per_second']:,} sentences/s; propclf's "
                     f"plain model on segmented sentences runs at {t['plain_mb_s'] / fast['mb_per_second']:.2f}x "
                     "that speed.")
        cli = r["fasttext"]["speed"].get("cli_predict")
        if cli:
            end_to_end = t[f"propclf_jobs{cores}_mb_s"]
            lines.append(f"fastText's own command line (`fasttext predict`, C++, one core, section 5): "
                         f"{cli['mb_per_second']:.2f} MB/s whole process, {cli['mb_per_second_after_load']:.2f} MB/s "
                         f"after loading its model; propclf predict end to end on {cores} cores runs at "
                         f"{end_to_end / cli['mb_per_second']:.2f}x its whole-process speed.")
    lines += [
        "", "## 2. Cold start: `propclf predict` on a one-sentence file, whole process", "",
        "| process | seconds |", "|---|---:|",
        f"| `python -c pass` | {c['python_pass_s']:.3f} |",
        f"| `python -c \"import sklearn.linear_model\"` | {c['import_sklearn_s']:.3f} |",
        f"| `propclf predict one.txt` | {c['propclf_predict_s']:.3f} |",
        "",
        f"propclf predict takes {c['propclf_predict_s'] / c['import_sklearn_s']:.2f}x the time of importing "
        f"scikit-learn's linear models, {c['propclf_predict_s'] - c['python_pass_s']:.3f} s more than an empty "
        f"Python. Heavy libraries it imported (of {', '.join(HEAVY)}): {c['heavy_imports']}.",
        "", "## 3. Memory: peak resident memory of the whole process tree while tagging", "",
        "| input (MB) | jobs | peak (MB) | seconds |", "|---:|---:|---:|---:|",
    ]
    for row in r["memory"]:
        lines.append(f"| {row['megabytes']:.0f} | {row['jobs']} | {row['peak_mb']:.0f} | {row['seconds']:.1f} |")
    for jobs in sorted({row["jobs"] for row in r["memory"]}):
        same = [row for row in r["memory"] if row["jobs"] == jobs]
        small, large = same[0], same[-1]
        lines.append(f"\n`--jobs {jobs}`: {large['megabytes'] / small['megabytes']:.0f}x the input, "
                     f"{large['peak_mb'] / small['peak_mb']:.2f}x the peak memory.")
    if r.get("training"):
        tr = r["training"]
        lines += ["", "## 4. Training and model files", "",
                  f"`python train.py --no-report` on {tr['rows']:,} rows (grid search, nested evaluation, "
                  f"calibration, final fit): {tr['seconds']:.0f} s, one run.", "",
                  "| file | bytes |", "|---|---:|"]
        lines += [f"| `{name}` | {size:,} |" for name, size in tr["files"].items()]
    if r.get("fasttext"):
        lines += ["", "## 5. The peer: fastText", "", _fasttext_lines(r["fasttext"])]
    if r.get("dask"):
        lines += ["", "## 6. Dask engine: 1 vs 2 workers", "", _dask_lines(r["dask"])]
    if r.get("encoder"):
        lines += ["", "## 7. The encoder model (`models/encoder`) beside the default model", "",
                  _peer("encoder").markdown(r["encoder"])]
    if r.get("targets"):
        lines += ["", "## 8. The speed targets, each measured in this run", "", _target_lines(r, cores)]
    return "\n".join(lines) + "\n"


def _target_lines(r: dict[str, Any], cores: int) -> str:
    t, g, c = r["throughput"], r["targets"], r["cold_start"]
    one, many = t["propclf_jobs1_mb_s"], t[f"propclf_jobs{cores}_mb_s"]
    busy_one, busy_many = g["busy_jobs1_mb_s"], g[f"busy_jobs{cores}_mb_s"]
    extra = c["propclf_predict_s"] - c["python_pass_s"]
    rows = [("`--jobs 1` end to end", ">= 4 MB/s", f"{one:.2f} MB/s", one >= 4)]
    if g.get("fasttext"):
        fast = g["fasttext"]["mb_per_second"]
        rows.append(("`--jobs 1` end to end / fastText (words, bigrams, characters 2-5; Python, one thread, the same "
                     f"PTC sentences pre-split: {fast:.2f} MB/s)", ">= 2.5x", f"{one / fast:.2f}x", one / fast >= 2.5))
    rows += [
        (f"`--jobs {cores}` / `--jobs 1`", ">= 1.7x", f"{many / one:.2f}x", many / one >= 1.7),
        (f"`--jobs {cores}` / `--jobs 1`, one core kept busy by another process "
         f"({busy_many:.2f} / {busy_one:.2f} MB/s)", ">= 1.0x", f"{busy_many / busy_one:.2f}x",
         busy_many / busy_one >= 1),
        ("segmenter alone, one core (CPU time)", ">= 25 MB/s", f"{g['segmenter_mb_s']:.1f} MB/s",
         g["segmenter_mb_s"] >= 25),
        ("cold start, `propclf predict` on one sentence, beyond `python -c pass`", "<= 0.15 s", f"{extra:.3f} s",
         extra <= 0.15),
    ]
    lines = ["| target | wanted | measured | met |", "|---|---:|---:|---|"]
    lines += [f"| {what} | {wanted} | {measured} | {'yes' if met else 'no'} |" for what, wanted, measured, met in rows]
    return "\n".join(lines)


def _fasttext_lines(f: dict[str, Any]) -> str:
    return "```\n" + _peer("fasttext_peer").format_summary(f) + "\n```"


def _dask_lines(d: dict[str, Any]) -> str:
    return _peer("dask_scaling").markdown(d)


if __name__ == "__main__":
    raise SystemExit(main())
