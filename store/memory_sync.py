"""Keep the semantic memory in step with the document store: one idempotent sweep.

``sync(store, embedder)`` indexes every artifact, current client fact and invoice that has no
memory item yet (or whose source changed since: a size fingerprint, so an edited draft is
re-indexed). What to look at comes from ``memory_changes``, a queue that database triggers fill
when a source is inserted or edited (and when an item arrives without a vector, as `coo import`
restores them): a sweep reads the queue and the rows it names, never the whole store, so a run's
sweep costs the same with ten years of books as with one month. It never deletes: items of
superseded facts and of deleted sources are what the recall audit reports and ``coo memory
prune`` removes (``stale_ids`` finds them; recall skips them). It runs at the end of every run
and before every recall, so artifacts filed outside a run (forwarded e-mails) are found too.
With nothing new it is one indexed query on an empty queue."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.db import Tx
from store.memory import Embedder, NewMemory, compact, embedding_input
from store.models import Artifact, format_money, from_cents

if TYPE_CHECKING:
    from store.facade import Store

log = logging.getLogger(__name__)
_QUOTE_START_RE = re.compile(r"^(?:On .{0,200}wrote:|-{2,} ?Original Message ?-{2,}|From: .+)$", re.M)


def _strip_quotes(body: str) -> str:
    m = _QUOTE_START_RE.search(body)
    if m and m.start() > 40:
        body = body[: m.start()]
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">"))


def _person(meta: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    value = meta.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return value.get("name"), value.get("address")
    return None, None


def artifact_memory(artifact: Artifact, client_name: str | None) -> NewMemory:
    meta = artifact.meta or {}
    who = client_name or "no client"
    out: dict[str, Any] = {"client": client_name}
    if artifact.kind == "email_in":
        name, address = _person(meta, "from")
        out.update(from_name=name, from_address=address, date=meta.get("date"))
        sender = f"{name} <{address}>" if name and address else (name or address or "unknown sender")
        head = f"E-mail from {sender}"
        body = _strip_quotes(artifact.body)
    elif artifact.kind in ("email", "email_out"):
        name, address = _person(meta, "to")
        address = address or meta.get("to") if isinstance(meta.get("to"), str) else address
        out.update(to_address=address)
        head = f"E-mail to {address or who} ({who})"
        body = artifact.body
    elif artifact.kind == "note":  # a forwarded chat message from a hidden account (graphs.chat_note)
        name, _ = _person(meta, "from")
        out.update(from_name=name, date=meta.get("date"))
        head = f"Note: {artifact.title} ({who})"
        body = artifact.body
    elif artifact.kind == "proposal":
        head = f"Proposal {artifact.number or ''} for {who}".replace("  ", " ")
        out.update(number=artifact.number)
        body = artifact.body
    else:
        head = f"{artifact.kind.replace('_', ' ').capitalize()} ({who})"
        body = artifact.body
    date = (meta.get("date") or artifact.created_at.isoformat())[:10]
    text = f"{head}, {date}: “{artifact.title}”\n{body}"
    return NewMemory(
        source_kind="artifact",
        source_id=artifact.id,
        kind=artifact.kind,
        client_id=artifact.client_id,
        title=artifact.title,
        text=compact(text),
        meta=out,
        fingerprint=_fp(artifact.title, artifact.body),
        created_at=artifact.created_at,
    )


def invoice_memory(row: dict[str, Any], lines: list[dict[str, Any]], client_name: str | None) -> NewMemory:
    currency = row["currency"]
    items = "; ".join(
        f"{line['description']} ({format_money(from_cents(line['total_cents']), currency)})" for line in lines
    )
    issue = str(row["issue_date"])[:10]
    month = datetime.fromisoformat(issue).strftime("%B %Y")
    total = format_money(from_cents(row["total_cents"]), currency)
    text = (
        f"Invoice {row['number']} to {client_name or 'a client'}, issued {issue} ({month}), due "
        f"{str(row['due_date'])[:10]}, total {total}: {items}"
    )
    return NewMemory(
        source_kind="invoice",
        source_id=int(row["id"]),
        kind="invoice",
        client_id=row["client_id"],
        title=f"Invoice {row['number']}",
        text=compact(text),
        meta={"number": row["number"], "client": client_name},
        fingerprint=_invoice_fp(row),
        created_at=_dt(row["created_at"]),
    )


def _invoice_fp(row: dict[str, Any]) -> str:
    return f"total:{row['total_cents']}:{str(row['due_date'])[:10]}"


def fact_memory(row: dict[str, Any], client_name: str | None) -> NewMemory:
    return NewMemory(
        source_kind="fact",
        source_id=int(row["id"]),
        kind="fact",
        client_id=row["client_id"],
        title=f"Note about {client_name or 'a client'}",
        text=compact(f"Note about {client_name or 'a client'}: {row['fact']}"),
        meta={"client": client_name, "source": row.get("source")},
        fingerprint=_fp(row["fact"]),
        created_at=_dt(row["created_at"]),
    )


def _fp(*parts: Any) -> str:
    return "len:" + ":".join(str(len(str(p))) for p in parts)


def _dt(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# Queue rows read per round: a sweep's reads are bounded by what changed, never by the books.
QUEUE_CHUNK = 512


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" for _ in ids)


def _queue(tx: Tx, limit: int) -> list[dict[str, Any]]:
    """The oldest changes not indexed yet (the triggers of migration 14 record them)."""
    return tx.fetchall("SELECT id, source_kind, source_id FROM memory_changes ORDER BY id LIMIT ?", (limit,))


def _plan(store: Store, tx: Tx, rows: list[dict[str, Any]]) -> list[tuple[int, NewMemory | dict[str, Any] | None]]:
    """What each queue row asks for, in queue order: a memory to write for a new or changed
    source, an imported item to give a vector, or nothing (unchanged, pruned, superseded, or a
    repeat of an earlier row)."""
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row["source_kind"], []).append(int(row["source_id"]))
    found: dict[tuple[str, int], NewMemory | dict[str, Any]] = {}
    for kind, ids in wanted.items():
        ids = sorted(set(ids))
        marks = _marks(ids)
        if kind == "item":
            for item in _without_vector(tx, ids):
                found[("item", int(item["id"]))] = item
            continue
        indexed = {
            int(r["source_id"]): r["fingerprint"]
            for r in tx.fetchall(
                f"SELECT source_id, fingerprint FROM memory_items WHERE source_kind = ? AND source_id IN ({marks})",
                (kind, *ids),
            )
        }
        pruned = {
            int(r["source_id"])
            for r in tx.fetchall(
                f"SELECT source_id FROM memory_pruned WHERE source_kind = ? AND source_id IN ({marks})", (kind, *ids)
            )
        }
        if kind == "artifact":
            sources = tx.fetchall(f"SELECT * FROM artifacts WHERE id IN ({marks})", ids)
            names = _names(tx, {r["client_id"] for r in sources})
            for r in sources:
                if int(r["id"]) not in pruned and indexed.get(int(r["id"])) != _fp(r["title"], r["body"]):
                    artifact = Artifact.model_validate(r)
                    client = names.get(artifact.client_id) if artifact.client_id is not None else None
                    found[(kind, artifact.id)] = artifact_memory(artifact, client)
        elif kind == "fact":
            sources = tx.fetchall(f"SELECT * FROM client_facts WHERE superseded_at IS NULL AND id IN ({marks})", ids)
            names = _names(tx, {r["client_id"] for r in sources})
            for r in sources:
                if int(r["id"]) not in indexed and int(r["id"]) not in pruned:
                    found[(kind, int(r["id"]))] = fact_memory(r, names.get(r["client_id"]))
        elif kind == "invoice":
            sources = [
                r
                for r in tx.fetchall(f"SELECT * FROM invoices WHERE id IN ({marks})", ids)
                if indexed.get(int(r["id"])) != _invoice_fp(r)
            ]
            lines: dict[int, list[dict[str, Any]]] = {}
            if sources:
                changed = [int(r["id"]) for r in sources]
                for line in tx.fetchall(
                    f"SELECT * FROM invoice_lines WHERE invoice_id IN ({_marks(changed)}) ORDER BY invoice_id, position",
                    changed,
                ):
                    lines.setdefault(int(line["invoice_id"]), []).append(line)
            names = _names(tx, {r["client_id"] for r in sources})
            for r in sources:
                found[(kind, int(r["id"]))] = invoice_memory(r, lines.get(int(r["id"]), []), names.get(r["client_id"]))
    plan: list[tuple[int, NewMemory | dict[str, Any] | None]] = []
    for row in rows:
        plan.append((int(row["id"]), found.pop((row["source_kind"], int(row["source_id"])), None)))
    return plan


def _names(tx: Tx, client_ids: set[Any]) -> dict[int, str]:
    ids = sorted(int(c) for c in client_ids if c is not None)
    if not ids:
        return {}
    return {
        int(r["id"]): r["name"] for r in tx.fetchall(f"SELECT id, name FROM clients WHERE id IN ({_marks(ids)})", ids)
    }


def _without_vector(tx: Tx, ids: list[int]) -> list[dict[str, Any]]:
    """Which of these items have no vector (restored by `coo import`): id, client_id, title, text."""
    table = "memory_vectors" if tx.dialect == "postgres" else "memory_vec"
    return tx.fetchall(
        f"SELECT m.id, m.client_id, m.title, m.text FROM memory_items m WHERE m.id IN ({_marks(ids)})"
        f" AND NOT EXISTS (SELECT 1 FROM {table} v WHERE v.item_id = m.id) ORDER BY m.id",
        ids,
    )


def pending(store: Store) -> list[NewMemory]:
    """Memories a full sweep would write now (new or changed sources waiting in the queue)."""
    out: list[NewMemory] = []
    with store.db.transaction() as tx:
        after = 0
        while rows := tx.fetchall(
            "SELECT id, source_kind, source_id FROM memory_changes WHERE id > ? ORDER BY id LIMIT ?",
            (after, QUEUE_CHUNK),
        ):
            out.extend(a for _, a in _plan(store, tx, rows) if isinstance(a, NewMemory))
            after = int(rows[-1]["id"])
    return out


def stale_among(store: Store, item_ids: Sequence[int]) -> set[int]:
    """Which of these items are stale (as :func:`stale_ids`), reading only those items: a recall
    checks its candidates, not the whole memory."""
    ids = sorted(set(item_ids))
    if not ids:
        return set()
    # The items by primary key and each source by its own: one probe per candidate. A join with
    # ``source_kind = 'fact'`` beside the id list let SQLite's planner walk the (source_kind,
    # source_id) index over every item of that kind instead (5 ms at 100k items, 0.5 at 10k);
    # scalar subqueries, not NOT EXISTS, which PostgreSQL may turn into a hash of a whole table.
    rows = store.db.fetchall(
        "SELECT m.id FROM memory_items m WHERE m.id IN (" + _marks(ids) + ") AND CASE m.source_kind"
        " WHEN 'fact' THEN (SELECT 1 FROM client_facts f WHERE f.id = m.source_id AND f.superseded_at IS NULL)"
        " IS NULL"
        " WHEN 'artifact' THEN (SELECT 1 FROM artifacts a WHERE a.id = m.source_id) IS NULL"
        " WHEN 'invoice' THEN (SELECT 1 FROM invoices i WHERE i.id = m.source_id) IS NULL"
        " ELSE FALSE END",
        ids,
    )
    return {int(r["id"]) for r in rows}


def stale_ids(store: Store) -> list[int]:
    """Items whose source is gone or superseded (a fact replaced by a newer one)."""
    rows = store.db.fetchall(
        "SELECT m.id FROM memory_items m LEFT JOIN client_facts f ON m.source_kind = 'fact' AND f.id = m.source_id"
        " WHERE m.source_kind = 'fact' AND (f.id IS NULL OR f.superseded_at IS NOT NULL)"
        " UNION SELECT m.id FROM memory_items m LEFT JOIN artifacts a ON a.id = m.source_id"
        " WHERE m.source_kind = 'artifact' AND a.id IS NULL"
        " UNION SELECT m.id FROM memory_items m LEFT JOIN invoices i ON i.id = m.source_id"
        " WHERE m.source_kind = 'invoice' AND i.id IS NULL"
    )
    return [int(r["id"]) for r in rows]


def sync(
    store: Store,
    embedder: Embedder,
    batch: int = 64,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index what is new or changed, at most ``limit`` items (None: all); returns how many items
    were written. ``progress`` hears the running count after each batch. Only the queue of
    changes is read: the work is bounded by what changed since the last sweep."""
    store.memory.ensure(embedder)
    done = _sync(store, embedder, batch, limit, progress)
    # After a large load without the HNSW index (or a sync that failed during one), built once.
    # Not on failure: the next sync, in this process or any other, checks again.
    if store.memory.vector_index_deferred:
        store.memory.restore_vector_index()
    # SQLite with many vectors: the search graph's file caught up (or built) by the full sync
    # (`coo memory sync`), so that a process opening it adds only what was written since. A run's
    # small sweep leaves it to the searches (store/memory_ann.py: SAVE_AFTER).
    if limit is None:
        store.memory.refresh_ann(embedder.dim)
    return done


def _sync(
    store: Store, embedder: Embedder, batch: int, limit: int | None, progress: Callable[[int], None] | None
) -> int:
    budget = limit if limit is not None else sys.maxsize
    done = 0
    first = True
    # The usual sweep finds nothing queued: a look without BEGIN and COMMIT says so.
    if store.db.scalar("SELECT 1 AS queued FROM memory_changes LIMIT 1") is None:
        return 0
    while done < budget:
        with store.db.transaction() as tx:
            rows = _queue(tx, min(QUEUE_CHUNK, max(budget - done, 1)))
            plan = _plan(store, tx, rows) if rows else []
            backlog = tx.scalar("SELECT COUNT(*) AS n FROM memory_changes") if first and len(rows) == QUEUE_CHUNK else 0
        if first and backlog and limit is None:
            store.memory.defer_vector_index(int(backlog))
        first = False
        if not plan:
            break
        consumed: list[int] = []
        memories: list[NewMemory] = []
        items: list[dict[str, Any]] = []
        for queue_id, action in plan:
            if action is not None and done + len(memories) + len(items) >= budget:
                break  # this row and the rest wait for the next sweep
            consumed.append(queue_id)
            if isinstance(action, NewMemory):
                memories.append(action)
            elif action is not None:
                items.append(action)
        for start in range(0, len(items), batch):
            chunk_items = items[start : start + batch]
            store.memory.index_existing(
                chunk_items, embedder.embed([embedding_input(r["title"], r["text"]) for r in chunk_items])
            )
            done += len(chunk_items)
            if progress:
                progress(done)
        fresh = _without_item(store, memories) if limit is None else set()
        for start in range(0, len(memories), batch):
            chunk = memories[start : start + batch]
            vectors = embedder.embed([embedding_input(m.title, m.text) for m in chunk])
            if all((m.source_kind, m.source_id) in fresh for m in chunk):
                # A backlog of new sources (`coo memory sync` after `coo import`): loaded in bulk
                # (COPY / executemany), many times faster than one upsert each; should a run
                # index one of them meanwhile, the batch is written one upsert at a time instead.
                try:
                    store.memory.bulk_insert(chunk, vectors)
                except Exception:  # noqa: BLE001 - the bulk transaction rolled back whole
                    log.info("bulk memory load met a concurrent write; upserting this batch")
                    store.memory.upsert_many(chunk, vectors)
            else:
                store.memory.upsert_many(chunk, vectors)
            done += len(chunk)
            if progress:
                progress(done)
        with store.db.transaction() as tx:
            for start in range(0, len(consumed), QUEUE_CHUNK):
                ids = consumed[start : start + QUEUE_CHUNK]
                tx.execute(f"DELETE FROM memory_changes WHERE id IN ({_marks(ids)})", ids)
        if len(consumed) < len(plan):
            break
    return done


def _without_item(store: Store, memories: list[NewMemory]) -> set[tuple[str, int]]:
    """The sources among ``memories`` that have no memory item yet."""
    fresh: set[tuple[str, int]] = set()
    by_kind: dict[str, list[int]] = {}
    for m in memories:
        by_kind.setdefault(m.source_kind, []).append(m.source_id)
    with store.db.read() as tx:
        for kind, ids in by_kind.items():
            for start in range(0, len(ids), QUEUE_CHUNK):
                chunk = ids[start : start + QUEUE_CHUNK]
                have = {
                    int(r["source_id"])
                    for r in tx.fetchall(
                        f"SELECT source_id FROM memory_items WHERE source_kind = ? AND source_id IN ({_marks(chunk)})",
                        (kind, *chunk),
                    )
                }
                fresh.update((kind, i) for i in chunk if i not in have)
    return fresh


def backlog(store: Store) -> int:
    """How many items a full sync would write now (read from the queue of changes only)."""
    total = 0
    with store.db.transaction() as tx:
        after = 0
        while rows := tx.fetchall(
            "SELECT id, source_kind, source_id FROM memory_changes WHERE id > ? ORDER BY id LIMIT ?",
            (after, QUEUE_CHUNK),
        ):
            total += sum(1 for _, action in _plan(store, tx, rows) if action is not None)
            after = int(rows[-1]["id"])
    return total
