"""What runs leave behind: checkpoint bytes per finished and per waiting run, ledger bytes per run.

A finished run's checkpoints are deleted (the ledger keeps its story), so its checkpoint bytes
should be 0; a run waiting at its approval gate keeps exactly the state needed to resume.
Bytes are the stored size of the serialized data: SQLite ``LENGTH`` of the blobs and text,
PostgreSQL ``pg_column_size`` of the rows (after TOAST compression, i.e. what is on disk).
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any

from store.db import Database
from store.runs import FINISHED

_CHECKPOINT_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "SELECT thread_id, SUM(LENGTH(checkpoint) + LENGTH(metadata)) AS bytes FROM checkpoints GROUP BY thread_id",
        "SELECT thread_id, SUM(LENGTH(value)) AS bytes FROM writes GROUP BY thread_id",
    ),
    "postgres": (
        "SELECT thread_id, SUM(pg_column_size(c.*)) AS bytes FROM checkpoints c GROUP BY thread_id",
        "SELECT thread_id, SUM(pg_column_size(b.*)) AS bytes FROM checkpoint_blobs b GROUP BY thread_id",
        "SELECT thread_id, SUM(pg_column_size(w.*)) AS bytes FROM checkpoint_writes w GROUP BY thread_id",
    ),
}
_LEDGER_SQL: dict[str, str] = {
    "sqlite": (
        "SELECT run_id, COUNT(*) AS events, SUM(LENGTH(run_id) + LENGTH(step) + LENGTH(actor) + LENGTH(kind)"
        " + LENGTH(payload) + COALESCE(LENGTH(receipt), 0) + LENGTH(dedupe_key) + LENGTH(created_at) + 8)"
        " AS bytes FROM ledger GROUP BY run_id"
    ),
    "postgres": "SELECT run_id, COUNT(*) AS events, SUM(pg_column_size(l.*)) AS bytes FROM ledger l GROUP BY run_id",
}
# Whole relations (with indexes, and dead rows not yet vacuumed): what the disk really holds.
_PG_RELATIONS: tuple[str, ...] = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "ledger")


def _avg(values: list[float]) -> float:
    return round(mean(values), 1) if values else 0.0


def measure(db: Database) -> dict[str, Any]:
    runs = {r["id"]: r["status"] for r in db.fetchall("SELECT id, status FROM runs")}
    per_thread: dict[str, int] = defaultdict(int)
    for sql in _CHECKPOINT_SQL[db.dialect]:
        for row in db.fetchall(sql):
            per_thread[row["thread_id"]] += int(row["bytes"] or 0)
    finished = [r for r, s in runs.items() if s in FINISHED]
    waiting = [r for r, s in runs.items() if s == "waiting_approval"]
    ledger = {row["run_id"]: row for row in db.fetchall(_LEDGER_SQL[db.dialect])}
    out: dict[str, Any] = {
        "runs": len(runs),
        "finished_runs": len(finished),
        "waiting_runs": len(waiting),
        "checkpoint_bytes_per_finished_run": _avg([per_thread.get(r, 0) for r in finished]),
        "checkpoint_bytes_per_waiting_run": _avg([per_thread.get(r, 0) for r in waiting]),
        # Threads with checkpoints but no run row would be leaks; there should be none.
        "checkpoint_threads_without_run": len(set(per_thread) - set(runs)),
        "ledger_bytes_per_run": _avg([float(ledger[r]["bytes"]) for r in runs if r in ledger]),
        "ledger_events_per_run": _avg([float(ledger[r]["events"]) for r in runs if r in ledger]),
    }
    if db.dialect == "postgres":
        out["relation_bytes"] = {
            name: int(db.scalar("SELECT pg_total_relation_size(?::regclass) AS n", (name,)) or 0)
            for name in _PG_RELATIONS
        }
    return out
