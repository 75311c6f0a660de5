"""Which invoice a payment told in chat pays, and whether that is certain enough to book.

A payment is booked on its own only when the match is certain: the invoice's number was said,
or the amount is exactly the balance of one of the named client's open invoices in its currency.
Anything else — an amount that matches no balance, or several; a currency none of the client's
open invoices is in; a client with nothing open — is a question first ("Which invoice is it
for?"), and the operator's answer (an invoice number, "yes" for the one suggested, or "credit")
completes the same request. Nothing is written until then.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from graphs.intents import RecordPayment
from store.facade import Store
from store.models import Invoice, format_money
from store.money import Money

OPEN_STATUSES = ("issued", "sent", "partially_paid")  # what a payment can still go to

# The pending question's field: answered with an invoice number, "yes" or "credit".
TARGET_FIELD = "payment_target"

_NUMBER = re.compile(r"\b([A-Z]{2,5}-?\d{1,6})\b", re.IGNORECASE)
_YES = re.compile(r"^\s*(?:y|yes|yep|yeah|ok|okay|sure|correct|right|that one|it is|confirm(?:ed)?)\b", re.I)
_IN_FULL = re.compile(
    r"\b(?:in full|paid (?:it )?(?:all|off)|full amount|the whole (?:amount|thing|invoice)|settled)\b", re.I
)
_CREDIT = re.compile(r"\b(?:credit|none|no invoice|neither|keep it|on account|prepay(?:ment)?)\b", re.I)


class Match(BaseModel):
    """The invoice a payment goes to (None: a credit), and how that was decided."""

    invoice: Invoice | None
    how: str  # said to the operator: "INV-0002's balance is exactly $300.00"


class Uncertain(BaseModel):
    """Not certain: the question to ask, and the one invoice "yes" would mean (if any)."""

    question: str
    suggested: str | None = None


def match_payment(store: Store, intent: RecordPayment, client_id: int) -> Match | Uncertain:
    """Where the named client's payment goes, or the question to ask first."""
    assert intent.amount is not None
    if intent.as_credit:
        return Match(invoice=None, how="you said to keep it as a credit")
    amount = intent.amount
    open_all = store.billing.open_invoices(client_id)
    said = format_money(amount, intent.currency) if intent.currency else f"{amount:,.2f}"
    if not open_all:
        return Uncertain(
            question=(
                f"{_client(store, client_id)} has no open invoice. Keep {said} as a credit for them? "
                'Reply "credit" to record it so, or give the invoice number it pays.'
            )
        )
    same = [i for i in open_all if intent.currency in (None, i.currency)]
    if not same:
        listed = _listing(open_all)
        return Uncertain(
            question=(
                f"{said} is in {intent.currency}, but {_client(store, client_id)}'s open invoices are not ({listed}); "
                "a payment in another currency never settles them. If it was in the invoice's currency, say it "
                f'again with that amount; or reply "credit" to keep {said} as a credit in {intent.currency}.'
            )
        )
    exact = [i for i in same if i.owed == Money.of(amount, i.currency)]
    if len(exact) == 1:
        return Match(
            invoice=exact[0],
            how=f"{exact[0].number}'s balance is exactly {format_money(exact[0].balance, exact[0].currency)}",
        )
    if exact:
        return Uncertain(
            question=f"{_listing(exact)} each have {format_money(amount, exact[0].currency)} open. Which one is it for?"
        )
    shown = format_money(amount, same[0].currency) if len({i.currency for i in same}) == 1 else said
    if len(same) == 1:
        only = same[0]
        kind = "less" if amount < only.balance else "more"
        return Uncertain(
            question=(
                f"{_client(store, client_id)} has {_listing(same)} open; {shown} is {kind} than that. "
                f'Is it for {only.number}? Reply "yes", another invoice number, or "credit" to keep it as a credit.'
            ),
            suggested=only.number,
        )
    return Uncertain(
        question=(
            f"{shown} is not the balance of any of {_client(store, client_id)}'s open invoices "
            f'({_listing(same)}). Which invoice is it for? Reply with its number, or "credit".'
        )
    )


def in_full(store: Store, intent: RecordPayment, text: str) -> RecordPayment:
    """ "INV-0007 was paid in full": the amount is that invoice's balance, in its currency."""
    if intent.amount is not None or intent.invoice_number is None or not _IN_FULL.search(text):
        return intent
    invoice = store.billing.get(intent.invoice_number)
    if invoice is None or invoice.status not in OPEN_STATUSES:
        return intent  # the run says there is no such invoice, or that nothing is owed on it
    return intent.model_copy(update={"amount": invoice.balance, "currency": invoice.currency})


def is_target_answer(text: str) -> bool:
    """A short reply that answers "which invoice?" rather than a request of its own."""
    short = len(text.split()) <= 6
    return short and bool(_CREDIT.search(text) or _NUMBER.search(text) or _YES.match(text))


def answer_target(store: Store, pending: RecordPayment, client_id: int, text: str) -> RecordPayment:
    """Complete a payment with the operator's answer; ValueError says what to reply."""
    if _CREDIT.search(text):
        return pending.model_copy(update={"as_credit": True})
    number = _NUMBER.search(text)
    if number:
        found = store.billing.get(number.group(1).upper())
        if found is None:
            raise ValueError(f"There is no invoice {number.group(1).upper()}.")
        if found.client_id != client_id:
            raise ValueError(f"{found.number} is not {_client(store, client_id)}'s invoice.")
        if found.status not in OPEN_STATUSES:
            raise ValueError(f"{found.number} is {found.status}; nothing is owed on it.")
        return pending.model_copy(update={"invoice_number": found.number})
    if _YES.match(text):
        outcome = match_payment(store, pending, client_id)
        if isinstance(outcome, Uncertain) and outcome.suggested:
            return pending.model_copy(update={"invoice_number": outcome.suggested})
    raise ValueError('Reply with the invoice number (e.g. INV-0001), or "credit".')


def _client(store: Store, client_id: int) -> str:
    return store.clients.get(client_id).name


def _listing(invoices: list[Invoice], limit: int = 5) -> str:
    shown = [f"{i.number} {format_money(i.balance, i.currency)}" for i in invoices[:limit]]
    more = f" and {len(invoices) - limit} more" if len(invoices) > limit else ""
    return ", ".join(shown) + more
