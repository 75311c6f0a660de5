"""How recall searches the memory: the question's topic ranks, the name it carries filters.

"did Kestrel ask to move the due date?" is about moving a due date; "Kestrel" says whose items to
look at. Left in the query, the name pulls every note, invoice and proposal that spells the
client's name above the e-mail that answers (its sender signs with a person's name). So the name
is taken out of the ranked query: a client's name becomes the client filter, a person's name
(no such client) puts that person's items first. `coo bench-memory` measures this same function.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from agents.embedders import Embedder
from store.facade import Store
from store.memory import Hit, keyword_terms


def topic_of(query: str, name: str | None) -> str:
    """The query without the name it carries ("what did Jane say about the palette" → "what did
    say about the palette"); the query itself when nothing else would be left to rank by."""
    if not name:
        return query
    name_words = {w.lower() for w in re.findall(r"\w+", name)}
    rest = " ".join(w for w in query.split() if re.sub(r"'s$|\W", "", w.lower()) not in name_words)
    return rest if keyword_terms(rest) else query


def mentions(hit: Hit, name: str) -> bool:
    """Whether the item is from, to or about ``name`` (every word of it)."""
    meta = hit.item.meta
    said_by = " ".join(str(meta.get(k) or "") for k in ("from_name", "from_address", "client", "to_address"))
    words = set(re.findall(r"\w+", f"{said_by} {hit.item.title} {hit.item.text}".lower()))
    return all(w.lower() in words for w in re.findall(r"\w+", name))


def search_memory(
    store: Store,
    embedder: Embedder,
    query: str,
    *,
    name: str | None = None,
    client_id: int | None = None,
    k: int = 5,
    skip: Collection[int] = (),
) -> list[Hit]:
    """The best ``k`` memories for ``query`` (hybrid retrieval), with ``name`` handled as above:
    ``client_id`` is the client it resolved to, if any."""
    topic = topic_of(query, name)
    by_person = bool(name) and client_id is None and topic != query
    depth = k + len(skip) + (10 if by_person else 0)  # room to bring the person's items forward
    vector = embedder.embed([topic])[0]
    hits = [h for h in store.memory.hybrid(topic, vector, k=depth, client_id=client_id) if h.item.id not in skip]
    if by_person:
        hits.sort(key=lambda h: not mentions(h, name or ""))  # stable: the ranking holds within each group
    return hits[:k]


# How close in meaning an item found by meaning alone must be to the question to be an answer
# (cosine of the embeddings): below it, the nearest memories are just the least far, and "I don't
# have anything about …" is the honest reply, not five of them.
MIN_SIMILARITY = 0.3


def relevant(hits: list[Hit], topic: str, embedder: Embedder) -> list[Hit]:
    """The hits that really match: a word or code they share with the question (the keyword and
    exact lists found them), or a meaning close enough (``MIN_SIMILARITY``)."""
    by_meaning = [h for h in hits if not ({"text", "exact"} & set(h.ranks))]
    if not by_meaning:
        return hits
    q, *vectors = embedder.embed([topic, *(f"{h.item.title}\n{h.item.text}"[:2000] for h in by_meaning)])
    close = {h.item.id for h, v in zip(by_meaning, vectors, strict=True) if _cosine(q, v) >= MIN_SIMILARITY}
    return [h for h in hits if h.item.id in close or {"text", "exact"} & set(h.ranks)]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)
    return dot / norm if norm else 0.0
