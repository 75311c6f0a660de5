"""The invoice reconciler: rows of a bank or payment-provider export → payments on open invoices.

Matching is a pure function (``match_rows``) over the rows, the invoices and the clients, so it
can be read and tested on its own. Rules, strongest first:

1. An invoice number in the reference ("INV-0007", "inv 7", "invoice #0007", "Rechnung 7")
   names the invoice; the amount then decides matched / partial / overpayment.
2. Otherwise the payer (contact e-mail, client or contact name in the payer/description, the
   client's e-mail domain) plus an amount equal to one of that client's open balances.
3. A weak payer hint (one word of the name shared with the payer) is never enough: the row
   becomes a question with the chat message that would record it.

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
from store.billing import OPEN_STATUSES
from store.clients import name_key
from store.facade import Store
from store.models import Client, Invoice, Payment, cents, format_money

Outcome = Literal["matched", "partial", "overpayment", "unknown", "ignored"]
ASKED: tuple[Outcome, ...] = ("partial", "overpayment", "unknown")

# Words too common in company names to identify a payer on their own.
_GENERIC = {
    "the",
    "studio",
    "studios",
    "design",
    "designs",
    "group",
    "company",
    "agency",
    "media",
    "digital",
    "creative",
    "labs",
    "global",
    "solutions",
    "services",
    "consulting",
    "partners",
    "holdings",
    "international",
    "payment",
    "payments",
    "transfer",
    "invoice",
    "from",
}
_LEGAL = {
    "llc",
    "inc",
    "ltd",
    "limited",
    "gmbh",
    "ag",
    "co",
    "corp",
    "corporation",
    "sa",
    "sas",
    "bv",
    "plc",
    "ug",
    "kg",
    "srl",
    "oy",
    "ab",
    "as",
    "pty",
}
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

    def of(self, *outcomes: Outcome) -> list[RowResult]:
        return [r for r in self.results if r.outcome in outcomes]

    @property
    def counts(self) -> dict[str, int]:
        counts = {o: len(self.of(o)) for o in ("matched", "partial", "overpayment", "unknown", "ignored")}
        return {**counts, "unreadable": len(self.problems)}


# -- evidence ------------------------------------------------------------------------------


def _company_words(name: str) -> list[str]:
    return [w for w in name_key(name).replace(".", " ").split() if w not in _LEGAL]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def payer_evidence(row: BankRow, clients: list[Client]) -> dict[int, str]:
    """Clients this row plausibly came from: client id → "strong" or "weak"."""
    text = f"{row.payer} {row.text}"
    emails = {e.lower() for e in _EMAIL.findall(f"{row.email or ''} {text}")}
    words = [w for w in re.sub(r"[^a-z0-9]+", " ", name_key(text.replace("@", " "))).split() if w not in _LEGAL]
    evidence: dict[int, str] = {}
    for client in clients:
        contact = (client.contact_email or "").lower()
        domain = contact.partition("@")[2]
        name = _company_words(client.name)
        person = _company_words(client.contact_name or "")
        whole_name = _contains(words, name)  # every word of the name, in order
        own_domain = bool(domain) and domain not in _FREEMAIL and any(e.endswith("@" + domain) for e in emails)
        if (
            (contact and contact in emails)
            or whole_name
            or own_domain
            or (len(person) > 1 and _contains(words, person))
        ):
            evidence[client.id] = "strong"
        elif name and len(name[0]) >= 4 and name[0] not in _GENERIC and name[0] in words:
            evidence[client.id] = "weak"  # one shared word: worth a question, never a booking
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
    row: BankRow, refs: list[Invoice], evidence: dict[int, str], clients: dict[int, Client], balances: dict[int, int]
) -> RowResult:
    names = ", ".join(i.number for i in refs)
    owner = clients.get(refs[0].client_id)
    who = owner.name if owner else "?"
    strong_elsewhere = [
        cid for cid, level in evidence.items() if level == "strong" and cid not in {i.client_id for i in refs}
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
    evidence: dict[int, str],
    clients: dict[int, Client],
    balances: dict[int, int],
) -> RowResult:
    open_now = [i for i in invoices if balances[i.id] > 0]
    same_currency = [i for i in open_now if i.currency == row.currency]
    exact_anywhere = [i for i in same_currency if balances[i.id] == cents(row.amount)]
    if not evidence:
        if len(exact_anywhere) == 1:
            inv = exact_anywhere[0]
            who = clients[inv.client_id].name
            return RowResult(
                row=row,
                outcome="unknown",
                reason=f"no client I know; it is the amount of {inv.number} ({who}), but the amount "
                "alone is not enough",
                suggestion=_say(who, row.amount, row.currency, inv.number, row.booked_on),
            )
        hint = f"; {len(exact_anywhere)} open invoices have that amount" if exact_anywhere else ""
        return RowResult(row=row, outcome="unknown", reason=f"no client or invoice I can tie it to{hint}")
    theirs = [i for i in same_currency if i.client_id in evidence]
    names = [clients[cid].name for cid in evidence]
    who = names[0] if len(names) == 1 else " or ".join(names)
    if not theirs:
        other = [i for i in open_now if i.client_id in evidence]
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
        strong = evidence[inv.client_id] == "strong"
        if strong:
            owner = clients[inv.client_id].name
            how = "payer and amount"
            return RowResult(
                row=row,
                outcome="matched",
                client_name=owner,
                reason=f"by {how}",
                allocations=[
                    Allocation(invoice_id=inv.id, invoice_number=inv.number, client_id=inv.client_id, amount=row.amount)
                ],
            )
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"may be {inv.number} ({clients[inv.client_id].name}), but only one word of the payer matches"
            + ("" if exact_anywhere == exact else ", and other open invoices have the same amount"),
            suggestion=_say(clients[inv.client_id].name, row.amount, row.currency, inv.number, row.booked_on),
        )
    if len(exact) > 1:
        return RowResult(
            row=row,
            outcome="unknown",
            client_name=who,
            reason=f"from {who}; fits {_listing(exact, balances)}: same balance, no reference — which one?",
        )
    single = len(evidence) == 1 and next(iter(evidence.values())) == "strong"
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
) -> ImportReport:
    """Read an export, match it, record the matches and note the questions; returns the report.
    Raises ``agents.bank_csv.UnreadableExport`` for a file that is not a transaction export.
    The import is a run of its own (kind ``import_payments``), so ``coo ledger`` lists it."""
    parsed = parse_export(data, filename, default_currency)
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
    )
    counts = report.counts
    summary = (
        f"{filename}: {counts['matched']} matched, {len(report.of(*ASKED))} to ask about, "
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
        f"{c['matched']} matched · {len(asked)} to ask about · {c['ignored']} ignored · {c['unreadable']} unreadable.",
    ]
    if report.assumed_currency:
        lines.append(f"The file doesn't say its currency; amounts read as {report.assumed_currency}.")
    matched = report.of("matched")
    if matched:
        lines.append("\nRecorded:")
        for r in matched:
            applied = " + ".join(f"{a.invoice_number}" for a in r.allocations)
            lines.append(f"  ✓ {_row_line(r)} → {applied} ({r.client_name}; {r.reason})")
    if asked:
        lines.append("\nQuestions (nothing recorded for these):")
        for number, r in enumerate(asked, start=1):
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
