"""A client's credit (money paid that no invoice took: an over-payment's excess, a payment ahead
of any invoice) and its use on the client's next invoice.

A credit is the client's unapplied payments minus what invoices took of them. A draft invoice
*holds* as much of the credit in its own currency as it can use (up to its total); the hold
becomes an *application* when the invoice is sent (its ``paid_cents`` grows by it, in the same
transaction as the send is recorded) and is *released* when the draft is voided (rejected).
A credit is never used across currencies. One row per invoice, in ``credit_applications``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from store.clock import Clock
from store.db import Database, Tx
from store.models import UtcDateTime, _Row, format_money, from_cents
from store.settling import may_settle

CreditStatus = Literal["held", "applied", "released"]
# What a client's credit is reduced by: holds on drafts and applications on sent invoices.
TAKEN = ("held", "applied")


class CreditUse(_Row):
    """The part of a client's credit one invoice holds (a draft) or took (sent)."""

    id: int
    client_id: int
    invoice_id: int
    currency: str
    amount_cents: int
    source: str  # "overpayment on INV-0003"
    status: CreditStatus
    run_id: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)

    def line(self) -> str:
        """The card's line: "Credit applied: −$60.00 (overpayment on INV-0003)"."""
        return f"Credit applied: −{format_money(self.amount, self.currency)} ({self.source})"


def _source(reference: str | None, received_on: date | str) -> str:
    if reference and reference.startswith("over-payment of "):
        return "overpayment on " + reference.removeprefix("over-payment of ")
    return f"payment received {received_on}"


def _available_cents(tx: Tx, client_id: int, currency: str, except_invoice: int | None) -> tuple[int, int]:
    """(the client's unapplied payments in ``currency``, what other invoices hold or took of them)."""
    paid = tx.scalar(
        "SELECT COALESCE(SUM(amount_cents), 0) AS n FROM payments"
        " WHERE invoice_id IS NULL AND client_id = ? AND currency = ?",
        (client_id, currency),
    )
    taken = tx.scalar(
        "SELECT COALESCE(SUM(amount_cents), 0) AS n FROM credit_applications WHERE client_id = ? AND currency = ?"
        " AND status IN ('held', 'applied') AND invoice_id <> ?",
        (client_id, currency, except_invoice if except_invoice is not None else -1),
    )
    return int(paid or 0), int(taken or 0)


def _sources(tx: Tx, client_id: int, currency: str, skip: int, take: int) -> str:
    """Which payments the credit being used came from, oldest first (earlier uses took the oldest)."""
    names: list[str] = []
    for row in tx.fetchall(
        "SELECT amount_cents, reference, received_on FROM payments"
        " WHERE invoice_id IS NULL AND client_id = ? AND currency = ? ORDER BY received_on, id",
        (client_id, currency),
    ):
        amount = int(row["amount_cents"])
        if skip >= amount:
            skip -= amount
            continue
        usable = amount - skip
        skip = 0
        name = _source(row["reference"], row["received_on"])
        if name not in names:
            names.append(name)
        take -= usable
        if take <= 0:
            break
    return "; ".join(names) or "credit on account"


def hold(
    tx: Tx, client_id: int, invoice_id: int, currency: str, total_cents: int, run_id: str | None, now: datetime
) -> CreditUse | None:
    """Hold as much of the client's ``currency`` credit as the draft invoice can use (up to its
    total), replacing an earlier hold of the same invoice (after an edit). None: no credit."""
    paid, taken = _available_cents(tx, client_id, currency, invoice_id)
    amount = max(min(paid - taken, total_cents), 0)
    existing = tx.fetchone("SELECT * FROM credit_applications WHERE invoice_id = ?", (invoice_id,))
    if existing is not None and existing["status"] == "released":
        return None  # the operator kept the credit for later (or the draft was voided)
    if existing is not None and existing["status"] != "held":
        return CreditUse.model_validate(existing)
    if amount <= 0:
        tx.execute("DELETE FROM credit_applications WHERE invoice_id = ? AND status = 'held'", (invoice_id,))
        return None
    source = _sources(tx, client_id, currency, taken, amount)
    if existing is None:
        tx.execute(
            "INSERT INTO credit_applications (client_id, invoice_id, currency, amount_cents, source, status, run_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'held', ?, ?, ?)",
            (client_id, invoice_id, currency, amount, source, run_id, now, now),
        )
    else:
        tx.execute(
            "UPDATE credit_applications SET amount_cents = ?, source = ?, updated_at = ? WHERE id = ?",
            (amount, source, now, existing["id"]),
        )
    row = tx.fetchone("SELECT * FROM credit_applications WHERE invoice_id = ?", (invoice_id,))
    assert row is not None
    return CreditUse.model_validate(row)


def apply_held(tx: Tx, invoice_id: int, now: datetime) -> CreditUse | None:
    """The invoice left the drafts: its held credit is applied (paid_cents grows by it)."""
    row = tx.fetchone("SELECT * FROM credit_applications WHERE invoice_id = ? AND status = 'held'", (invoice_id,))
    if row is None:
        return None
    use = CreditUse.model_validate(row)
    tx.execute("UPDATE credit_applications SET status = 'applied', updated_at = ? WHERE id = ?", (now, use.id))
    invoice = tx.fetchone("SELECT total_cents, paid_cents FROM invoices WHERE id = ?", (invoice_id,))
    assert invoice is not None
    paid = int(invoice["paid_cents"]) + use.amount_cents
    status = "paid" if paid >= int(invoice["total_cents"]) else "partially_paid"
    may_settle()
    tx.execute("UPDATE invoices SET paid_cents = ?, status = ? WHERE id = ?", (paid, status, invoice_id))
    return use.model_copy(update={"status": "applied"})


def release_held(tx: Tx, invoice_id: int, now: datetime) -> CreditUse | None:
    """The draft was voided: the credit it held is the client's again."""
    row = tx.fetchone("SELECT * FROM credit_applications WHERE invoice_id = ? AND status = 'held'", (invoice_id,))
    if row is None:
        return None
    tx.execute("UPDATE credit_applications SET status = 'released', updated_at = ? WHERE id = ?", (now, row["id"]))
    return CreditUse.model_validate({**row, "status": "released"})


def keep_for_later(tx: Tx, invoice_id: int, now: datetime) -> CreditUse | None:
    """The operator does not want the draft to use the credit: it is released, and stays so
    through later edits of the draft (``hold`` again with ``use_again`` first to undo)."""
    return release_held(tx, invoice_id, now)


def use_again(tx: Tx, invoice_id: int) -> None:
    """Undo ``keep_for_later`` on a draft: the next ``hold`` holds the credit again."""
    tx.execute("DELETE FROM credit_applications WHERE invoice_id = ? AND status = 'released'", (invoice_id,))


class CreditStore:
    """Reads of clients' credits and of the credit each invoice uses."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def balances(self, client_id: int | None = None) -> list[tuple[int, str, Decimal]]:
        """What each client has left to use, per currency: (client id, currency, amount); holds on
        drafts waiting for approval are not left to use."""
        sql = (
            "SELECT p.client_id, p.currency, p.cents - COALESCE(("
            " SELECT SUM(c.amount_cents) FROM credit_applications c WHERE c.client_id = p.client_id"
            " AND c.currency = p.currency AND c.status IN ('held', 'applied')), 0) AS cents"
            " FROM (SELECT client_id, currency, SUM(amount_cents) AS cents FROM payments"
            " WHERE invoice_id IS NULL AND client_id IS NOT NULL{where} GROUP BY client_id, currency) p"
            " ORDER BY p.client_id, p.currency"
        )
        params: tuple[int, ...] = ()
        where = ""
        if client_id is not None:
            where, params = " AND client_id = ?", (client_id,)
        rows = self.db.fetchall(sql.format(where=where), params)
        return [(int(r["client_id"]), str(r["currency"]), from_cents(int(r["cents"]))) for r in rows if r["cents"]]

    def for_invoice(self, invoice_id: int) -> CreditUse | None:
        row = self.db.fetchone("SELECT * FROM credit_applications WHERE invoice_id = ?", (invoice_id,))
        return None if row is None else CreditUse.model_validate(row)
