"""Killed midway (SIGKILL), a command leaves the previous model, manifest and output intact."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, RAW
from propclf import load_model

# These runs are about workers: start the two asked for, however busy the machine is.
EXACT_JOBS = {**os.environ, "PROPCLF_EXACT_JOBS": "1"}


def kill_when(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the command ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_killed_training_keeps_the_previous_model(tmp_path: Path, model_dir: Path):
    before = {p.name: p.read_bytes() for p in model_dir.iterdir() if p.is_file()}
    process = subprocess.Popen([sys.executable, "train.py", "--data", str(DATA), "--out", str(model_dir),
                                "--no-report", "--jobs", "1"], cwd=DATA.parents[1], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    # Kill it while it cross-validates: long after it started, long before it writes.
    kill_when(process, lambda: (time.sleep(3) or True))
    after = {p.name: p.read_bytes() for p in model_dir.iterdir() if p.is_file()}
    assert after == before
    assert load_model(model_dir).predict_proba(["Long live the Party!"])


def test_killed_output_write_leaves_the_old_file(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))) * 40,
                   encoding="utf-8")
    target = tmp_path / "out.csv"
    target.write_text("previous results\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "propclf", "predict", "--format", "csv", "-o", str(target),
                                str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once it is writing: its temporary file beside the target has grown.
    kill_when(process, lambda: any(p.name.startswith(".out.csv.") and p.stat().st_size > 0
                                   for p in tmp_path.iterdir()))
    assert target.read_text(encoding="utf-8") == "previous results\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv.")]
    assert all(name.endswith(".tmp") for name in leftovers)  # a kill may leave a hidden temp file, never a half target
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_killed_parallel_run_leaves_no_worker_behind(tmp_path: Path):
    import psutil

    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))) * 40,
                   encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "propclf", "predict", "--jobs", "2", "--format", "csv",
                                "-o", str(tmp_path / "out.csv"), str(big)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=EXACT_JOBS)
    parent = psutil.Process(process.pid)
    workers: list = []

    def started() -> bool:
        workers[:] = [p for p in parent.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
        return len(workers) == 2

    kill_when(process, started)
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, f"workers still running after their parent was killed: {[p.pid for p in alive]}"


def test_an_output_over_a_labels_file_keeps_a_backup(tmp_path: Path, capsys):
    """No command rewrites labeled data without a copy, even when --output points at it by mistake."""
    from propclf.cli import main

    labels = tmp_path / "authored.csv"
    shutil.copyfile(DATA / "authored.csv", labels)
    original = labels.read_bytes()
    assert main(["predict", "--format", "csv", "-o", str(labels), str(RAW / "000_c312eb8dd21f1c61.txt")]) == 0
    (backup,) = tmp_path.glob("authored.csv.*.bak")
    assert backup.read_bytes() == original
    other = tmp_path / "tags.csv"
    assert main(["predict", "--format", "csv", "-o", str(other), str(RAW / "000_c312eb8dd21f1c61.txt")]) == 0
    assert main(["predict", "--format", "csv", "-o", str(other), str(RAW / "000_c312eb8dd21f1c61.txt")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["authored.csv", backup.name, "tags.csv"]


@pytest.mark.parametrize("when", ["as workers start", "while workers run"])
def test_ctrl_c_in_a_parallel_run_is_one_line(tmp_path: Path, when: str):
    """Ctrl-C reaches the whole process group: the parent says so in one line, workers print nothing."""
    import psutil

    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))) * 120,
                   encoding="utf-8")
    target = tmp_path / "out.csv"
    process = subprocess.Popen([sys.executable, "-m", "propclf", "predict", "--jobs", "2", "-o", str(target),
                                str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                               env=EXACT_JOBS)

    def ready() -> bool:
        try:
            workers = [p for p in psutil.Process(process.pid).children() if "spawn_main" in " ".join(p.cmdline())]
        except psutil.Error:  # a child came and went while we looked
            return False
        if when == "as workers start":  # the parent is still handing the first worker its start-up data
            return len(workers) >= 1
        return len(workers) == 2 and all(w.cpu_times().user > 0.5 for w in workers)

    deadline = time.monotonic() + 60
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err.decode()) == (130, "\nAborted.\n")
    assert not target.exists() and not list(tmp_path.glob(".out.csv.*"))


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no signal masks on this platform")
def test_a_ctrl_c_held_during_a_spawn_takes_effect_after_it():
    """Ctrl-C while workers are being spawned is neither lost nor raised inside the spawn."""
    from propclf._tagging import _sigint_held

    handler = signal.getsignal(signal.SIGINT)
    finished_inside = False
    with pytest.raises(KeyboardInterrupt):
        with _sigint_held():
            signal.raise_signal(signal.SIGINT)  # to this thread, which holds it back
            os.kill(os.getpid(), signal.SIGINT)  # to the process: any thread may catch this one
            time.sleep(0.05)
            finished_inside = True
    assert finished_inside
    assert signal.getsignal(signal.SIGINT) is handler
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_killed_training_leaves_no_worker_behind(tmp_path: Path):
    """SIGKILL of a training run takes its search workers (and their helpers) with it within seconds."""
    import psutil

    env = {**os.environ, "PYTHONPATH": str(DATA.parents[1] / "src")}
    process = subprocess.Popen([sys.executable, "train.py", "--data", str(DATA), "--out", str(tmp_path / "m"),
                                "--no-report", "--jobs", "2", "--crosswriter", str(tmp_path / "none")],
                               cwd=DATA.parents[1], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(process.pid)
    family: list = []

    def busy() -> bool:
        try:
            family[:] = parent.children(recursive=True)
            workers = [p for p in family if "LokyProcess" in " ".join(p.cmdline())]
            return len(workers) >= 2 and all(w.cpu_times().user > 1 for w in workers)
        except psutil.Error:
            return False

    kill_when(process, busy, timeout=300)
    _, alive = psutil.wait_procs(family, timeout=10)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"still running after the training was killed: {[(p.pid, p.cmdline()[:3]) for p in alive]}"
