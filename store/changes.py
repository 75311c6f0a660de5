"""Operator changes and their undoing, kept in the ledger.

A *change* is a ledger event (kind ``change``) an operator's request wrote when it changed a
record: what it was (``what``), the row (``table``, ``row_id``), the row's fields ``before`` and
``after``, and a one-line ``summary``. That is enough to reverse it. Undoing never deletes a
ledger row: it writes a compensating ``change_undone`` event whose step names the event it
undoes (``undo <ledger id>``), and puts the row back as it was. Sent e-mails (``side_effect``)
the operator approved and retainer changes (``retainer_ended`` …) are in the same history: the
latter are reversed the same way, the former cannot be (the mail has left the machine) and are
only acknowledged.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from store.clock import Clock
from store.db import Database, Tx
from store.ledger import Ledger
from store.models import LedgerEvent
from store.settling import may_settle

CHANGE = "change"
UNDONE = "change_undone"
RETAINER_KINDS = ("retainer_ended", "retainer_paused", "retainer_resumed")
# What "undo" may reach: operator changes, sent e-mails, and retainer ends/pauses/resumes.
UNDOABLE = (CHANGE, "side_effect", *RETAINER_KINDS)
# Columns a change may put back, per table (never ids, never anything else).
COLUMNS: dict[str, frozenset[str]] = {
    "clients": frozenset(
        {"name", "name_key", "contact_name", "contact_email", "billing_day", "revision_limit", "currency"}
    ),
    "deliverables": frozenset({"title", "due_date", "status", "done_at"}),
    "tasks": frozenset({"title", "due_date", "status", "done_at"}),
    "retainers": frozenset(
        {"monthly_cents", "billing_day", "revision_rounds", "status", "ends_on", "paused_from", "paused_until"}
    ),
    "invoices": frozenset({"paid_cents", "status"}),
}
_DATES = frozenset({"due_date", "ends_on", "paused_from", "paused_until"})
_MOMENTS = frozenset({"done_at"})
# Tables whose rows keep a client in the books: a client they refer to is never deleted.
_REFERENCES = (
    ("invoices", "invoice"),
    ("payments", "payment"),
    ("retainers", "retainer"),
    ("deliverables", "deliverable"),
    ("tasks", "task"),
    ("artifacts", "document"),
    ("revisions", "revision"),
)


def _typed(column: str, value: Any) -> Any:
    """A JSON value from a change back into what the column holds."""
    if value is None or not isinstance(value, str):
        return value
    if column in _DATES:
        return date.fromisoformat(value[:10])
    if column in _MOMENTS:
        return datetime.fromisoformat(value)
    return value


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


class ChangeLog:
    def __init__(self, db: Database, clock: Clock, ledger: Ledger) -> None:
        self.db = db
        self.clock = clock
        self.ledger = ledger

    def record(
        self,
        tx: Tx,
        run_id: str,
        step: str,
        what: str,
        summary: str,
        *,
        table: str,
        row_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Write one operator change with the row's fields before and after it."""
        payload = {
            "what": what,
            "summary": summary,
            "table": table,
            "row_id": row_id,
            "before": None if before is None else {k: _json(v) for k, v in before.items()},
            "after": None if after is None else {k: _json(v) for k, v in after.items()},
            **(extra or {}),
        }
        self.ledger.append(run_id, step, CHANGE, payload, actor="operator", tx=tx)

    def last(self) -> LedgerEvent | None:
        """The newest change not undone yet (e-mails that were not actually sent are skipped)."""
        marks = ", ".join("?" for _ in UNDOABLE)
        rows = self.db.fetchall(
            f"SELECT * FROM ledger l WHERE l.kind IN ({marks}) AND NOT EXISTS (SELECT 1 FROM ledger u"
            f" WHERE u.kind = '{UNDONE}' AND u.step = 'undo ' || l.id) ORDER BY l.id DESC LIMIT 20",
            UNDOABLE,
        )
        for row in rows:
            event = LedgerEvent.model_validate(row)
            if event.kind == "side_effect" and not self._operator_sent(event):
                continue
            return event
        return None

    def _operator_sent(self, event: LedgerEvent) -> bool:
        """An e-mail that went out because the operator approved it (not coo's own autonomy)."""
        if not (isinstance(event.receipt, dict) and event.receipt.get("sent")):
            return False
        by = self.db.scalar(
            "SELECT decided_by AS who FROM approvals WHERE run_id = ? AND step = ? ORDER BY id DESC",
            (event.run_id, event.step),
        )
        return bool(by) and not str(by).startswith("coo")

    def mark_undone(self, tx: Tx, run_id: str, event: LedgerEvent, summary: str, *, reverted: bool) -> bool:
        """The compensating event; False when that change was undone already (a replay)."""
        return self.ledger.append(
            run_id,
            f"undo {event.id}",
            UNDONE,
            {"undoes": event.id, "kind": event.kind, "summary": summary, "reverted": reverted},
            actor="operator",
            tx=tx,
        )

    def restore(self, tx: Tx, table: str, row_id: int, values: dict[str, Any]) -> None:
        """Put the fields of one row back as they were."""
        allowed = COLUMNS[table]
        fields = {k: _typed(k, v) for k, v in values.items() if k in allowed}
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        if table == "invoices":
            may_settle()
        tx.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*fields.values(), row_id))

    # -- clients: deleted only while nothing refers to them ---------------------------------

    def client_references(self, tx: Tx, client_id: int) -> dict[str, int]:
        """How many rows of each kind refer to the client (only kinds with any)."""
        found = {}
        for table, label in _REFERENCES:
            n = int(tx.scalar(f"SELECT COUNT(*) AS n FROM {table} WHERE client_id = ?", (client_id,)) or 0)
            if n:
                found[label] = n
        return found

    def delete_client(self, tx: Tx, client_id: int) -> dict[str, Any]:
        """Delete a client nothing refers to, with its facts; returns the rows, to restore them."""
        client = tx.fetchone("SELECT * FROM clients WHERE id = ?", (client_id,))
        assert client is not None
        facts = tx.fetchall("SELECT * FROM client_facts WHERE client_id = ? ORDER BY id", (client_id,))
        tx.execute("DELETE FROM client_facts WHERE client_id = ?", (client_id,))
        tx.execute("DELETE FROM clients WHERE id = ?", (client_id,))
        return {
            "client": {k: _json(v) for k, v in dict(client).items()},
            "facts": [{k: _json(v) for k, v in dict(f).items()} for f in facts],
        }

    def restore_client(self, tx: Tx, rows: dict[str, Any]) -> None:
        """Insert a deleted client (same id) and its facts again."""
        for table, row in [("clients", rows["client"]), *(("client_facts", f) for f in rows["facts"])]:
            values = {
                k: (datetime.fromisoformat(v) if k.endswith("_at") and isinstance(v, str) else v)
                for k, v in row.items()
            }
            cols = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            tx.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))
