"""The inbox: every input from every channel, saved before it is queued or parsed.

One row per channel event (UNIQUE dedupe key: Slack's event id, Telegram's update id, an
e-mail's digest…), written in one statement before the channel is acknowledged. The queue
only wakes a worker to process a saved row. A row the door queues at once is written
``queued``; one that could not be queued (Redis down) is ``saved`` (again) until a sweeper or a
starting worker queues it — and one whose mark could not be taken back is queued again by the
lost-work sweep, which finds no job for it — so nothing accepted is lost.
"""

from __future__ import annotations

import base64
import sqlite3
from typing import Any, Literal

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database, Tx
from store.errors import StoreUnavailable
from store.models import JsonDict, UtcDateTime

# Seconds the door waits for a database connection: Slack wants its answer within 3 s, and a
# quick 503 makes the platform retry sooner than a timeout would.
SAVE_WAIT = 2.0

InboxKind = Literal[
    "message", "email", "payments", "shared_payments", "refusal", "scheduled", "telegram_file", "shared_email"
]
InboxStatus = Literal["saved", "queued", "done"]


class InboxItem(BaseModel):
    id: int
    dedupe: str
    kind: InboxKind
    channel: str
    payload: JsonDict
    status: InboxStatus
    created_at: UtcDateTime
    queued_at: UtcDateTime | None = None
    done_at: UtcDateTime | None = None
    error: str | None = None

    def data(self) -> bytes:
        """The raw bytes saved with the item (an e-mail, a CSV export), or b""."""
        return base64.b64decode(self.payload.get("data_b64") or "")


def pack(data: bytes | None) -> dict[str, str]:
    return {} if data is None else {"data_b64": base64.b64encode(data).decode("ascii")}


def _unreachable(exc: Exception) -> bool:
    """An error that means the database cannot be written now (retry later), not a bug."""
    if isinstance(exc, StoreUnavailable | sqlite3.OperationalError):
        return True
    try:
        import psycopg
    except ImportError:  # SQLite-only install
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.errors.AdminShutdown)


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def save(
        self, dedupe: str, kind: InboxKind, channel: str, payload: dict[str, Any], *, queued: bool = False
    ) -> int | None:
        """Record one input (``queued``: its job is being queued now); its id, or None when this
        dedupe key was saved before (a retry). Raises StoreUnavailable when the database cannot
        take it: the channel should retry."""
        now = self.clock.now()
        try:
            inserted = self.db.fetchone(
                "INSERT INTO inbox (dedupe, kind, channel, payload, status, created_at, queued_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe) DO NOTHING RETURNING id",
                (dedupe, kind, channel, payload, "queued" if queued else "saved", now, now if queued else None),
                wait=SAVE_WAIT,
            )
        except Exception as exc:
            if _unreachable(exc):
                raise StoreUnavailable(f"cannot save the message: {exc}") from exc
            raise
        return None if inserted is None else int(inserted["id"])

    def get(self, item_id: int) -> InboxItem | None:
        row = self.db.fetchone("SELECT * FROM inbox WHERE id = ?", (item_id,))
        return None if row is None else InboxItem.model_validate(row)

    def queued(self, item_id: int) -> None:
        self.db.execute(
            "UPDATE inbox SET status = 'queued', queued_at = ? WHERE id = ? AND status = 'saved'",
            (self.clock.now(), item_id),
        )

    def unqueued_after_all(self, item_id: int) -> None:
        """The job of an item saved as queued could not be queued: it waits as saved."""
        self.db.execute(
            "UPDATE inbox SET status = 'saved', queued_at = NULL WHERE id = ? AND status = 'queued'", (item_id,)
        )

    def done(self, item_id: int, error: str | None = None, *, tx: Tx | None = None) -> None:
        sql = "UPDATE inbox SET status = 'done', done_at = ?, error = ? WHERE id = ?"
        params = (self.clock.now(), error[:500] if error else None, item_id)
        if tx is not None:
            tx.execute(sql, params)
            return
        self.db.execute(sql, params)

    def unqueued(self, limit: int = 100) -> list[InboxItem]:
        """Saved items no queue has taken yet, oldest first."""
        rows = self.db.fetchall("SELECT * FROM inbox WHERE status = 'saved' ORDER BY id LIMIT ?", (limit,))
        return [InboxItem.model_validate(r) for r in rows]

    def taken(self, limit: int = 10_000) -> list[InboxItem]:
        """Items a queue took and has not finished, oldest first."""
        rows = self.db.fetchall("SELECT * FROM inbox WHERE status = 'queued' ORDER BY id LIMIT ?", (limit,))
        return [InboxItem.model_validate(r) for r in rows]

    def waiting(self) -> int:
        """Inputs not processed yet (the health check: it answers quickly when the database is down)."""
        with self.db.transaction(wait=SAVE_WAIT) as tx:
            return int(tx.scalar("SELECT COUNT(*) AS n FROM inbox WHERE status <> 'done'") or 0)
