"""Money in operator text: "$4,000", "$4k", "4.5k", "USD 300", "300 dollars", "€2,000", "£1.2k",
and the European and Swiss forms "1.250,00 EUR", "1 250,00 €", "CHF 1'250.50".

Amounts are never guessed: a number whose grouping is wrong ("$4,0000", "$4,00,0") or that
reads two ways ("$1.250": $1.25 or $1,250?) is reported as malformed with the plausible
readings, so the conversation can ask. How separators read is ``numbers.read_number``'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.numbers import SPACE_GROUPING, NumberReading, read_number

_SYMBOL_CURRENCY: dict[str, str] = {
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "£": "GBP",
    "ca$": "CAD",
    "c$": "CAD",
    "au$": "AUD",
    "a$": "AUD",
    "nz$": "NZD",
}
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
    "chf": "CHF",
    "franc": "CHF",
    "francs": "CHF",
}
_CURRENCY_SYMBOL: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£"}
# Other ISO codes are read only in capitals: "CAD 500", not "a cad".
_CODES = r"(?-i:CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|JPY|INR)|USD|EUR|GBP|CHF"
_SUFFIX = rf"(?:dollars?|bucks|eur(?:os?)?|pounds?|quid|(?:swiss\s+)?francs?|{_CODES})\b|[€£$](?!\s?\d)"
# A number grouped with spaces ("1 250,00 €") is read only next to a currency written that way:
# "$5 200 flyers" is five dollars and 200 flyers, not $5,200.
_SPACED = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?"
_SPACE_CODES = r"EUR|CHF|(?-i:SEK|NOK|DKK|PLN|CZK)"

# One money-like token. The number part is deliberately loose ([\d,.']) so that malformed
# groupings are matched too and can be reported instead of silently misread.
_MONEY_RE = lazy_re(
    r"(?<![\w$€£/.,'-])"
    rf"(?:(?P<pre>(?P<spaced>€|(?:{_SPACE_CODES})\s?)|US\$|CA\$|C\$|AU\$|A\$|NZ\$|\$|£|(?:{_CODES})\s?)\s?)?"
    rf"(?P<num>(?(spaced){_SPACED}|{_SPACED}(?=\s?(?:{_SUFFIX})))|\d[\d,.']*\d|\d)"
    r"(?:\s?(?P<k>[kK]|grand)(?![a-zA-Z]))?"
    rf"(?:\s?(?P<suf>{_SUFFIX}))?"
    r"(?![\w-]|[.,']\d|/\d)",
    re.I,
)

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
    marker = " ".join((pre or suf or "").lower().split()).removeprefix("swiss ")
    if not marker:
        return None
    return _SYMBOL_CURRENCY.get(marker) or _WORD_CURRENCY.get(marker) or marker.upper()


def _malformed_message(raw: str, readings: tuple[Decimal, ...], currency: str) -> str:
    """Offer the plausible readings of a number that can't be read without a guess (never pick one)."""
    if not readings:
        return f'I can\'t read "{raw}" as an amount — how much is it, e.g. {format_money(Decimal(1250), currency)}?'
    listed = " or ".join(format_money(r, currency) for r in sorted(set(readings)))
    return f'I can\'t read "{raw}" as an amount — did you mean {listed}?'


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
        reading = read_number(num, currency, k=bool(k))
        groups = num.replace("\u00a0", " ").replace("\u202f", " ").split(" ")
        if len(groups) > 1 and currency not in SPACE_GROUPING:
            # "2 500 dollars": $2,500, or 2 × $500? Dollars and pounds are not grouped with spaces.
            last = read_number(groups[-1], currency, k=bool(k)).value
            reading = NumberReading(None, tuple(r for r in (reading.value, last) if r is not None))
        value = reading.value
        if value is None:
            # Only call it a malformed *amount* when it looks like money; "1.2.3" is not.
            if explicit or (reading.money_like and "," in num):
                raw = m.group(0).strip()
                message = _malformed_message(raw, reading.readings, currency or "USD")
                malformed.append(MalformedAmount(raw, m.start(), m.end(), message))
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
