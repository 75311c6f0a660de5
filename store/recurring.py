"""Claims of recurring work: one row per job and period ("billing" for retainer 3 in 2026-11).

The key is also the idempotency key of the intent the work submits, so two workers, a
retried job or a second `coo tick` for the same day find the claim and the accepted intent
and create nothing twice. The supervisor reads a claim to know that a run is routine
recurring work (and may therefore go ahead under the agent's raised autonomy).
"""

from __future__ import annotations

from store.clock import Clock
from store.db import Database
from store.models import UtcDateTime, _Row


class RecurringItem(_Row):
    key: str
    kind: str  # "billing" | "weekly_report"
    retainer_id: int
    period: str  # "2026-11" (a month) or "2026-W48" (an ISO week)
    run_id: str | None = None
    created_at: UtcDateTime


class RecurringWork:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def claim(self, key: str, kind: str, retainer_id: int, period: str) -> bool:
        """Record the job for its period; False when it was already claimed (by anyone)."""
        with self.db.transaction() as tx:
            return (
                tx.execute(
                    "INSERT INTO recurring_work (key, kind, retainer_id, period, created_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    (key, kind, retainer_id, period, self.clock.now()),
                )
                == 1
            )

    def link_run(self, key: str, run_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE recurring_work SET run_id = ? WHERE key = ? AND run_id IS NULL", (run_id, key))

    def get(self, key: str) -> RecurringItem | None:
        row = self.db.fetchone("SELECT * FROM recurring_work WHERE key = ?", (key,))
        return None if row is None else RecurringItem.model_validate(row)

    def for_retainer(self, retainer_id: int, kind: str) -> list[RecurringItem]:
        """The retainer's claimed periods of one kind, oldest first."""
        rows = self.db.fetchall(
            "SELECT * FROM recurring_work WHERE retainer_id = ? AND kind = ? ORDER BY period", (retainer_id, kind)
        )
        return [RecurringItem.model_validate(r) for r in rows]
