"""Credit notes (voiding a sent invoice) and the claims of payment reminders.

A sent invoice is never deleted: it is *voided by a credit note*, a document of its own gapless
series (CN-0001, CN-0002 …) linked to the invoice. The note is drafted (numbered) when the
operator asks to void; approving it issues it in the same transaction as its e-mail's receipt is
recorded, which voids the invoice: the unpaid part is no longer owed (the note's amount), and
what was already paid on it is not dropped but becomes the client's credit (its payments are
applied to no invoice any more; a credit it used is released). A rejected note is cancelled;
its number stays in the series, like a rejected invoice's.

``invoice_reminders`` holds one row per invoice and reminder stage the daily tick claimed, so a
stage is drafted once across ticks, workers and restarts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from store.billing import next_number
from store.clock import Clock
from store.db import Database, Tx
from store.errors import StoreError
from store.models import Invoice, UtcDateTime, _Row, from_cents
from store.settling import may_settle

CreditNoteStatus = Literal["draft", "issued", "cancelled"]
COUNTER = "credit_note"
PREFIX = "CN-"


class CreditNote(_Row):
    id: int
    seq: int
    number: str
    invoice_id: int
    client_id: int
    currency: str
    amount_cents: int  # the unpaid part of the invoice it cancels
    credited_cents: int = 0  # what had been paid on the invoice: the client's credit once issued
    status: CreditNoteStatus
    run_id: str
    created_at: UtcDateTime
    issued_at: UtcDateTime | None = None

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)

    @property
    def credited(self) -> Decimal:
        return from_cents(self.credited_cents)


class CreditNotes:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def draft(self, tx: Tx, invoice: Invoice, run_id: str) -> CreditNote:
        """The run's credit note for ``invoice`` (numbered now); the same run never gets two."""
        existing = tx.fetchone("SELECT * FROM credit_notes WHERE run_id = ?", (run_id,))
        if existing is not None:
            return CreditNote.model_validate(existing)
        seq = next_number(tx, COUNTER)
        tx.execute(
            "INSERT INTO credit_notes (seq, number, invoice_id, client_id, currency, amount_cents, credited_cents,"
            " status, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?)",
            (
                seq,
                f"{PREFIX}{seq:04d}",
                invoice.id,
                invoice.client_id,
                invoice.currency,
                invoice.total_cents - invoice.paid_cents,
                invoice.paid_cents,
                run_id,
                self.clock.now(),
            ),
        )
        row = tx.fetchone("SELECT * FROM credit_notes WHERE run_id = ?", (run_id,))
        assert row is not None
        return CreditNote.model_validate(row)

    def get(self, number: str) -> CreditNote | None:
        row = self.db.fetchone("SELECT * FROM credit_notes WHERE upper(number) = ?", (number.upper(),))
        return None if row is None else CreditNote.model_validate(row)

    def for_invoice(self, invoice_id: int) -> list[CreditNote]:
        rows = self.db.fetchall("SELECT * FROM credit_notes WHERE invoice_id = ? ORDER BY seq", (invoice_id,))
        return [CreditNote.model_validate(r) for r in rows]

    def for_invoice_run(self, run_id: str) -> list[CreditNote]:
        """The credit note a run drafted (none or one)."""
        rows = self.db.fetchall("SELECT * FROM credit_notes WHERE run_id = ?", (run_id,))
        return [CreditNote.model_validate(r) for r in rows]

    def pending_for(self, invoice_id: int) -> CreditNote | None:
        """A note drafted for the invoice and still waiting for the operator's decision."""
        row = self.db.fetchone(
            "SELECT * FROM credit_notes WHERE invoice_id = ? AND status = 'draft' ORDER BY seq", (invoice_id,)
        )
        return None if row is None else CreditNote.model_validate(row)

    def issue(self, tx: Tx, number: str) -> CreditNote:
        """Issue the note and void its invoice (idempotent). What was paid on the invoice becomes
        the client's credit: its payments are applied to no invoice, a credit it used is released."""
        row = tx.fetchone("SELECT * FROM credit_notes WHERE number = ?", (number,))
        if row is None:
            raise StoreError(f"There is no credit note {number}.")
        note = CreditNote.model_validate(row)
        if note.status == "issued":
            return note
        lock = " FOR UPDATE" if tx.dialect == "postgres" else ""
        invoice = tx.fetchone(f"SELECT * FROM invoices WHERE id = ?{lock}", (note.invoice_id,))
        assert invoice is not None
        if invoice["status"] == "void":
            raise StoreError(f"Invoice {invoice['number']} is already void.")
        now = self.clock.now()
        paid, total = int(invoice["paid_cents"]), int(invoice["total_cents"])
        for payment in tx.fetchall("SELECT id, reference FROM payments WHERE invoice_id = ?", (note.invoice_id,)):
            was = f" ({payment['reference']})" if payment["reference"] else ""
            tx.execute(
                "UPDATE payments SET client_id = ?, invoice_id = NULL, reference = ? WHERE id = ?",
                (invoice["client_id"], f"credit from voided {invoice['number']}{was}", payment["id"]),
            )
        tx.execute(
            "UPDATE credit_applications SET status = 'released', updated_at = ? WHERE invoice_id = ?",
            (now, note.invoice_id),
        )
        may_settle()
        tx.execute("UPDATE invoices SET status = 'void', paid_cents = 0 WHERE id = ?", (note.invoice_id,))
        tx.execute(
            "UPDATE credit_notes SET status = 'issued', amount_cents = ?, credited_cents = ?, issued_at = ?"
            " WHERE id = ?",
            (total - paid, paid, now, note.id),
        )
        return note.model_copy(
            update={"status": "issued", "amount_cents": total - paid, "credited_cents": paid, "issued_at": now}
        )

    def cancel(self, tx: Tx, number: str) -> None:
        """The operator rejected the void: the draft note is cancelled (its number stays used)."""
        tx.execute("UPDATE credit_notes SET status = 'cancelled' WHERE number = ? AND status = 'draft'", (number,))

    # -- payment reminders ------------------------------------------------------------------

    def claim_reminder(self, key: str, invoice_id: int, stage: int) -> bool:
        """Claim one reminder stage of one invoice; False when it was already claimed."""
        with self.db.transaction() as tx:
            return (
                tx.execute(
                    "INSERT INTO invoice_reminders (key, invoice_id, stage, created_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    (key, invoice_id, stage, self.clock.now()),
                )
                == 1
            )

    def link_reminder(self, key: str, run_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE invoice_reminders SET run_id = ? WHERE key = ? AND run_id IS NULL", (run_id, key))

    def reminder_stages(self, invoice_id: int) -> set[int]:
        rows = self.db.fetchall("SELECT stage FROM invoice_reminders WHERE invoice_id = ?", (invoice_id,))
        return {int(r["stage"]) for r in rows}

    def invoice_email_id(self, invoice: Invoice) -> str | None:
        """The Message-ID the invoice was sent with (the reminders reply to it), if it was sent."""
        if not invoice.run_id:
            return None
        receipt = self.db.scalar(
            "SELECT receipt FROM side_effects WHERE key = ? AND status = 'done'", (f"{invoice.run_id}:send_invoice",)
        )
        if isinstance(receipt, str):
            import json

            receipt = json.loads(receipt)
        if isinstance(receipt, dict):
            found = receipt.get("message_id")
            return str(found) if found else None
        return None
