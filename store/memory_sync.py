"""Keep the semantic memory in step with the document store: one idempotent sweep.

``sync(store, embedder)`` indexes every artifact, current client fact and invoice that has no
memory item yet (or whose source changed since: a size fingerprint, so an edited draft is
re-indexed). It never deletes: items of superseded facts and of deleted sources are what the
recall audit reports and ``coo memory prune`` removes (``stale_ids`` finds them; recall skips them).
It runs at the end of every run and before every recall, so artifacts filed outside a run
(forwarded e-mails) are found too. Items restored by `coo import` (a snapshot carries no
embeddings) are embedded and indexed again. A second call with nothing new costs four small queries.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.memory import Embedder, NewMemory, compact, embedding_input
from store.models import Artifact, format_money, from_cents

if TYPE_CHECKING:
    from store.facade import Store

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


def pending(store: Store) -> list[NewMemory]:
    """Memories to write: sources without an item, or whose fingerprint changed."""
    db = store.db
    names = {c.id: c.name for c in store.clients.all()}
    indexed = {
        (r["source_kind"], int(r["source_id"])): r["fingerprint"]
        for r in db.fetchall(
            "SELECT source_kind, source_id, fingerprint FROM memory_items"
            " WHERE source_kind IN ('artifact', 'fact', 'invoice')"
        )
    }
    # Sources pruned as duplicates by `coo memory prune` stay out of the index.
    pruned = {(r["source_kind"], int(r["source_id"])) for r in db.fetchall("SELECT * FROM memory_pruned")}
    out: list[NewMemory] = []
    # Artifacts: a size fingerprint read in SQL, so unchanged bodies are never loaded.
    for row in db.fetchall("SELECT id, length(title) AS lt, length(body) AS lb FROM artifacts ORDER BY id"):
        if ("artifact", int(row["id"])) in pruned:
            continue
        if indexed.get(("artifact", int(row["id"]))) != f"len:{row['lt']}:{row['lb']}":
            artifact = store.artifacts.get(int(row["id"]))
            out.append(artifact_memory(artifact, names.get(artifact.client_id) if artifact.client_id else None))
    for row in db.fetchall("SELECT * FROM client_facts WHERE superseded_at IS NULL ORDER BY id"):
        if ("fact", int(row["id"])) not in indexed and ("fact", int(row["id"])) not in pruned:
            out.append(fact_memory(row, names.get(row["client_id"])))
    for row in db.fetchall("SELECT * FROM invoices ORDER BY id"):
        if indexed.get(("invoice", int(row["id"]))) != _invoice_fp(row):
            lines = db.fetchall("SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY position", (row["id"],))
            out.append(invoice_memory(row, lines, names.get(row["client_id"])))
    return out


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
    were written. ``progress`` hears the running count after each batch."""
    store.memory.ensure(embedder)
    budget = limit if limit is not None else sys.maxsize
    done = 0
    # Items without a vector: restored by `coo import` (a snapshot carries no embeddings).
    while done < budget and (rows := store.memory.unindexed(limit=min(batch * 8, budget - done))):
        for start in range(0, len(rows), batch):
            unindexed = rows[start : start + batch]
            store.memory.index_existing(
                unindexed, embedder.embed([embedding_input(r["title"], r["text"]) for r in unindexed])
            )
            done += len(unindexed)
            if progress:
                progress(done)
    todo = pending(store)[: max(0, budget - done)]
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        vectors = embedder.embed([embedding_input(m.title, m.text) for m in chunk])
        store.memory.upsert_many(chunk, vectors)
        done += len(chunk)
        if progress:
            progress(done)
    return done


def backlog(store: Store) -> int:
    """How many items a full sync would write now."""
    return store.memory.unindexed_count() + len(pending(store))
