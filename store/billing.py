"""Invoices (gapless numbering), their lines, and payments."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from store import credits
from store.clock import Clock
from store.db import Database, Tx
from store.errors import StoreError
from store.invoice_numbers import DEFAULT_FORMAT, DEFAULT_SERIES, NumberFormat
from store.models import Invoice, InvoiceLine, InvoiceStatus, Payment, UtcDateTime, cents, from_cents
from store.money import CurrencyMismatch, Money, Totals
from store.settling import may_settle
from store.tax import TaxSummary, TaxTreatment, summarize

OPEN_STATUSES: tuple[InvoiceStatus, ...] = ("sent", "issued", "partially_paid")


class PaymentImport(BaseModel):
    """One row of a bank/provider export the reconciler has seen (table payment_imports)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    fingerprint: str
    file_hash: str
    filename: str
    line: int
    outcome: str  # "matched" (payment recorded) or "asked" (put to the operator)
    invoice_numbers: str | None = None
    amount_cents: int
    currency: str
    received_on: date
    run_id: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class NewLine(BaseModel):
    description: str
    quantity: Decimal
    unit: str | None = None
    unit_price: Decimal
    tax_rate: Decimal | None = None  # percent; None: no tax on this line


def _summary(lines: list[NewLine], currency: str, treatment: TaxTreatment) -> TaxSummary:
    """Net, tax per rate and gross of the lines: each line rounded to the cent, tax once per rate."""
    return summarize(
        ((Money.from_cents(cents(line.quantity * line.unit_price), currency), line.tax_rate) for line in lines),
        currency,
        treatment,
    )


def next_number(tx: Tx, counter: str) -> int:
    """Next value of a gapless counter. The row lock is held until the transaction ends, so
    two concurrent invoices never share or skip a number; a rolled-back one gives it back."""
    value = tx.scalar("UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", (counter,))
    if value is None:
        tx.execute("INSERT INTO counters (name, value) VALUES (?, 1)", (counter,))
        value = 1
    return int(value)


def _insert_lines(tx: Tx, invoice_id: int, lines: list[NewLine]) -> int:
    """Write an invoice's lines in order (each line's total is its net amount); returns their net sum
    in cents."""
    total = 0
    for position, line in enumerate(lines, start=1):
        line_total = cents(line.quantity * line.unit_price)
        total += line_total
        tx.execute(
            "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit, unit_price_cents,"
            " total_cents, tax_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                invoice_id,
                position,
                line.description,
                str(line.quantity.normalize()),
                line.unit,
                cents(line.unit_price),
                line_total,
                None if line.tax_rate is None else f"{line.tax_rate.normalize():f}",
            ),
        )
    return total


class BillingStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _with_lines(self, tx: Tx, row: dict) -> Invoice:
        return self._all_with_lines(tx, [row])[0]

    def _all_with_lines(self, tx: Tx, rows: list[dict]) -> list[Invoice]:
        """The invoices with their lines, read in one query per 500 invoices (never one each)."""
        lines: dict[int, list[InvoiceLine]] = {}
        ids = [int(r["id"]) for r in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for line in tx.fetchall(
                f"SELECT * FROM invoice_lines WHERE invoice_id IN ({marks}) ORDER BY invoice_id, position", chunk
            ):
                lines.setdefault(int(line["invoice_id"]), []).append(InvoiceLine.model_validate(line))
        return [Invoice.model_validate({**r, "lines": tuple(lines.get(int(r["id"]), ()))}) for r in rows]

    def create_invoice(
        self,
        tx: Tx,
        client_id: int,
        lines: list[NewLine],
        currency: str,
        issue_date: date,
        due_date: date,
        run_id: str,
        tax_treatment: TaxTreatment = "standard",
    ) -> Invoice:
        """A draft invoice with the next number; the same run never gets a second one. Its total is
        the gross (the lines' net plus the tax of each rate)."""
        existing = tx.fetchone("SELECT * FROM invoices WHERE run_id = ?", (run_id,))
        if existing:
            return self._with_lines(tx, existing)
        fmt = self.number_format(tx)
        series = fmt.series(issue_date.year)
        series_seq = next_number(tx, series)
        number = fmt.render(issue_date.year, series_seq)
        if series == DEFAULT_SERIES and not tx.scalar(
            "SELECT COUNT(*) AS n FROM invoices WHERE seq = ?", (series_seq,)
        ):
            seq = series_seq
        else:
            # The series counter's row lock (held to commit) serializes invoices of one series;
            # seq is then only the internal running number.
            seq = int(tx.scalar("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM invoices") or 1)
        if tx.scalar("SELECT COUNT(*) AS n FROM invoices WHERE upper(number) = ?", (number.upper(),)):
            raise StoreError(
                f"invoice number {number} is already taken (series {series}); change the number format with"
                " /profile number_format=…"
            )
        summary = _summary(lines, currency, tax_treatment)
        tx.execute(
            "INSERT INTO invoices (seq, number, series, series_seq, client_id, status, currency, issue_date, due_date,"
            " total_cents, tax_cents, tax_treatment, run_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                number,
                series,
                series_seq,
                client_id,
                currency,
                issue_date,
                due_date,
                summary.gross.cents,
                summary.tax.cents,
                None if tax_treatment == "standard" else tax_treatment,
                run_id,
                self.clock.now(),
            ),
        )
        invoice_id = tx.scalar("SELECT id FROM invoices WHERE number = ?", (number,))
        _insert_lines(tx, invoice_id, lines)
        row = tx.fetchone("SELECT * FROM invoices WHERE id = ?", (invoice_id,))
        assert row is not None
        return self._with_lines(tx, row)

    def replace_lines(self, tx: Tx, invoice_id: int, lines: list[NewLine], due_date: date) -> Invoice:
        """Edit a draft before approval: new lines and due date, same number. The invoice is
        locked and must still be a draft (approved meanwhile, its lines would no longer be its
        total: `coo books check` calls that total_mismatch)."""
        current = self.locked(tx, invoice_id)
        if current.status != "draft":
            raise StoreError(f"Invoice {current.number} is {current.status}; only drafts can be edited.")
        tx.execute("DELETE FROM invoice_lines WHERE invoice_id = ?", (invoice_id,))
        _insert_lines(tx, invoice_id, lines)
        summary = _summary(lines, current.currency, current.treatment)
        total = summary.gross.cents
        tx.execute(
            "UPDATE invoices SET total_cents = ?, tax_cents = ?, due_date = ? WHERE id = ? AND status = 'draft'",
            (total, summary.tax.cents, due_date, invoice_id),
        )
        # The credit it holds follows the new total (never more than the invoice).
        credits.hold(tx, current.client_id, invoice_id, current.currency, total, current.run_id, self.clock.now())
        row = tx.fetchone("SELECT * FROM invoices WHERE id = ?", (invoice_id,))
        assert row is not None
        return self._with_lines(tx, row)

    def use_credit(self, tx: Tx, invoice_id: int, use: bool) -> credits.CreditUse | None:
        """On a draft: use the client's credit (hold it) or keep it for later (release it)."""
        invoice = self.locked(tx, invoice_id)
        if invoice.status != "draft":
            raise StoreError(f"Invoice {invoice.number} is {invoice.status}; only drafts can be edited.")
        if not use:
            credits.keep_for_later(tx, invoice_id, self.clock.now())
            return None
        credits.use_again(tx, invoice_id)
        return self.hold_credit(tx, invoice)

    def hold_credit(self, tx: Tx, invoice: Invoice) -> credits.CreditUse | None:
        """Hold the client's credit in the draft's currency for it (up to its total)."""
        return credits.hold(
            tx, invoice.client_id, invoice.id, invoice.currency, invoice.total_cents, invoice.run_id, self.clock.now()
        )

    def number_format(self, tx: Tx) -> NumberFormat:
        """The seller's invoice number format (``/profile number_format=…``), INV-{seq:04} when unset."""
        text = tx.scalar("SELECT value FROM seller_profile WHERE field = 'number_format'")
        return NumberFormat.parse(text) if text else NumberFormat(DEFAULT_FORMAT)

    def get(self, number: str) -> Invoice | None:
        """The invoice numbered ``number``; "INV-0007" (what "inv 7" reads as) when the seller numbers
        in another format is the newest invoice whose number in its series is 7."""
        with self.db.transaction() as tx:
            row = tx.fetchone("SELECT * FROM invoices WHERE upper(number) = ?", (number.upper(),))
            short = re.fullmatch(r"INV-0*(\d{1,9})", number.strip().upper())
            if row is None and short:
                row = tx.fetchone(
                    "SELECT * FROM invoices WHERE series_seq = ? AND series <> ? ORDER BY id DESC LIMIT 1",
                    (int(short.group(1)), DEFAULT_SERIES),
                )
            return None if row is None else self._with_lines(tx, row)

    def by_numbers(self, numbers: list[str]) -> list[Invoice]:
        """Invoices whose numbers (any case) are among ``numbers``; unknown ones are left out."""
        if not numbers:
            return []
        marks = ", ".join("?" for _ in numbers)
        with self.db.transaction() as tx:
            rows = tx.fetchall(
                f"SELECT * FROM invoices WHERE upper(number) IN ({marks}) ORDER BY id",
                tuple(n.upper() for n in numbers),
            )
            return [self._with_lines(tx, r) for r in rows]

    def get_by_run(self, run_id: str) -> Invoice | None:
        """The invoice a run prepared."""
        with self.db.transaction() as tx:
            row = tx.fetchone("SELECT * FROM invoices WHERE run_id = ?", (run_id,))
            return None if row is None else self._with_lines(tx, row)

    def by_id(self, invoice_id: int) -> Invoice:
        with self.db.transaction() as tx:
            row = tx.fetchone("SELECT * FROM invoices WHERE id = ?", (invoice_id,))
            assert row is not None, f"invoice {invoice_id} vanished"
            return self._with_lines(tx, row)

    def set_status(self, tx: Tx, invoice_id: int, status: InvoiceStatus) -> None:
        """Move an invoice on. A draft that leaves the drafts (sent, or issued to the outbox) takes
        the credit it held (it may then be part or fully paid); a voided draft gives it back."""
        may_settle()
        sent = ", sent_at = ?" if status == "sent" else ""
        params: tuple = (status, self.clock.now(), invoice_id) if sent else (status, invoice_id)
        tx.execute(f"UPDATE invoices SET status = ?{sent} WHERE id = ?", params)
        if status in ("sent", "issued"):
            credits.apply_held(tx, invoice_id, self.clock.now())
            # Money already on it (credit, or a payment before a re-send) keeps it part or fully paid.
            tx.execute(
                "UPDATE invoices SET status = CASE WHEN paid_cents >= total_cents THEN 'paid'"
                " ELSE 'partially_paid' END WHERE id = ? AND paid_cents > 0",
                (invoice_id,),
            )
        elif status == "void":
            credits.release_held(tx, invoice_id, self.clock.now())

    def previous_for_client(self, client_id: int, before_seq: int) -> Invoice | None:
        """The client's last invoice before this one that was not voided: the card compares them."""
        with self.db.transaction() as tx:
            row = tx.fetchone(
                "SELECT * FROM invoices WHERE client_id = ? AND seq < ? AND status <> 'void' ORDER BY seq DESC",
                (client_id, before_seq),
            )
            return None if row is None else self._with_lines(tx, row)

    def open_invoices(
        self,
        client_id: int | None = None,
        *,
        due_before: date | None = None,
        due_from: date | None = None,
        limit: int | None = None,
    ) -> list[Invoice]:
        """Sent (or issued to the outbox) and not fully paid; drafts are not owed yet. Oldest due
        date first (the most urgent); ``due_before``: only those due before that day (overdue);
        ``due_from``: only those due that day or later; ``limit``: at most that many."""
        sql, params = _open_where(client_id, due_before, due_from)
        sql = "SELECT * FROM invoices" + sql + " ORDER BY due_date, seq" + (f" LIMIT {int(limit)}" if limit else "")
        with self.db.read() as tx:
            return self._all_with_lines(tx, tx.fetchall(sql, params))

    def open_totals(
        self, client_id: int | None = None, *, due_before: date | None = None, due_from: date | None = None
    ) -> tuple[int, Totals]:
        """How many open invoices (overdue ones with ``due_before``; ``due_from``: due that day or
        later) and what they owe, per currency, summed in SQL: a status answer or the digest never
        loads every open invoice."""
        where, params = _open_where(client_id, due_before, due_from)
        rows = self.db.fetchall(
            "SELECT currency, COUNT(*) AS n, SUM(total_cents - paid_cents) AS owed FROM invoices"
            + where
            + " GROUP BY currency ORDER BY currency",
            params,
        )
        totals = Totals()
        for r in rows:
            totals.add(Money.of(from_cents(int(r["owed"] or 0)), r["currency"]))
        return sum(int(r["n"]) for r in rows), totals

    def drafts(self) -> list[Invoice]:
        with self.db.read() as tx:
            return self._all_with_lines(tx, tx.fetchall("SELECT * FROM invoices WHERE status = 'draft' ORDER BY seq"))

    def record_payment(
        self,
        tx: Tx,
        client_id: int | None,
        invoice: Invoice | None,
        amount: Decimal,
        currency: str,
        received_on: date,
        reference: str | None,
        run_id: str,
    ) -> Payment:
        existing = tx.fetchone("SELECT * FROM payments WHERE run_id = ?", (run_id,))
        if existing:
            return Payment.model_validate(existing)
        received = Money.of(amount, currency)
        applied_money, excess_money = received, Money.zero(currency)
        if invoice is not None:
            try:
                # An over-payment settles the invoice; the rest is the client's credit, visible.
                owed = max(invoice.owed, Money.zero(invoice.currency))
                applied_money = received.min(owed)
                excess_money = received - applied_money
            except CurrencyMismatch as exc:
                raise StoreError(
                    f"a {currency} payment cannot be applied to {invoice.number}, which is in {invoice.currency}"
                ) from exc
        applied, excess = applied_money.cents, excess_money.cents
        insert = (
            "INSERT INTO payments (client_id, invoice_id, amount_cents, currency, received_on, reference, run_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        now = self.clock.now()
        tx.execute(
            insert, (client_id, invoice.id if invoice else None, applied, currency, received_on, reference, run_id, now)
        )
        if excess:
            note = f"over-payment of {invoice.number}" if invoice else reference
            tx.execute(insert, (client_id, None, excess, currency, received_on, note, run_id, now))
        if invoice is not None:
            paid = invoice.paid_cents + applied
            status = "paid" if paid >= invoice.total_cents else "partially_paid"
            may_settle()
            tx.execute("UPDATE invoices SET paid_cents = ?, status = ? WHERE id = ?", (paid, status, invoice.id))
        row = tx.fetchone("SELECT * FROM payments WHERE run_id = ? ORDER BY id", (run_id,))
        assert row is not None
        return Payment.model_validate(row)

    def credits(self, client_id: int | None = None) -> list[tuple[int, str, Decimal]]:
        """Money clients paid that no invoice took (over-payments, payments ahead of an invoice)
        and that no invoice holds or used since, per client and currency: (client id, currency,
        amount)."""
        return credits.CreditStore(self.db, self.clock).balances(client_id)

    # -- reconciling bank/provider exports (agents/reconciler.py) -------------------------------

    def by_seqs(self, seqs: list[int]) -> list[Invoice]:
        """Invoices by their sequence numbers (a bank reference says "inv 7", not "INV-0007")."""
        if not seqs:
            return []
        marks = ", ".join("?" for _ in seqs)
        with self.db.transaction() as tx:
            rows = tx.fetchall(f"SELECT * FROM invoices WHERE series_seq IN ({marks}) ORDER BY id", tuple(seqs))
            return self._all_with_lines(tx, rows)

    def locked(self, tx: Tx, invoice_id: int) -> Invoice:
        """The invoice as it is now, locked until the transaction ends (PostgreSQL; SQLite's write
        transaction already excludes other writers), so two imports never pay one balance twice."""
        lock = " FOR UPDATE" if tx.dialect == "postgres" else ""
        row = tx.fetchone(f"SELECT * FROM invoices WHERE id = ?{lock}", (invoice_id,))
        assert row is not None, f"invoice {invoice_id} vanished"
        return self._with_lines(tx, row)

    def payments_received(self, first: date, last: date) -> list[Payment]:
        """Payments received between two dates (inclusive), oldest first."""
        rows = self.db.fetchall(
            "SELECT * FROM payments WHERE received_on >= ? AND received_on <= ? ORDER BY id", (first, last)
        )
        return [Payment.model_validate(r) for r in rows]

    def invoices(self, client_id: int | None = None) -> list[Invoice]:
        """Every invoice (any status), oldest number first; one client's with ``client_id``."""
        sql = "SELECT * FROM invoices"
        params: tuple[object, ...] = ()
        if client_id is not None:
            sql, params = sql + " WHERE client_id = ?", (client_id,)
        with self.db.read() as tx:
            return self._all_with_lines(tx, tx.fetchall(sql + " ORDER BY seq", params))

    def payments(self, *, client_id: int | None = None, invoice_id: int | None = None) -> list[Payment]:
        """Payments received from one client, or onto one invoice, oldest first."""
        column, value = ("invoice_id", invoice_id) if invoice_id is not None else ("client_id", client_id)
        rows = self.db.fetchall(f"SELECT * FROM payments WHERE {column} = ? ORDER BY received_on, id", (value,))
        return [Payment.model_validate(r) for r in rows]

    def imported_rows(self, fingerprints: list[str]) -> dict[str, PaymentImport]:
        """The export rows among ``fingerprints`` seen by an earlier import, by fingerprint."""
        found: dict[str, PaymentImport] = {}
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self.db.fetchall(f"SELECT * FROM payment_imports WHERE fingerprint IN ({marks})", tuple(chunk)):
                item = PaymentImport.model_validate(row)
                found[item.fingerprint] = item
        return found

    def claim_import_row(
        self,
        tx: Tx,
        *,
        fingerprint: str,
        file_hash: str,
        filename: str,
        line: int,
        outcome: str,
        invoice_numbers: list[str],
        amount: Decimal,
        currency: str,
        received_on: date,
        run_id: str,
    ) -> bool:
        """Mark an export row as matched or asked. Returns False when it was already matched (by an
        earlier or a concurrent import): the caller then records nothing. An "asked" row can later
        become "matched" (e.g. after the invoice it pays was sent)."""
        now = self.clock.now()
        numbers = ",".join(invoice_numbers) or None
        inserted = tx.execute(
            "INSERT INTO payment_imports (fingerprint, file_hash, filename, line, outcome, invoice_numbers,"
            " amount_cents, currency, received_on, run_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
            (
                fingerprint,
                file_hash,
                filename,
                line,
                outcome,
                numbers,
                cents(amount),
                currency,
                received_on,
                run_id,
                now,
                now,
            ),
        )
        if inserted == 1:
            return True
        if outcome != "matched":
            return False
        return (
            tx.execute(
                "UPDATE payment_imports SET outcome = 'matched', invoice_numbers = ?, run_id = ?, updated_at = ?"
                " WHERE fingerprint = ? AND outcome <> 'matched'",
                (numbers, run_id, now, fingerprint),
            )
            == 1
        )


def _open_where(
    client_id: int | None, due_before: date | None, due_from: date | None = None
) -> tuple[str, tuple[object, ...]]:
    sql = " WHERE status IN ('sent', 'issued', 'partially_paid')"
    params: tuple[object, ...] = ()
    if client_id is not None:
        sql, params = sql + " AND client_id = ?", (*params, client_id)
    if due_before is not None:
        sql, params = sql + " AND due_date < ?", (*params, due_before)
    if due_from is not None:
        sql, params = sql + " AND due_date >= ?", (*params, due_from)
    return sql, params
