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
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from store import memory_ann
from store.clock import Clock
from store.db import Database, Tx, sqlite_path
from store.models import JsonDict, UtcDateTime

MAX_TEXT_CHARS = 1200  # ~300 tokens: items stay compact; the artifact holds the rest
RRF_K = 60
# Version of the derived search structures (full-text table, vector table layout, exact tokens).
# ``ensure()`` rebuilds them from memory_items when the stored version differs: no hand migration.
INDEX_VERSION = "3"
# Bounded work per keyword query: at most about this many rows are ranked per full-text pass, so
# a query whose words are in half of 100k memories costs what one over a small memory costs.
TEXT_BUDGET = 1500
# PostgreSQL (ts_rank costs more a row than FTS5's bm25): a word in more rows than
# PG_COMMON_ROWS is common and matched among the newest RECENT_WINDOW items only; the rows of
# the rare words are ranked, the newest PG_RARE_LIMIT of them at most.
# Each candidate costs a heap read of its tsvector, so the windows bound a query's I/O: at 100k
# memories these sizes keep the combined query's p99 under 20 ms (README, bench-memory).
PG_COMMON_ROWS = 800
RECENT_WINDOW = 1000
PG_RARE_LIMIT = 500
# PostgreSQL with a client filter: common words are matched among that client's newest rows.
CLIENT_WINDOW = 500
# PostgreSQL: how long the full-text statistics (which words are common) are reused.
LEXEME_STATS_SECONDS = 60.0
# PostgreSQL: a client with fewer vectors than this is searched exactly (its rows, by the client
# index); a larger one through the HNSW index with an iterative (filtered) scan.
EXACT_CLIENT_MAX = 20000
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


def rrf(
    lists: dict[str, list[int]], weights: dict[str, float] | None = None, k: int = RRF_K
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


def _pg_halfvec(vector: Sequence[float]) -> bytes:
    """pgvector's binary form of a halfvec (what its halfvec_recv reads): dimension, a reserved
    zero, then IEEE half floats, big-endian."""
    return struct.pack(f">hh{len(vector)}e", len(vector), 0, *vector)


def _blob(vector: Sequence[float]) -> bytes:
    return struct.pack(f"{len(vector)}f", *vector)


# -- the store ----------------------------------------------------------------------------------


SQLITE_MMAP_BYTES = 1 << 30
HNSW_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS memory_vectors_hnsw ON memory_vectors USING hnsw (embedding halfvec_cosine_ops)"
)
# PostgreSQL: a backlog of at least this many queued changes, and at least as many as the vectors
# already indexed (`coo memory sync` after `coo import`), is loaded without the HNSW index, which
# is then built once: inserting into the graph row by row cost more per row the larger it grew.
HNSW_REBUILD_MIN = 5000
# PostgreSQL: memory for building the HNSW graph in one pass (a graph that does not fit is built
# far slower); used by that one statement only, and only as much as the graph needs.
HNSW_BUILD_MEMORY = "512MB"
_ADVISORY_LOCK = 7100222  # serialises changes of the vector table's layout and its index
VEC_CHUNK = 128
_MAPPED: set[int] = set()


def _scope(client_id: int | None) -> str:
    """The client as one token of the SQLite full-text row, so the filter runs inside FTS5."""
    return f"c{int(client_id or 0)}"


class MemoryStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._ready: tuple[str, int] | None = None
        # PostgreSQL: whether the HNSW index is known to be there (checked once per process:
        # a sync killed during a deferred load leaves it dropped)
        self._hnsw_present = False
        self._lexeme_rows: tuple[float, dict[str, float]] = (-1e9, {})  # (read at, lexeme → rows)
        # SQLite: the HNSW graph for searches that name no client, once the vectors are many
        self._ann: memory_ann.VectorIndex | None = None
        if db.dialect == "sqlite":
            path = sqlite_path(db.url)
            in_memory = str(path) in ("", ":memory:")
            self._ann = memory_ann.VectorIndex(None if in_memory else memory_ann.index_path(path), db.transaction)

    # configuration: which embedder, which dimension ------------------------------------------

    def config(self) -> dict[str, str]:
        rows = self.db.fetchall("SELECT key, value FROM memory_config")
        return {r["key"]: r["value"] for r in rows if r["key"] not in ("index", "vec_epoch")}

    def embedded_with(self) -> str | None:
        """The embedder name the stored vectors come from; None while there are none."""
        if self.db.scalar("SELECT 1 AS one FROM memory_items LIMIT 1") is None:
            return None
        return self.config().get("embedder")

    def ensure(self, embedder: Embedder) -> None:
        """Make the vector table exist for this embedder; EmbedderMismatch if the stored
        vectors come from another one (and there are any). Rebuilds the derived search
        structures (full text, exact tokens, vector layout) when they are of an older version."""
        if self._ready == (embedder.name, embedder.dim):
            return
        with self.db.transaction() as tx:
            if tx.dialect == "postgres":
                tx.execute(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
            cfg = {r["key"]: r["value"] for r in tx.fetchall("SELECT key, value FROM memory_config")}
            if cfg.get("embedder") not in (None, embedder.name) or cfg.get("dim") not in (None, str(embedder.dim)):
                count = tx.scalar("SELECT COUNT(*) AS n FROM memory_items")
                if count:
                    raise EmbedderMismatch(
                        f"the memory was embedded with {cfg.get('embedder')} ({cfg.get('dim')} dimensions), "
                        f"not {embedder.name} ({embedder.dim}): run `coo memory reembed`"
                    )
                self._drop_vectors(tx)
            if cfg.get("embedder") != embedder.name or cfg.get("dim") != str(embedder.dim):
                self._create_vectors(tx, embedder.dim)
                self._set_config(tx, embedder)
            if cfg.get("index") != INDEX_VERSION:
                self._upgrade_vectors(tx, embedder.dim)
                self._rebuild_text(tx)
            if tx.dialect == "sqlite" and "vec_epoch" not in cfg:
                memory_ann.create_log(tx)  # a database from before the change log: seeded once
        self._ready = (embedder.name, embedder.dim)

    # PostgreSQL's HNSW index around a large load ----------------------------------------------

    def defer_vector_index(self, backlog: int) -> bool:
        """Drop the HNSW index before loading ``backlog`` new vectors when that is many (at least
        HNSW_REBUILD_MIN and at least as many as are indexed already); True if dropped, and then
        :meth:`restore_vector_index` builds it again. Searches stay correct meanwhile (exact)."""
        if self.db.dialect != "postgres" or backlog < HNSW_REBUILD_MIN:
            return False
        with self.db.transaction() as tx:
            # another process changing the index (building it): load with the index as it is
            if not tx.scalar(f"SELECT pg_try_advisory_xact_lock({_ADVISORY_LOCK}) AS locked"):
                return False
            if backlog < int(tx.scalar("SELECT COUNT(*) AS n FROM memory_vectors")):
                return False
            tx.execute("DROP INDEX IF EXISTS memory_vectors_hnsw")
        self._hnsw_present = False
        return True

    def wait_for_ann(self, timeout: float | None = None) -> None:
        """Until a search graph being built in this process (SQLite) is ready."""
        if self._ann is not None:
            self._ann.wait(timeout)

    def refresh_ann(self, dim: int) -> int | None:
        """SQLite: bring the search graph and its file (``<db>.usearch``) up to date, built if
        missing, corrupt or of other vectors; how many vectors it holds, None when there are too
        few for one (exact search) or on PostgreSQL (HNSW in the database)."""
        if self._ann is None:
            return None
        with self.db.transaction() as tx:
            return self._ann.refresh(tx, dim)

    @property
    def vector_index_deferred(self) -> bool:
        """Whether the HNSW index may be missing (dropped for a load, or not checked yet by this
        process): :meth:`restore_vector_index` then checks and builds it."""
        return self.db.dialect == "postgres" and not self._hnsw_present

    def restore_vector_index(self) -> bool:
        """Build the HNSW index if it is missing (after a deferred load, or a sync killed midway)
        and no large backlog remains; True if it was built here."""
        if self.db.dialect != "postgres":
            return False
        with self.db.transaction() as tx:
            if not tx.scalar(f"SELECT pg_try_advisory_xact_lock({_ADVISORY_LOCK}) AS locked"):
                return False  # another process is building it (or changing the table): checked next sync
            if tx.scalar("SELECT to_regclass('memory_vectors_hnsw') IS NOT NULL AS present") is True:
                self._hnsw_present = True
                return False
            if tx.scalar("SELECT to_regclass('memory_vectors') IS NOT NULL AS present") is not True:
                return False
            if int(tx.scalar("SELECT COUNT(*) AS n FROM memory_changes")) >= HNSW_REBUILD_MIN:
                # A large load is under way (or waits for `coo memory sync`): the sync that drains
                # it builds the index; a run's sweep building it now would slow that load down.
                return False
            tx.execute(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
            tx.execute(HNSW_INDEX_SQL)
        self._hnsw_present = True
        return True

    def _set_config(self, tx: Tx, embedder: Embedder | None = None) -> None:
        values = [("index", INDEX_VERSION)]
        if embedder is not None:
            values += [("embedder", embedder.name), ("dim", str(embedder.dim))]
        for key, value in values:
            tx.execute("DELETE FROM memory_config WHERE key = ?", (key,))
            tx.execute("INSERT INTO memory_config (key, value) VALUES (?, ?)", (key, value))

    def _create_vectors(self, tx: Tx, dim: int) -> None:
        if tx.dialect == "postgres":
            # halfvec: 2 bytes a dimension keeps a row inline (a 512-dim float vector is TOASTed,
            # which made every exact or filtered scan fetch it out of line).
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS memory_vectors (item_id BIGINT PRIMARY KEY REFERENCES memory_items (id)"
                f" ON DELETE CASCADE, client_id INTEGER, embedding halfvec({int(dim)}) NOT NULL)"
            )
            tx.execute(HNSW_INDEX_SQL)
            # The client index carries the vectors (when they fit a btree row): a client's exact
            # search is an index-only scan of neighbouring pages, not one heap page per vector.
            cover = " INCLUDE (item_id, embedding)" if dim <= 1200 else ""
            tx.execute(f"CREATE INDEX IF NOT EXISTS memory_vectors_client ON memory_vectors (client_id){cover}")
        else:
            # The client is a partition key: a filtered search reads that client's vectors only.
            # Small chunks: every partition allocates at least one (1024 vectors by default, 2 MB
            # each at 512 dimensions, per client); 128 costs nothing measurable at 100k.
            tx.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS memory_vec USING vec0(item_id integer primary key,"
                f" client_id integer partition key, embedding float[{int(dim)}] distance_metric=cosine,"
                f" chunk_size={VEC_CHUNK})"
            )
            memory_ann.create_log(tx)

    def _drop_vectors(self, tx: Tx) -> None:
        tx.execute(
            "DROP TABLE IF EXISTS memory_vectors" if tx.dialect == "postgres" else "DROP TABLE IF EXISTS memory_vec"
        )
        if tx.dialect == "sqlite":
            memory_ann.drop_log(tx)  # a new epoch: no process reuses a graph of the old vectors

    def _upgrade_vectors(self, tx: Tx, dim: int) -> None:
        """Bring a vector table of an older layout to the current one, keeping its vectors."""
        if tx.dialect == "postgres":
            kind = tx.scalar(
                "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute"
                " WHERE attrelid = to_regclass('memory_vectors') AND attname = 'embedding'"
            )
            if kind is not None and not str(kind).startswith("halfvec"):
                tx.execute("DROP INDEX IF EXISTS memory_vectors_hnsw")
                tx.execute("DROP INDEX IF EXISTS memory_vectors_client")
                tx.execute(
                    f"ALTER TABLE memory_vectors ALTER COLUMN embedding TYPE halfvec({int(dim)})"
                    f" USING embedding::halfvec({int(dim)})"
                )
                self._create_vectors(tx, dim)
            return
        sql = tx.scalar("SELECT sql FROM sqlite_master WHERE name = 'memory_vec'")
        if sql is None or "chunk_size" in str(sql):
            return
        rows = tx.fetchall("SELECT item_id, client_id, embedding FROM memory_vec")
        self._drop_vectors(tx)
        self._create_vectors(tx, dim)
        for row in rows:
            self._write_vector(tx, int(row["item_id"]), row["client_id"] or None, row["embedding"])

    def _rebuild_text(self, tx: Tx) -> None:
        """Full-text table (SQLite) and exact tokens, rebuilt from memory_items."""
        if tx.dialect == "sqlite":
            tx.execute("DROP TABLE IF EXISTS memory_fts")
            tx.execute(
                "CREATE VIRTUAL TABLE memory_fts USING fts5(title, text, scope,"
                " tokenize = 'porter unicode61 remove_diacritics 2')"
            )
            # bm25 over subject and text; the client scope token does not count
            tx.execute("INSERT INTO memory_fts (memory_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0, 0.0)')")
            tx.execute(
                "INSERT INTO memory_fts (rowid, title, text, scope)"
                " SELECT id, title, text, 'c' || COALESCE(client_id, 0) FROM memory_items"
            )
        else:  # a client's newest rows, in order, for the bounded keyword passes
            tx.execute("CREATE INDEX IF NOT EXISTS memory_items_client_recent ON memory_items (client_id, id)")
        tx.execute("DELETE FROM memory_tokens")
        for row in tx.fetchall("SELECT id, title, text FROM memory_items ORDER BY id"):
            for token in sorted(exact_tokens(f"{row['title']}\n{row['text']}")):
                tx.execute("INSERT INTO memory_tokens (item_id, token) VALUES (?, ?)", (row["id"], token))
        self._set_config(tx)

    # writing -----------------------------------------------------------------------------------

    def upsert(self, item: NewMemory, vector: Sequence[float], tx: Tx | None = None) -> int:
        """Add the item for its source, or replace what was there for that source; returns its id."""
        if tx is None:
            with self.db.transaction() as own:
                return self.upsert(item, vector, own)
        return self._upsert(tx, item, vector)

    def upsert_many(self, items: Sequence[NewMemory], vectors: Sequence[Sequence[float]]) -> list[int]:
        with self.db.transaction() as tx:
            return [self._upsert(tx, item, vector) for item, vector in zip(items, vectors, strict=True)]

    def _upsert(self, tx: Tx, item: NewMemory, vector: Sequence[float]) -> int:
        text = compact(item.text)
        now = self.clock.now()
        item_id = tx.scalar(
            "INSERT INTO memory_items (source_kind, source_id, kind, client_id, title, text, meta, fingerprint,"
            " created_at, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source_kind, source_id) DO UPDATE SET kind = excluded.kind, client_id = excluded.client_id,"
            " title = excluded.title, text = excluded.text, meta = excluded.meta, fingerprint = excluded.fingerprint,"
            " created_at = excluded.created_at, indexed_at = excluded.indexed_at RETURNING id",
            (
                item.source_kind,
                item.source_id,
                item.kind,
                item.client_id,
                item.title,
                text,
                item.meta,
                item.fingerprint,
                item.created_at,
                now,
            ),
        )
        self._index(tx, int(item_id), item.client_id, item.title, text, vector)
        return int(item_id)

    def _index(
        self, tx: Tx, item_id: int, client_id: int | None, title: str, text: str, vector: Sequence[float] | bytes
    ) -> None:
        """Exact tokens, full text (SQLite; PostgreSQL's is a generated column) and the vector."""
        tx.execute("DELETE FROM memory_tokens WHERE item_id = ?", (item_id,))
        for token in sorted(exact_tokens(f"{title}\n{text}")):
            tx.execute("INSERT INTO memory_tokens (item_id, token) VALUES (?, ?)", (item_id, token))
        self._write_vector(tx, item_id, client_id, vector)
        if tx.dialect == "sqlite":
            tx.execute("DELETE FROM memory_fts WHERE rowid = ?", (item_id,))
            tx.execute(
                "INSERT INTO memory_fts (rowid, title, text, scope) VALUES (?, ?, ?, ?)",
                (item_id, title, text, _scope(client_id)),
            )

    def _write_vector(self, tx: Tx, item_id: int, client_id: int | None, vector: Sequence[float] | bytes) -> None:
        if tx.dialect == "postgres":
            assert not isinstance(vector, bytes)
            tx.execute(
                "INSERT INTO memory_vectors (item_id, client_id, embedding) VALUES (?, ?, ?::halfvec)"
                " ON CONFLICT (item_id) DO UPDATE SET client_id = excluded.client_id,"
                " embedding = excluded.embedding",
                (item_id, client_id, _pg_vector(vector)),
            )
        else:
            blob = vector if isinstance(vector, bytes) else _blob(vector)
            tx.execute("DELETE FROM memory_vec WHERE item_id = ?", (item_id,))
            tx.execute(
                "INSERT INTO memory_vec (item_id, client_id, embedding) VALUES (?, ?, ?)",
                (item_id, client_id or 0, blob),
            )
            memory_ann.log_change(tx, item_id)

    def bulk_insert(self, items: Sequence[NewMemory], vectors: Sequence[Sequence[float]]) -> None:
        """Fast load of new items (benchmarks, imports): COPY on PostgreSQL, executemany on SQLite.
        Items must be new (no conflict handling)."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            start = int(tx.scalar("SELECT COALESCE(MAX(id), 0) AS m FROM memory_items")) + 1
            ids = list(range(start, start + len(items)))
            conn = tx._conn  # noqa: SLF001 - the store package's own raw connection, for COPY/executemany
            rows = [
                (
                    i,
                    it.source_kind,
                    it.source_id,
                    it.kind,
                    it.client_id,
                    it.title,
                    compact(it.text),
                    it.meta,
                    it.fingerprint,
                    it.created_at,
                    now,
                )
                for i, it in zip(ids, items, strict=True)
            ]
            tokens = [
                (i, t) for i, it in zip(ids, items, strict=True) for t in sorted(exact_tokens(f"{it.title}\n{it.text}"))
            ]
            if tx.dialect == "postgres":
                from psycopg.types.json import Jsonb

                cur = conn.cursor()
                with cur.copy(
                    "COPY memory_items (id, source_kind, source_id, kind, client_id, title, text, meta,"
                    " fingerprint, created_at, indexed_at) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row((*row[:7], Jsonb(row[7]), *row[8:]))
                with cur.copy("COPY memory_tokens (item_id, token) FROM STDIN") as copy:
                    for token_row in tokens:
                        copy.write_row(token_row)
                # Binary: a vector goes as 2 bytes a dimension instead of ~10 characters each,
                # which formatting and parsing cost more than the rest of the load together.
                with cur.copy("COPY memory_vectors (item_id, client_id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["int8", "int4", "bytea"])  # bytea: our bytes, sent as they are
                    for i, it, vector in zip(ids, items, vectors, strict=True):
                        copy.write_row((i, it.client_id, _pg_halfvec(vector)))
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence('memory_items', 'id'), (SELECT MAX(id) FROM memory_items))"
                )
            else:
                import json

                conn.executemany(
                    "INSERT INTO memory_items (id, source_kind, source_id, kind, client_id, title, text, meta,"
                    " fingerprint, created_at, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*r[:7], json.dumps(r[7]), r[8], r[9].isoformat(), r[10].isoformat()) for r in rows],
                )
                conn.executemany("INSERT INTO memory_tokens (item_id, token) VALUES (?, ?)", tokens)
                conn.executemany(
                    "INSERT INTO memory_vec (item_id, client_id, embedding) VALUES (?, ?, ?)",
                    [(i, it.client_id or 0, _blob(v)) for i, it, v in zip(ids, items, vectors, strict=True)],
                )
                conn.executemany(memory_ann.LOG_SQL, [(i,) for i in ids])
                conn.executemany(
                    "INSERT INTO memory_fts (rowid, title, text, scope) VALUES (?, ?, ?, ?)",
                    [(r[0], r[5], r[6], _scope(r[4])) for r in rows],
                )

    def delete(self, source_kind: str, source_id: int, tx: Tx | None = None) -> bool:
        """Forget the item for a source; True if there was one."""
        if tx is None:
            with self.db.transaction() as own:
                return self.delete(source_kind, source_id, own)
        item_id = tx.scalar(
            "SELECT id FROM memory_items WHERE source_kind = ? AND source_id = ?", (source_kind, source_id)
        )
        if item_id is None:
            return False
        self._delete_ids(tx, [int(item_id)])
        return True

    def _delete_ids(self, tx: Tx, ids: list[int]) -> None:
        for item_id in ids:
            if tx.dialect == "sqlite":
                tx.execute("DELETE FROM memory_vec WHERE item_id = ?", (item_id,))
                memory_ann.log_change(tx, item_id)
                tx.execute("DELETE FROM memory_fts WHERE rowid = ?", (item_id,))
            tx.execute("DELETE FROM memory_items WHERE id = ?", (item_id,))

    # items without a vector (restored by `coo import`, which carries no embeddings) ---------------

    def _without_vector(self) -> str:
        """The WHERE clause of items that have no vector (all of them before the table exists)."""
        table = "memory_vectors" if self.db.dialect == "postgres" else "memory_vec"
        exists = self.db.scalar(
            "SELECT to_regclass('memory_vectors') IS NOT NULL AS e"
            if self.db.dialect == "postgres"
            else "SELECT COUNT(*) AS e FROM sqlite_master WHERE name = 'memory_vec'"
        )
        return f" WHERE id NOT IN (SELECT item_id FROM {table})" if exists else ""

    def unindexed(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Items that have no vector yet: id, client_id, title, text (oldest first)."""
        return self.db.fetchall(
            f"SELECT id, client_id, title, text FROM memory_items{self._without_vector()}"
            " ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
        )

    def unindexed_count(self) -> int:
        return int(self.db.scalar(f"SELECT COUNT(*) AS n FROM memory_items{self._without_vector()}"))

    def index_existing(self, rows: Sequence[dict[str, Any]], vectors: Sequence[Sequence[float]]) -> None:
        """Index items already in memory_items (tokens, full text, vector) without rewriting them."""
        with self.db.transaction() as tx:
            for row, vector in zip(rows, vectors, strict=True):
                self._index(tx, int(row["id"]), row["client_id"], row["title"], row["text"], vector)

    # reading -----------------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) AS n FROM memory_items") or 0)

    def get(self, source_kind: str, source_id: int) -> MemoryItem | None:
        row = self.db.fetchone(
            "SELECT id, source_kind, source_id, kind, client_id, title, text, meta, fingerprint,"
            " created_at FROM memory_items WHERE source_kind = ? AND source_id = ?",
            (source_kind, source_id),
        )
        return None if row is None else MemoryItem.model_validate(row)

    def items(self, ids: Iterable[int], tx: Tx | None = None) -> dict[int, MemoryItem]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        sql = (
            f"SELECT id, source_kind, source_id, kind, client_id, title, text, meta, fingerprint, created_at"
            f" FROM memory_items WHERE id IN ({marks})"
        )
        rows = tx.fetchall(sql, ids) if tx else self.db.fetchall(sql, ids)
        return {int(r["id"]): MemoryItem.model_validate(r) for r in rows}

    def search(self, vector: Sequence[float], k: int = 5, client_id: int | None = None) -> list[Hit]:
        """Nearest items by cosine distance (score = 1 − distance)."""
        with self.db.transaction() as tx:
            found = self._vector_ids(tx, vector, k, client_id)
            items = self.items([i for i, _ in found], tx)
        return [
            Hit(item=items[i], score=1.0 - d, ranks={"vector": n}) for n, (i, d) in enumerate(found, 1) if i in items
        ]

    def keyword(self, query: str, k: int = 5, client_id: int | None = None) -> list[Hit]:
        """Exact tokens (e-mails, invoice numbers) first, then full-text rank."""
        with self.db.transaction() as tx:
            fused = rrf(
                {"exact": self._exact_ids(tx, query, k, client_id), "text": self._text_ids(tx, query, k, client_id)},
                {"exact": 2.0},
            )[:k]
            items = self.items([i for i, _, _ in fused], tx)
        return [Hit(item=items[i], score=s, ranks=r) for i, s, r in fused if i in items]

    def hybrid(
        self, query: str, vector: Sequence[float], k: int = 5, client_id: int | None = None, depth: int = 30
    ) -> list[Hit]:
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
            return self._pg_vector_ids(tx, vector, k, client_id)
        blob = _blob(vector)
        conn = tx._conn  # noqa: SLF001 - the store package's own raw connection
        if id(conn) not in _MAPPED:
            # An unfiltered search reads every vector: memory-mapped, SQLite skips a copy per page
            # (100k 512-dimension vectors: ~110 → ~65 ms on 2 cores). Once per connection.
            conn.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            _MAPPED.add(id(conn))
        if client_id is not None:  # the partition key: only this client's vectors are read
            rows = tx.fetchall(
                "SELECT item_id, distance AS d FROM memory_vec WHERE embedding MATCH ? AND k = ?"
                " AND client_id = ? ORDER BY distance",
                [blob, k, client_id],
            )
        else:
            # Many vectors: the HNSW graph's candidates, re-scored exactly (store/memory_ann.py).
            approximate = self._ann.search(tx, vector, k) if self._ann is not None else None
            if approximate is not None:
                return approximate
            rows = tx.fetchall(
                "SELECT item_id, distance AS d FROM memory_vec WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                [blob, k],
            )
        found = sorted(((int(r["item_id"]), float(r["d"])) for r in rows), key=lambda p: (p[1], p[0]))
        return found[:k]

    def _pg_vector_ids(self, tx: Tx, vector: Sequence[float], k: int, client_id: int | None) -> list[tuple[int, float]]:
        literal = _pg_vector(vector)
        if client_id is not None:
            # Exact over the client's rows (its index; OFFSET 0 keeps the planner off the HNSW
            # index), unless the client has more than EXACT_CLIENT_MAX of them.
            rows = tx.fetchall(
                "SELECT item_id, d, n FROM (SELECT item_id, d, COUNT(*) OVER () AS n FROM (SELECT item_id,"
                " embedding <=> ?::halfvec AS d FROM memory_vectors WHERE client_id = ? LIMIT ? OFFSET 0) c) s"
                " ORDER BY d, item_id LIMIT ?",
                [literal, client_id, EXACT_CLIENT_MAX, k],
            )
            if not rows or int(rows[0]["n"]) < EXACT_CLIENT_MAX:
                return [(int(r["item_id"]), float(r["d"])) for r in rows]
        # HNSW; a filtered scan keeps walking the graph until k rows pass the filter (pgvector ≥ 0.8).
        tx.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        tx.execute(f"SET LOCAL hnsw.ef_search = {max(40, 2 * k)}")
        where, params = ("WHERE client_id = ?", [client_id]) if client_id is not None else ("", [])
        rows = tx.fetchall(
            f"SELECT item_id, embedding <=> ?::halfvec AS d FROM memory_vectors {where}"
            " ORDER BY embedding <=> ?::halfvec LIMIT ?",
            [literal, *params, literal, k],
        )
        return sorted(((int(r["item_id"]), float(r["d"])) for r in rows), key=lambda p: (p[1], p[0]))

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
            [*tokens, *params, k],
        )
        return [int(r["id"]) for r in rows]

    def _text_ids(self, tx: Tx, query: str, k: int, client_id: int | None) -> list[int]:
        terms = keyword_terms(query)
        if client_id is not None:
            # The filter already says which client: its name would match all of its items.
            name = tx.scalar("SELECT name FROM clients WHERE id = ?", (client_id,))
            if name:
                drop = set(keyword_terms(str(name)))
                terms = [t for t in terms if t not in drop] or terms
        terms = [c for c in dict.fromkeys(re.sub(r"[^\w]", "", t) for t in terms) if c]
        if not terms:
            return []
        if tx.dialect == "postgres":
            return self._pg_text_ids(tx, terms, k, client_id)
        return self._fts_text_ids(tx, terms, k, client_id)

    def _fts_text_ids(self, tx: Tx, terms: list[str], k: int, client_id: int | None) -> list[int]:
        """SQLite FTS5, bm25 ranked (``ORDER BY rank`` on the FTS table itself, the client filter a
        token of the row). When more than TEXT_BUDGET rows match any word, each pass ranks only
        the newest TEXT_BUDGET of its matches: every word together first, then the rare words
        (those that match fewer rows than the budget: names, specific terms), then any word."""
        scope = f" AND scope : {_scope(client_id)}" if client_id is not None else ""
        quoted = ['"' + t + '"' for t in terms]

        def match(words: list[str], op: str) -> str:
            return f"({f' {op} '.join(words)}){scope}"

        def cut(expr: str) -> int | None:  # rowid below which the matches beyond the budget lie
            value = tx.scalar(
                "SELECT rowid AS r FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                (expr, TEXT_BUDGET),
            )
            return None if value is None else int(value)

        def ranked(expr: str, floor: int | None) -> list[int]:
            above, params = (" AND rowid > ?", [floor]) if floor is not None else ("", [])
            rows = tx.fetchall(
                f"SELECT rowid AS id FROM memory_fts WHERE memory_fts MATCH ?{above} ORDER BY rank LIMIT ?",
                [expr, *params, k],
            )
            return [int(r["id"]) for r in rows]

        any_word = match(quoted, "OR")
        floor = cut(any_word)
        if floor is None:  # everything that matches fits the budget: one exact bm25 ranking
            return ranked(any_word, None)
        passes: list[tuple[str, int | None]] = []
        if len(quoted) > 1:
            every = match(quoted, "AND")
            passes.append((every, cut(every)))
        rare = [q for q in quoted if cut(match([q], "OR")) is None]
        if rare and len(rare) < len(quoted):
            expr = match(rare, "OR")
            passes.append((expr, cut(expr)))
        passes.append((any_word, floor))
        out: list[int] = []
        for expr, low in passes:
            for item_id in ranked(expr, low):
                if item_id not in out:
                    out.append(item_id)
            if len(out) >= k:
                break
        return out[:k]

    def _pg_text_ids(self, tx: Tx, terms: list[str], k: int, client_id: int | None) -> list[int]:
        """PostgreSQL full text, ranked by ``ts_rank`` over a bounded candidate set (``ts_rank_cd``,
        cover density, costs ~5× more a row on many-word queries and ranked no better on the recall
        benchmark: keyword recall@5 0.748 with it, 0.756 without).

        Words are split by how many rows hold them (the planner's statistics of the tsv column):
        rows with a rare word are candidates (few by definition: the newest PG_RARE_LIMIT at
        most); words in more than PG_COMMON_ROWS rows are matched among the newest RECENT_WINDOW
        items only (with a client filter: that client's newest CLIENT_WINDOW), so a common word
        never makes the ranking read the whole table or the whole client. A small memory has no
        common word: every match is ranked, as a plain full-text query would."""
        any_word = " or ".join(terms)
        common = self._pg_common_words(tx, terms)
        rare = [t for t in terms if t not in common]
        client, cargs = (" AND client_id = ?", [client_id]) if client_id is not None else ("", [])
        parts, args = [], []
        if rare:
            parts.append(
                f"SELECT id, tsv FROM memory_items WHERE tsv @@ websearch_to_tsquery('english', ?){client}"
                " ORDER BY id DESC LIMIT ?"
            )
            args += [" or ".join(rare), *cargs, PG_RARE_LIMIT]
        if common and client_id is not None:
            parts.append(
                "SELECT id, tsv FROM (SELECT id, tsv FROM memory_items WHERE client_id = ?"
                " ORDER BY client_id DESC, id DESC LIMIT ? OFFSET 0) w"
                " WHERE tsv @@ websearch_to_tsquery('english', ?)"
            )
            args += [client_id, CLIENT_WINDOW, " or ".join(common)]
        elif common:
            parts.append(
                "SELECT id, tsv FROM memory_items WHERE tsv @@ websearch_to_tsquery('english', ?)"
                " AND id > (SELECT COALESCE(MAX(id), 0) FROM memory_items) - ?"
            )
            args += [" or ".join(common), RECENT_WINDOW]
        rows = tx.fetchall(
            "WITH c AS MATERIALIZED (" + " UNION ALL ".join(f"({p})" for p in parts) + "),"
            " d AS (SELECT DISTINCT ON (id) id, tsv FROM c ORDER BY id)"
            " SELECT id FROM d, websearch_to_tsquery('english', ?) q"
            " ORDER BY ts_rank(tsv, q, 1) DESC, id DESC LIMIT ?",
            [*args, any_word, k],
        )
        return [int(r["id"]) for r in rows]

    def _pg_common_words(self, tx: Tx, terms: list[str]) -> set[str]:
        """Query words whose lexeme is in more than PG_COMMON_ROWS rows, by the planner's statistics
        (most_common_elems of memory_items.tsv, kept by ANALYZE/autovacuum): none before a table
        is analysed, and none in a small one."""
        common = {lexeme for lexeme, rows in self._pg_lexeme_rows(tx).items() if rows > PG_COMMON_ROWS}
        if not common:
            return set()
        rows = tx.fetchall(
            "SELECT w.term, l.lexeme FROM regexp_split_to_table(?, ' ') AS w(term),"
            " LATERAL unnest(tsvector_to_array(to_tsvector('english', w.term))) AS l(lexeme)",
            [" ".join(terms)],
        )
        return {str(r["term"]) for r in rows if r["lexeme"] in common}

    def _pg_lexeme_rows(self, tx: Tx) -> dict[str, float]:
        """The statistics' frequent lexemes with their estimated row counts, read at most every
        LEXEME_STATS_SECONDS: the pg_stats view costs milliseconds a read and changes only
        when the table is analysed."""
        read_at, rows = self._lexeme_rows
        if time.monotonic() - read_at < LEXEME_STATS_SECONDS:
            return rows
        found = tx.fetchall(
            "SELECT e.elem, e.freq * c.reltuples AS n FROM pg_stats s, pg_class c,"
            " LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(elem, freq)"
            " WHERE s.schemaname = current_schema() AND s.tablename = 'memory_items' AND s.attname = 'tsv'"
            " AND c.oid = 'memory_items'::regclass"
        )
        rows = {str(r["elem"]): float(r["n"]) for r in found}
        self._lexeme_rows = (time.monotonic(), rows)
        return rows

    # re-embedding ------------------------------------------------------------------------------

    def reembed(self, embedder: Embedder, batch: int = 256, progress: Any = None) -> int:
        """Embed every item again with ``embedder`` (a new model or dimension) and rebuild the
        full-text and exact-token indexes; returns the count."""
        with self.db.transaction() as tx:
            if tx.dialect == "postgres":
                tx.execute(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
            self._drop_vectors(tx)
            self._create_vectors(tx, embedder.dim)
            self._set_config(tx, embedder)
            self._rebuild_text(tx)
            rows = tx.fetchall("SELECT id, client_id, title, text FROM memory_items ORDER BY id")
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                vectors = embedder.embed([embedding_input(r["title"], r["text"]) for r in chunk])
                for row, vector in zip(chunk, vectors, strict=True):
                    self._write_vector(tx, int(row["id"]), row["client_id"], vector)
                if progress:
                    progress(min(start + batch, len(rows)), len(rows))
        self._ready = (embedder.name, embedder.dim)
        return len(rows)
