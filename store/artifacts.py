"""Artifacts: proposals, e-mails, invoice documents, reports. Numbered where users cite them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.billing import next_number
from store.clock import Clock
from store.db import Database, Tx
from store.models import Artifact

_PREFIX = {"proposal": "P"}


class ArtifactStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create(
        self,
        tx: Tx,
        kind: str,
        title: str,
        body: str,
        run_id: str,
        client_id: int | None = None,
        meta: dict[str, Any] | None = None,
        dedupe: str | None = None,
    ) -> Artifact:
        """Store an artifact; with ``dedupe`` the same run step returns the one it made before."""
        meta = dict(meta or {})
        if dedupe:
            meta["dedupe"] = f"{run_id}:{dedupe}"
            for same_kind in tx.fetchall("SELECT * FROM artifacts WHERE run_id = ? AND kind = ?", (run_id, kind)):
                artifact = Artifact.model_validate(same_kind)
                if artifact.meta.get("dedupe") == meta["dedupe"]:
                    return artifact
        number = None
        if kind in _PREFIX:
            number = f"{_PREFIX[kind]}-{next_number(tx, kind):04d}"
        tx.execute(
            "INSERT INTO artifacts (kind, number, client_id, run_id, title, body, meta, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, number, client_id, run_id, title, body, meta, self.clock.now()),
        )
        row = tx.fetchone(
            "SELECT * FROM artifacts WHERE id = (SELECT MAX(id) FROM artifacts WHERE run_id = ?)", (run_id,)
        )
        assert row is not None
        return Artifact.model_validate(row)

    def get(self, artifact_id: int) -> Artifact:
        row = self.db.fetchone("SELECT * FROM artifacts WHERE id = ?", (artifact_id,))
        assert row is not None, f"artifact {artifact_id} vanished"
        return Artifact.model_validate(row)

    def for_client(self, client_id: int, kind: str | None = None, limit: int = 5) -> list[Artifact]:
        sql = "SELECT * FROM artifacts WHERE client_id = ?"
        params: tuple = (client_id,)
        if kind:
            sql += " AND kind = ?"
            params += (kind,)
        rows = self.db.fetchall(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [Artifact.model_validate(r) for r in rows]

    def created_between(self, kind: str, start: datetime, end: datetime) -> list[Artifact]:
        rows = self.db.fetchall(
            "SELECT * FROM artifacts WHERE kind = ? AND created_at >= ? AND created_at < ? ORDER BY id",
            (kind, start, end),
        )
        return [Artifact.model_validate(r) for r in rows]

    def latest_in_thread(self, kind: str, channel: str, thread_id: str, limit: int = 20) -> list[Artifact]:
        """The newest artifacts of ``kind`` filed from one chat thread (meta channel/thread_id), newest first."""
        rows = self.db.fetchall("SELECT * FROM artifacts WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit * 5))
        found = [Artifact.model_validate(r) for r in rows]
        return [a for a in found if a.meta.get("channel") == channel and a.meta.get("thread_id") == thread_id][:limit]
