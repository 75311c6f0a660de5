"""Approximate nearest neighbours for SQLite's unfiltered vector search (usearch HNSW).

sqlite-vec's KNN is exact: a search that names no client reads every vector, so it grows with
the books (README, scale). Past ANN_MIN_VECTORS vectors that search goes through an HNSW graph
instead; below it the exact search stays (small books keep exact answers). A client's search
never comes here: its vec0 partition is already small.

What keeps several processes (``coo serve``, ``coo chat``, workers) honest on one SQLite file:

- every vector write and delete bumps the item's row in ``memory_vec_log`` to a new sequence
  number (one row an item, so the log is as long as the items ever indexed, no longer);
- each process holds its own copy of the graph with the sequence number it has seen (its mark)
  and, before every search, applies the log rows above the mark: new and changed vectors are
  (re)added, deleted ones removed;
- the graph is also a file beside the database (``<db>.usearch``), with the mark, the vector
  table's epoch (a new one after re-embedding) and the dimension in its header, so a new process
  loads it and applies only what was written since. It is written whole or not at all (temp
  file + rename) by ``coo memory sync``, or by a search that had to build it (no file, a corrupt
  one, another epoch or dimension);
- candidates (OVERFETCH × k) are re-scored from their stored vectors by sqlite-vec's own cosine
  distance, so scores equal the exact search's and an item deleted meanwhile is never returned.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError
from usearch.index import Index

from store.atomic_file import replacing
from store.db import Tx

# A setting-free threshold: below it sqlite-vec's exact scan costs ≲ 20 ms and stays exact.
ANN_MIN_VECTORS = 20_000
# Candidates fetched from the graph for each result wanted: room for items deleted since the
# last catch-up and for the graph's misses among the true top k.
OVERFETCH = 3
# HNSW parameters: graph degree and the search/build beam widths (usearch's defaults are 16,
# 64 and 128). Recall@30 against the exact search, 100k hashing vectors: README, scale.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 256
# A catch-up larger than this share of the graph is a rebuild (reading the table whole is then
# cheaper than one look-up per changed row).
REBUILD_SHARE = 0.5
# A searching process saves the file once it has applied this many changes beyond it (runs add
# memories without `coo memory sync`): a process opened later then catches up from there.
SAVE_AFTER = 5000
FORMAT = "coo-usearch-1"

log = logging.getLogger(__name__)


class _Header(BaseModel):
    """The first line of the index file."""

    format: str
    epoch: str
    dim: int
    mark: int  # highest memory_vec_log.seq applied
    count: int  # vectors in the graph
    size: int  # bytes of the serialised graph that follow the header line
    crc32: int


def index_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".usearch")


def create_log(tx: Tx) -> None:
    """The change log and the vector table's epoch (SQLite), seeded from the vectors already
    there; a no-op where both exist."""
    tx.execute("CREATE TABLE IF NOT EXISTS memory_vec_log (item_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
    tx.execute("CREATE INDEX IF NOT EXISTS memory_vec_log_seq ON memory_vec_log (seq)")
    if tx.scalar("SELECT value FROM memory_config WHERE key = 'vec_epoch'") is not None:
        return
    tx.execute("DELETE FROM memory_vec_log")
    if tx.scalar("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'memory_vec'"):
        tx.execute("INSERT INTO memory_vec_log (item_id, seq) SELECT item_id, item_id FROM memory_vec")
    # Random, not a time: only equality matters (a graph of another epoch is never reused).
    import secrets

    tx.execute("INSERT INTO memory_config (key, value) VALUES ('vec_epoch', ?)", (secrets.token_hex(8),))


def drop_log(tx: Tx) -> None:
    tx.execute("DROP TABLE IF EXISTS memory_vec_log")
    tx.execute("DELETE FROM memory_config WHERE key = 'vec_epoch'")


LOG_SQL = (
    "INSERT INTO memory_vec_log (item_id, seq) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM memory_vec_log))"
    " ON CONFLICT (item_id) DO UPDATE SET seq = excluded.seq"
)


def log_change(tx: Tx, item_id: int) -> None:
    """Record that the item's vector was written or deleted (SQLite)."""
    tx.execute(LOG_SQL, (item_id,))


class VectorIndex:
    """One process's HNSW copy of ``memory_vec``, kept current by the change log."""

    def __init__(self, path: Path | None, transaction: Callable[[], AbstractContextManager[Tx]]) -> None:
        self.path = path  # None: an in-memory database, nothing to save beside it
        self._transaction = transaction  # for the background build (its own connection)
        self._builder: threading.Thread | None = None
        self._lock = threading.Lock()
        self._index: Index | None = None
        self._epoch = ""
        self._dim = 0
        self._mark = 0
        self._file_mark = -1  # the mark of the file as this process last read or wrote it
        self._unsaved = 0  # changes applied since the file was read or written

    # searching ---------------------------------------------------------------------------------

    def search(self, tx: Tx, vector: Any, k: int) -> list[tuple[int, float]] | None:
        """The k nearest (item id, cosine distance), exact distances; None when the caller is to
        search exactly: the vectors are too few, or the graph is being built (in the background:
        100k vectors take minutes on 2 busy cores, longer than a recall may wait)."""
        epoch, top = _state(tx)
        # top ≥ the number of vectors (each has its own log row): cheap to rule small books out
        if epoch is None or top < ANN_MIN_VECTORS:
            return None
        query = np.asarray(vector, dtype=np.float32)
        with self._lock:
            if not self._holds(epoch, len(query)) and self._load(epoch, len(query), top) is None:
                self._build_in_background(epoch, len(query))
                return None
            if top > self._mark and not self._catch_up(tx, top):
                self._build_in_background(epoch, len(query))
                return None
            index = self._index
            assert index is not None
            if self._unsaved >= SAVE_AFTER:
                self._save(index)
            if len(index) < ANN_MIN_VECTORS:
                return None
            found = index.search(query, min(len(index), k * OVERFETCH))
            keys = [int(key) for key in np.atleast_1d(found.keys)]
        return rescore(tx, keys, query, k)

    def refresh(self, tx: Tx, dim: int) -> int | None:
        """Bring the graph and its file up to date (``coo memory sync``): loaded or built here,
        caught up, and saved when the file is behind; the vectors in it, None below the threshold."""
        epoch, top = _state(tx)
        if epoch is None or top < ANN_MIN_VECTORS:
            return None
        self.wait()  # a search's build under way: this one would only repeat it
        with self._lock:
            if not self._holds(epoch, dim) and self._load(epoch, dim, top) is None:
                self._install(_build(tx, dim), epoch, dim)
            if top > self._mark and not self._catch_up(tx, top):
                self._install(_build(tx, dim), epoch, dim)
            assert self._index is not None
            if self._file_mark != self._mark:
                self._save(self._index)
            return len(self._index)

    def wait(self, timeout: float | None = None) -> None:
        """Until a build started by a search has finished (or failed)."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)

    # keeping the copy current ------------------------------------------------------------------

    def _holds(self, epoch: str, dim: int) -> bool:
        return self._index is not None and self._epoch == epoch and self._dim == dim

    def _catch_up(self, tx: Tx, top: int) -> bool:
        """Apply the logged changes up to ``top``; False when they are too many (a rebuild is
        cheaper than one look-up each)."""
        assert self._index is not None
        changed = [
            int(r["item_id"])
            for r in tx.fetchall(
                "SELECT item_id FROM memory_vec_log WHERE seq > ? AND seq <= ? ORDER BY seq", (self._mark, top)
            )
        ]
        if len(changed) > max(len(self._index), 1) * REBUILD_SHARE:
            return False
        vectors = _vectors(tx, changed)
        for item_id in changed:
            if item_id in self._index:
                self._index.remove(item_id)
        if vectors:
            keys = np.fromiter(vectors, dtype=np.uint64, count=len(vectors))
            self._index.add(keys, np.vstack([_array(vectors[int(key)], self._dim) for key in keys]))
        self._mark = top
        self._unsaved += len(changed)
        return True

    def _install(self, built: tuple[Index, int], epoch: str, dim: int) -> None:
        self._index, self._mark = built
        self._epoch, self._dim = epoch, dim
        self._file_mark, self._unsaved = -1, SAVE_AFTER  # not on disk yet: the next search saves it

    def _build_in_background(self, epoch: str, dim: int) -> None:
        """Build the graph in a thread of this process; searches stay exact until it is there.
        Called with the lock held."""
        if self._builder is not None and self._builder.is_alive():
            return
        self._index = None
        self._builder = threading.Thread(
            target=self._build_and_install, args=(epoch, dim), name="coo-memory-graph", daemon=True
        )
        self._builder.start()

    def _build_and_install(self, epoch: str, dim: int) -> None:
        try:
            with self._transaction() as tx:
                if _state(tx)[0] != epoch:
                    return  # re-embedded meanwhile: the next search starts over
                keys, matrix, top = _read_all(tx, dim)
            built = _graph(keys, matrix, dim), top  # outside the transaction: writers go on
            with self._lock:
                self._install(built, epoch, dim)
                self._save(built[0])
        except Exception:  # noqa: BLE001 - searches stay exact; the next one tries again
            log.warning("building the memory's search graph failed; searching exactly", exc_info=True)

    # the file beside the database --------------------------------------------------------------

    def _load(self, epoch: str, dim: int, top: int) -> Index | None:
        """The saved graph if it is whole and of this epoch and dimension; None otherwise."""
        if self.path is None or not self.path.exists():
            return None
        try:
            data = self.path.read_bytes()
            line, _, body = data.partition(b"\n")
            header = _Header.model_validate(json.loads(line))
            if (
                header.format != FORMAT
                or header.epoch != epoch
                or header.dim != dim
                or header.mark > top
                or header.size != len(body)
                or header.crc32 != zlib.crc32(body)
            ):
                return None
            index = _new_index(dim)
            index.load(body)  # into an index of our parameters (the file keeps the graph only)
            if index.ndim != dim or len(index) != header.count:
                return None
        except (OSError, ValueError, ValidationError, RuntimeError):
            return None
        self._index, self._epoch, self._dim, self._mark = index, epoch, dim, header.mark
        self._file_mark, self._unsaved = header.mark, 0
        return index

    def _save(self, index: Index) -> None:
        if self.path is None:
            return
        saved = index.save()
        assert saved is not None  # no path given: the serialised graph itself
        body = bytes(saved)
        header = _Header(
            format=FORMAT,
            epoch=self._epoch,
            dim=self._dim,
            mark=self._mark,
            count=len(index),
            size=len(body),
            crc32=zlib.crc32(body),
        )
        with replacing(self.path) as temp, open(temp, "wb") as out:
            out.write(header.model_dump_json().encode() + b"\n")
            out.write(body)
        self._file_mark, self._unsaved = self._mark, 0


def _read_all(tx: Tx, dim: int) -> tuple[Any, Any, int]:
    """Every stored vector with its item id, and the log's mark they stand for."""
    top = int(tx.scalar("SELECT COALESCE(MAX(seq), 0) AS m FROM memory_vec_log"))
    rows = tx.fetchall("SELECT item_id, embedding FROM memory_vec")
    keys = np.fromiter((int(r["item_id"]) for r in rows), dtype=np.uint64, count=len(rows))
    matrix = np.frombuffer(b"".join(bytes(r["embedding"]) for r in rows), dtype=np.float32).reshape(len(rows), dim)
    return keys, matrix, top


def _graph(keys: Any, matrix: Any, dim: int) -> Index:
    index = _new_index(dim)
    if len(keys):
        index.add(keys, matrix)
    return index


def _build(tx: Tx, dim: int) -> tuple[Index, int]:
    """The graph of the whole vector table as of this transaction, and its mark."""
    keys, matrix, top = _read_all(tx, dim)
    return _graph(keys, matrix, dim), top


def _new_index(dim: int) -> Index:
    # f16: half the memory of f32 (100k 512-dimension vectors: ~100 MB a process); the order of
    # candidates barely changes and their distances are recomputed exactly anyway.
    return Index(
        ndim=dim,
        metric="cos",
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def _state(tx: Tx) -> tuple[str | None, int]:
    row = tx.fetchone(
        "SELECT (SELECT value FROM memory_config WHERE key = 'vec_epoch') AS epoch,"
        " (SELECT MAX(seq) FROM memory_vec_log) AS top"
    )
    if row is None or row["epoch"] is None:
        return None, 0
    return str(row["epoch"]), int(row["top"] or 0)


def _array(blob: bytes, dim: int) -> Any:
    return np.frombuffer(blob, dtype=np.float32, count=dim)


def _vectors(tx: Tx, ids: list[int]) -> dict[int, bytes]:
    """Stored vectors of those items that still have one."""
    out: dict[int, bytes] = {}
    for item_id in ids:
        row = tx.fetchone(_LOOKUP_SQL.format(column="embedding"), (item_id,))
        if row is not None:
            out[item_id] = bytes(row["v"])
    return out


# One look-up per id: vec0 answers ``item_id = ?`` from its primary key, but ``item_id IN (…)``
# by reading the whole table (90 ids at 100k vectors: 1.7 ms one by one, 73 ms with IN).
_LOOKUP_SQL = "SELECT {column} AS v FROM memory_vec WHERE item_id = ?"


def rescore(tx: Tx, ids: list[int], query: Any, k: int) -> list[tuple[int, float]]:
    """The k nearest of ``ids`` by sqlite-vec's cosine distance (what its exact search returns);
    ids without a stored vector (deleted since) drop out."""
    blob = np.asarray(query, dtype=np.float32).tobytes()
    sql = _LOOKUP_SQL.format(column="vec_distance_cosine(embedding, ?)")
    found: list[tuple[int, float]] = []
    for item_id in dict.fromkeys(ids):
        row = tx.fetchone(sql, (blob, item_id))
        if row is not None:
            found.append((item_id, float(row["v"])))
    found.sort(key=lambda p: (p[1], p[0]))
    return found[:k]
