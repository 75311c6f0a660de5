"""Runs (one per intent; the LangGraph thread) and the approvals they wait on."""

from __future__ import annotations

from typing import Any

from store.clock import Clock
from store.db import Database, Tx
from store.errors import NotFound
from store.models import Approval, Decided, Run, RunStatus

# "sent_uncertain": an attempt died mid-send, so the e-mail may or may not have gone out; it is
# neither done nor failed until the operator checks (never counted as a success).
FINISHED: tuple[RunStatus, ...] = ("done", "failed", "sent_uncertain", "rejected", "cancelled")
# "paused": a spend cap stopped it before a model call; raising the cap starts it again.
SETTLED: tuple[RunStatus, ...] = (*FINISHED, "waiting_approval", "paused")


class RunStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create(
        self, tx: Tx, run_id: str, intent_id: int | None, kind: str, channel: str, thread_id: str, user_id: str
    ) -> Run:
        now = self.clock.now()
        row = tx.fetchone(
            "INSERT INTO runs (id, intent_id, kind, status, channel, thread_id, user_id, created_at, updated_at)"
            " VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?) RETURNING *",
            (run_id, intent_id, kind, channel, thread_id, user_id, now, now),
        )
        return Run.model_validate(row)

    def get(self, run_id: str) -> Run:
        row = self.db.fetchone("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise NotFound(f"There is no run {run_id}.")
        return Run.model_validate(row)

    def find(self, run_id: str) -> Run | None:
        # A prefix is a range of the primary key on SQLite; PostgreSQL's LIKE uses the
        # text_pattern_ops index of migration 14. Either way no scan of every run.
        if self.db.dialect == "sqlite":
            row = self.db.fetchone(
                "SELECT * FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 1", (run_id, run_id + "\U0010ffff")
            )
        else:
            row = self.db.fetchone("SELECT * FROM runs WHERE id LIKE ? ORDER BY id LIMIT 1", (_like_prefix(run_id),))
        return None if row is None else Run.model_validate(row)

    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        summary: str | None = None,
        error: str | None = None,
        tx: Tx | None = None,
    ) -> None:
        now = self.clock.now()
        finished = now if status in FINISHED else None
        sql = (
            "UPDATE runs SET status = ?, updated_at = ?, finished_at = ?, summary = COALESCE(?, summary),"
            " error = ? WHERE id = ?"
        )
        params = (status, now, finished, summary, error, run_id)
        if tx is not None:
            tx.execute(sql, params)
            return
        self.db.execute(sql, params)

    def paused(self) -> list[Run]:
        rows = self.db.fetchall("SELECT * FROM runs WHERE status = 'paused' ORDER BY created_at")
        return [Run.model_validate(r) for r in rows]

    def recent(self, limit: int = 20) -> list[Run]:
        rows = self.db.fetchall("SELECT * FROM runs ORDER BY created_at DESC, intent_id DESC LIMIT ?", (limit,))
        return [Run.model_validate(r) for r in rows]

    def unsettled(self, run_ids: list[str]) -> list[str]:
        if not run_ids:
            return []
        marks = ", ".join("?" for _ in run_ids)
        placeholders = ", ".join("?" for _ in SETTLED)
        rows = self.db.fetchall(
            f"SELECT id FROM runs WHERE id IN ({marks}) AND status NOT IN ({placeholders})", (*run_ids, *SETTLED)
        )
        return [r["id"] for r in rows]

    # -- playbooks ---------------------------------------------------------------------

    def start_planned(self, run_id: str, name: str, version: int) -> tuple[str, int]:
        """Mark the run running, planned with this playbook version unless it was planned before
        (a run re-planned after a crash keeps its version); the (name, version) it has."""
        row = self.db.fetchone(
            "UPDATE runs SET status = 'running', updated_at = ?, finished_at = NULL, error = NULL,"
            " playbook = COALESCE(playbook, ?), playbook_version = COALESCE(playbook_version, ?)"
            " WHERE id = ? RETURNING playbook, playbook_version",
            (self.clock.now(), name, version, run_id),
        )
        if row is None:
            raise NotFound(f"There is no run {run_id}.")
        return row["playbook"], int(row["playbook_version"])

    def set_playbook(self, run_id: str, name: str, version: int, *, tx: Tx) -> None:
        """Record the playbook version the run was planned with."""
        tx.execute("UPDATE runs SET playbook = ?, playbook_version = ? WHERE id = ?", (name, version, run_id))

    def playbook_of(self, run_id: str) -> tuple[str, int] | None:
        """(name, version) the run was planned with; None before it is planned."""
        row = self.db.fetchone("SELECT playbook, playbook_version FROM runs WHERE id = ?", (run_id,))
        if row is None or row["playbook"] is None:
            return None
        return row["playbook"], int(row["playbook_version"])

    def playbook_counts(self) -> dict[tuple[str, int], dict[str, int]]:
        """Runs per playbook version and status; runs not planned yet are under ("", 0)."""
        rows = self.db.fetchall(
            "SELECT COALESCE(playbook, '') AS playbook, COALESCE(playbook_version, 0) AS version, status,"
            " COUNT(*) AS n FROM runs GROUP BY COALESCE(playbook, ''), COALESCE(playbook_version, 0), status"
        )
        counts: dict[tuple[str, int], dict[str, int]] = {}
        for row in rows:
            counts.setdefault((row["playbook"], int(row["version"])), {})[row["status"]] = int(row["n"])
        return counts

    # -- approvals ---------------------------------------------------------------------

    def ask_approval(
        self, run_id: str, step: str, action: str, card: dict[str, Any], draft: dict[str, Any]
    ) -> tuple[Approval, bool]:
        """The run's approval for ``step``, created once; (approval, created)."""
        with self.db.transaction() as tx:
            row = tx.fetchone("SELECT * FROM approvals WHERE run_id = ? AND step = ?", (run_id, step))
            if row is not None:  # a replayed gate: look first, so no approval number is burnt
                return Approval.model_validate(row), False
            inserted = tx.execute(
                "INSERT INTO approvals (run_id, step, action, status, card, draft, asked_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (run_id, step) DO NOTHING",
                (run_id, step, action, card, draft, self.clock.now()),
            )
            row = tx.fetchone("SELECT * FROM approvals WHERE run_id = ? AND step = ?", (run_id, step))
            return Approval.model_validate(row), inserted == 1

    def approval_for(self, run_id: str, step: str) -> Approval | None:
        row = self.db.fetchone("SELECT * FROM approvals WHERE run_id = ? AND step = ?", (run_id, step))
        return None if row is None else Approval.model_validate(row)

    def approval(self, approval_id: int) -> Approval | None:
        row = self.db.fetchone("SELECT * FROM approvals WHERE id = ?", (approval_id,))
        return None if row is None else Approval.model_validate(row)

    def update_draft(self, approval_id: int, card: dict[str, Any], draft: dict[str, Any]) -> bool:
        with self.db.transaction() as tx:
            return (
                tx.execute(
                    "UPDATE approvals SET card = ?, draft = ? WHERE id = ? AND status = 'pending'",
                    (card, draft, approval_id),
                )
                == 1
            )

    def readdress(self, approval_id: int, card: dict[str, Any], draft: dict[str, Any]) -> bool:
        """Correct an *approved* draft whose send failed (a new address before a resend); the
        caller checks that nothing went out. Pending drafts change through ``update_draft``."""
        with self.db.transaction() as tx:
            return (
                tx.execute(
                    "UPDATE approvals SET card = ?, draft = ? WHERE id = ? AND status = 'approved'",
                    (card, draft, approval_id),
                )
                == 1
            )

    def decide(self, approval_id: int, decision: Decided, by: str, via: str) -> bool:
        """Record the decision; True only for the first decision (a double tap gets False).

        A run waiting at this card becomes ``resuming`` in the same transaction: set apart, the
        lost-work sweep could resume and finish the run between the two writes, and the later
        "resuming" would then overwrite "done" and leave the run stuck there."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            if (
                tx.execute(
                    "UPDATE approvals SET status = ?, decided_by = ?, decided_via = ?, decided_at = ?"
                    " WHERE id = ? AND status = 'pending'",
                    (decision, by, via, now, approval_id),
                )
                != 1
            ):
                return False
            tx.execute(
                "UPDATE runs SET status = 'resuming', updated_at = ? WHERE status = 'waiting_approval'"
                " AND id = (SELECT run_id FROM approvals WHERE id = ?)",
                (now, approval_id),
            )
            return True

    def withdraw(self, tx: Tx, approval_id: int, why: str) -> bool:
        """Take back a card nobody decided (``why``: "undo", "paid", "void"): the approval is
        withdrawn and its waiting run cancelled, so nothing resumes it and nothing is sent.
        False when it was decided (or withdrawn) already."""
        approval = tx.fetchone("SELECT run_id FROM approvals WHERE id = ?", (approval_id,))
        if approval is None:
            return False
        withdrawn = tx.execute(
            "UPDATE approvals SET status = 'withdrawn', decided_by = 'coo', decided_via = ?, decided_at = ?"
            " WHERE id = ? AND status = 'pending'",
            (why, self.clock.now(), approval_id),
        )
        if withdrawn != 1:
            return False
        self.set_status(approval["run_id"], "cancelled", summary=f"card #{approval_id} withdrawn ({why})", tx=tx)
        return True

    def decided_approvals(self, client_id: int, limit: int = 5) -> list[Approval]:
        """The client's most recent decisions (approved or rejected), newest first."""
        # Filtered by client in SQL (the expression index of migration 14): the newest decisions
        # of all clients, filtered afterwards, were usually someone else's.
        client = "json_extract(card, '$.client_id') = ?" if self.db.dialect == "sqlite" else "(card->>'client_id') = ?"
        rows = self.db.fetchall(
            f"SELECT * FROM approvals WHERE {client} AND status <> 'pending' ORDER BY decided_at DESC, id DESC LIMIT ?",
            (client_id if self.db.dialect == "sqlite" else str(client_id), limit),
        )
        return [Approval.model_validate(r) for r in rows]

    def pending_approvals(self, action: str | None = None) -> list[Approval]:
        """Cards waiting for the operator, oldest first; only those of ``action`` when given."""
        if action is None:
            rows = self.db.fetchall("SELECT * FROM approvals WHERE status = 'pending' ORDER BY id")
        else:
            rows = self.db.fetchall(
                "SELECT * FROM approvals WHERE status = 'pending' AND action = ? ORDER BY id", (action,)
            )
        return [Approval.model_validate(r) for r in rows]


def _like_prefix(text: str) -> str:
    """A LIKE pattern for ids starting with ``text`` (its own % and _ taken literally)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
