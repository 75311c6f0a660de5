"""The invoice reconciler: a bank or payment-provider export → payments on open invoices.

It reads the export (``agents.bank_csv``), decides each row (``agents.payment_matching``),
records the exact matches and notes the questions, and renders the report the operator reads.
Only exact matches are recorded; partial payments, overpayments, unknown or look-alike payers
and dates whose day/month order nothing settles become numbered questions, answered with an
ordinary chat message ("Acme paid $1,000.00 for INV-0003 on 2026-11-20") or by importing the
file again with ``--date-format``. Every recorded payment is a ledger event carrying the row's
fingerprint, and the fingerprint is claimed in the same transaction, so importing a file twice
(or an overlapping export) records nothing twice.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from pydantic import BaseModel

from agents.bank_csv import ParsedExport, RowProblem, parse_export
from agents.bank_dates import DateQuestion, DateSpec
from agents.payment_matching import ASKED, Outcome, RowResult, invoice_refs, match_rows, number_refs
from agents.untrusted import injection_signs
from store.billing import OPEN_STATUSES
from store.db import Tx
from store.facade import Store
from store.models import Invoice, Payment, format_money
from store.reminder_cards import withdraw_settled_reminders


class ImportReport(BaseModel):
    run_id: str
    filename: str
    shape: str
    assumed_currency: str | None = None
    results: list[RowResult]
    problems: list[RowProblem]
    date_note: str | None = None
    date_question: DateQuestion | None = None
    # Lines whose text looks like an instruction to coo: read as data only, and pointed out.
    warnings: list[str] = []

    def of(self, *outcomes: Outcome) -> list[RowResult]:
        return [r for r in self.results if r.outcome in outcomes]

    @property
    def counts(self) -> dict[str, int]:
        counts = {o: len(self.of(o)) for o in ("matched", "partial", "overpayment", "unknown", "ignored")}
        held = len(self.date_question.lines) if self.date_question else 0
        return {**counts, "unreadable": len(self.problems), "dates_unsettled": held}

    @property
    def questions(self) -> int:
        """How many numbered questions the report asks (the date order is one, for all its lines)."""
        return len(self.of(*ASKED)) + (1 if self.date_question else 0)


# -- importing -----------------------------------------------------------------------------


def new_import_id() -> str:
    return "imp-" + secrets.token_hex(5)


def import_payments(
    store: Store,
    data: bytes,
    filename: str,
    *,
    run_id: str,
    channel: str,
    thread_id: str,
    user_id: str,
    default_currency: str | None = None,
    date_format: DateSpec | None = None,
) -> ImportReport:
    """Read an export, match it, record the matches and note the questions; returns the report.
    Raises ``agents.bank_csv.UnreadableExport`` for a file that is not a transaction export.
    The import is a run of its own (kind ``import_payments``), so ``coo ledger`` lists it.
    ``date_format``: the operator's ``--date-format`` (``agents.bank_dates.parse_date_format``)."""
    # Providers write UTC dates: a row is in the future only when it is past today both here and in UTC.
    today = max(store.clock.today(), store.clock.now().date())
    parsed = parse_export(data, filename, default_currency, date_format=date_format, today=today)
    results = _decide(store, parsed)
    with store.db.transaction() as tx:
        if tx.fetchone("SELECT id FROM runs WHERE id = ?", (run_id,)) is None:
            store.runs.create(tx, run_id, None, "import_payments", channel, thread_id, user_id)
            # Not "queued": that is work a starting worker would look for; this one runs right here.
            store.runs.set_status(run_id, "running", tx=tx)
        store.ledger.append(
            run_id,
            "intake",
            "payments_file_received",
            {
                "filename": filename,
                "file_hash": parsed.file_hash,
                "shape": parsed.shape,
                "rows": len(parsed.rows),
                "unreadable": len(parsed.problems),
                "date_format": date_format.given if date_format else None,
                "dates_unsettled": parsed.date_question.lines if parsed.date_question else [],
            },
            actor=f"{channel}:{user_id}",
            tx=tx,
        )
    # The invoices as they were, so "undo" can put them back (store/changes.py).
    before = {a.invoice_id: store.billing.by_id(a.invoice_id) for result in results for a in result.allocations}
    final = [_record(store, parsed, result, run_id) for result in results]
    warnings = _instruction_lines(parsed)
    if warnings:
        store.ledger.append(run_id, "intake", "untrusted_instructions", {"lines": warnings}, actor="coo")
    report = ImportReport(
        warnings=warnings,
        run_id=run_id,
        filename=filename,
        shape=parsed.shape,
        assumed_currency=parsed.assumed_currency,
        results=final,
        problems=parsed.problems,
        date_note=parsed.date_note,
        date_question=parsed.date_question,
    )
    counts = report.counts
    summary = (
        f"{filename}: {counts['matched']} matched, {report.questions} to ask about, "
        f"{counts['ignored']} ignored, {counts['unreadable']} unreadable"
    )
    with store.db.transaction() as tx:
        _record_undoable(store, tx, run_id, filename, final, before)
        store.ledger.append(run_id, "reconcile", "payments_imported", {"filename": filename, **counts}, tx=tx)
        store.runs.set_status(run_id, "done", summary=summary, tx=tx)
    withdraw_settled_reminders(store)  # reminders waiting about invoices this import settled
    return report


def _instruction_lines(parsed: ParsedExport) -> list[str]:
    """Rows whose payer, reference or note reads like an instruction to coo (never followed)."""
    found = []
    for row in parsed.rows:
        signs = injection_signs(" ".join(part for part in (row.payer, row.text, row.note or "") if part))
        if signs:
            found.append(f"line {row.line} ({', '.join(signs)})")
    return found


def _record_undoable(
    store: Store, tx: Tx, run_id: str, filename: str, final: list[RowResult], before: dict[int, Invoice]
) -> None:
    """The payments this import booked, as one change "undo" takes back."""
    matched = [r for r in final if r.outcome == "matched" and r.allocations]
    if not matched:
        return
    touched = {a.invoice_id: before[a.invoice_id] for r in matched for a in r.allocations if a.invoice_id in before}
    n = sum(len(r.allocations) for r in matched)
    store.changes.record(
        tx,
        run_id,
        "reconcile",
        "payments_imported",
        f"the {n} payment{'s' if n != 1 else ''} imported from {filename}",
        table="invoices",
        row_id=0,
        before=None,
        after=None,
        extra={
            "payment_runs": [f"imp:{r.row.fingerprint}:{a.invoice_number}" for r in matched for a in r.allocations],
            "fingerprints": [r.row.fingerprint for r in matched],
            "invoices": [
                {"id": i.id, "number": i.number, "before": {"paid_cents": i.paid_cents, "status": i.status}}
                for i in touched.values()
            ],
        },
    )


def _decide(store: Store, parsed: ParsedExport) -> list[RowResult]:
    """Gather what matching needs from the store, then match (pure)."""
    incoming = [r for r in parsed.rows if not r.skip]
    refs = {n for row in incoming for n in invoice_refs(row)}
    invoices = {i.id: i for i in store.billing.open_invoices()}
    invoices.update({i.id: i for i in store.billing.by_seqs(sorted(refs))})
    numbers = {n for row in incoming for n in number_refs(row)}
    invoices.update({i.id: i for i in store.billing.by_numbers(sorted(numbers))})
    seen = store.billing.imported_rows([r.fingerprint for r in parsed.rows])
    imported = {
        fp: (item.invoice_numbers or "", item.updated_at.date())
        for fp, item in seen.items()
        if item.outcome == "matched"
    }
    recorded: list[Payment] = []
    if incoming:
        hand = store.billing.payments_received(min(r.booked_on for r in incoming), max(r.booked_on for r in incoming))
        recorded = [p for p in hand if not (p.run_id or "").startswith("imp:")]
    results = match_rows(
        parsed.rows,
        sorted(invoices.values(), key=lambda i: (i.due_date, i.seq)),
        store.clients.all(),
        imported=imported,
        recorded=recorded,
    )
    for result in results:
        earlier = seen.get(result.row.fingerprint)
        if result.outcome in ASKED and earlier is not None:
            result.asked_before = earlier.created_at.date()
    return results


class _Claim(TypedDict):
    """The export row's fields for ``BillingStore.claim_import_row``."""

    fingerprint: str
    file_hash: str
    filename: str
    line: int
    amount: Decimal
    currency: str
    received_on: date
    run_id: str


def _record(store: Store, parsed: ParsedExport, result: RowResult, run_id: str) -> RowResult:
    """Write one decided row: a match becomes payments + ledger events, a question is noted."""
    row = result.row
    if result.outcome == "ignored":
        return result
    claim: _Claim = {
        "fingerprint": row.fingerprint,
        "file_hash": parsed.file_hash,
        "filename": parsed.filename,
        "line": row.line,
        "amount": row.amount,
        "currency": row.currency,
        "received_on": row.booked_on,
        "run_id": run_id,
    }
    event = {
        "fingerprint": row.fingerprint,
        "filename": parsed.filename,
        "line": row.line,
        "amount": str(row.amount),
        "currency": row.currency,
        "received_on": row.booked_on.isoformat(),
        "payer": row.who,
        "reason": result.reason,
    }
    if result.outcome in ASKED:
        with store.db.transaction() as tx:
            store.billing.claim_import_row(tx, outcome="asked", invoice_numbers=[], **claim)
            store.ledger.append(
                run_id,
                "reconcile",
                "payment_question",
                {**event, "outcome": result.outcome},
                dedupe=row.fingerprint,
                tx=tx,
            )
        return result
    try:
        return _record_match(store, result, claim, event, run_id)
    except _Changed as exc:
        return result.model_copy(
            update={
                "outcome": "unknown",
                "allocations": [],
                "reason": f"{exc.number} changed while importing (paid in chat or by "
                "another import); nothing recorded for this row, check it",
            }
        )


def _record_match(store: Store, result: RowResult, claim: _Claim, event: dict[str, Any], run_id: str) -> RowResult:
    row = result.row
    with store.db.transaction() as tx:
        numbers = [a.invoice_number for a in result.allocations]
        if not store.billing.claim_import_row(tx, outcome="matched", invoice_numbers=numbers, **claim):
            return result.model_copy(
                update={
                    "outcome": "ignored",
                    "allocations": [],
                    "reason": "already imported (by another import just now)",
                }
            )
        for allocation in result.allocations:
            invoice = store.billing.locked(tx, allocation.invoice_id)
            if invoice.status not in OPEN_STATUSES or invoice.balance < allocation.amount:
                # Paid meanwhile (a chat message, another import): roll the whole row back and ask.
                raise _Changed(invoice.number)
            payment = store.billing.record_payment(
                tx,
                invoice.client_id,
                invoice,
                allocation.amount,
                row.currency,
                row.booked_on,
                row.provider_id or row.text[:200] or None,
                f"imp:{row.fingerprint}:{invoice.number}",
            )
            after = store.billing.locked(tx, invoice.id)
            store.ledger.append(
                run_id,
                "reconcile",
                "payment_reconciled",
                {**event, "invoice": invoice.number, "applied": str(allocation.amount), "invoice_status": after.status},
                receipt={"payment_id": payment.id, "invoice": invoice.number},
                dedupe=f"{row.fingerprint}:{invoice.number}",
                tx=tx,
            )
    return result


class _Changed(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


# -- the report ----------------------------------------------------------------------------


def _row_line(result: RowResult) -> str:
    row = result.row
    note = f" ({row.note})" if row.note else ""
    return (
        f"line {row.line}, {row.booked_on.isoformat()}, {format_money(row.amount, row.currency)} from {row.who}{note}"
    )


def render_report(report: ImportReport, *, chat: bool = False) -> str:
    """The report the operator reads (CLI and chat): what was recorded, what is asked, what was
    skipped and why, and what could not be read."""
    c = report.counts
    asked = report.of(*ASKED)
    lines = [
        f"Payments import of {report.filename} — {report.shape}.",
        f"{c['matched']} matched · {report.questions} to ask about · {c['ignored']} ignored · "
        f"{c['unreadable']} unreadable.",
    ]
    if report.warnings:
        lines.append(
            "⚠ Text in the file looks like instructions to me — "
            + "; ".join(report.warnings[:5])
            + (f"; and {len(report.warnings) - 5} more" if len(report.warnings) > 5 else "")
            + ". I read it as payment references only: nothing in a file runs, approves or changes anything."
        )
    if report.assumed_currency:
        lines.append(f"The file doesn't say its currency; amounts read as {report.assumed_currency}.")
    if report.date_note:
        lines.append(report.date_note)
    matched = report.of("matched")
    if matched:
        lines.append("\nRecorded:")
        for r in matched:
            applied = " + ".join(f"{a.invoice_number}" for a in r.allocations)
            lines.append(f"  ✓ {_row_line(r)} → {applied} ({r.client_name}; {r.reason})")
    if asked or report.date_question:
        lines.append("\nQuestions (nothing recorded for these):")
    if report.date_question:
        lines.extend(_date_lines(report.date_question, report.filename, chat=chat))
    if asked:
        first = 2 if report.date_question else 1
        for number, r in enumerate(asked, start=first):
            before = f" (asked before on {r.asked_before.isoformat()})" if r.asked_before else ""
            lines.append(f"  {number}. {_row_line(r)}: {r.reason}{before}")
            if r.suggestion:
                lines.append(f"     To record it, {r.suggestion}")
    ignored = report.of("ignored")
    if ignored:
        lines.append("\nIgnored:")
        lines.extend(f"  – {_row_line(r)}: {r.reason}" for r in ignored)
    if report.problems:
        lines.append("\nCouldn't read (fix the file or record these by hand):")
        lines.extend(f"  ! line {p.line}: {p.reason}" for p in report.problems)
    if asked and not any(r.suggestion for r in asked):
        lines.append(
            "\nIf one of these is a client's payment, tell me in chat, e.g. “<client> paid <amount> for "
            "INV-0001 on <date>”; otherwise leave it. Importing this file again records nothing twice."
        )
    elif asked:
        lines.append(
            "\n"
            + (
                "Answer any question by writing the message shown (it records the payment like any "
                "other); leave the rest. Re-sending the file later records nothing twice."
                if chat
                else "Answer these in chat with the message shown, or leave them; importing "
                "this file again records nothing twice."
            )
        )
    lines.append(f"Ledger: run {report.run_id}.")
    return "\n".join(lines)


def _day(on: date | None) -> str:
    return f"{on.day} {on:%b %Y}" if on else "?"


def _date_lines(question: DateQuestion, filename: str, *, chat: bool) -> list[str]:
    """Question 1 when the day/month order is not settled: which lines wait, and how to answer."""
    shown = ", ".join(str(n) for n in question.lines[:8])
    if len(question.lines) > 8:
        shown += f" and {len(question.lines) - 8} more"
    where = f"line {shown}" if len(question.lines) == 1 else f"lines {shown}"
    if question.conflict:
        why = f"the file's dates disagree on the order ({question.conflict})"
    else:
        why = (
            f"is {question.example} {_day(question.day_first)} (day first) or {_day(question.month_first)} "
            "(month first)? No date in the file settles it"
        )
    how = (
        "send the file again with the message “--date-format DMY” (day first) or “--date-format MDY” (month first)"
        if chat
        else f"import it again with the order: coo import-payments {filename} --date-format DMY (day first) "
        "or --date-format MDY (month first)"
    )
    return [
        f"  1. {where}: {why}, so nothing on {'it' if len(question.lines) == 1 else 'them'} was read or recorded.",
        f"     To answer, {how}. Rows already recorded are not recorded twice.",
    ]
