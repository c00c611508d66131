"""The benchmark suite runs end to end in its quick mode (tiny inputs, one run): it works, it writes nothing."""

import subprocess
import sys

from conftest import ROOT


def test_benchmark_suite_quick_mode():
    results = ROOT / "benchmarks" / "RESULTS.md"
    before = results.read_bytes() if results.exists() else None
    done = subprocess.run([sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = done.stdout
    headings = ["## 1. Throughput", "## 2. Cold start", "## 3. Memory", "## 4. Training", "## 8. The speed targets"]
    if (ROOT / "models" / "encoder" / "propclf.json").is_file():
        headings.append("## 7. The encoder model")
    for heading in headings:
        assert heading in report
    assert "Heavy libraries it imported (of sklearn, pandas, matplotlib, dask, joblib): []" in report
    assert (results.read_bytes() if results.exists() else None) == before  # --quick writes no results file
