"""Exactly-once bookkeeping for external side effects (e-mails sent, invoices issued).

A side effect is *claimed* under its idempotency key before it is performed and *completed*
with its receipt after. A retried job finds the receipt and does nothing; a claim without a
receipt means an earlier attempt died mid-send, which the caller must surface, not repeat.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database
from store.models import JsonValue


class SideEffectState(BaseModel):
    key: str
    status: Literal["claimed", "done", "uncertain"]
    receipt: JsonValue = None


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

    def release(self, key: str) -> None:
        """The attempt failed before anything left the machine: let a retry claim it again."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM side_effects WHERE key = ? AND status = 'sending'", (key,))
