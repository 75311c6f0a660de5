"""Undoing what the operator created by chatting: an invoice, a proposal, a task, a deliverable,
and the payments a CSV import booked.

Each creation is a ``change`` event (``what``: ``invoice_created`` …) written in the transaction
that created the row. Undoing it never deletes a ledger row and never reuses a number:

- an invoice still waiting for approval is voided (its number stays in the sequence) and its card
  withdrawn; one that was sent has left the machine, so undo offers a void with a credit note,
  through approval (``Reversal.void``);
- a proposal still waiting is withdrawn with its card (and a retainer recorded with it is
  cancelled, as a rejection would); a sent one is only acknowledged;
- a task or deliverable is marked deleted (as "delete the task …" does);
- a CSV import's payments are removed and their invoices put back as they were.

Money that became the client's credit (an over-payment's excess) can only be taken back while
no invoice has used or holds it: otherwise undo says which invoice did and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphs.deps import Deps
from store.db import Tx
from store.models import Approval, LedgerEvent, format_money, from_cents

INVOICE_CREATED = "invoice_created"
CREATED_KINDS = frozenset(f"{what}_created" for what in ("invoice", "proposal", "task", "deliverable"))
PAYMENTS_IMPORTED = "payments_imported"


class CannotUndo(Exception):
    """The change cannot be reversed now; the message says why, for the operator."""


@dataclass
class Reversal:
    """What undoing one creation did: ``note`` for the operator; ``reverted`` False when nothing
    was put back (it was sent, or undone another way already); ``void``: the number of a sent
    invoice to offer a void for."""

    note: str
    reverted: bool = True
    void: str | None = None


def record_created(
    deps: Deps, tx: Tx, run_id: str, what: str, summary: str, table: str, row_id: int, **extra: Any
) -> None:
    """Write the creation of one row as an undoable change (once per run and kind). Only the
    operator's own requests: what the scheduler or coo itself made ("coo-…" users: a retainer's
    monthly invoice) is not "your last change"."""
    asked = tx.fetchone("SELECT user_id FROM intents WHERE run_id = ?", (run_id,))
    if asked is not None and str(asked["user_id"]).startswith("coo"):
        return
    deps.store.changes.record(
        tx,
        run_id,
        f"{what}_created",
        f"{what}_created",
        f"created {summary}",
        table=table,
        row_id=row_id,
        before=None,
        after=None,
        extra=extra,
    )


def undo_created(deps: Deps, tx: Tx, event: LedgerEvent) -> Reversal:
    """Reverse one ``*_created`` change."""
    what = event.payload["what"]
    if what == INVOICE_CREATED:
        return _undo_invoice(deps, tx, event)
    if what == "proposal_created":
        return _undo_proposal(deps, tx, event)
    return _undo_item(deps, tx, event)


def _undo_invoice(deps: Deps, tx: Tx, event: LedgerEvent) -> Reversal:
    invoice = deps.store.billing.locked(tx, event.payload["row_id"])
    if invoice.status == "void":
        return Reversal(f"{invoice.number} is void already; nothing else to undo.", reverted=False)
    if invoice.status != "draft":
        return Reversal("", reverted=False, void=invoice.number)
    approval = _approval(tx, invoice.run_id or event.run_id, "send_invoice")
    if approval is not None and approval.status == "approved":
        raise CannotUndo(f"{invoice.number} was approved and is being sent; void it once it has gone out")
    withdrawn = approval is not None and deps.store.runs.withdraw(tx, approval.id, "undo")
    credit = tx.fetchone(
        "SELECT amount_cents, currency, status FROM credit_applications WHERE invoice_id = ?", (invoice.id,)
    )
    deps.store.billing.set_status(tx, invoice.id, "void")  # gives back the credit it held
    note = (
        f"{invoice.number} was never sent: it is void now, off the books, and its number stays in the"
        " sequence (the next invoice gets a new one)."
    )
    if withdrawn and approval is not None:
        note += f" Its approval card #{approval.id} is withdrawn."
    if credit is not None and credit["status"] == "held":
        amount = format_money(from_cents(int(credit["amount_cents"])), credit["currency"])
        note += f" The {amount} credit it would have used is available again."
    return Reversal(note)


def _approval(tx: Tx, run_id: str, step: str) -> Approval | None:
    row = tx.fetchone("SELECT * FROM approvals WHERE run_id = ? AND step = ?", (run_id, step))
    return None if row is None else Approval.model_validate(row)


def _undo_proposal(deps: Deps, tx: Tx, event: LedgerEvent) -> Reversal:
    number = event.payload.get("number")
    approval = _approval(tx, event.run_id, "send_proposal")
    if approval is None or approval.status in ("rejected", "withdrawn"):
        return Reversal(f"Proposal #{number} was not sent (it was {approval.status if approval else 'never asked'}).")
    if approval.status == "approved":
        return Reversal(
            f"Proposal #{number} was sent once you approved it; it has left the machine and can't be taken back.",
            reverted=False,
        )
    deps.store.runs.withdraw(tx, approval.id, "undo")
    note = f"Proposal #{number} was not sent; its approval card #{approval.id} is withdrawn."
    retainer, restored = deps.store.work.withdraw_retainer(tx, event.run_id)
    if retainer is not None:
        note += " The retainer recorded with it is cancelled"
        note += (
            f"; the earlier one ({format_money(restored.monthly_amount, restored.currency)}/month) applies again."
            if restored is not None
            else ": it will not be billed."
        )
    return Reversal(note)


def _undo_item(deps: Deps, tx: Tx, event: LedgerEvent) -> Reversal:
    table = event.payload["table"]
    label = "task" if table == "tasks" else "deliverable"
    row = tx.fetchone(f"SELECT title, status FROM {table} WHERE id = ?", (event.payload["row_id"],))
    if row is None or row["status"] == "deleted":
        return Reversal(f"The {label} was deleted already.", reverted=False)
    deps.store.work.delete_item(tx, table, event.payload["row_id"])
    return Reversal(f"The {label} “{row['title']}” is off your list.")


# -- payments -------------------------------------------------------------------------------------


def check_credit_unused(tx: Tx, payment_runs: list[str]) -> None:
    """Taking back payments whose excess became the client's credit: refused (``CannotUndo``)
    when the credit left after it would not cover what invoices hold or took of it."""
    marks = ", ".join("?" for _ in payment_runs)
    excess = tx.fetchall(
        f"SELECT client_id, currency, SUM(amount_cents) AS cents FROM payments WHERE invoice_id IS NULL"
        f" AND run_id IN ({marks}) GROUP BY client_id, currency",
        tuple(payment_runs),
    )
    for row in excess:
        client_id, currency, cents = row["client_id"], row["currency"], int(row["cents"] or 0)
        unapplied = int(
            tx.scalar(
                "SELECT COALESCE(SUM(amount_cents), 0) AS n FROM payments"
                " WHERE invoice_id IS NULL AND client_id = ? AND currency = ?",
                (client_id, currency),
            )
            or 0
        )
        users = tx.fetchall(
            "SELECT i.number, c.amount_cents, c.status FROM credit_applications c JOIN invoices i ON i.id = c.invoice_id"
            " WHERE c.client_id = ? AND c.currency = ? AND c.status IN ('held', 'applied') ORDER BY c.id",
            (client_id, currency),
        )
        taken = sum(int(u["amount_cents"]) for u in users)
        if unapplied - cents < taken:
            used = ", ".join(
                f"{u['number']} ({'holds' if u['status'] == 'held' else 'used'}"
                f" {format_money(from_cents(int(u['amount_cents'])), currency)})"
                for u in users
            )
            raise CannotUndo(
                f"the {format_money(from_cents(cents), currency)} credit it made was already used: {used}."
                " Void or edit that invoice first"
            )


def undo_import(deps: Deps, tx: Tx, event: LedgerEvent) -> str:
    """Take back the payments one CSV import booked; their invoices are as they were before."""
    p = event.payload
    runs = list(p["payment_runs"])
    check_credit_unused(tx, runs)
    marks = ", ".join("?" for _ in runs)
    tx.execute(f"DELETE FROM payments WHERE run_id IN ({marks})", tuple(runs))
    for invoice in p["invoices"]:
        deps.store.changes.restore(tx, "invoices", invoice["id"], invoice["before"])
    # The rows may be imported again (the same file, once corrected).
    fingerprints = list(p.get("fingerprints", []))
    if fingerprints:
        marks = ", ".join("?" for _ in fingerprints)
        tx.execute(f"DELETE FROM payment_imports WHERE fingerprint IN ({marks})", tuple(fingerprints))
    numbers = ", ".join(i["number"] for i in p["invoices"])
    return (
        f"{len(runs)} payment{'s' if len(runs) != 1 else ''} taken back; {numbers} are as they were before the import."
    )
