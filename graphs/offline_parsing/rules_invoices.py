"""Rules for an invoice after it was sent: voiding it, sending it again, reminding the client.

"void INV-0007", "cancel invoice 7", "INV-0007 was a mistake, void it" → void_invoice;
"resend INV-0007 to ap@globex.example", "send INV-0007 again" → resend_invoice;
"nudge Globex about INV-0007", "remind Acme they owe us", "chase the overdue invoices" →
payment_reminder. Voiding and resending name the invoice; a reminder names it or the client.
"""

from __future__ import annotations

import re

from graphs.intents import PaymentReminder, ResendInvoice, VoidInvoice
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import clean_client_name
from graphs.offline_parsing.series_numbers import formatted_number

# "INV-0007", "inv 7", "invoice 7", "invoice #7", "invoice no. 7", "invoice number 7"
_NUMBER_RE = lazy_re(r"\b(?:inv(?:oice)?)(?:\s*(?:no\.?|number|#)\s*|[-#\s]?)(?P<n>\d{1,6})\b", re.I)
_VOID_RE = lazy_re(
    r"\b(?:void|voided|voiding|nullify|nullified|cancel|cancell?ed|annul|withdraw|scrap|rescind|credit\s+note|"
    r"was\s+(?:a\s+)?(?:mistake|"
    r"wrong|an\s+error|sent\s+by\s+mistake))\b",
    re.I,
)
_RESEND_RE = lazy_re(
    r"\b(?:re[-\s]?send|send\b.*\b(?:again|another\s+copy|once\s+more|one\s+more\s+time)|forward|another\s+copy\s+of)\b",
    re.I,
)
_REMIND_VERBS = (
    r"(?:nudge|chase(?:\s+up)?|remind|ping|follow\s+up\s+(?:with|on)|send\s+(?:a\s+)?(?:payment\s+)?reminders?\s+to)"
)
# "nudge Globex about INV-0007", "remind Acme they owe us", "chase Acme for payment"
_REMIND_CLIENT_RE = lazy_re(
    rf"^{_REMIND_VERBS}\s+(?P<who>[^,.;:!?]+?)(?:\s+(?:about|re|regarding|on|for|to\s+pay|that|they|it|he|she|"
    r"who|over|with)\b.*|\s*[.!]*)$",
    re.I,
)
# "chase the overdue invoices", "send payment reminders for overdue invoices", "nudge everyone who owes us"
_REMIND_ALL_RE = lazy_re(
    r"^(?:(?:nudge|chase(?:\s+up)?|remind|ping|follow\s+up\s+on)\s+(?:all\s+)?(?:the\s+|our\s+|my\s+)?"
    r"(?:overdue|late|unpaid|outstanding)\s+(?:invoices?|clients?|payments?)|(?:nudge|chase|remind)\s+"
    r"(?:everyone|everybody|all\s+(?:the\s+)?clients)\s+(?:who|that)\s*(?:owes?|'s\s+(?:late|overdue)|"
    r"(?:is|are)\s+(?:late|overdue|behind)|'re\s+(?:late|overdue)|hasn't\s+paid|haven't\s+paid)|send\s+(?:out\s+)?(?:the\s+)?(?:payment\s+)?reminders?\s+(?:for|on|about)\s+"
    r"(?:all\s+)?(?:the\s+)?(?:overdue|late|unpaid)\s+invoices?)\b.*$",
    re.I,
)
_PAYMENT_WORDS = lazy_re(r"\b(?:owe|owes|pay|paid|payment|invoice|inv[-#\s]?\d|overdue|late|outstanding|money)\b", re.I)
# "ping" and "follow up" are said of any conversation ("ping Tallow about the invoice" may ask about
# its wording): a reminder only when the money itself is named, not the invoice alone.
_MONEY_WORDS = lazy_re(r"\b(?:owe|owes|owed|owing|pay|paid|unpaid|payment|overdue|late|outstanding|money)\b", re.I)
_SOFT_VERB_RE = lazy_re(r"^(?:ping|follow\s+up)\b", re.I)
# "send Northwind a payment reminder"
_SEND_REMINDER_RE = lazy_re(
    r"^send\s+(?P<who>[^,.;:!?]+?)\s+(?:a|an|another)\s+(?:(?:friendly|gentle|polite|quick)\s+)?(?:payment\s+)?"
    r"reminder\b.*$",
    re.I,
)
_BY_CHANNEL_RE = lazy_re(r"\s+(?:by|via|over)\s+(?:e-?mail|mail)$", re.I)


def invoice_number(text: str) -> str | None:
    """ "INV-0007", "inv 7", "invoice #7" → "INV-0007" (the series' own spelling)."""
    found = _NUMBER_RE.search(text)
    return f"INV-{int(found.group('n')):04d}" if found else formatted_number(text)


def void_invoice(ctx: Ctx) -> VoidInvoice | None:
    number = invoice_number(ctx.text)
    if number is None or not _VOID_RE.search(ctx.text) or ctx.is_question:
        return None
    if re.match(r"(?i)^(?:remind\s+me|remember|note)\b", ctx.text):
        return None  # a to-do or a fact about the invoice
    return VoidInvoice(invoice_number=number)


def resend_invoice(ctx: Ctx) -> ResendInvoice | None:
    number = invoice_number(ctx.text)
    if number is None or not _RESEND_RE.search(ctx.text) or ctx.is_question:
        return None
    return ResendInvoice(invoice_number=number, to=ctx.emails[0] if ctx.emails else None)


def payment_reminder(ctx: Ctx) -> PaymentReminder | None:
    if re.match(r"(?i)^remind\s+me\b", ctx.text) or ctx.is_question:
        return None
    if _REMIND_ALL_RE.match(ctx.text):
        return PaymentReminder(all_overdue=True)
    found = _REMIND_CLIENT_RE.match(ctx.text) or _SEND_REMINDER_RE.match(ctx.text)
    if found is None:
        return None
    number = invoice_number(ctx.text)
    who = _BY_CHANNEL_RE.sub("", found.group("who").strip())  # a reminder is an e-mail anyway
    if invoice_number(who) is not None:  # "nudge INV-0007", "chase invoice 7"
        return PaymentReminder(invoice_number=number)
    said_reminder = "reminder" in ctx.low[: found.start("who")]  # "send Acme a payment reminder": money
    after = ctx.text[found.end("who") :]
    money = _MONEY_WORDS if _SOFT_VERB_RE.match(ctx.text) else _PAYMENT_WORDS
    if number is None and not said_reminder and not money.search(after):
        return None  # "remind Acme about the kickoff", "ping Tallow about the invoice": not about money
    name = clean_client_name(who, ctx.clients)
    if name is None:
        return None
    return PaymentReminder(invoice_number=number, client_name=name)


# Registered in classify.RULES before the to-do and money rules: they all need an invoice number
# or a reminder verb, and "remind me to …" stays a to-do.
RULES = (void_invoice, resend_invoice, payment_reminder)
