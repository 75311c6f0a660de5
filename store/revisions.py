"""Revision rounds a client asked for, counted per deliverable against their revision limit."""

from __future__ import annotations

import re

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database, Tx
from store.models import UtcDateTime

GENERAL = "general"  # rounds asked for without naming a deliverable


def deliverable_key(title: str | None) -> str:
    """ "the Logo", "logo" and "Logo!" count as one deliverable."""
    if not title:
        return GENERAL
    words = re.sub(r"[^a-z0-9 ]+", " ", title.lower()).split()
    return " ".join(w for w in words if w not in ("the", "a", "an", "our", "their", "new")) or GENERAL


class Revision(BaseModel):
    id: int
    client_id: int
    deliverable: str
    round: int
    note: str | None = None
    out_of_scope: bool
    run_id: str
    created_at: UtcDateTime


class RevisionStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record(
        self, tx: Tx, client_id: int, deliverable: str | None, note: str | None, limit: int | None, run_id: str
    ) -> Revision:
        """The next round for this deliverable; a replayed step returns the round it recorded."""
        row = tx.fetchone("SELECT * FROM revisions WHERE run_id = ?", (run_id,))
        if row is None:
            key = deliverable_key(deliverable)
            done = int(
                tx.scalar(
                    "SELECT COUNT(*) AS n FROM revisions WHERE client_id = ? AND deliverable = ?", (client_id, key)
                )
                or 0
            )
            round_ = done + 1
            tx.execute(
                "INSERT INTO revisions (client_id, deliverable, round, note, out_of_scope, run_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    client_id,
                    key,
                    round_,
                    note,
                    1 if limit is not None and round_ > limit else 0,
                    run_id,
                    self.clock.now(),
                ),
            )
            row = tx.fetchone("SELECT * FROM revisions WHERE run_id = ?", (run_id,))
        assert row is not None
        return Revision.model_validate({**row, "out_of_scope": bool(row["out_of_scope"])})

    def for_client(self, client_id: int) -> list[Revision]:
        rows = self.db.fetchall("SELECT * FROM revisions WHERE client_id = ? ORDER BY id", (client_id,))
        return [Revision.model_validate({**r, "out_of_scope": bool(r["out_of_scope"])}) for r in rows]
