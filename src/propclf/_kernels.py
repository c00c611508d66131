"""The optional compiled kernel of n-gram scoring (``pip install 'propclf[fast]'``: Numba).

Scoring a batch with NumPy alone walks the n-gram trie for every window and every length, then
sorts the hits to count them. The kernel walks each window only as long as its prefix starts some
term, counts in a scratch array, and sums the scores text by text: no sort, no large temporaries.
It gives the NumPy path's scores (to rounding: sums in another order).

Numba is imported only for batches of at least ``KERNEL_MIN_CHARS`` characters (importing it and
loading the compiled kernel cost more than a small batch takes), never for one sentence, and not at
all without the extra or with ``PROPCLF_KERNEL=numpy``. The kernel is compiled once per machine
and kept in Numba's cache beside this file (or in the user's cache folder when that is read-only).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["KERNEL_MIN_CHARS", "ngram_kernel"]

#: Batches with fewer characters are scored with NumPy alone.
KERNEL_MIN_CHARS = 100_000

_kernel: list[Any] = []  # [] not tried yet; [None] not available; [the compiled function] ready


def ngram_kernel(size: int) -> Any:
    """The compiled scoring for a batch of ``size`` characters, or None: score it with NumPy.

    One function serves both kinds of feature set. Character n-grams give it their codes and trie;
    word n-grams give it their looked-up columns as codes of a one-level trie (code = column + 1).
    """
    if size < KERNEL_MIN_CHARS or os.environ.get("PROPCLF_KERNEL", "").lower() == "numpy":
        return None
    if not _kernel:
        _kernel.append(_compile())
    return _kernel[0]


def _compile() -> Any:
    try:
        import numba
    except ImportError:
        return None
    import numpy as np

    @numba.njit(cache=True, nogil=True)
    def ngram_scores(codes: Any, room: Any, starts: Any, steps: Any, columns: Any, width: int, low: int, high: int,
                     table: Any, sublinear: bool) -> Any:  # pragma: no cover - compiled
        """Scores of texts ``codes[starts[t]:starts[t + 1]]``: each position starts the n-grams of
        n = ``low`` .. ``high`` (at most ``room``) that the trie (``steps``, ``columns``) knows."""
        texts, labels = len(starts) - 1, table.shape[1] - 1
        out = np.zeros((texts, labels))
        count = np.zeros(table.shape[0], dtype=np.int32)
        longest = 0
        for text in range(texts):
            longest = max(longest, starts[text + 1] - starts[text])
        touched = np.empty(longest * (high - low + 1) + 1, dtype=np.int64)
        sums = np.zeros(labels)
        for text in range(texts):
            found = 0
            for position in range(starts[text], starts[text + 1]):
                node = codes[position]
                if node == 0:
                    continue
                for n in range(1, min(high, room[position]) + 1):
                    if n > 1:
                        node = steps[n][node * width + codes[position + n - 1]]
                        if node == 0:  # no term starts like this window: no longer one either
                            break
                    if n >= low:
                        column = columns[n][node]
                        if column >= 0:
                            if count[column] == 0:
                                touched[found] = column
                                found += 1
                            count[column] += 1
            norm = 0.0
            sums[:] = 0.0
            for i in range(found):
                column = touched[i]
                tf = np.log(count[column]) + 1.0 if sublinear else float(count[column])
                count[column] = 0
                value = tf * table[column, 0]
                norm += value * value
                for label in range(labels):
                    sums[label] += tf * table[column, label + 1]
            if norm > 0:
                norm = np.sqrt(norm)
                for label in range(labels):
                    out[text, label] = sums[label] / norm
        return out

    return ngram_scores
