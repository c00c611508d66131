"""Retrain the bundled model from data/labeled/ into models/ and print its evaluation.

    python train.py [--data data/labeled] [--out models] [--seed 0] [--folds 5] [--jobs N]

The same as ``propclf train``.
"""

import sys

from propclf.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *sys.argv[1:]]))
