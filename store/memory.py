"""Semantic memory: compact items that point at what they came from, searchable three ways.

An item is a short text (a few hundred tokens at most), metadata, a client, a kind and a
pointer to its source (an artifact, a client fact or an invoice) — never a copy of a whole
document. One interface over both databases:

- vectors: PostgreSQL + pgvector (HNSW index, cosine distance) and SQLite + sqlite-vec (vec0);
- keywords: PostgreSQL full text (``to_tsvector``/``websearch_to_tsquery``) and SQLite FTS5,
  plus an exact-token table for names, invoice numbers and e-mail addresses on both;
- hybrid: reciprocal rank fusion of the three lists, all with the same client filter.

The vector dimension belongs to the configured embedder; ``ensure()`` records it (with the
embedder's name) and creates the vector table; a different embedder later needs ``reembed()``
(``coo memory reembed``), never a hand-written migration.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from store.clock import Clock
from store.db import Database, Tx
from store.models import JsonDict, UtcDateTime

MAX_TEXT_CHARS = 1200  # ~300 tokens: items stay compact; the artifact holds the rest
RRF_K = 60
# Exact identifiers (addresses, invoice numbers) count double; full text a little over the vector.
HYBRID_WEIGHTS = {"vector": 1.0, "text": 1.2, "exact": 2.0}


class Embedder(Protocol):
    """What the memory needs from an embedder (agents/embedders.py implements it)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class EmbedderMismatch(Exception):
    """The memory was embedded with another model: `coo memory reembed` fixes it."""


class NewMemory(BaseModel):
    source_kind: str  # artifact | fact | invoice | note
    source_id: int
    kind: str  # email_in, email, proposal, invoice, fact, …
    client_id: int | None = None
    title: str
    text: str
    meta: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str | None = None
    created_at: datetime


class MemoryItem(BaseModel):
    id: int
    source_kind: str
    source_id: int
    kind: str
    client_id: int | None = None
    title: str
    text: str
    meta: JsonDict
    fingerprint: str | None = None
    created_at: UtcDateTime


class Hit(BaseModel):
    item: MemoryItem
    score: float
    ranks: dict[str, int] = Field(default_factory=dict)  # method → 1-based rank in that list


# -- exact tokens and keyword queries ----------------------------------------------------------

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CODE_RE = re.compile(r"\b[A-Za-z]{1,6}-?\d{2,}\b|\b\d+[A-Za-z]+\d*\b")
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*")
STOPWORDS = frozenset(
    "a about above after again all am an and any are as at be been before being below between both but by "
    "can could did do does doing done down during each few for from further had has have having he her here "
    "hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or "
    "other our ours out over own same say said says she should so some such than that the their them then there "
    "these they this those through to too under until up very was we were what when where which while who whom "
    "why will with would you your yours find show me tell look pull get us anything something told mention "
    "mentioned wrote write".split()
)


_NAME_RE = re.compile(r"\b[A-Z][a-z]+[A-Za-z]*(?=['’]s\b|\b)")


def exact_tokens(text: str) -> set[str]:
    """Tokens that must match exactly: e-mail addresses, numbers like INV-0042 or P-0003, and
    capitalised words (names of people and companies: "Okonkwo", "Kestrel")."""
    tokens = {m.group(0).lower().rstrip(".") for m in _EMAIL_RE.finditer(text)}
    without_emails = _EMAIL_RE.sub(" ", text)
    tokens.update(w.lower() for w in _NAME_RE.findall(without_emails) if len(w) > 2 and w.lower() not in STOPWORDS)
    for m in _CODE_RE.finditer(without_emails):
        raw = m.group(0).lower()
        tokens.add(raw)
        if "-" not in raw and re.match(r"[a-z]+\d", raw):
            tokens.add(re.sub(r"([a-z]+)(\d)", r"\1-\2", raw, count=1))  # inv0042 → inv-0042
    return tokens


def keyword_terms(text: str) -> list[str]:
    """Lowercased content words of a query, stop words dropped, order kept, no repeats."""
    words = [w.lower().replace("’", "'").removesuffix("'s") for w in _WORD_RE.findall(_EMAIL_RE.sub(" ", text))]
    out = [w.strip("'") for w in words if w.strip("'") and w not in STOPWORDS and len(w) > 1]
    for email in _EMAIL_RE.findall(text):  # "jane@acme.example" → jane acme example as words too
        out.extend(p for p in re.split(r"[@.]", email.lower()) if len(p) > 1)
    return list(dict.fromkeys(out))


def compact(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    text = re.sub(r"[ \t]+", " ", re.sub(r"\n{2,}", "\n", text.strip()))
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut) + " …"


def rrf(lists: dict[str, list[int]], weights: dict[str, float] | None = None, k: int = RRF_K
        ) -> list[tuple[int, float, dict[str, int]]]:
    """Reciprocal rank fusion: score = Σ weight / (k + rank) over the lists an id appears in."""
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for method, ids in lists.items():
        weight = (weights or {}).get(method, 1.0)
        for rank, item_id in enumerate(ids, start=1):
            scores[item_id] = scores.get(item_id, 0.0) + weight / (k + rank)
            ranks.setdefault(item_id, {})[method] = rank
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(item_id, score, ranks[item_id]) for item_id, score in ordered]


def embedding_input(title: str, text: str) -> str:
    """What gets embedded for an item (the same at indexing and at re-embedding)."""
    return f"{title}\n{compact(text)}"


def _pg_vector(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in vector) + "]"


def _blob(vector: Sequence[float]) -> bytes:
    return struct.pack(f"{len(vector)}f", *vector)


# -- the store ----------------------------------------------------------------------------------


class MemoryStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._dim: int | None = None

    # configuration: which embedder, which dimension ------------------------------------------

    def config(self) -> dict[str, str]:
        rows = self.db.fetchall("SELECT key, value FROM memory_config")
        return {r["key"]: r["value"] for r in rows}

    def ensure(self, embedder: Embedder) -> None:
        """Make the vector table exist for this embedder; EmbedderMismatch if the stored
        vectors come from another one (and there are any)."""
        if self._dim == embedder.dim and getattr(self, "_name", None) == embedder.name:
            return
        with self.db.transaction() as tx:
            if tx.dialect == "postgres":
                tx.execute("SELECT pg_advisory_xact_lock(7100222)")
            cfg = {r["key"]: r["value"] for r in tx.fetchall("SELECT key, value FROM memory_config")}
            if cfg.get("embedder") not in (None, embedder.name) or cfg.get("dim") not in (None, str(embedder.dim)):
                count = tx.scalar("SELECT COUNT(*) AS n FROM memory_items")
                if count:
                    raise EmbedderMismatch(
                        f"the memory was embedded with {cfg.get('embedder')} ({cfg.get('dim')} dimensions), "
                        f"not {embedder.name} ({embedder.dim}): run `coo memory reembed`")
                self._drop_vectors(tx)
            if cfg.get("embedder") is None or cfg.get("embedder") != embedder.name or cfg.get("dim") != str(embedder.dim):
                self._create_vectors(tx, embedder.dim)
                self._set_config(tx, embedder)
        self._dim, self._name = embedder.dim, embedder.name

    def _set_config(self, tx: Tx, embedder: Embedder) -> None:
        for key, value in (("embedder", embedder.name), ("dim", str(embedder.dim))):
            tx.execute("DELETE FROM memory_config WHERE key = ?", (key,))
            tx.execute("INSERT INTO memory_config (key, value) VALUES (?, ?)", (key, value))

    def _create_vectors(self, tx: Tx, dim: int) -> None:
        if tx.dialect == "postgres":
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS memory_vectors (item_id BIGINT PRIMARY KEY REFERENCES memory_items (id)"
                f" ON DELETE CASCADE, client_id INTEGER, embedding vector({int(dim)}) NOT NULL)")
            tx.execute("CREATE INDEX IF NOT EXISTS memory_vectors_hnsw ON memory_vectors"
                       " USING hnsw (embedding vector_cosine_ops)")
            tx.execute("CREATE INDEX IF NOT EXISTS memory_vectors_client ON memory_vectors (client_id)")
        else:
            tx.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS memory_vec USING vec0(item_id integer primary key,"
                       f" client_id integer, embedding float[{int(dim)}] distance_metric=cosine)")

    def _drop_vectors(self, tx: Tx) -> None:
        tx.execute("DROP TABLE IF EXISTS memory_vectors" if tx.dialect == "postgres" else
                   "DROP TABLE IF EXISTS memory_vec")

    # writing -----------------------------------------------------------------------------------

    def upsert(self, item: NewMemory, vector: Sequence[float], tx: Tx | None = None) -> int:
        """Add the item for its source, or replace what was there for that source; returns its id."""
        if tx is None:
            with self.db.transaction() as own:
                return self.upsert(item, vector, own)
        return self._upsert(tx, item, vector)

    def upsert_many(self, items: Sequence[NewMemory], vectors: Sequence[Sequence[float]]) -> list[int]:
        with self.db.transaction() as tx:
            return [self._upsert(tx, item, vector) for item, vector in zip(items, vectors)]

    def _upsert(self, tx: Tx, item: NewMemory, vector: Sequence[float]) -> int:
        text = compact(item.text)
        now = self.clock.now()
        item_id = tx.scalar(
            "INSERT INTO memory_items (source_kind, source_id, kind, client_id, title, text, meta, fingerprint,"
            " created_at, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source_kind, source_id) DO UPDATE SET kind = excluded.kind, client_id = excluded.client_id,"
            " title = excluded.title, text = excluded.text, meta = excluded.meta, fingerprint = excluded.fingerprint,"
            " created_at = excluded.created_at, indexed_at = excluded.indexed_at RETURNING id",
            (item.source_kind, item.source_id, item.kind, item.client_id, item.title, text, item.meta,
             item.fingerprint, item.created_at, now),
        )
        tx.execute("DELETE FROM memory_tokens WHERE item_id = ?", (item_id,))
        for token in sorted(exact_tokens(f"{item.title}\n{text}")):
            tx.execute("INSERT INTO memory_tokens (item_id, token) VALUES (?, ?)", (item_id, token))
        self._write_vector(tx, item_id, item.client_id, vector)
        if tx.dialect == "sqlite":
            tx.execute("DELETE FROM memory_fts WHERE rowid = ?", (item_id,))
            tx.execute("INSERT INTO memory_fts (rowid, title, text) VALUES (?, ?, ?)", (item_id, item.title, text))
        return int(item_id)

    def _write_vector(self, tx: Tx, item_id: int, client_id: int | None, vector: Sequence[float]) -> None:
        if tx.dialect == "postgres":
            tx.execute("INSERT INTO memory_vectors (item_id, client_id, embedding) VALUES (?, ?, ?::vector)"
                       " ON CONFLICT (item_id) DO UPDATE SET client_id = excluded.client_id,"
                       " embedding = excluded.embedding", (item_id, client_id, _pg_vector(vector)))
        else:
            tx.execute("DELETE FROM memory_vec WHERE item_id = ?", (item_id,))
            tx.execute("INSERT INTO memory_vec (item_id, client_id, embedding) VALUES (?, ?, ?)",
                       (item_id, client_id or 0, _blob(vector)))

    def bulk_insert(self, items: Sequence[NewMemory], vectors: Sequence[Sequence[float]]) -> None:
        """Fast load of new items (benchmarks, imports): COPY on PostgreSQL, executemany on SQLite.
        Items must be new (no conflict handling)."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            start = int(tx.scalar("SELECT COALESCE(MAX(id), 0) AS m FROM memory_items")) + 1
            ids = list(range(start, start + len(items)))
            conn = tx._conn  # noqa: SLF001 - the store package's own raw connection, for COPY/executemany
            rows = [(i, it.source_kind, it.source_id, it.kind, it.client_id, it.title, compact(it.text),
                     it.meta, it.fingerprint, it.created_at, now) for i, it in zip(ids, items)]
            tokens = [(i, t) for i, it in zip(ids, items) for t in sorted(exact_tokens(f"{it.title}\n{it.text}"))]
            if tx.dialect == "postgres":
                from psycopg.types.json import Jsonb

                cur = conn.cursor()
                with cur.copy("COPY memory_items (id, source_kind, source_id, kind, client_id, title, text, meta,"
                              " fingerprint, created_at, indexed_at) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row[:7], Jsonb(row[7]), *row[8:]))
                with cur.copy("COPY memory_tokens (item_id, token) FROM STDIN") as copy:
                    for row in tokens:
                        copy.write_row(row)
                with cur.copy("COPY memory_vectors (item_id, client_id, embedding) FROM STDIN") as copy:
                    for i, it, vector in zip(ids, items, vectors):
                        copy.write_row((i, it.client_id, _pg_vector(vector)))
                cur.execute("SELECT setval(pg_get_serial_sequence('memory_items', 'id'),"
                            " (SELECT MAX(id) FROM memory_items))")
            else:
                import json

                conn.executemany(
                    "INSERT INTO memory_items (id, source_kind, source_id, kind, client_id, title, text, meta,"
                    " fingerprint, created_at, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*r[:7], json.dumps(r[7]), r[8], r[9].isoformat(), r[10].isoformat()) for r in rows])
                conn.executemany("INSERT INTO memory_tokens (item_id, token) VALUES (?, ?)", tokens)
                conn.executemany("INSERT INTO memory_vec (item_id, client_id, embedding) VALUES (?, ?, ?)",
                                 [(i, it.client_id or 0, _blob(v)) for i, it, v in zip(ids, items, vectors)])
                conn.executemany("INSERT INTO memory_fts (rowid, title, text) VALUES (?, ?, ?)",
                                 [(r[0], r[5], r[6]) for r in rows])

    def delete(self, source_kind: str, source_id: int, tx: Tx | None = None) -> bool:
        """Forget the item for a source; True if there was one."""
        if tx is None:
            with self.db.transaction() as own:
                return self.delete(source_kind, source_id, own)
        item_id = tx.scalar("SELECT id FROM memory_items WHERE source_kind = ? AND source_id = ?",
                            (source_kind, source_id))
        if item_id is None:
            return False
        self._delete_ids(tx, [int(item_id)])
        return True

    def _delete_ids(self, tx: Tx, ids: list[int]) -> None:
        for item_id in ids:
            if tx.dialect == "sqlite":
                tx.execute("DELETE FROM memory_vec WHERE item_id = ?", (item_id,))
                tx.execute("DELETE FROM memory_fts WHERE rowid = ?", (item_id,))
            tx.execute("DELETE FROM memory_items WHERE id = ?", (item_id,))

    # reading -----------------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) AS n FROM memory_items") or 0)

    def get(self, source_kind: str, source_id: int) -> MemoryItem | None:
        row = self.db.fetchone("SELECT * FROM memory_items WHERE source_kind = ? AND source_id = ?",
                               (source_kind, source_id))
        return None if row is None else MemoryItem.model_validate(row)

    def items(self, ids: Iterable[int], tx: Tx | None = None) -> dict[int, MemoryItem]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        sql = f"SELECT id, source_kind, source_id, kind, client_id, title, text, meta, fingerprint, created_at" \
              f" FROM memory_items WHERE id IN ({marks})"
        rows = tx.fetchall(sql, ids) if tx else self.db.fetchall(sql, ids)
        return {int(r["id"]): MemoryItem.model_validate(r) for r in rows}

    def search(self, vector: Sequence[float], k: int = 5, client_id: int | None = None) -> list[Hit]:
        """Nearest items by cosine distance (score = 1 − distance)."""
        with self.db.transaction() as tx:
            found = self._vector_ids(tx, vector, k, client_id)
            items = self.items([i for i, _ in found], tx)
        return [Hit(item=items[i], score=1.0 - d, ranks={"vector": n}) for n, (i, d) in enumerate(found, 1) if i in items]

    def keyword(self, query: str, k: int = 5, client_id: int | None = None) -> list[Hit]:
        """Exact tokens (e-mails, invoice numbers) first, then full-text rank."""
        with self.db.transaction() as tx:
            fused = rrf({"exact": self._exact_ids(tx, query, k, client_id),
                         "text": self._text_ids(tx, query, k, client_id)}, {"exact": 2.0})[:k]
            items = self.items([i for i, _, _ in fused], tx)
        return [Hit(item=items[i], score=s, ranks=r) for i, s, r in fused if i in items]

    def hybrid(self, query: str, vector: Sequence[float], k: int = 5, client_id: int | None = None,
               depth: int = 30) -> list[Hit]:
        """Vector, full-text and exact-token lists fused by reciprocal rank, one client filter."""
        with self.db.transaction() as tx:
            lists = {
                "vector": [i for i, _ in self._vector_ids(tx, vector, depth, client_id)],
                "text": self._text_ids(tx, query, depth, client_id),
                "exact": self._exact_ids(tx, query, depth, client_id),
            }
            fused = rrf(lists, HYBRID_WEIGHTS)[:k]
            items = self.items([i for i, _, _ in fused], tx)
        return [Hit(item=items[i], score=s, ranks=r) for i, s, r in fused if i in items]

    def _vector_ids(self, tx: Tx, vector: Sequence[float], k: int, client_id: int | None) -> list[tuple[int, float]]:
        if tx.dialect == "postgres":
            # Filtered HNSW scans keep walking the graph until k rows pass the filter (pgvector ≥ 0.8).
            tx.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            tx.execute(f"SET LOCAL hnsw.ef_search = {max(40, 2 * k)}")
            where, params = ("WHERE client_id = ?", [client_id]) if client_id is not None else ("", [])
            rows = tx.fetchall(
                f"SELECT item_id, embedding <=> ?::vector AS d FROM memory_vectors {where}"
                " ORDER BY embedding <=> ?::vector LIMIT ?",
                [_pg_vector(vector), *params, _pg_vector(vector), k])
            rows.sort(key=lambda r: r["d"])  # relaxed order: re-sort the few rows returned
        else:
            where, params = (" AND client_id = ?", [client_id]) if client_id is not None else ("", [])
            rows = tx.fetchall(f"SELECT item_id, distance AS d FROM memory_vec WHERE embedding MATCH ? AND k = ?{where}"
                               " ORDER BY distance", [_blob(vector), k, *params])
        return [(int(r["item_id"]), float(r["d"])) for r in rows]

    def _exact_ids(self, tx: Tx, query: str, k: int, client_id: int | None) -> list[int]:
        # Names are left to full text (a contact's name is on every one of their e-mails); the
        # exact list is for what identifies one thing: an address, an invoice or proposal number.
        tokens = sorted(t for t in exact_tokens(query) if "@" in t or any(c.isdigit() for c in t))
        if not tokens:
            return []
        marks = ", ".join("?" for _ in tokens)
        where, params = (" AND m.client_id = ?", [client_id]) if client_id is not None else ("", [])
        rows = tx.fetchall(
            f"SELECT t.item_id AS id, COUNT(*) AS n FROM memory_tokens t JOIN memory_items m ON m.id = t.item_id"
            f" WHERE t.token IN ({marks}){where} GROUP BY t.item_id ORDER BY COUNT(*) DESC, t.item_id DESC LIMIT ?",
            [*tokens, *params, k])
        return [int(r["id"]) for r in rows]

    def _text_ids(self, tx: Tx, query: str, k: int, client_id: int | None) -> list[int]:
        terms = keyword_terms(query)
        if client_id is not None:
            # The filter already says which client: its name would match all of its items.
            name = tx.scalar("SELECT name FROM clients WHERE id = ?", (client_id,))
            if name:
                drop = set(keyword_terms(str(name)))
                terms = [t for t in terms if t not in drop] or terms
        if not terms:
            return []
        if tx.dialect == "postgres":
            where, params = (" AND client_id = ?", [client_id]) if client_id is not None else ("", [])
            q = " or ".join(re.sub(r"[^\w']", "", t) for t in terms)
            rows = tx.fetchall(
                "SELECT id FROM memory_items, websearch_to_tsquery('english', ?) q"
                f" WHERE tsv @@ q{where} ORDER BY ts_rank_cd(tsv, q, 1) DESC, id DESC LIMIT ?",
                [q, *params, k])
        else:
            match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
            if client_id is not None:
                rows = tx.fetchall(
                    "SELECT f.rowid AS id FROM memory_fts f JOIN memory_items m ON m.id = f.rowid"
                    " WHERE memory_fts MATCH ? AND m.client_id = ? ORDER BY f.rank LIMIT ?", [match, client_id, k])
            else:
                rows = tx.fetchall("SELECT rowid AS id FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank LIMIT ?",
                                   [match, k])
        return [int(r["id"]) for r in rows]

    # re-embedding ------------------------------------------------------------------------------

    def reembed(self, embedder: Embedder, batch: int = 256, progress: Any = None) -> int:
        """Embed every item again with ``embedder`` (a new model or dimension); returns the count."""
        with self.db.transaction() as tx:
            if tx.dialect == "postgres":
                tx.execute("SELECT pg_advisory_xact_lock(7100222)")
            self._drop_vectors(tx)
            self._create_vectors(tx, embedder.dim)
            self._set_config(tx, embedder)
            rows = tx.fetchall("SELECT id, client_id, title, text FROM memory_items ORDER BY id")
            for start in range(0, len(rows), batch):
                chunk = rows[start:start + batch]
                vectors = embedder.embed([embedding_input(r["title"], r["text"]) for r in chunk])
                for row, vector in zip(chunk, vectors):
                    self._write_vector(tx, int(row["id"]), row["client_id"], vector)
                if progress:
                    progress(min(start + batch, len(rows)), len(rows))
        self._dim, self._name = embedder.dim, embedder.name
        return len(rows)
