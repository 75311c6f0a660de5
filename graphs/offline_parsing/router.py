"""The semantic router: when no rule matches, the kind of request by its nearest labelled phrasings.

Each line of ``router_phrasings.jsonl`` is ``{"kind": …, "text": …}``: how operators really
type a request of that kind. Adding a kind is adding lines; a line whose kind this build does
not know is skipped (kinds land on other branches with their lines). Lines of kind ``unknown``
are the operator's private life and small talk near coo's words ("pay my rent", "text mum"):
a message nearest to them is not coo's business.

A message is embedded (the shipped int8 MiniLM, offline) and scored per kind by the mean cosine
of its ``TOP_K`` nearest phrasings of that kind. The best kind wins only when its score clears
the kind's threshold and beats the runner-up by ``MARGIN``; otherwise the router says which
kinds came close and the parser answers ``unknown`` (the conversation asks). Side-effect kinds
need more (``SIDE_EFFECT_THRESHOLD``): calibrated on CLINC150's dev split (``python -m
bench.router``) so that everyday requests almost never become one; measured on CLINC150's test
split by ``coo eval`` (README, "Benchmarks").

The embedder and the examples' vectors load on first use, never at import: a message the
rules read (`coo parse "Acme paid $4k"`) loads neither numpy nor onnxruntime. The examples'
vectors are cached on disk, keyed by the embedder's name and the phrasing file's hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from graphs.intents import INTENT_KINDS, SIDE_EFFECT_KINDS
from graphs.offline_parsing import routed
from graphs.offline_parsing.context import Ctx

PHRASINGS_PATH: Path = Path(__file__).resolve().parent / "router_phrasings.jsonl"
TOP_K = 3
# Calibrated with `python -m bench.router` on CLINC150 dev (README, "Benchmarks").
THRESHOLD = 0.35
SIDE_EFFECT_THRESHOLD = 0.45
MARGIN = 0.01


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class Route:
    """What the router made of one message: a kind, or ``unknown`` with the kinds that came close."""

    kind: str
    score: float
    margin: float
    # The best kinds by score (not ``unknown``), best first: what to offer when unsure.
    candidates: tuple[str, ...] = field(default_factory=tuple)
    # Surely none of coo's business: nearest to the private-life examples, above the threshold.
    out_of_scope: bool = False


def prepare(text: str, clients: Collection[str] = ()) -> str:
    """What the router embeds: the normalised message with its client's name masked
    (``routed.masked``); examples and messages alike."""
    return routed.masked(Ctx.build(text, _ANY_DAY, clients))


# The clients the phrasing file's lines name (written lower case, as operators type them): they
# are masked like a message's client.
EXAMPLE_CLIENTS = tuple(
    "acme globex northwind bluebird halcyon oakridge pinecrest quill harbor harbour umbrella tallow meridian "
    "riverbend northpeak".split()
)


_ANY_DAY = date(2026, 1, 1)  # masking reads names, never dates


def load_phrasings(path: Path = PHRASINGS_PATH, kinds: Collection[str] = INTENT_KINDS) -> list[tuple[str, str]]:
    """(kind, text) for every line whose kind is in ``kinds``; others are skipped."""
    out: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row["kind"] in kinds:
                out.append((row["kind"], row["text"]))
    return out


class SemanticRouter:
    """Nearest labelled phrasings per kind, with calibrated thresholds; thread-safe, lazy."""

    def __init__(
        self,
        embedder: Embedder,
        path: Path = PHRASINGS_PATH,
        *,
        cache_dir: Path | None = None,
        threshold: float = THRESHOLD,
        side_effect_threshold: float = SIDE_EFFECT_THRESHOLD,
        margin: float = MARGIN,
    ) -> None:
        self.embedder = embedder
        self.path = path
        self.cache_dir = cache_dir
        self.threshold = threshold
        self.side_effect_threshold = side_effect_threshold
        self.margin = margin
        self._lock = threading.Lock()
        self._loaded: tuple[Any, list[str], Any] | None = None  # (numpy, kinds, matrix)

    def _cache_file(self, digest: str) -> Path | None:
        if self.cache_dir is None:
            return None
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.embedder.name)
        return self.cache_dir / f"router-{safe}-{digest}.npy"

    def _load(self) -> tuple[Any, list[str], Any]:
        with self._lock:
            if self._loaded is None:
                import numpy as np

                rows = load_phrasings(self.path)
                kinds = [k for k, _ in rows]
                texts = [prepare(t, EXAMPLE_CLIENTS) for _, t in rows]
                # Keyed by what is embedded (kinds, masked texts) and by whom (the cache file's name).
                content = "\n".join(f"{k}\t{t}" for k, t in zip(kinds, texts, strict=True))
                cache = self._cache_file(hashlib.sha256(content.encode()).hexdigest()[:16])
                matrix = None
                if cache is not None and cache.exists():
                    try:
                        matrix = np.load(cache)
                    except (OSError, ValueError):  # a torn or foreign file: embed again
                        matrix = None
                    if matrix is not None and matrix.shape[0] != len(texts):
                        matrix = None
                if matrix is None:
                    matrix = np.asarray(self.embedder.embed(texts), dtype=np.float32)
                    if cache is not None:
                        _save_atomically(np, cache, matrix)
                self._loaded = (np, kinds, matrix)
            return self._loaded

    def warm(self) -> None:
        """Load the embedder and the examples' vectors now (a server's start, a benchmark)."""
        self._load()
        self.embedder.embed(["warm up"])

    def scores(self, text: str) -> dict[str, float]:
        """Per kind: the mean cosine of the message (already ``prepare``d) to its ``TOP_K``
        nearest phrasings."""
        np, kinds, matrix = self._load()
        vector = np.asarray(self.embedder.embed([text])[0], dtype=np.float32)
        sims = matrix @ vector
        by_kind: dict[str, list[float]] = {}
        for kind, sim in zip(kinds, sims.tolist(), strict=True):
            by_kind.setdefault(kind, []).append(sim)
        return {kind: float(sum(sorted(s)[-TOP_K:]) / min(TOP_K, len(s))) for kind, s in by_kind.items()}

    def route(self, text: str) -> Route:
        """The kind of ``text`` (already ``prepare``d) if the router is sure enough, else
        ``unknown`` with candidates."""
        ranked = sorted(self.scores(text).items(), key=lambda kv: (-kv[1], kv[0]))
        (best, score), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        margin = score - runner_up
        candidates = tuple(k for k, _ in ranked if k != "unknown")[:3]
        needed = self.side_effect_threshold if best in SIDE_EFFECT_KINDS else self.threshold
        if best == "unknown" or score < needed or margin < self.margin:
            sure = best == "unknown" and score >= self.threshold and margin >= self.margin
            return Route("unknown", round(score, 4), round(margin, 4), candidates, out_of_scope=sure)
        return Route(best, round(score, 4), round(margin, 4), candidates)


def _save_atomically(np: Any, path: Path, matrix: Any) -> None:
    # Several processes (test workers, coo serve and its workers) may fill the cache at once.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
        with os.fdopen(fd, "wb") as f:
            np.save(f, matrix)
        os.replace(tmp, path)
    except OSError:  # a read-only cache only costs the next start its embedding time
        pass


def shipped_router(cache_dir: Path | None = None) -> SemanticRouter | None:
    """The router on the shipped int8 MiniLM (``agents/models/minilm-onnx``), or None when
    onnxruntime or the model file is missing (the rules then answer alone). Nothing loads yet."""
    from agents.embedders import OnnxMiniLMEmbedder, get_embedder, onnx_installed

    if not onnx_installed():
        return None
    embedder = get_embedder("minilm-onnx")
    assert isinstance(embedder, OnnxMiniLMEmbedder)
    return SemanticRouter(embedder, cache_dir=cache_dir)
