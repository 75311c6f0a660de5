"""Money in operator text: "$4,000", "$4k", "4.5k", "USD 300", "300 dollars", "€2,000", "£1.2k".

Amounts are never guessed: a number whose thousands grouping is wrong ("$4,0000", "$4,00,0")
is reported as malformed with the plausible readings, so the conversation can ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from graphs.offline_parsing.lazy_re import lazy_re

_SYMBOL_CURRENCY: dict[str, str] = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP"}
_WORD_CURRENCY: dict[str, str] = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
}
_CURRENCY_SYMBOL: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£"}

# One money-like token. The number part is deliberately loose ([\d,.]) so that malformed
# groupings are matched too and can be reported instead of silently misread.
_MONEY_RE = lazy_re(
    r"(?<![\w$€£/.,-])"
    r"(?:(?P<pre>US\$|\$|€|£|(?:USD|EUR|GBP)\s?)\s?)?"
    r"(?P<num>\d[\d,.]*\d|\d)"
    r"(?:\s?(?P<k>[kK]|grand)(?![a-zA-Z]))?"
    r"(?:\s?(?P<suf>dollars?|bucks|usd|eur(?:os?)?|gbp|pounds?|quid)\b)?"
    r"(?![\w-]|[.,]\d|/\d)",
    re.I,
)
# Well-formed numbers: 4000, 4000.50, 4,000, 1,140.00 (and 4.5 before a "k").
_PLAIN_NUM_RE = lazy_re(r"^\d+(?:\.\d{1,2})?$")
_GROUPED_NUM_RE = lazy_re(r"^\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?$")
_K_NUM_RE = lazy_re(r"^\d+(?:\.\d{1,3})?$")

# What follows an amount to make it a rate, and which unit that rate is in.
_RATE_RE = lazy_re(
    r"^\s*(?:/\s*|per\s+|an?\s+|each\s+|every\s+)?"
    r"(?P<unit>hours?|hrs?|h|days?|d|months?|mo|mth|monthly|hourly|daily|weeks?|wk|weekly|"
    r"pages?|words?|pieces?|items?|units?)\b",
    re.I,
)
_RATE_UNIT: dict[str, str] = {
    "hour": "hour",
    "hours": "hour",
    "hr": "hour",
    "hrs": "hour",
    "h": "hour",
    "hourly": "hour",
    "day": "day",
    "days": "day",
    "d": "day",
    "daily": "day",
    "month": "month",
    "months": "month",
    "mo": "month",
    "mth": "month",
    "monthly": "month",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "weekly": "week",
    "page": "page",
    "pages": "page",
    "word": "word",
    "words": "word",
    "piece": "piece",
    "pieces": "piece",
    "item": "item",
    "items": "item",
    "unit": "unit",
    "units": "unit",
}
# A bare number followed by one of these is a quantity or a date, never money.
_NOT_MONEY_AFTER_RE = lazy_re(
    r"^\s*(?:%|percent|hours?|hrs?|h\b|days?|weeks?|wks?|months?|years?|yrs?|minutes?|mins?|"
    r"rounds?|revisions?|pages?|words?|items?|x\b|st\b|nd\b|rd\b|th\b|am\b|pm\b|people|"
    r"times|calls?|sessions?|posts?|logos?|screens?|mockups?|concepts?|designs?)",
    re.I,
)


@dataclass(frozen=True)
class Amount:
    """A well-formed amount found in text."""

    value: Decimal
    currency: str | None  # None when the text gave no currency marker
    start: int
    end: int
    raw: str
    explicit: bool  # had a currency marker or a "k": surely money, not a count
    rate_unit: str | None = None  # "hour" for "$95/h"
    rate_end: int | None = None  # end of the "/h" part, when there is one


@dataclass(frozen=True)
class MalformedAmount:
    """A money-like token that can't be read without guessing."""

    raw: str
    start: int
    end: int
    message: str


def format_money(value: Decimal, currency: str = "USD") -> str:
    """Render an amount the way an operator writes it: "$4,000", "€2,500.50"."""
    symbol = _CURRENCY_SYMBOL.get(currency, currency + " ")
    if value == value.to_integral_value():
        return f"{symbol}{int(value):,}"
    return f"{symbol}{value:,.2f}"


def _currency_of(pre: str | None, suf: str | None) -> str | None:
    if pre:
        key = pre.strip().lower()
        return _SYMBOL_CURRENCY.get(key) or key.upper()
    if suf:
        return _WORD_CURRENCY.get(suf.lower())
    return None


def _malformed_message(raw: str, num: str, currency: str) -> str:
    """Explain the two plausible readings of a badly grouped number (never pick one)."""
    integer = num.split(".")[0]
    groups = integer.split(",")
    candidates: set[Decimal] = set()
    digits = "".join(ch for ch in integer if ch.isdigit())
    if digits:
        candidates.add(Decimal(digits))
    if groups[0].isdigit():
        # "4,0000": the first group is probably the thousands ("$4,000", an extra zero).
        candidates.add(Decimal(groups[0]) * 1000)
    readings = " or ".join(format_money(c, currency) for c in sorted(candidates))
    return f'I can\'t read "{raw}" as an amount — did you mean {readings}?'


def _to_decimal(num: str, k: str | None) -> Decimal | None:
    """Exact value of a well-formed number token, or None if the grouping is wrong."""
    try:
        if k:
            if not _K_NUM_RE.match(num):
                return None
            value = Decimal(num) * 1000
            # "4.5k" is 4500 exactly; keep it an integer-looking Decimal, not 4500.0.
            return value.quantize(Decimal(1)) if value == value.to_integral_value() else value
        if _PLAIN_NUM_RE.match(num):
            return Decimal(num)
        if _GROUPED_NUM_RE.match(num):
            return Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None
    return None


def scan_amounts(text: str) -> tuple[list[Amount], list[MalformedAmount]]:
    """Every amount (explicit or bare) and every malformed money token in ``text``, in order."""
    amounts: list[Amount] = []
    malformed: list[MalformedAmount] = []
    for m in _MONEY_RE.finditer(text):
        pre, num, k, suf = m.group("pre"), m.group("num"), m.group("k"), m.group("suf")
        currency = _currency_of(pre, suf)
        explicit = bool(pre or suf or k)
        after = text[m.end() :]
        if not explicit and _NOT_MONEY_AFTER_RE.match(after):
            continue
        value = _to_decimal(num, k)
        if value is None:
            # Only call it a malformed *amount* when it looks like money; "1.2.3" is not.
            if explicit or "," in num:
                raw = m.group(0).strip()
                malformed.append(
                    MalformedAmount(raw, m.start(), m.end(), _malformed_message(raw, num, currency or "USD"))
                )
            continue
        rate = _RATE_RE.match(after)
        rate_unit = _RATE_UNIT.get(rate.group("unit").lower()) if rate else None
        amounts.append(
            Amount(
                value=value,
                currency=currency,
                start=m.start(),
                end=m.end(),
                raw=m.group(0).strip(),
                explicit=explicit,
                rate_unit=rate_unit,
                rate_end=m.end() + rate.end() if rate else None,
            )
        )
    return amounts, malformed


def parse_amount_text(text: str) -> tuple[Decimal, str | None]:
    """Read a whole answer such as "$4k" or "4000" as one amount; ValueError when unreadable."""
    amounts, malformed = scan_amounts(text)
    if malformed:
        raise ValueError(malformed[0].message)
    if not amounts:
        raise ValueError(f'I can\'t find an amount in "{text.strip()}" — try something like $4,000.')
    if len({a.value for a in amounts}) > 1:
        listed = ", ".join(a.raw for a in amounts)
        raise ValueError(f"I see more than one amount ({listed}) — which one should I use?")
    return amounts[0].value, amounts[0].currency
