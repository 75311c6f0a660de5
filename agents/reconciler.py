"""The invoice reconciler: rows of a bank or payment-provider export → payments on open invoices.

Matching is a pure function (``match_rows``) over the rows, the invoices and the clients, so it
can be read and tested on its own. Rules, strongest first:

1. An invoice number in the reference ("INV-0007", "inv 7", "invoice #0007", "Rechnung 7")
   names the invoice; the amount then decides matched / partial / overpayment.
2. Otherwise the payer plus an amount equal to one of that client's open balances. The payer
   is the client when the row has its contact e-mail or e-mail domain, or when the payer's name
   is the client's (or its contact's) name once legal forms and bank words are set aside
   (``agents.payer_names``).
3. A payer that only resembles a client (the client's name and more, part of it, one shared
   word) is never enough: the row becomes a numbered question ("Is GLOBEX LOGISTICS GMBH the
   same as your client Globex?") with the chat message that would record it.

The currency must match. Amount alone never matches, and two invoices with the same balance
are asked about, not picked. Only exact matches are recorded; partial payments, overpayments
and unknown payers become questions for the operator, who answers with an ordinary chat
message ("Acme paid $1,000.00 for INV-0003 on 2026-11-20"). Every recorded payment is a ledger
event carrying the row's fingerprint, and the fingerprint is claimed in the same transaction,
so importing a file twice (or an overlapping export) records nothing twice.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, Field

from agents.bank_csv import INVOICE_REF, BankRow, ParsedExport, RowProblem, parse_export
from agents.bank_dates import DateQuestion, DateSpec
from agents.payer_names import Evidence, by_name, level_rank, name_words
from store.billing import OPEN_STATUSES
from store.facade import Store
from store.models import Client, Invoice, Payment, cents, format_money

Outcome = Literal["matched", "partial", "overpayment", "unknown", "ignored"]
ASKED: tuple[Outcome, ...] = ("partial", "overpayment", "unknown")

_FREEMAIL = {
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "aol.com",
    "live.com",
    "mail.com",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class Allocation(BaseModel):
    invoice_id: int
    invoice_number: str
    client_id: int
    amount: Decimal


class RowResult(BaseModel):
    """What the reconciler made of one row, in words the operator reads."""

    row: BankRow
    outcome: Outcome
    reason: str
    client_name: str | None = None
    allocations: list[Allocation] = Field(default_factory=list)
    suggestion: str | None = None  # the chat message that would record it, for asked rows
    asked_before: date | None = None


class ImportReport(BaseModel):
    run_id: str
    filename: str
    shape: str
    assumed_currency: str | None = None
    results: list[RowResult]
    problems: list[RowProblem]
    date_note: str | None = None
    date_question: DateQuestion | None = None

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


# -- evidence ------------------------------------------------------------------------------


def payer_evidence(row: BankRow, clients: list[Client]) -> dict[int, Evidence]:
    """Clients this row may have come from. ``strong``: the contact e-mail, the client's own
    e-mail domain, or the payer's name *is* the client's (or its contact's); ``similar`` (the
    client's name and more, or part of it) and ``weak`` (one shared word) are only questions."""
    text = f"{row.payer} {row.text}"
    emails = {e.lower() for e in _EMAIL.findall(f"{row.email or ''} {text}")}
    evidence: dict[int, Evidence] = {}
    for client in clients:
        contact = (client.contact_email or "").lower()
        domain = contact.partition("@")[2]
        if (contact and contact in emails) or (
            domain and domain not in _FREEMAIL and any(e.endswith("@" + domain) for e in emails)
        ):
            evidence[client.id] = Evidence("strong", contact)
            continue
        names = [name_words(client.name)]
        person = name_words(client.contact_name or "")
        if len(person) > 1:
            names.append(person)
        found = by_name(row.payer, row.text, names)
        if found is not None:
            evidence[client.id] = found
    return evidence


def invoice_refs(row: BankRow) -> list[int]:
    """Invoice sequence numbers written in the row's reference, description or payer field."""
    found = [int(m.group(1)) for m in INVOICE_REF.finditer(f"{row.text} {row.payer}")]
    return list(dict.fromkeys(n for n in found if n > 0))


# -- matching ------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def _say(client: str, amount: Decimal, currency: str, invoice: str | None, on: date) -> str:
    target = f" for {invoice}" if invoice else ""
    return f"say: {client} paid {_money(amount, currency)}{target} on {on.isoformat()}"


def _listing(invoices: list[Invoice], balances: dict[int, int]) -> str:
    return ", ".join(f"{i.number} ({_money(Decimal(balances[i.id]) / 100, i.currency)})" for i in invoices)


def match_rows(
    rows: list[BankRow],
    invoices: list[Invoice],
    clients: list[Client],
    *,
    imported: dict[str, tuple[str, date]] | None = None,
    recorded: list[Payment] | None = None,
) -> list[RowResult]:
    """Decide each row. ``invoices``: the open ones plus any a row references; ``imported``: rows
    an earlier import matched (fingerprint → (invoice numbers, date)); ``recorded``: payments
    already entered by hand, which a row of the same client, amount, currency and day repeats.
    Rows are taken in order against running balances, so a second payment of one invoice in the
    same file is not matched again."""
    by_id = {c.id: c for c in clients}
    by_seq = {i.seq: i for i in invoices}
    balances = {i.id: i.total_cents - i.paid_cents if i.status in OPEN_STATUSES else 0 for i in invoices}
    unused = list(recorded or [])
    results = []
    for row in rows:
        if row.skip:
            results.append(RowResult(row=row, outcome="ignored", reason=row.skip))
            continue
        if imported and row.fingerprint in imported:
            numbers, when = imported[row.fingerprint]
            results.append(
                RowResult(row=row, outcome="ignored", reason=f"already imported on {when.isoformat()} ({numbers})")
            )
            continue
        evidence = payer_evidence(row, clients)
        refs = [by_seq[n] for n in invoice_refs(row) if n in by_seq]
        hand = next(
            (
                p
                for p in unused
                if p.amount_cents == cents(row.amount)
                and p.currency == row.currency
                and p.received_on == row.booked_on
                and (p.client_id in evidence or p.invoice_id in {i.id for i in refs})
            ),
            None,
        )
        if hand is not None:
            unused.remove(hand)
            who = by_id[hand.client_id].name if hand.client_id in by_id else "?"
            results.append(
                RowResult(
                    row=row,
                    outcome="ignored",
                    client_name=who,
                    reason=f"already recorded in chat ({_money(hand.amount, hand.currency)} "
                    f"from {who} on {hand.received_on.isoformat()})",
                )
            )
            continue
        result = (
            _by_reference(row, refs, evidence, by_id, balances)
            if refs
            else _by_payer(row, invoices, evidence, by_id, balances)
        )
        for allocation in result.allocations:
            balances[allocation.invoice_id] -= cents(allocation.amount)
        results.append(result)
    return results


def _by_reference(
    row: BankRow,
    refs: list[Invoice],
    evidence: dict[int, Evidence],
    clients: dict[int, Client],
    balances: dict[int, int],
) -> RowResult:
    names = ", ".join(i.number for i in refs)
    owner = clients.get(refs[0].client_id)
    who = owner.name if owner else "?"
    strong_elsewhere = [
        cid for cid, found in evidence.items() if found.level == "strong" and cid not in {i.client_id for i in refs}
    ]
    if strong_elsewhere and not any(evidence.get(i.client_id) for i in refs):
        other = clients[strong_elsewhere[0]].name
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=other,
            reason=f"names {names} ({who}'s) but looks like it came from {other}",
            suggestion=_say(who, row.amount, row.currency, refs[0].number, row.booked_on),
        )
    wrong = [i for i in refs if i.currency != row.currency]
    if wrong:
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"names {names}, which is in {wrong[0].currency}, not {row.currency}",
        )
    open_refs = [i for i in refs if balances[i.id] > 0]
    if not open_refs:
        state = "already paid" if all(i.status in ("paid", *OPEN_STATUSES) for i in refs) else f"{refs[0].status}"
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"names {names} ({who}), which is {state}: a second payment, or for another invoice?",
        )
    paying = sum(balances[i.id] for i in open_refs)
    if cents(row.amount) == paying:
        return RowResult(
            row=row,
            outcome="matched",
            client_name=who,
            reason=f"by reference {names}",
            allocations=[
                Allocation(
                    invoice_id=i.id,
                    invoice_number=i.number,
                    client_id=i.client_id,
                    amount=Decimal(balances[i.id]) / 100,
                )
                for i in open_refs
            ],
        )
    if len(open_refs) > 1:
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"names {_listing(open_refs, balances)}, which add up to "
            f"{_money(Decimal(paying) / 100, row.currency)}; how should it be split?",
        )
    invoice = open_refs[0]
    balance = _money(Decimal(balances[invoice.id]) / 100, invoice.currency)
    say = _say(who, row.amount, row.currency, invoice.number, row.booked_on)
    if cents(row.amount) < paying:
        return RowResult(
            row=row,
            outcome="partial",
            client_name=who,
            suggestion=say,
            reason=f"{who}'s {invoice.number} has {balance} open: record it as a partial payment?",
        )
    return RowResult(
        row=row,
        outcome="overpayment",
        client_name=who,
        suggestion=say,
        reason=f"more than the {balance} open on {who}'s {invoice.number}: record it anyway (the rest is a credit)?",
    )


def _by_payer(
    row: BankRow,
    invoices: list[Invoice],
    evidence: dict[int, Evidence],
    clients: dict[int, Client],
    balances: dict[int, int],
) -> RowResult:
    open_now = [i for i in invoices if balances[i.id] > 0]
    same_currency = [i for i in open_now if i.currency == row.currency]
    exact_anywhere = [i for i in same_currency if balances[i.id] == cents(row.amount)]
    strong = {cid: e for cid, e in evidence.items() if e.level == "strong"}
    if strong:
        return _by_known_payer(row, open_now, same_currency, list(strong), clients, balances)
    if evidence:
        return _ask_who(row, same_currency, exact_anywhere, evidence, clients, balances)
    if len(exact_anywhere) == 1:
        inv = exact_anywhere[0]
        who = clients[inv.client_id].name
        return RowResult(
            row=row,
            outcome="unknown",
            reason=f"no client I know; it is the amount of {inv.number} ({who}), but the amount alone is not enough",
            suggestion=_say(who, row.amount, row.currency, inv.number, row.booked_on),
        )
    hint = f"; {len(exact_anywhere)} open invoices have that amount" if exact_anywhere else ""
    return RowResult(row=row, outcome="unknown", reason=f"no client or invoice I can tie it to{hint}")


def _ask_who(
    row: BankRow,
    same_currency: list[Invoice],
    exact_anywhere: list[Invoice],
    evidence: dict[int, Evidence],
    clients: dict[int, Client],
    balances: dict[int, int],
) -> RowResult:
    """The payer only resembles a client: ask whether it is that client, and say what the row
    would pay if it is. Never a booking."""
    cid, found = max(evidence.items(), key=lambda item: level_rank(item[1].level))
    client = clients[cid].name
    others = "".join(f" or {clients[c].name}" for c in evidence if c != cid)
    if found.mentioned:
        ask = f"Is {found.seen_as} paying for your client {client}{others}? (the reference names {found.mentioned})"
    elif found.level == "similar":
        ask = f"Is {found.seen_as} the same as your client {client}{others}?"
    else:
        ask = f"Is {found.seen_as} your client {client}{others}? (only one word of the payer matches)"
    theirs = [i for i in same_currency if i.client_id == cid]
    exact = [i for i in theirs if balances[i.id] == cents(row.amount)]
    say = None
    if len(exact) == 1:
        inv = exact[0]
        then = f"If it is, it pays {inv.number} ({_money(Decimal(balances[inv.id]) / 100, inv.currency)})"
        if exact_anywhere != exact:
            then += ", but other open invoices have the same amount"
        say = _say(client, row.amount, row.currency, inv.number, row.booked_on)
    elif exact:
        then = f"If it is, it fits {_listing(exact, balances)}: same balance, no reference"
    elif theirs:
        then = f"If it is, it matches none of their open invoices: {_listing(theirs, balances)}"
        if len(theirs) == 1:
            say = _say(client, row.amount, row.currency, theirs[0].number, row.booked_on)
    else:
        then = f"If it is, {client} has no open invoice in {row.currency}"
    return RowResult(row=row, outcome="unknown", client_name=client, reason=f"{ask} {then}.", suggestion=say)


def _by_known_payer(
    row: BankRow,
    open_now: list[Invoice],
    same_currency: list[Invoice],
    payers: list[int],
    clients: dict[int, Client],
    balances: dict[int, int],
) -> RowResult:
    """The payer is identified (one client, or several that the row names equally)."""
    theirs = [i for i in same_currency if i.client_id in payers]
    names = [clients[cid].name for cid in payers]
    who = names[0] if len(names) == 1 else " or ".join(names)
    if not theirs:
        other = [i for i in open_now if i.client_id in payers]
        if other:
            return RowResult(
                row=row,
                outcome="unknown",
                client_name=who,
                reason=f"from {who}, whose open invoices are in {other[0].currency}, not {row.currency}",
            )
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"from {who}, who has no open invoice: record it as a credit?",
            suggestion=_say(who, row.amount, row.currency, None, row.booked_on) if len(names) == 1 else None,
        )
    exact = [i for i in theirs if balances[i.id] == cents(row.amount)]
    if len(exact) == 1:
        inv = exact[0]
        owner = clients[inv.client_id].name
        return RowResult(
            row=row,
            outcome="matched",
            client_name=owner,
            reason="by payer and amount",
            allocations=[
                Allocation(invoice_id=inv.id, invoice_number=inv.number, client_id=inv.client_id, amount=row.amount)
            ],
        )
    if len(exact) > 1:
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"from {who}; fits {_listing(exact, balances)}: same balance, no reference — which one?",
        )
    single = len(payers) == 1
    if single and len(theirs) > 1 and sum(balances[i.id] for i in theirs) == cents(row.amount):
        return RowResult(
            row=row,
            outcome="matched",
            client_name=who,
            reason="by payer; pays all their open invoices",
            allocations=[
                Allocation(
                    invoice_id=i.id,
                    invoice_number=i.number,
                    client_id=i.client_id,
                    amount=Decimal(balances[i.id]) / 100,
                )
                for i in theirs
            ],
        )
    if single and len(theirs) == 1:
        inv = theirs[0]
        balance = _money(Decimal(balances[inv.id]) / 100, inv.currency)
        say = _say(who, row.amount, row.currency, inv.number, row.booked_on)
        if cents(row.amount) < balances[inv.id]:
            return RowResult(
                row=row,
                outcome="partial",
                client_name=who,
                suggestion=say,
                reason=f"from {who}; their {inv.number} has {balance} open: record it as a partial payment?",
            )
        return RowResult(
            row=row,
            outcome="overpayment",
            client_name=who,
            suggestion=say,
            reason=f"from {who}; more than the {balance} open on {inv.number}: record it anyway (the rest is a "
            "credit)?",
        )
    return RowResult(
        row=row,
        outcome="unknown",
        client_name=who,
        reason=f"from {who}; matches none of their open invoices: {_listing(theirs, balances)}",
    )


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
    parsed = parse_export(data, filename, default_currency, date_format=date_format, today=store.clock.today())
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
    final = [_record(store, parsed, result, run_id) for result in results]
    report = ImportReport(
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
        store.ledger.append(run_id, "reconcile", "payments_imported", {"filename": filename, **counts}, tx=tx)
        store.runs.set_status(run_id, "done", summary=summary, tx=tx)
    return report


def _decide(store: Store, parsed: ParsedExport) -> list[RowResult]:
    """Gather what matching needs from the store, then match (pure)."""
    incoming = [r for r in parsed.rows if not r.skip]
    refs = {n for row in incoming for n in invoice_refs(row)}
    invoices = {i.id: i for i in store.billing.open_invoices()}
    invoices.update({i.id: i for i in store.billing.by_seqs(sorted(refs))})
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
    return f"line {row.line}, {row.booked_on.isoformat()}, {_money(row.amount, row.currency)} from {row.who}{note}"


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
