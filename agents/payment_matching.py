"""Matching export rows to open invoices: a pure function over the rows, the invoices and the
clients, so it can be read and tested on its own (``agents.reconciler`` imports and records).
Rules, strongest first:

1. An invoice number in the reference ("INV-0007", "ACME-2026-0007", "inv 7", "invoice #0007", "Rechnung 7")
   names the invoice; the amount then decides matched / partial / overpayment.
2. Otherwise the payer plus an amount equal to one of that client's open balances. The payer
   is the client when the row has its contact e-mail or e-mail domain, or when the payer's name
   is the client's (or its contact's) name once legal forms and bank words are set aside
   (``agents.payer_names``).
3. A payer that only resembles a client (the client's name and more, part of it, one shared
   word) is never enough: the row becomes a question ("Is GLOBEX LOGISTICS GMBH the same as
   your client Globex?") with the chat message that would record it.

The currency must match. Amount alone never matches, and two invoices with the same balance
are asked about, not picked. Only exact matches are booked; partial payments, overpayments
and unknown payers are questions.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from agents.bank_csv import INVOICE_REF, BankRow
from agents.payer_names import Evidence, by_name, level_rank, name_words
from store.billing import OPEN_STATUSES
from store.invoice_numbers import number_tokens
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
    """Invoice sequence numbers written in the row's reference, description or payer field
    ("inv 7": the number within its series)."""
    found = [int(m.group(1)) for m in INVOICE_REF.finditer(f"{row.text} {row.payer}")]
    return list(dict.fromkeys(n for n in found if n > 0))


def number_refs(row: BankRow) -> list[str]:
    """Whole invoice numbers in the seller's format ("ACME-2026-0007") the row may name, upper-cased;
    only those that are real invoice numbers count (the caller looks them up)."""
    return number_tokens(f"{row.text} {row.payer}")


def _referenced(row: BankRow, by_number: dict[str, Invoice], by_seq: dict[int, Invoice]) -> list[Invoice]:
    """The invoices a row names: by whole number first, then by "inv 7" (the newest with that number)."""
    found = [by_number[n] for n in number_refs(row) if n in by_number]
    found += [by_seq[n] for n in invoice_refs(row) if n in by_seq]
    return list({i.id: i for i in found}.values())


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
    by_number = {i.number.upper(): i for i in invoices}
    by_seq = {i.series_seq or i.seq: i for i in sorted(invoices, key=lambda i: i.id)}
    balances = {i.id: i.total_cents - i.paid_cents if i.status in OPEN_STATUSES else 0 for i in invoices}
    unused = list(recorded or [])
    results = []
    cleared: dict[str, int] = {}  # invoice number → the line that paid it in full
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
        refs = _referenced(row, by_number, by_seq)
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
            if balances[allocation.invoice_id] <= 0:
                cleared[allocation.invoice_number] = row.line
        results.append(result)
    return [_after(result, cleared) for result in results]


def _after(result: RowResult, cleared: dict[str, int]) -> RowResult:
    """A question asked before a later row of the same file paid its invoice in full must not
    suggest paying that invoice again."""
    if result.outcome not in ASKED or not result.suggestion:
        return result
    for number, line in cleared.items():
        if f" for {number} on " in result.suggestion and line > result.row.line:
            return result.model_copy(
                update={
                    "reason": f"{result.reason} But line {line} of this file paid {number} in full: "
                    "a second payment, or for another invoice?",
                    "suggestion": None,
                }
            )
    return result


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
    return _not_the_balance(row, who, invoice, balances[invoice.id], owner=f"{who}'s ", lead="")


def _not_the_balance(row: BankRow, who: str, invoice: Invoice, open_cents: int, *, owner: str, lead: str) -> RowResult:
    """A row tied to one invoice whose amount is not its open balance: a partial payment or an
    over-payment, either way a question for the operator rather than a booking."""
    balance = _money(Decimal(open_cents) / 100, invoice.currency)
    say = _say(who, row.amount, row.currency, invoice.number, row.booked_on)
    if cents(row.amount) < open_cents:
        reason = f"{lead}{owner}{invoice.number} has {balance} open: record it as a partial payment?"
        return RowResult(row=row, outcome="partial", client_name=who, suggestion=say, reason=reason)
    on = f"{who}'s {invoice.number}" if not lead else invoice.number
    reason = f"{lead}more than the {balance} open on {on}: record it anyway (the rest is a credit)?"
    return RowResult(row=row, outcome="overpayment", client_name=who, suggestion=say, reason=reason)


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
        return _not_the_balance(row, who, inv, balances[inv.id], owner="their ", lead=f"from {who}; ")
    return RowResult(
        row=row,
        outcome="unknown",
        client_name=who,
        reason=f"from {who}; matches none of their open invoices: {_listing(theirs, balances)}",
    )
