"""The execution ledger: append-only business events of every run.

Writes are idempotent by ``dedupe_key`` so that a step replayed after a crash or a second
resume records its event once; the database itself refuses UPDATE and DELETE.
"""

from __future__ import annotations

from typing import Any

from store.clock import Clock
from store.db import Database, Tx
from store.models import LedgerEvent


class Ledger:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def append(
        self,
        run_id: str,
        step: str,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        actor: str = "coo",
        receipt: dict[str, Any] | None = None,
        dedupe: str | None = None,
        tx: Tx | None = None,
    ) -> bool:
        """Record an event; returns False when the same event was already recorded."""
        key = f"{run_id}:{step}:{kind}" + (f":{dedupe}" if dedupe else "")
        params = (run_id, step, actor, kind, payload or {}, receipt, key, self.clock.now())
        sql = (
            "INSERT INTO ledger (run_id, step, actor, kind, payload, receipt, dedupe_key, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
        )
        if tx is not None:
            return tx.execute(sql, params) == 1
        return self.db.execute(sql, params) == 1  # one statement: its own transaction

    def append_many(self, run_id: str, events: list[tuple[str, str, dict[str, Any]]], *, tx: Tx | None = None) -> None:
        """Several events of one run (step, kind, payload; by coo) in one statement, each recorded
        once (the keys of :meth:`append`)."""
        if not events:
            return
        now = self.clock.now()
        params: list[Any] = []
        for step, kind, payload in events:
            params += [run_id, step, "coo", kind, payload, None, f"{run_id}:{step}:{kind}", now]
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(events))
        sql = (
            "INSERT INTO ledger (run_id, step, actor, kind, payload, receipt, dedupe_key, created_at)"
            f" VALUES {rows} ON CONFLICT (dedupe_key) DO NOTHING"
        )
        if tx is not None:
            tx.execute(sql, params)
            return
        self.db.execute(sql, params)  # one statement: its own transaction

    def events(self, run_id: str) -> list[LedgerEvent]:
        rows = self.db.fetchall("SELECT * FROM ledger WHERE run_id = ? ORDER BY id", (run_id,))
        return [LedgerEvent.model_validate(r) for r in rows]

    def count(self, run_id: str) -> int:
        return int(self.db.scalar("SELECT COUNT(*) AS n FROM ledger WHERE run_id = ?", (run_id,)) or 0)

    def model_usage(self, run_id: str | None = None) -> dict[str, float]:
        """Total tokens and cost of model calls, for one run or all of them."""
        sql = "SELECT payload FROM ledger WHERE kind = 'model_call'"
        params: tuple = ()
        if run_id:
            sql += " AND run_id = ?"
            params = (run_id,)
        totals = {"calls": 0.0, "prompt_tokens": 0.0, "completion_tokens": 0.0, "cost_usd": 0.0, "cached": 0.0}
        for row in self.db.fetchall(sql, params):
            event = LedgerEvent.model_validate(
                {
                    **row,
                    "id": 0,
                    "run_id": "",
                    "step": "",
                    "actor": "",
                    "kind": "",
                    "dedupe_key": "",
                    "created_at": self.clock.now(),
                }
            )
            totals["calls"] += 1
            for key in ("prompt_tokens", "completion_tokens", "cost_usd"):
                totals[key] += float(event.payload.get(key, 0) or 0)
            totals["cached"] += 1 if event.payload.get("cached") else 0
        return totals
