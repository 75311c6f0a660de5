"""`coo books check`: the books' invariants, verified in a handful of set-based queries.

What must always hold, however invoices, payments, edits, rejections and imports interleave:

* an invoice's ``paid_cents`` equals the sum of the payments applied to it, and its total the
  sum of its lines; its status agrees with both (paid in full, part paid, not paid);
* a payment is applied only to an invoice of its own currency and its own client, and is
  positive; a payment applied to no invoice (a credit) belongs to a client;
* invoice numbers run 1, 2, 3 … with no gap within each series (INV-NNNN, or the seller's format
  per year: ACME-2026-0001 …), no duplicate (case-insensitively, as they are looked up), each
  written as its series' format says, and each series' counter is at its last number;
* every invoice that left the drafts (issued, sent, part paid, paid) has the receipt of its
  send in ``side_effects`` (key ``<run>:send_invoice``, status done).

Each query reads the whole table once (no query per invoice); the checker never writes.
* a client's credit (payments applied to no invoice) is never used beyond what it is: per
  client and currency, what invoices hold or took of it is at most its payments; a use is in
  its invoice's currency and client, held only by a draft and applied only to a sent invoice;
  an invoice's ``paid_cents`` counts the credit applied to it.
* credit notes run CN-0001, CN-0002 … with no gap (the counter at the last one); an issued
  note voids its invoice (same client and currency), and its amount plus what it turned into the
  client's credit is the invoice's total; a sent invoice is voided only by an issued note.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from store.db import Database, Tx
from store.invoice_numbers import DEFAULT_SERIES, format_of
from store.models import format_money, from_cents

ProblemKind = Literal[
    "paid_mismatch",
    "total_mismatch",
    "status_mismatch",
    "currency_mismatch",
    "client_mismatch",
    "bad_amount",
    "orphan_credit",
    "credit_overdrawn",
    "credit_mismatch",
    "number_gap",
    "number_duplicate",
    "number_format",
    "counter_mismatch",
    "missing_receipt",
    "credit_note_gap",
    "credit_note_mismatch",
    "missing_credit_note",
]

SENT_STATUSES = ("issued", "sent", "partially_paid", "paid")
SEND_STEP = "send_invoice"  # graphs/steps.py: the invoice playbook's action step (graphs/actions.py keys it)


class Problem(BaseModel):
    """One thing wrong with the books, on one invoice where there is one."""

    kind: ProblemKind
    invoice_number: str | None = None
    detail: str

    def line(self) -> str:
        where = f"{self.invoice_number}: " if self.invoice_number else ""
        return f"{self.kind}: {where}{self.detail}"


class BooksCheck(BaseModel):
    invoices: int
    payments: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"Books OK: {self.invoices} invoices, {self.payments} payments checked."
        return f"Books: {len(self.problems)} problem(s) in {self.invoices} invoices, {self.payments} payments."


def _money(value: int | None, currency: str) -> str:
    return format_money(from_cents(value), currency)


def _amounts(tx: Tx) -> list[Problem]:
    problems: list[Problem] = []
    for r in tx.fetchall(
        "SELECT i.number, i.currency, i.paid_cents, COALESCE(p.applied, 0) AS applied, COALESCE(p.n, 0) AS n,"
        " COALESCE(c.amount_cents, 0) AS credit"
        " FROM invoices i LEFT JOIN (SELECT invoice_id, SUM(amount_cents) AS applied, COUNT(*) AS n FROM payments"
        " WHERE invoice_id IS NOT NULL GROUP BY invoice_id) p ON p.invoice_id = i.id"
        " LEFT JOIN credit_applications c ON c.invoice_id = i.id AND c.status = 'applied'"
        " WHERE i.paid_cents <> COALESCE(p.applied, 0) + COALESCE(c.amount_cents, 0) ORDER BY i.seq"
    ):
        credit = f" and {_money(r['credit'], r['currency'])} of credit" if r["credit"] else ""
        problems.append(
            Problem(
                kind="paid_mismatch",
                invoice_number=r["number"],
                detail=f"paid {_money(r['paid_cents'], r['currency'])} but its {r['n']} payment(s){credit}"
                f" add up to {_money(r['applied'] + r['credit'], r['currency'])}",
            )
        )
    for r in tx.fetchall(
        # The total is the gross: the lines' net amounts plus the invoice's tax.
        "SELECT i.number, i.currency, i.total_cents, COALESCE(l.total, 0) + i.tax_cents AS lines_total"
        " FROM invoices i"
        " LEFT JOIN (SELECT invoice_id, SUM(total_cents) AS total FROM invoice_lines GROUP BY invoice_id) l"
        " ON l.invoice_id = i.id WHERE i.total_cents <> COALESCE(l.total, 0) + i.tax_cents ORDER BY i.seq"
    ):
        problems.append(
            Problem(
                kind="total_mismatch",
                invoice_number=r["number"],
                detail=f"total {_money(r['total_cents'], r['currency'])} but its lines (with tax) add up to"
                f" {_money(r['lines_total'], r['currency'])}",
            )
        )
    for r in tx.fetchall(
        "SELECT number, status, currency, total_cents, paid_cents FROM invoices WHERE"
        " (status = 'paid' AND paid_cents < total_cents)"
        " OR (status = 'partially_paid' AND (paid_cents <= 0 OR paid_cents >= total_cents))"
        " OR (status IN ('draft', 'issued', 'sent', 'void') AND paid_cents <> 0)"
        " ORDER BY seq"
    ):
        problems.append(
            Problem(
                kind="status_mismatch",
                invoice_number=r["number"],
                detail=f"{r['status']} with {_money(r['paid_cents'], r['currency'])} paid of"
                f" {_money(r['total_cents'], r['currency'])}",
            )
        )
    return problems


def _payments(tx: Tx) -> list[Problem]:
    problems: list[Problem] = []
    for r in tx.fetchall(
        "SELECT p.id, p.amount_cents, p.currency, p.client_id, i.number, i.currency AS invoice_currency,"
        " i.client_id AS invoice_client FROM payments p JOIN invoices i ON i.id = p.invoice_id"
        " WHERE p.currency <> i.currency OR (p.client_id IS NOT NULL AND p.client_id <> i.client_id)"
        " ORDER BY i.seq, p.id"
    ):
        if r["currency"] != r["invoice_currency"]:
            problems.append(
                Problem(
                    kind="currency_mismatch",
                    invoice_number=r["number"],
                    detail=f"payment #{r['id']} of {_money(r['amount_cents'], r['currency'])} applied to an"
                    f" invoice in {r['invoice_currency']}",
                )
            )
        if r["client_id"] is not None and r["client_id"] != r["invoice_client"]:
            problems.append(
                Problem(
                    kind="client_mismatch",
                    invoice_number=r["number"],
                    detail=f"payment #{r['id']} from client {r['client_id']} applied to client"
                    f" {r['invoice_client']}'s invoice",
                )
            )
    for r in tx.fetchall(
        "SELECT p.id, p.amount_cents, p.currency, p.client_id, p.invoice_id, i.number FROM payments p"
        " LEFT JOIN invoices i ON i.id = p.invoice_id"
        " WHERE p.amount_cents <= 0 OR (p.invoice_id IS NULL AND p.client_id IS NULL) ORDER BY p.id"
    ):
        if r["amount_cents"] <= 0:
            problems.append(
                Problem(
                    kind="bad_amount",
                    invoice_number=r["number"],
                    detail=f"payment #{r['id']} is {_money(r['amount_cents'], r['currency'])}",
                )
            )
        if r["invoice_id"] is None and r["client_id"] is None:
            problems.append(
                Problem(
                    kind="orphan_credit",
                    detail=f"payment #{r['id']} of {_money(r['amount_cents'], r['currency'])} is applied to no"
                    " invoice and belongs to no client",
                )
            )
    return problems


def _credits(tx: Tx) -> list[Problem]:
    problems: list[Problem] = []
    for r in tx.fetchall(
        "SELECT t.client_id, t.currency, t.taken, COALESCE(p.paid, 0) AS paid FROM (SELECT client_id, currency,"
        " SUM(amount_cents) AS taken FROM credit_applications WHERE status IN ('held', 'applied')"
        " GROUP BY client_id, currency) t LEFT JOIN (SELECT client_id, currency, SUM(amount_cents) AS paid"
        " FROM payments WHERE invoice_id IS NULL AND client_id IS NOT NULL GROUP BY client_id, currency) p"
        " ON p.client_id = t.client_id AND p.currency = t.currency WHERE t.taken > COALESCE(p.paid, 0)"
        " ORDER BY t.client_id, t.currency"
    ):
        problems.append(
            Problem(
                kind="credit_overdrawn",
                detail=f"client {r['client_id']}'s invoices use {_money(r['taken'], r['currency'])} of credit but"
                f" only {_money(r['paid'], r['currency'])} was paid beyond its invoices",
            )
        )
    for r in tx.fetchall(
        "SELECT c.id, c.status, c.amount_cents, c.currency, c.client_id, i.number, i.status AS invoice_status,"
        " i.currency AS invoice_currency, i.client_id AS invoice_client FROM credit_applications c"
        " JOIN invoices i ON i.id = c.invoice_id WHERE c.currency <> i.currency OR c.client_id <> i.client_id"
        " OR c.amount_cents <= 0 OR (c.status = 'held' AND i.status <> 'draft')"
        " OR (c.status = 'applied' AND i.status IN ('draft', 'void')) ORDER BY i.seq"
    ):
        if r["currency"] != r["invoice_currency"]:
            detail = f"credit #{r['id']} in {r['currency']} used on an invoice in {r['invoice_currency']}"
        elif r["client_id"] != r["invoice_client"]:
            detail = f"client {r['client_id']}'s credit #{r['id']} used on client {r['invoice_client']}'s invoice"
        elif r["amount_cents"] <= 0:
            detail = f"credit #{r['id']} is {_money(r['amount_cents'], r['currency'])}"
        else:
            detail = f"credit #{r['id']} is {r['status']} but the invoice is {r['invoice_status']}"
        problems.append(Problem(kind="credit_mismatch", invoice_number=r["number"], detail=detail))
    return problems


def _numbers(tx: Tx) -> list[Problem]:
    """Each series (store/invoice_numbers.py: INV-NNNN, or the seller's format per year) runs 1, 2, 3 …
    with no gap, its counter at its last number, every number written as its format says."""
    problems: list[Problem] = []
    rows = tx.fetchall("SELECT number, seq, series, COALESCE(series_seq, seq) AS n FROM invoices ORDER BY id")
    counters = {r["name"]: int(r["value"]) for r in tx.fetchall("SELECT name, value FROM counters")}
    by_series: dict[str, list[dict]] = {}
    for r in rows:
        by_series.setdefault(r["series"] or DEFAULT_SERIES, []).append(r)
    if DEFAULT_SERIES not in by_series and counters.get(DEFAULT_SERIES):
        by_series[DEFAULT_SERIES] = []
    for series in sorted(by_series):
        problems += _series_numbers(series, by_series[series], counters.get(series, 0))
    for r in tx.fetchall(
        "SELECT upper(number) AS number, COUNT(*) AS n FROM invoices GROUP BY upper(number)"
        " HAVING COUNT(*) > 1 ORDER BY upper(number)"
    ):
        problems.append(
            Problem(kind="number_duplicate", invoice_number=r["number"], detail=f"{r['n']} invoices have this number")
        )
    return problems


def _series_numbers(series: str, rows: list[dict], counter: int) -> list[Problem]:
    problems: list[Problem] = []
    fmt, year = format_of(series)
    render_year = year or 0
    name = (
        "invoice counter"
        if series == DEFAULT_SERIES
        else f"counter of the series {fmt.text}" + (f" in {year}" if year else "")
    )
    seqs = sorted({int(r["n"]) for r in rows})
    numbered = {int(r["n"]): r["number"] for r in sorted(rows, key=lambda r: int(r["n"]), reverse=True)}
    if seqs and seqs[0] > 1:
        first = seqs[0]
        problems.append(
            Problem(
                kind="number_gap",
                invoice_number=fmt.render(render_year, first),
                detail=f"numbers 1 to {first - 1} are missing",
            )
        )
    for here, after in zip(seqs, seqs[1:], strict=False):
        if after > here + 1:
            missing = f"number {here + 1} is" if after == here + 2 else f"numbers {here + 1} to {after - 1} are"
            problems.append(
                Problem(kind="number_gap", invoice_number=numbered[here], detail=f"{missing} missing after it")
            )
    last = seqs[-1] if seqs else 0
    if counter != last:
        why = "numbers were given out but their invoices are missing" if counter > last else "the next number is taken"
        problems.append(
            Problem(
                kind="counter_mismatch",
                detail=f"the {name} is at {counter} but the last invoice is number {last} ({why})",
            )
        )
    for r in sorted(rows, key=lambda r: int(r["n"])):
        expected = fmt.render(render_year, int(r["n"]))
        if year is None and fmt.yearly:
            continue  # a series key always carries the year of a yearly format
        if r["number"] != expected:
            problems.append(
                Problem(
                    kind="number_format",
                    invoice_number=r["number"],
                    detail=f"sequence number {r['n']} should be numbered {expected}",
                )
            )
    return problems


def _receipts(tx: Tx) -> list[Problem]:
    marks = ", ".join("?" for _ in SENT_STATUSES)
    rows = tx.fetchall(
        "SELECT i.number, i.status, i.run_id, s.status AS send_status FROM invoices i"
        f" LEFT JOIN side_effects s ON s.key = i.run_id || ':{SEND_STEP}'"
        f" WHERE (i.status IN ({marks}) OR i.sent_at IS NOT NULL)"
        " AND (s.key IS NULL OR s.status <> 'done') ORDER BY i.seq",
        SENT_STATUSES,
    )
    problems = []
    for r in rows:
        if r["send_status"] is None:
            detail = f"{r['status']} but there is no record of sending it"
        else:
            detail = f"{r['status']} but its send has no receipt (interrupted while {r['send_status']})"
        problems.append(Problem(kind="missing_receipt", invoice_number=r["number"], detail=detail))
    return problems


def _credit_notes(tx: Tx) -> list[Problem]:
    problems: list[Problem] = []
    stats = tx.fetchone(
        "SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS last,"
        " (SELECT value FROM counters WHERE name = 'credit_note') AS counter FROM credit_notes"
    )
    assert stats is not None
    n, last, counter = int(stats["n"]), int(stats["last"]), int(stats["counter"] or 0)
    if n != last or counter != last:
        problems.append(
            Problem(
                kind="credit_note_gap",
                detail=f"{n} credit note(s) numbered up to CN-{last:04d}, the counter at {counter}",
            )
        )
    for r in tx.fetchall(
        "SELECT c.number, c.amount_cents, c.credited_cents, c.currency, c.client_id, i.number AS invoice,"
        " i.status, i.total_cents, i.currency AS invoice_currency, i.client_id AS invoice_client"
        " FROM credit_notes c JOIN invoices i ON i.id = c.invoice_id WHERE c.status = 'issued' AND (i.status <> 'void'"
        " OR c.currency <> i.currency OR c.client_id <> i.client_id"
        " OR c.amount_cents + c.credited_cents <> i.total_cents OR c.amount_cents < 0 OR c.credited_cents < 0)"
        " ORDER BY c.seq"
    ):
        problems.append(
            Problem(
                kind="credit_note_mismatch",
                invoice_number=r["invoice"],
                detail=f"credit note {r['number']} ({_money(r['amount_cents'], r['currency'])} credited,"
                f" {_money(r['credited_cents'], r['currency'])} to the client's credit) but the invoice is"
                f" {r['status']}, {_money(r['total_cents'], r['invoice_currency'])}",
            )
        )
    for r in tx.fetchall(
        "SELECT i.number FROM invoices i WHERE i.status = 'void' AND i.sent_at IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM credit_notes c WHERE c.invoice_id = i.id AND c.status = 'issued') ORDER BY i.seq"
    ):
        problems.append(
            Problem(
                kind="missing_credit_note", invoice_number=r["number"], detail="sent, then voided without a credit note"
            )
        )
    return problems


def find_problems(tx: Tx) -> list[Problem]:
    """Every invariant, inside the caller's transaction."""
    return _numbers(tx) + _amounts(tx) + _payments(tx) + _credits(tx) + _receipts(tx) + _credit_notes(tx)


def run_check(db: Database) -> BooksCheck:
    """Every invariant over the whole books, in one transaction; nothing is written."""
    with db.transaction() as tx:
        counts = tx.fetchone(
            "SELECT (SELECT COUNT(*) FROM invoices) AS invoices, (SELECT COUNT(*) FROM payments) AS payments"
        )
        assert counts is not None
        problems = find_problems(tx)
    return BooksCheck(invoices=int(counts["invoices"]), payments=int(counts["payments"]), problems=problems)


def check_books(db: Database) -> list[Problem]:
    """What is wrong with the books; empty when every invariant holds."""
    return run_check(db).problems
