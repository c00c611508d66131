"""The plain model: TF-IDF features and logistic-regression scores from plain data, with NumPy alone.

Training exports the fitted scikit-learn pipeline to two files that hold data, never code:
``propclf.vocab.json`` (the settings and, per feature set, its terms in column order) and
``propclf.weights.npz`` (per feature set its idf, then the coefficients and intercepts, rows in
LABELS order; read with ``allow_pickle=False``). ``PlainScorer`` rebuilds the pipeline's features
from them exactly (tests compare probabilities to 1e-9), without importing scikit-learn: loading
is safe, and the command line starts fast (NumPy only: importing SciPy's sparse matrices alone
takes longer than all the rest of a one-sentence run).

Speed comes from counting n-grams for a whole batch at once in NumPy instead of one Python string
per n-gram: characters become small integers, and a table per n-gram length (a trie laid out as
arrays) maps a window of characters, or a run of token ids, to its column in one gather.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np

from ._labels import LABELS

__all__ = ["PLAIN_FORMAT", "VOCAB_FILE", "WEIGHTS_FILE", "TOKEN_PATTERN", "VECTORIZERS", "EMBEDDING_FEATURE", "Rows",
           "PlainScorer", "export_plain", "read_plain", "check_temperature"]

#: Bumped when the plain layout changes.
PLAIN_FORMAT = 1
VOCAB_FILE = "propclf.vocab.json"
WEIGHTS_FILE = "propclf.weights.npz"
#: Batches with fewer characters are scored by looking each n-gram up, without the array tables.
SMALL_BATCH_CHARS = 20_000
# scikit-learn settings the plain scorer reproduces; export refuses a pipeline that needs others.
_SUPPORTED = {"input": "content", "lowercase": True, "preprocessor": None, "tokenizer": None, "stop_words": None,
              "strip_accents": None, "binary": False, "norm": "l2", "use_idf": True}
# Words, plus '!' and '?' as tokens of their own: exclamations carry slogans.
TOKEN_PATTERN = r"(?u)\b\w\w*\b|[!?]"
#: The TF-IDF blocks propclf builds (``_training.pipeline``), by name, and how each analyses text. These
#: are the only ones a saved model may hold: a model file names a block, it cannot choose a regular
#: expression or a code path.
VECTORIZERS: dict[str, dict[str, Any]] = {
    "word": {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": TOKEN_PATTERN, "min_df": 1},
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5), "token_pattern": None, "min_df": 2},
}


@dataclass
class Rows:
    """Sparse rows in SciPy's CSR layout, without SciPy: row i has values ``data[indptr[i]:indptr[i + 1]]``
    at columns ``indices[...]`` (sorted within the row)."""

    data: Any
    indices: Any
    indptr: Any
    shape: tuple[int, int]

    def row_ids(self) -> Any:
        """The row of every stored value."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def toarray(self) -> Any:
        dense = np.zeros(self.shape)
        dense[self.row_ids(), self.indices] = self.data
        return dense


class _CharTrie:
    """Columns of the character n-grams of one vocabulary, as arrays indexed by character codes.

    ``step[d][node, code]`` is the node of a window of ``d`` characters, given the node of its
    first ``d - 1`` characters and the code of its last (node 0: no term starts like this);
    ``column[d][node]`` is the window's column, or -1. Depth 1 nodes are the codes themselves.
    Built with array operations, not a loop over terms, to keep loading fast.
    """

    def __init__(self, terms: list[str]) -> None:
        lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        self.max_n = int(lengths.max()) if len(terms) else 1
        points = np.frombuffer("".join(t.ljust(self.max_n) for t in terms).encode("utf-32-le", "surrogatepass"),
                               dtype=np.uint32).reshape(len(terms), self.max_n).astype(np.int64)
        inside = np.arange(self.max_n) < lengths[:, None]
        alphabet = np.unique(points[inside])
        width = len(alphabet) + 1
        if width ** self.max_n >= 2 ** 62:
            raise ValueError(f"{len(alphabet)} characters in n-grams up to {self.max_n} do not fit 64-bit keys")
        self.lookup = np.zeros(int(alphabet.max()) + 1 if len(alphabet) else 1, dtype=np.int64)
        self.lookup[alphabet] = np.arange(1, width)
        codes = np.where(inside, self.lookup[np.where(inside, points, 0)], 0)
        self.step: list[Any] = [None, None]
        self.column: list[Any] = [None, np.full(width, -1, dtype=np.int64)]
        parents = np.arange(width)  # depth 1: node = code; a node's key is its prefix in base ``width``
        key = np.zeros(len(terms), dtype=np.int64)
        for depth in range(1, self.max_n + 1):
            key = key * width + codes[:, depth - 1]
            if depth > 1:
                nodes, node_of = np.unique(key[lengths >= depth], return_inverse=True)
                table = np.zeros((len(parents) + 1, width), dtype=np.int32)
                parent = np.searchsorted(parents, nodes // width) + (depth > 2)
                table[parent, nodes % width] = np.arange(1, len(nodes) + 1)
                self.step.append(table)
                self.column.append(np.full(len(nodes) + 1, -1, dtype=np.int64))
                full_node = np.zeros(len(terms), dtype=np.int64)
                full_node[lengths >= depth] = node_of.ravel() + 1
                parents = nodes
            else:
                full_node = key
            ends = np.flatnonzero(lengths == depth)
            self.column[depth][full_node[ends]] = ends
        self.width = width
        self.flat_step = [None if table is None else table.ravel() for table in self.step]
        self.kernel_tables: Any = None  # the tables as the compiled kernel takes them, made on first use

    def codes(self, text: str) -> tuple[Any, Any]:
        """The code points of ``text``, and each as its code here (0: a character no term contains)."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        known = points < len(self.lookup)
        return points, np.where(known, self.lookup[np.where(known, points, 0)], 0)


class _KeyTable:
    """Columns of integer keys (non-negative, below 2 ** 62), in an open-addressing hash table: a look-up is
    a gather or two, where a binary search over the sorted keys takes a cache miss per step."""

    def __init__(self, keys: Any, columns: Any) -> None:
        bits = max(4, int(2 * len(keys)).bit_length())  # at most half full
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._keys = np.full(1 << bits, -1, dtype=np.int64)
        self._columns = np.full(1 << bits, -1, dtype=np.int64)
        self._probes = 0
        pending, slot = np.arange(len(keys)), self._slot(keys)
        while len(pending):  # linear probing: each round places one key per free slot, the others move on
            self._probes += 1
            free = self._keys[slot] < 0
            _, first = np.unique(slot[free], return_index=True)
            placed = np.flatnonzero(free)[first]
            self._keys[slot[placed]] = keys[pending[placed]]
            self._columns[slot[placed]] = columns[pending[placed]]
            left = np.ones(len(pending), dtype=bool)
            left[placed] = False
            pending, slot = pending[left], (slot[left] + 1) & self._mask

    def _slot(self, keys: Any) -> Any:
        # Fibonacci hashing: the top bits of key x 2^64 / golden ratio (wrapping multiplication).
        return ((keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> self._shift).astype(np.int64)

    def columns(self, keys: Any) -> Any:
        """Each key's column, or -1."""
        found = np.full(len(keys), -1, dtype=np.int64)
        todo, slot = np.arange(len(keys)), self._slot(keys)
        for _ in range(self._probes):  # no key sits further than ``_probes`` slots from its own
            stored = self._keys[slot]
            match = stored == keys[todo]
            found[todo[match]] = self._columns[slot[match]]
            go_on = ~match & (stored >= 0)  # an empty slot ends the search: the key is not there
            if not go_on.any():
                break
            todo, slot = todo[go_on], (slot[go_on] + 1) & self._mask
        return found


# Faster patterns that find exactly the same tokens: with findall, ``\b\w\w*\b`` can only start at a word's
# first character and runs to its last, as ``\w+`` does (tests/test_plain_paths.py compares them).
_SAME_TOKENS = {r"(?u)\b\w\w*\b|[!?]": re.compile(r"\w+|[!?]")}

# The compiled kernel's one-level trie for word n-grams: no steps, and no column at depth 0.
_ONE_LEVEL_STEPS = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32))
_NO_COLUMNS = np.zeros(0, dtype=np.int64)


@dataclass
class _FeatureSet:
    """One TF-IDF vectorizer of the pipeline: its settings, terms in column order, and idf."""

    name: str
    analyzer: str
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    terms: list[str]
    idf: Any

    def __post_init__(self) -> None:
        self.width = len(self.terms)
        if self.analyzer not in ("char_wb", "word"):
            raise ValueError(f"unsupported analyzer {self.analyzer!r}")
        if self.analyzer == "word":
            self._pattern = re.compile(VECTORIZERS[self.name]["token_pattern"])  # propclf's own, never the file's
        # The array tables pay off on large batches only: they are built on the first one, so that a short
        # run (one sentence) never waits for them. A vocabulary they could not hold is refused here, at load.
        self._column = dict(zip(self.terms, range(self.width)))
        self._tables_built = False
        if not self._tables_fit():
            self._build_tables()

    def _tables_fit(self) -> bool:
        """Whether the keys of the array tables surely fit 64 bits (a cheap bound: when unsure, build them now)."""
        high = self.ngram_range[1]
        if self.analyzer == "char_wb":
            longest = max(map(len, self.terms), default=1)
            return (len(set("".join(self.terms))) + 1) ** longest < 2 ** 62
        return (high * self.width + 1) ** high < 2 ** 62  # each term has at most ``high`` tokens

    def _build_tables(self) -> None:
        if self._tables_built:
            return
        if self.analyzer == "char_wb":
            self._trie = _CharTrie(self.terms)
        else:
            self._prepare_words()
        self._tables_built = True

    def _prepare_words(self) -> None:
        # The terms' tokens end to end (one split of the joined terms is the per-term splits laid end to end).
        flat = " ".join(self.terms).split(" ")
        tokens = sorted(set(flat))
        self._token_id = dict(zip(tokens, range(1, len(tokens) + 1)))
        self._base = len(tokens) + 1
        low, high = self.ngram_range
        if self._base ** high >= 2 ** 62:
            raise ValueError(f"word n-grams up to {high} over {len(tokens)} tokens do not fit 64-bit keys")
        lengths = np.fromiter(map(str.count, self.terms, repeat(" ")), dtype=np.int64, count=len(self.terms)) + 1
        ids = np.fromiter(map(self._token_id.__getitem__, flat), dtype=np.int64, count=len(flat))
        first = np.cumsum(lengths) - lengths
        # Single tokens: a token id's column, or -1. Longer n-grams, per length: their keys (token ids
        # as digits in base ``_base``), sorted, and their columns.
        self._unigram = np.full(self._base, -1, dtype=np.int64)
        single = np.flatnonzero(lengths == 1)
        self._unigram[ids[first[single]]] = single
        self._keys: dict[int, _KeyTable] = {}
        for n in range(max(low, 2), high + 1):
            columns = np.flatnonzero(lengths == n)
            keys = np.zeros(len(columns), dtype=np.int64)
            for j in range(n):
                keys = keys * self._base + ids[first[columns] + j]
            self._keys[n] = _KeyTable(keys, columns)

    def counts(self, lowered: list[str]) -> Any:
        """Term counts, one CSR row per (lower-cased) text, columns sorted."""
        width = len(self.terms)
        rows, columns, counts = self._grouped(lowered)
        indptr = np.zeros(len(lowered) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(lowered)), out=indptr[1:])
        return Rows(counts.astype(np.float64), columns.astype(np.int64), indptr, (len(lowered), width))

    def _grouped(self, lowered: list[str]) -> tuple[Any, Any, Any]:
        """(text, column, count) of every distinct term of every text, by text then column."""
        width = len(self.terms)
        # Each hit as one integer, text * width + column: one sort groups the hits of a text by column.
        dtype = np.int32 if len(lowered) * max(width, 1) < 2 ** 31 else np.int64
        if sum(map(len, lowered)) < SMALL_BATCH_CHARS:
            hits = np.fromiter(self._looked_up_hits(lowered, width), dtype=dtype)
        else:
            self._build_tables()
            hits = self._char_hits(lowered, width, dtype) if self.analyzer == "char_wb" else \
                self._word_hits(lowered, width, dtype)
        hits.sort()
        first = np.ones(len(hits), dtype=bool)
        np.not_equal(hits[1:], hits[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(hits)))
        rows, columns = np.divmod(hits[starts], width) if width else (hits[starts], hits[starts])
        return rows, columns, counts

    def prepare_scores(self, weights: list[Any]) -> None:
        """Per column: idf, then idf x each label's coefficient, side by side: one gather per term hit."""
        self._table = np.ascontiguousarray(np.column_stack([self.idf, *(self.idf * w for w in weights)]))

    def score(self, lowered: list[str]) -> Any:
        """This set's share of the linear scores (texts x labels), straight from the term counts.

        The same as ``scores(transform(...))``: a row's unit-length scaling is applied to its sums,
        not to each of its terms.
        """
        compiled = self._char_score(lowered) if self.analyzer == "char_wb" else self._word_score(lowered)
        if compiled is not None:
            return compiled
        rows, columns, counts = self._grouped(lowered)
        total = np.zeros((len(lowered), self._table.shape[1] - 1))
        if not len(rows):
            return total
        tf = np.log(counts) + 1.0 if self.sublinear_tf else counts.astype(np.float64)
        gathered = np.take(self._table, columns, axis=0)  # a row gather: several times faster than [columns]
        gathered *= tf[:, None]
        np.square(gathered[:, 0], out=gathered[:, 0])
        # Rows come sorted by text: one reduceat sums each text's squares and scores at once.
        first = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        sums = np.add.reduceat(gathered, first, axis=0)
        norms = np.sqrt(sums[:, 0])
        norms[norms == 0] = 1
        total[rows[first]] = sums[:, 1:] / norms[:, None]
        return total

    def _looked_up_hits(self, lowered: list[str], width: int) -> Iterator[int]:
        """The hits (text * width + column) of a small batch, one n-gram string at a time, as scikit-learn
        makes them: no tables needed."""
        get, (low, high) = self._column.get, self.ngram_range
        for text_number, text in enumerate(lowered):
            base = text_number * width
            if self.analyzer == "char_wb":
                grams: Iterable[str] = (padded[i:i + n] for padded in (f" {word} " for word in text.split())
                                        for n in range(low, min(high, len(padded)) + 1)
                                        for i in range(len(padded) - n + 1))
            else:
                tokens = self._pattern.findall(text)
                grams = (" ".join(tokens[i:i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1))
            for gram in grams:
                column = get(gram)
                if column is not None:
                    yield base + column

    def _char_stream(self, lowered: list[str]) -> tuple[Any, Any, Any]:
        """The texts as one array of character codes, the room left in each padded word, and where each text starts.

        scikit-learn's char_wb: every word (split on white space) padded with one space each side,
        then every window of n characters inside one padded word. The words of all texts are laid
        end to end; a double space can only be the seam between two padded words.
        """
        padded = [" " + "  ".join(words) + " " if words else "" for words in map(str.split, lowered)]
        points, codes = self._trie.codes("".join(padded))
        size = len(codes)
        starts = np.zeros(len(lowered) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, padded), dtype=np.int64, count=len(padded)), out=starts[1:])
        seam = np.flatnonzero((points[1:] == 32) & (points[:-1] == 32)) + 1
        word_starts = np.concatenate(([0], seam))
        ends = np.append(word_starts[1:], size)
        room = np.repeat(ends, ends - word_starts) - np.arange(size)  # characters left in the padded word
        return codes, room, starts

    def _char_hits(self, lowered: list[str], width: int, dtype: Any) -> Any:
        codes, room, starts = self._char_stream(lowered)
        size = len(codes)
        if not size:
            return np.zeros(0, dtype=dtype)
        document = np.repeat(np.arange(len(lowered)), np.diff(starts))
        base = document * width  # a hit is text * width + column
        low, high = self.ngram_range
        hits = []
        node = codes
        for n in range(1, min(high, self._trie.max_n, size) + 1):
            if n > 1:  # one flat gather: node * width + code
                node = np.take(self._trie.flat_step[n], node[:-1] * self._trie.width + codes[n - 1:])
            if n >= low:
                column = np.take(self._trie.column[n], node)
                hit = (column >= 0) & (room[:len(node)] >= n)
                hits.append((base[:len(node)][hit] + column[hit]).astype(dtype))
        return _joined(hits, dtype)

    def _compiled(self, lowered: list[str]) -> Any:
        """The compiled kernel for this batch's size (with the tables built), or None."""
        from ._kernels import ngram_kernel

        kernel = ngram_kernel(sum(map(len, lowered)))
        if kernel is not None:
            self._build_tables()
        return kernel

    def _char_score(self, lowered: list[str]) -> Any:
        """``score`` of a character set with the compiled kernel, for a large batch; None without it."""
        if (kernel := self._compiled(lowered)) is None:
            return None
        codes, room, starts = self._char_stream(lowered)
        trie, (low, high) = self._trie, self.ngram_range
        if trie.kernel_tables is None:  # tuples of one type: unused depths hold empty arrays
            empty_step, empty_column = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
            trie.kernel_tables = (tuple(empty_step if t is None else t for t in trie.flat_step),
                                  tuple(empty_column if c is None else c for c in trie.column))
        steps, columns = trie.kernel_tables
        return kernel(codes, room, starts, steps, columns, trie.width, low, min(high, trie.max_n), self._table,
                      self.sublinear_tf)

    def _word_hits(self, lowered: list[str], width: int, dtype: Any) -> Any:
        columns, document, _ = self._window_columns(lowered)
        hit = columns >= 0
        return (np.broadcast_to(document[:, None] * width, columns.shape)[hit] + columns[hit]).astype(dtype)

    def _window_columns(self, lowered: list[str]) -> tuple[Any, Any, Any]:
        """Per token of the texts (end to end), the column of each n-gram it starts (one per n, -1: none);
        each token's text; and where each text's tokens start."""
        findall, get = _SAME_TOKENS.get(self._pattern.pattern, self._pattern).findall, self._token_id.get
        tokens = [findall(text) for text in lowered]
        flat = list(chain.from_iterable(tokens))
        ids = np.fromiter(map(get, flat, repeat(0)), dtype=np.int64, count=len(flat))
        starts = np.zeros(len(lowered) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)), out=starts[1:])
        document = np.repeat(np.arange(len(lowered)), np.diff(starts))
        low, high = self.ngram_range
        columns = np.full((len(ids), high - low + 1), -1, dtype=np.int64)
        key = np.zeros(len(ids), dtype=np.int64)
        known = np.ones(len(ids), dtype=bool)
        for n in range(1, min(high, len(ids)) + 1):
            # key[i] encodes tokens i .. i+n-1; a window is valid inside one text, of known tokens.
            key = key[:len(ids) - n + 1] * self._base + ids[n - 1:]
            known = known[:len(ids) - n + 1] & (ids[n - 1:] > 0) & (document[n - 1:] == document[:len(ids) - n + 1])
            if n >= low:  # a single token's column is one look-up away
                found = self._unigram[ids] if n == 1 else self._keys[n].columns(key)
                columns[:len(key), n - low] = np.where(known, found, -1)
        return columns, document, starts

    def _word_score(self, lowered: list[str]) -> Any:
        """``score`` of a word set with the compiled kernel, for a large batch; None without it."""
        if (kernel := self._compiled(lowered)) is None:
            return None
        columns, _, starts = self._window_columns(lowered)
        # Each token's columns laid end to end, as the codes of a one-level trie: code = column + 1, 0: none.
        codes = columns.ravel() + 1
        width = columns.shape[1]
        return kernel(codes, np.ones(len(codes), dtype=np.int64), starts * width, _ONE_LEVEL_STEPS,
                      (_NO_COLUMNS, np.arange(-1, len(self._table), dtype=np.int64)), 1, 1, 1, self._table,
                      self.sublinear_tf)

    def transform(self, lowered: list[str]) -> Any:
        """TF-IDF rows: (1 + log count if sublinear) * idf, each row scaled to unit length."""
        matrix = self.counts(lowered)
        if self.sublinear_tf:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1
        matrix.data *= self.idf[matrix.indices]
        row = matrix.row_ids()
        norms = np.sqrt(np.bincount(row, weights=matrix.data ** 2, minlength=matrix.shape[0]))
        norms[norms == 0] = 1
        matrix.data /= norms[row]
        return matrix


class _EmbeddingSet:
    """The sentence-embedding block of an encoder model: ``weight`` x the pinned encoder's embedding.

    Needs ``propclf[encoder]``; the encoder is one of ``_encoder.ENCODERS``, checked against its pin.
    """

    analyzer = "encoder"

    def __init__(self, name: str, pin: dict[str, Any], weight: float) -> None:
        from ._encoder import load_encoder

        if not isinstance(weight, (int, float)) or not np.isfinite(weight):
            raise ValueError(f"encoder weight {weight!r} is not a finite number")
        self.name, self.pin, self.weight = name, pin, float(weight)
        self.encoder = load_encoder(pin)
        self.width = self.encoder.dimensions

    def dense(self, texts: list[str]) -> Any:
        return self.encoder.embed(texts).astype(np.float64) * self.weight

    def rows(self, texts: list[str]) -> Rows:
        values = self.dense(texts)
        n = len(texts)
        return Rows(values.ravel(), np.tile(np.arange(self.width), n), np.arange(n + 1) * self.width, (n, self.width))


EMBEDDING_FEATURE = "[sentence embedding]"


def _checked_specs(specs: Any) -> list[dict[str, Any]]:
    """The feature sets of a vocab file, refused unless each is one propclf writes (``VECTORIZERS``,
    or the sentence-embedding block), each name once, in FeatureUnion order."""
    order = [*VECTORIZERS, "encoder"]
    if not isinstance(specs, list) or not specs or not all(isinstance(spec, dict) for spec in specs):
        raise ValueError("features must be a list of feature sets")
    names = [spec.get("name") for spec in specs]
    if any(name not in order for name in names) or names != sorted(set(names), key=order.index):
        raise ValueError(f"feature sets {names!r} are not propclf's (some of {', '.join(order)}, each once, in order)")
    for spec in specs:
        name = spec["name"]
        if name == "encoder":
            if spec.get("analyzer") != "encoder":
                raise ValueError(f"feature set {name!r}: analyzer {spec.get('analyzer')!r} is not 'encoder'")
            continue
        wanted = VECTORIZERS[name]
        got = {"analyzer": spec.get("analyzer"), "token_pattern": spec.get("token_pattern"),
               "ngram_range": tuple(spec["ngram_range"]) if isinstance(spec.get("ngram_range"), list) else
               spec.get("ngram_range"), "sublinear_tf": spec.get("sublinear_tf")}
        for key, value in {**{k: wanted[k] for k in ("analyzer", "token_pattern", "ngram_range")},
                           "sublinear_tf": True}.items():
            if got[key] != value:
                raise ValueError(f"feature set {name!r}: {key} {got[key]!r} is not the one propclf writes ({value!r})")
        terms = spec.get("terms")
        # Whole-list checks (a type per term, one set): a per-term Python test costs more than the rest of a load.
        if not isinstance(terms, list) or not set(map(type, terms)) <= {str} \
                or len(distinct := set(terms)) != len(terms) or "" in distinct:
            raise ValueError(f"feature set {name!r}: terms must be distinct non-empty strings")
    return specs


def _finite(arrays: dict[str, Any], name: str) -> Any:
    """A weights array as float64, refused if missing, not numbers, or not finite."""
    if name not in arrays:
        raise ValueError(f"{WEIGHTS_FILE} has no {name}")
    array = arrays[name]
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} holds {array.dtype} values, not numbers")
    array = np.asarray(array, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds values that are not finite (NaN or infinite)")
    return array


def check_temperature(temperature: Any) -> float | None:
    """A calibration temperature: None (none fitted) or a positive finite number; else ValueError."""
    if temperature is None:
        return None
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature {temperature!r} is not a positive finite number")
    return float(temperature)


def _joined(parts: list[Any], dtype: Any) -> Any:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


class PlainScorer:
    """The pipeline's features and linear scores, from plain data."""

    def __init__(self, settings: dict[str, Any], arrays: dict[str, Any]) -> None:
        self._source = (settings, arrays)
        specs = _checked_specs(settings.get("features"))
        self.feature_sets: list[Any] = [
            _EmbeddingSet(spec["name"], spec["encoder"], spec["weight"]) if spec["analyzer"] == "encoder" else
            _FeatureSet(name=spec["name"], analyzer=spec["analyzer"], ngram_range=tuple(spec["ngram_range"]),
                        sublinear_tf=True, terms=spec["terms"], idf=_finite(arrays, f"idf_{spec['name']}"))
            for spec in specs
        ]
        self.coef = _finite(arrays, "coef")
        self.intercept = _finite(arrays, "intercept")
        width = sum(f.width for f in self.feature_sets)
        if self.coef.shape != (len(LABELS), width) or self.intercept.shape != (len(LABELS),):
            raise ValueError(f"weights of shape {self.coef.shape} do not fit {width} features and {len(LABELS)} labels")
        for feature_set in self.feature_sets:
            if feature_set.analyzer != "encoder" and feature_set.idf.shape != (feature_set.width,):
                raise ValueError(f"idf of {feature_set.name!r} does not fit its {feature_set.width} terms")
            if feature_set.analyzer != "encoder" and feature_set.width and not (feature_set.idf > 0).all():
                raise ValueError(f"idf_{feature_set.name} holds a value that is not positive")
        # Per feature set and label, its coefficients as one contiguous array (gathers are faster).
        edges = np.cumsum([0] + [f.width for f in self.feature_sets])
        self._weights = [[np.ascontiguousarray(row[a:b]) for row in self.coef] for a, b in zip(edges[:-1], edges[1:])]
        for feature_set, weights in zip(self.feature_sets, self._weights):
            if feature_set.analyzer != "encoder":
                feature_set.prepare_scores(weights)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (to worker processes) as its plain data; the look-up tables are rebuilt on arrival.
        return PlainScorer, self._source

    def transform(self, texts: list[str]) -> Rows:
        """The features, feature sets side by side as in the pipeline."""
        lowered = [text.lower() for text in texts]
        parts = [f.rows(texts) if f.analyzer == "encoder" else f.transform(lowered) for f in self.feature_sets]
        offsets = np.cumsum([0] + [f.width for f in self.feature_sets])
        rows = np.concatenate([part.row_ids() for part in parts])
        order = np.argsort(rows, kind="stable")  # by text, and within a text by feature set
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return Rows(np.concatenate([part.data for part in parts])[order],
                    np.concatenate([part.indices + offset for part, offset in zip(parts, offsets)])[order],
                    indptr, (len(texts), int(offsets[-1])))

    def decision(self, texts: list[str]) -> Any:
        """Linear scores (texts x labels): features . coef.T + intercept, one feature set at a time."""
        lowered = [text.lower() for text in texts]
        total = np.tile(self.intercept, (len(texts), 1))
        for feature_set, weights in zip(self.feature_sets, self._weights):
            if feature_set.analyzer == "encoder":
                total += feature_set.dense(texts) @ np.stack(weights).T
            else:
                total += feature_set.score(lowered)
        return total

    def feature_names(self) -> list[str]:
        names = []
        for f in self.feature_sets:
            if f.analyzer == "encoder":
                names += [EMBEDDING_FEATURE] * f.width
            else:
                names += [term if f.analyzer == "word" else repr(term) for term in f.terms]
        return names


def _check_vectorizer(name: str, vectorizer: Any) -> dict[str, Any]:
    if hasattr(vectorizer, "pin_"):  # the sentence-embedding block (EmbeddingFeatures)
        return {"name": name, "analyzer": "encoder", "encoder": vectorizer.pin_, "weight": float(vectorizer.weight)}
    params = vectorizer.get_params()
    for key, wanted in _SUPPORTED.items():
        if params.get(key) != wanted:
            raise ValueError(f"the plain model cannot reproduce {name}: {key}={params.get(key)!r}")
    if params["analyzer"] not in ("word", "char_wb"):
        raise ValueError(f"the plain model cannot reproduce {name}: analyzer={params['analyzer']!r}")
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return {"name": name, "analyzer": params["analyzer"], "ngram_range": list(params["ngram_range"]),
            "token_pattern": params["token_pattern"] if params["analyzer"] == "word" else None,
            "sublinear_tf": params["sublinear_tf"], "terms": terms}


def export_plain(pipeline: Any, temperature: float | None) -> dict[str, bytes]:
    """The plain files of a fitted pipeline: {file name: bytes}, the same bytes for the same model."""
    features, classifier = pipeline.named_steps["features"], pipeline.named_steps["classifier"]
    order = [list(classifier.classes_).index(label) for label in LABELS]
    specs, arrays = [], {}
    for name, vectorizer in features.transformer_list:
        specs.append(_check_vectorizer(name, vectorizer))
        if specs[-1]["analyzer"] != "encoder":
            arrays[f"idf_{name}"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    arrays["coef"] = np.asarray(classifier.coef_, dtype=np.float64)[order]
    arrays["intercept"] = np.asarray(classifier.intercept_, dtype=np.float64)[order]
    _checked_specs(specs)  # a block the loader would refuse is not written
    settings = {"format": PLAIN_FORMAT, "labels": list(LABELS), "temperature": temperature, "features": specs}
    vocab = json.dumps(settings, ensure_ascii=False, indent=0).encode("utf-8")
    return {VOCAB_FILE: vocab, WEIGHTS_FILE: _npz_bytes(arrays)}


def _npz_bytes(arrays: dict[str, Any]) -> bytes:
    """An .npz archive with fixed timestamps (numpy's own stamps the time of writing)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def read_plain(vocab: bytes, weights: bytes) -> tuple[PlainScorer, float | None]:
    """Rebuild the scorer (and the calibration temperature) from the two files' bytes.

    Raises ValueError (damaged or foreign files); nothing here can run code.
    """
    settings = json.loads(vocab.decode("utf-8"))
    if not isinstance(settings, dict) or settings.get("format") != PLAIN_FORMAT:
        raise ValueError(f"plain model format {settings.get('format') if isinstance(settings, dict) else None!r} "
                         f"is not {PLAIN_FORMAT}")
    if settings.get("labels") != list(LABELS):
        raise ValueError(f"labels {settings.get('labels')!r} are not {list(LABELS)}")
    temperature = check_temperature(settings.get("temperature"))
    with np.load(io.BytesIO(weights), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return PlainScorer(settings, arrays), temperature
