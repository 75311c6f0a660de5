"""Facts in a client's e-mail: the dates and amounts it mentions, what it asks, and text that
tries to instruct an assistant.

This is the small, e-mail-shaped cousin of the operator-text parser in graphs/offline_parsing
(agents may not import graphs). Dates resolve against the day the e-mail was written, since
"by Friday" means the Friday after the client wrote it.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from agents.untrusted import injection_signs
from store.models import format_money

_MONTHS = (
    {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
    | {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
    | {"sept": 9}
)
_WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = re.compile(
    r"\b(?P<iso>(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2}))\b"
    rf"|\b(?P<md>(?P<mon>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?)\b"
    rf"|\b(?P<dm>(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>{_MONTH})\.?(?:,?\s+(?P<y3>\d{{4}}))?)\b"
    r"|\b(?P<wd>(?:(?:next|this|coming)\s+)?(?P<wday>monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b"
    r"|\b(?P<rel>tomorrow|today|tonight|end of (?:the )?(?:week|month)|next week|EOD|EOW|EOM)\b",
    re.I,
)
_NUM = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    # Not inside a token: "<002001c144a6$8752e060@oxy.edu>" holds no money.
    rf"(?<![\w$€£.@-])(?:(?P<sym>US\$|\$|€|£)\s?(?P<n1>{_NUM})(?P<k1>\s?[kK]\b)?"
    rf"|(?P<code>USD|EUR|GBP|CHF)\s?(?P<n2>{_NUM})(?P<k2>\s?[kK]\b)?"
    rf"|(?P<n3>{_NUM})(?P<k3>\s?[kK])?\s?(?P<word>USD|EUR|GBP|CHF|dollars|euros?|pounds)\b)(?![\w$@])",
    re.I,
)
_SYMBOLS = {
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "£": "GBP",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pounds": "GBP",
}

# What a client asks for: a question, or a request phrased as one.
_ASK = re.compile(
    r"\?\s*$|\b(?:could|can|would|will) you\b|\bplease\b|\bkindly\b|\b(?:we|i)(?:'d| would)? (?:need|like|want)\b"
    r"|\blet (?:me|us) know\b|\bcan we\b|\bis it possible\b",
    re.I,
)
# Text addressed to an AI assistant rather than to the operator. It is shown as a warning and
# never treated as a request: a client's e-mail cannot instruct coo.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|above|previous)\b"
    r"|\b(?:system|developer) (?:prompt|message)\b|\byou are (?:now )?(?:an? |the )?(?:ai|assistant|language model|bot)\b"
    r"|\bas (?:an|the) (?:ai|assistant)\b|(?:^|\s)/(?:approve|edit|reject)\b"
    r"|\b(?:assistant|coo|bot|ai|agent)\s*[:,]\s*(?:please\s+)?(?:send|approve|pay|transfer|delete|forward|issue|create)\b",
    re.I,
)
_BILLING = re.compile(
    r"\b(?:invoices?|invoiced|payments?|paid|pay|billing|billed|receipts?|overdue|outstanding|balance|remittance"
    r"|refund|wire transfer|bank transfer|INV-\d+)\b",
    re.I,
)
_DELIVER_VERB = re.compile(
    r"\b(?:send|deliver|share|provide|prepare|finish|finalise|finalize|update|have|get|need|see|submit|draft|"
    r"design|make|complete)\b(?:\s+(?:us|me|over|through|across))?",
    re.I,
)
_LEADING = re.compile(r"^(?:(?:the|a|an|our|us|me|your|those|these|some|over|with|all)\s+)+", re.I)
_TRAILING = re.compile(r"\s+(?:ready|done|over|finished|completed|please|for us|to us|to me)\s*$", re.I)
_CONNECTOR = re.compile(r"\s*(?:\b(?:by|before|until|till|on|for|no later than|at the latest|latest)\s*)+$", re.I)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|thanks|thank you|best|regards|cheers|kind regards)\b[^?]{0,40}[,!.]?$", re.I
)


class DateMention(BaseModel):
    text: str
    on: date


class MoneyMention(BaseModel):
    text: str
    amount: Decimal
    currency: str

    def display(self) -> str:
        return format_money(self.amount, self.currency)


def _year_for(month: int, day: int, ref: date) -> date | None:
    """A date without a year: this year, or next year when it has already passed."""
    for year in (ref.year, ref.year + 1):
        try:
            when = date(year, month, day)
        except ValueError:
            return None
        if when >= ref:
            return when
    return None


def _resolve(match: re.Match[str], ref: date) -> date | None:
    g = match.groupdict()
    try:
        if g["iso"]:
            return date(int(g["y"]), int(g["m"]), int(g["d"]))
        if g["md"] or g["dm"]:
            month = _MONTHS[(g["mon"] or g["mon2"]).lower().rstrip(".")]
            day = int(g["day"] or g["day2"])
            year = g["y2"] or g["y3"]
            return date(int(year), month, day) if year else _year_for(month, day, ref)
    except (ValueError, KeyError):
        return None
    if g["wday"]:
        ahead = (_WEEKDAYS[g["wday"].lower()] - ref.weekday()) % 7 or 7  # the next one, strictly after
        return ref + timedelta(days=ahead)
    rel = (g["rel"] or "").lower()
    if rel in ("today", "tonight", "eod"):
        return ref
    if rel == "tomorrow":
        return ref + timedelta(days=1)
    if rel == "next week":
        return ref + timedelta(days=7)
    if "week" in rel or rel == "eow":
        return ref + timedelta(days=(4 - ref.weekday()) % 7)
    if "month" in rel or rel == "eom":
        return date(ref.year, ref.month, calendar.monthrange(ref.year, ref.month)[1])
    return None


def find_dates(text: str, ref: date) -> list[tuple[DateMention, tuple[int, int]]]:
    """Dates mentioned in ``text`` with their spans, resolved relative to ``ref``."""
    out = []
    for match in _DATE.finditer(text):
        when = _resolve(match, ref)
        if when is not None:
            out.append((DateMention(text=match.group(0), on=when), match.span()))
    return out


def _number(text: str) -> Decimal | None:
    """ "1,200.50", "1.200,50", "1,200", "1200": the last separator followed by 1–2 digits is the
    decimal point; one followed by three digits groups thousands."""
    cleaned = text
    last = max(text.rfind(","), text.rfind("."))
    if last != -1 and len(text) - last - 1 in (1, 2):
        cleaned = re.sub(r"[,.]", "", text[:last]) + "." + text[last + 1 :]
    else:
        cleaned = re.sub(r"[,.]", "", text)
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def find_amounts(text: str) -> list[MoneyMention]:
    """Amounts with a currency ("$1,200", "€950", "1.200,00 EUR", "USD 300", "$4k"); bare numbers
    are not money (they are quantities, dates, phone numbers)."""
    out: list[MoneyMention] = []
    for match in _MONEY.finditer(text):
        g = match.groupdict()
        number = _number(g["n1"] or g["n2"] or g["n3"])
        if number is None:
            continue
        if g["k1"] or g["k2"] or g["k3"]:
            number *= 1000
        mark = (g["sym"] or g["code"] or g["word"] or "").lower()
        currency = _SYMBOLS.get(mark, mark.upper())
        out.append(MoneyMention(text=match.group(0).strip(), amount=number, currency=currency))
    return out


def sentences(text: str) -> list[str]:
    """Sentences of plain text whose lines were hard-wrapped: paragraphs joined, then split."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        # Bulleted lines are items of their own, not one long wrapped sentence.
        chunks: list[str] = []
        for line in lines:
            if chunks and not re.match(r"^(?:[-*•]|\d+[.)])\s", line):
                chunks[-1] += " " + line
            else:
                chunks.append(re.sub(r"^(?:[-*•]|\d+[.)])\s+", "", line))
        for chunk in chunks:
            out.extend(s.strip() for s in re.split(r"(?<=[.?!])\s+(?=[A-Z0-9\"“(])", chunk) if s.strip())
    return out


def is_injection(sentence: str) -> bool:
    return bool(_INJECTION.search(sentence)) or bool(injection_signs(sentence))


def is_ask(sentence: str) -> bool:
    return bool(_ASK.search(sentence)) and not _GREETING.match(sentence) and not is_injection(sentence)


def is_billing(text: str) -> bool:
    return bool(_BILLING.search(text))


def deliverable_in(sentence: str, ref: date) -> tuple[str, date] | None:
    """("revised homepage mockups", due) from "Could you send the revised homepage mockups by Friday?"."""
    found = find_dates(sentence, ref)
    if not found:
        return None
    mention, (start, _) = found[-1]
    before = sentence[:start]
    verbs = list(_DELIVER_VERB.finditer(before))
    if not verbs:
        return None
    title = _CONNECTOR.sub("", before[verbs[-1].end() :]).strip(" ,;:-")
    title = _TRAILING.sub("", _LEADING.sub("", title)).strip(" ,;:-")
    if not title or len(title) > 80 or not re.search(r"[A-Za-z]{3}", title):
        return None
    return title, mention.on
