"""Retainers, deliverables and tasks: the work a client is owed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from store.clock import Clock
from store.db import Database, Tx
from store.models import Deliverable, Retainer, Task, cents


class WorkStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def add_retainer(
        self,
        tx: Tx,
        client_id: int,
        monthly_amount: Decimal,
        currency: str,
        revision_rounds: int | None,
        billing_day: int | None,
        scope: str | None,
        start_date: date | None,
        run_id: str,
    ) -> Retainer:
        existing = tx.fetchone("SELECT * FROM retainers WHERE run_id = ? AND client_id = ?", (run_id, client_id))
        if existing:  # a replayed step must not create a second retainer
            return Retainer.model_validate(existing)
        tx.execute("UPDATE retainers SET status = 'replaced' WHERE client_id = ? AND status = 'active'", (client_id,))
        tx.execute(
            "INSERT INTO retainers (client_id, monthly_cents, currency, revision_rounds, billing_day, scope,"
            " start_date, status, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
            (
                client_id,
                cents(monthly_amount),
                currency,
                revision_rounds,
                billing_day,
                scope,
                start_date,
                run_id,
                self.clock.now(),
            ),
        )
        row = tx.fetchone("SELECT * FROM retainers WHERE run_id = ? AND client_id = ?", (run_id, client_id))
        assert row is not None
        return Retainer.model_validate(row)

    def update_retainer(
        self,
        tx: Tx,
        retainer_id: int,
        *,
        billing_day: int | None = None,
        monthly_amount: Decimal | None = None,
        revision_rounds: int | None = None,
    ) -> None:
        """Change the terms given (None leaves a term as it is)."""
        tx.execute(
            "UPDATE retainers SET billing_day = COALESCE(?, billing_day), monthly_cents = COALESCE(?, monthly_cents),"
            " revision_rounds = COALESCE(?, revision_rounds) WHERE id = ?",
            (billing_day, cents(monthly_amount) if monthly_amount is not None else None, revision_rounds, retainer_id),
        )

    def active_retainer(self, client_id: int) -> Retainer | None:
        row = self.db.fetchone(
            "SELECT * FROM retainers WHERE client_id = ? AND status = 'active' ORDER BY id DESC", (client_id,)
        )
        return None if row is None else Retainer.model_validate(row)

    def add_deliverable(self, tx: Tx, client_id: int, title: str, due_date: date | None, run_id: str) -> Deliverable:
        row = tx.fetchone("SELECT * FROM deliverables WHERE run_id = ?", (run_id,))
        if row is None:
            retainer = tx.fetchone(
                "SELECT id FROM retainers WHERE client_id = ? AND status = 'active' ORDER BY id DESC", (client_id,)
            )
            tx.execute(
                "INSERT INTO deliverables (client_id, retainer_id, title, due_date, status, run_id, created_at)"
                " VALUES (?, ?, ?, ?, 'open', ?, ?)",
                (client_id, retainer["id"] if retainer else None, title, due_date, run_id, self.clock.now()),
            )
            row = tx.fetchone("SELECT * FROM deliverables WHERE run_id = ?", (run_id,))
        return Deliverable.model_validate(row)

    def set_deliverable_due(self, tx: Tx, deliverable_id: int, due_date: date | None) -> None:
        tx.execute("UPDATE deliverables SET due_date = ? WHERE id = ?", (due_date, deliverable_id))

    def add_task(self, tx: Tx, title: str, client_id: int | None, due_date: date | None, run_id: str) -> Task:
        row = tx.fetchone("SELECT * FROM tasks WHERE run_id = ?", (run_id,))
        if row is None:
            tx.execute(
                "INSERT INTO tasks (client_id, title, due_date, status, run_id, created_at) VALUES (?, ?, ?, 'open', ?, ?)",
                (client_id, title, due_date, run_id, self.clock.now()),
            )
            row = tx.fetchone("SELECT * FROM tasks WHERE run_id = ?", (run_id,))
        return Task.model_validate(row)

    def open_deliverables(self, client_id: int | None = None) -> list[Deliverable]:
        sql = "SELECT * FROM deliverables WHERE status = 'open'"
        params: tuple = ()
        if client_id is not None:
            sql += " AND client_id = ?"
            params = (client_id,)
        rows = self.db.fetchall(sql + " ORDER BY due_date IS NULL, due_date, id", params)
        return [Deliverable.model_validate(r) for r in rows]

    def open_tasks(self) -> list[Task]:
        rows = self.db.fetchall("SELECT * FROM tasks WHERE status = 'open' ORDER BY due_date IS NULL, due_date, id")
        return [Task.model_validate(r) for r in rows]

    # -- recurring work: billing, weekly reports, deadlines --------------------------------

    def withdraw_retainer(self, tx: Tx, run_id: str) -> tuple[Retainer | None, Retainer | None]:
        """The retainer this run recorded is not going ahead (its proposal was rejected): it is
        cancelled, and the one it replaced, if any, is active again. (withdrawn, restored)."""
        row = tx.fetchone("SELECT * FROM retainers WHERE run_id = ? AND status = 'active'", (run_id,))
        if row is None:
            return None, None
        withdrawn = Retainer.model_validate(row)
        tx.execute("UPDATE retainers SET status = 'cancelled' WHERE id = ?", (withdrawn.id,))
        previous = tx.fetchone(
            "SELECT * FROM retainers WHERE client_id = ? AND status = 'replaced' AND id < ? ORDER BY id DESC",
            (withdrawn.client_id, withdrawn.id),
        )
        if previous is None:
            return withdrawn, None
        tx.execute("UPDATE retainers SET status = 'active' WHERE id = ?", (previous["id"],))
        return withdrawn, Retainer.model_validate({**previous, "status": "active"})

    def end_retainer(self, tx: Tx, retainer_id: int, ends_on: date, today: date) -> Retainer:
        """Nothing is billed on or after ``ends_on``; ending today (or earlier) ends it now."""
        status = "ended" if ends_on <= today else "active"
        tx.execute("UPDATE retainers SET ends_on = ?, status = ? WHERE id = ?", (ends_on, status, retainer_id))
        return self._locked(tx, retainer_id)

    def pause_retainer(self, tx: Tx, retainer_id: int, paused_from: date, paused_until: date | None) -> Retainer:
        """Nothing is billed from ``paused_from`` until ``paused_until`` (None: until resumed)."""
        tx.execute(
            "UPDATE retainers SET paused_from = ?, paused_until = ? WHERE id = ?",
            (paused_from, paused_until, retainer_id),
        )
        return self._locked(tx, retainer_id)

    def resume_retainer(self, tx: Tx, retainer_id: int, today: date) -> Retainer:
        """End a pause today (a pause that has not begun is dropped)."""
        tx.execute(
            "UPDATE retainers SET paused_until = ? WHERE id = ? AND paused_from < ?", (today, retainer_id, today)
        )
        tx.execute(
            "UPDATE retainers SET paused_from = NULL, paused_until = NULL WHERE id = ?"
            " AND (paused_from >= ? OR paused_until <= paused_from)",
            (retainer_id, today),
        )
        return self._locked(tx, retainer_id)

    def _locked(self, tx: Tx, retainer_id: int) -> Retainer:
        row = tx.fetchone("SELECT * FROM retainers WHERE id = ?", (retainer_id,))
        assert row is not None, f"retainer {retainer_id} vanished"
        return Retainer.model_validate(row)

    def latest_retainer(self, client_id: int) -> Retainer | None:
        """The client's current retainer (active, else the last one that ended): what a profile shows."""
        row = self.db.fetchone(
            "SELECT * FROM retainers WHERE client_id = ? AND status IN ('active', 'ended')"
            " ORDER BY status = 'active' DESC, id DESC",
            (client_id,),
        )
        return None if row is None else Retainer.model_validate(row)

    def active_retainers(self) -> list[Retainer]:
        rows = self.db.fetchall("SELECT * FROM retainers WHERE status = 'active' ORDER BY id")
        return [Retainer.model_validate(r) for r in rows]

    def retainer(self, retainer_id: int) -> Retainer | None:
        row = self.db.fetchone("SELECT * FROM retainers WHERE id = ?", (retainer_id,))
        return None if row is None else Retainer.model_validate(row)

    def deliverable(self, deliverable_id: int) -> Deliverable | None:
        row = self.db.fetchone("SELECT * FROM deliverables WHERE id = ?", (deliverable_id,))
        return None if row is None else Deliverable.model_validate(row)

    def deliverables_for_client(self, client_id: int) -> list[Deliverable]:
        """Every deliverable of the client, open and done, by due date."""
        rows = self.db.fetchall(
            "SELECT * FROM deliverables WHERE client_id = ? AND status <> 'deleted'"
            " ORDER BY due_date IS NULL, due_date, id",
            (client_id,),
        )
        return [Deliverable.model_validate(r) for r in rows]

    def mark_done(self, tx: Tx, deliverable_id: int, at: datetime | None = None) -> bool:
        """Mark an open deliverable delivered (now, or ``at`` when it was said); False when it
        was already done."""
        return (
            tx.execute(
                "UPDATE deliverables SET status = 'done', done_at = ? WHERE id = ? AND status = 'open'",
                (at or self.clock.now(), deliverable_id),
            )
            == 1
        )

    # -- changed by the operator (graphs/steps_changes.py); each change is in the ledger ------

    def task(self, task_id: int) -> Task | None:
        row = self.db.fetchone("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return None if row is None else Task.model_validate(row)

    def live_items(self, table: str) -> list[Deliverable | Task]:
        """Every deliverable or task that was not deleted, open ones first."""
        model = Deliverable if table == "deliverables" else Task
        rows = self.db.fetchall(f"SELECT * FROM {table} WHERE status <> 'deleted' ORDER BY status = 'open' DESC, id")
        return [model.model_validate(r) for r in rows]

    def set_due(self, tx: Tx, table: str, item_id: int, due: date | None) -> None:
        assert table in ("deliverables", "tasks")
        tx.execute(f"UPDATE {table} SET due_date = ? WHERE id = ?", (due, item_id))

    def mark_task_done(self, tx: Tx, task_id: int) -> bool:
        """Mark an open task done now; False when it was not open."""
        sql = "UPDATE tasks SET status = 'done', done_at = ? WHERE id = ? AND status = 'open'"
        return tx.execute(sql, (self.clock.now(), task_id)) == 1

    def delete_item(self, tx: Tx, table: str, item_id: int) -> bool:
        """A deliverable or task entered by mistake: marked deleted (kept, so undo can restore it)."""
        assert table in ("deliverables", "tasks")
        sql = f"UPDATE {table} SET status = 'deleted' WHERE id = ? AND status <> 'deleted'"
        return tx.execute(sql, (item_id,)) == 1
