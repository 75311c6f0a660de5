"""Exactly-once bookkeeping for external side effects (e-mails sent, invoices issued).

A side effect is *claimed* under its idempotency key before it is performed and *completed*
with its receipt after. A retried job finds the receipt and does nothing; a claim without a
receipt means an earlier attempt died mid-send, which the caller must surface, not repeat.
An attempt the other side refused is marked *failed* (nothing left the machine): it stays on
record, visible as "not sent", and the next attempt claims it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database
from store.models import JsonValue, UtcDateTime


class SideEffectState(BaseModel):
    key: str
    status: Literal["claimed", "done", "uncertain"]
    receipt: JsonValue = None


class FailedSend(BaseModel):
    """A send the mail server did not take: nothing left the machine."""

    key: str
    run_id: str
    kind: str
    attempts: int
    error: str | None = None
    retry_at: UtcDateTime | None = None  # None: no automatic attempt is due (permanent, or given up)
    created_at: UtcDateTime


class SideEffects:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def claim(self, key: str, run_id: str, kind: str) -> SideEffectState:
        """Claim ``key``; ``status == "claimed"`` only for the one caller that should perform it."""
        with self.db.transaction() as tx:
            inserted = tx.execute(
                "INSERT INTO side_effects (key, run_id, kind, status, created_at) VALUES (?, ?, ?, 'sending', ?)"
                " ON CONFLICT (key) DO NOTHING",
                (key, run_id, kind, self.clock.now()),
            )
            if inserted == 1:
                return SideEffectState(key=key, status="claimed")
            retaken = tx.execute(
                "UPDATE side_effects SET status = 'sending', retry_at = NULL WHERE key = ? AND status = 'failed'",
                (key,),
            )
            if retaken == 1:
                return SideEffectState(key=key, status="claimed")
            row = tx.fetchone("SELECT status, receipt FROM side_effects WHERE key = ?", (key,))
            assert row is not None
            if row["status"] == "done":
                return SideEffectState(key=key, status="done", receipt=row["receipt"])
            return SideEffectState(key=key, status="uncertain")

    def complete(self, key: str, receipt: dict[str, Any]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE side_effects SET status = 'done', receipt = ?, done_at = ? WHERE key = ?",
                (receipt, self.clock.now(), key),
            )

    def fail(self, key: str, error: str) -> int:
        """This attempt was refused (nothing left the machine); returns how many attempts failed."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE side_effects SET status = 'failed', attempts = attempts + 1, error = ?"
                " WHERE key = ? AND status = 'sending'",
                (error[:500], key),
            )
            row = tx.fetchone("SELECT attempts FROM side_effects WHERE key = ?", (key,))
        return int(row["attempts"]) if row else 0

    def retry_at(self, key: str, when: datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE side_effects SET retry_at = ? WHERE key = ? AND status = 'failed'", (when, key))

    def status(self, key: str) -> str | None:
        """'sending', 'done' or 'failed'; None when it was never attempted."""
        row = self.db.fetchone("SELECT status FROM side_effects WHERE key = ?", (key,))
        return None if row is None else str(row["status"])

    def failed(self, key: str) -> FailedSend | None:
        row = self.db.fetchone("SELECT * FROM side_effects WHERE key = ? AND status = 'failed'", (key,))
        return None if row is None else FailedSend.model_validate(row)

    def not_sent(self, run_id: str | None = None) -> list[FailedSend]:
        """Failed sends still on record (oldest first); of one run when ``run_id`` is given."""
        if run_id is not None:
            rows = self.db.fetchall(
                "SELECT * FROM side_effects WHERE status = 'failed' AND run_id = ? ORDER BY created_at, key",
                (run_id,),
            )
        else:
            rows = self.db.fetchall("SELECT * FROM side_effects WHERE status = 'failed' ORDER BY created_at, key")
        return [FailedSend.model_validate(r) for r in rows]

    def release(self, key: str, why: str) -> bool:
        """Give up a claim whose outcome is unknown, after the operator said to send again
        (``coo retry RUN --yes``): the next attempt may claim it. False when it is not uncertain."""
        with self.db.transaction() as tx:
            return (
                tx.execute(
                    "UPDATE side_effects SET status = 'failed', error = ?, retry_at = NULL"
                    " WHERE key = ? AND status = 'sending'",
                    (why[:500], key),
                )
                == 1
            )
